/**
 * Entry point of the tenant daemon: `node --import tsx lab/tenant/main.ts --lab-dir <labDir>`.
 * Persists to `<labDir>/tenant/state.json`, writes `<labDir>/tenant/connection.json` once it listens,
 * saves and exits on SIGTERM/SIGINT. `DIRSYNC_LAB_LAG_MS=min-max` (with `DIRSYNC_LAB_TOKEN_LAG_MS`,
 * `DIRSYNC_LAB_LAG_SEED`) starts it in eventual consistency mode.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { consistencyFromEnv } from './consistency.ts';
import { tenantDaemonFiles } from './daemon.ts';
import { startTenantServer } from './server.ts';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const labDir = resolve(argument('--lab-dir') ?? process.env['DIRSYNC_LAB_DIR'] ?? '.lab');
const files = tenantDaemonFiles(labDir);
mkdirSync(files.dir, { recursive: true });
const port = argument('--port');
const consistency = consistencyFromEnv(process.env);
const server = await startTenantServer({
  persistFile: files.state, ...(port !== undefined ? { port: Number(port) } : {}), ...(consistency ? { consistency } : {}),
});
writeFileSync(files.pid, `${process.pid}\n`);
const tmp = `${files.connection}.tmp`;
writeFileSync(tmp, JSON.stringify(server.connection, null, 2) + '\n', { mode: 0o600 });
renameSync(tmp, files.connection);
console.log(`[lab tenant] ${new Date().toISOString()} listening on ${server.connection.authorityHost} (tenant ${server.connection.tenantId}, pid ${process.pid})` +
  (consistency ? `; eventual consistency: lag ${consistency.lagMs.min}-${consistency.lagMs.max} ms` : ''));

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`[lab tenant] ${new Date().toISOString()} ${signal}: saving state and stopping`);
  await server.close();
  rmSync(files.connection, { force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
