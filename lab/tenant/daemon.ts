/**
 * The tenant as a background process of the lab: `node --import tsx lab/tenant/main.ts --lab-dir <dir>`,
 * detached, logging to `<labDir>/tenant/tenant.log`, pid in `tenant.pid`, state in `state.json`, the
 * connection in `connection.json`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot, type TenantConnection } from '../connection.ts';

export type TenantDaemonFiles = {
  readonly dir: string;
  readonly log: string;
  readonly pid: string;
  readonly state: string;
  readonly connection: string;
};

export function tenantDaemonFiles(labDir: string): TenantDaemonFiles {
  const dir = join(labDir, 'tenant');
  return { dir, log: join(dir, 'tenant.log'), pid: join(dir, 'tenant.pid'), state: join(dir, 'state.json'), connection: join(dir, 'connection.json') };
}

function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True when the process exists and (on Linux) is a tenant daemon, so a recycled pid is never signalled. */
function isTenantProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EPERM') return true;
    return false;
  }
  const cmdline = `/proc/${pid}/cmdline`;
  if (existsSync(cmdline)) return readFileSync(cmdline, 'utf8').includes('tenant/main.ts');
  return true;
}

export function tenantDaemonStatus(options: { labDir: string }): { running: boolean; pid?: number } {
  const pid = readPid(tenantDaemonFiles(options.labDir).pid);
  if (pid === undefined || !isTenantProcess(pid)) return { running: false };
  return { running: true, pid };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** GET /_lab/health over TLS, trusting the lab CA explicitly (the caller may not have NODE_EXTRA_CA_CERTS). */
export function tenantHealthy(connection: TenantConnection, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolveHealth) => {
    let ca: string;
    try {
      ca = readFileSync(connection.tenantCaCertFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        resolveHealth(false);
        return;
      }
      throw error;
    }
    const req = request(`${connection.labControlUrl}/health`, { method: 'GET', ca, timeout: timeoutMs }, (res) => {
      res.resume();
      resolveHealth(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolveHealth(false));
    req.end();
  });
}

function logTail(file: string): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
}

/**
 * Starts the daemon (or returns the running one). `fresh`: forget the state a previous lab saved, as `startLab`
 * does — its domain controller is provisioned anew, with new objectGUIDs, so the last lab's tenant objects would
 * come back as conflicts and orphans.
 */
export async function startTenantDaemon(options: { labDir: string; timeoutMs?: number; fresh?: boolean }): Promise<TenantConnection> {
  const files = tenantDaemonFiles(options.labDir);
  mkdirSync(files.dir, { recursive: true });
  const status = tenantDaemonStatus(options);
  if (status.running && existsSync(files.connection)) {
    const existing = JSON.parse(readFileSync(files.connection, 'utf8')) as TenantConnection;
    if (await tenantHealthy(existing)) return existing;
    await stopTenantDaemon(options);
  } else if (status.running) {
    await stopTenantDaemon(options);
  }
  rmSync(files.connection, { force: true });
  if (options.fresh) rmSync(files.state, { force: true });
  const mainFile = fileURLToPath(new URL('./main.ts', import.meta.url));
  const logFd = openSync(files.log, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', mainFile, '--lab-dir', options.labDir], {
    cwd: repoRoot, detached: true, stdio: ['ignore', logFd, logFd], env: process.env,
  });
  closeSync(logFd);
  if (child.pid === undefined) throw new Error(`The tenant daemon could not be started; see ${files.log}`);
  writeFileSync(files.pid, `${child.pid}\n`);
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  child.unref();
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      rmSync(files.pid, { force: true });
      throw new Error(`The tenant daemon exited with code ${String(exited)} during start-up. Log (${files.log}):\n${logTail(files.log)}`);
    }
    if (existsSync(files.connection)) {
      const connection = JSON.parse(readFileSync(files.connection, 'utf8')) as TenantConnection;
      if (await tenantHealthy(connection)) return connection;
    }
    await sleep(100);
  }
  await stopTenantDaemon(options);
  throw new Error(`The tenant daemon did not become ready within ${(options.timeoutMs ?? 30_000) / 1000} s. Log (${files.log}):\n${logTail(files.log)}`);
}

/** SIGTERM, wait for the state to be saved and the process to exit (SIGKILL after 10 s). Idempotent. */
export async function stopTenantDaemon(options: { labDir: string }): Promise<void> {
  const files = tenantDaemonFiles(options.labDir);
  const status = tenantDaemonStatus(options);
  if (status.running && status.pid !== undefined) {
    const pid = status.pid;
    try {
      process.kill(pid, 'SIGTERM');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && isTenantProcess(pid)) await sleep(50);
    if (isTenantProcess(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
      while (isTenantProcess(pid)) await sleep(50);
    }
  }
  rmSync(files.pid, { force: true });
  rmSync(files.connection, { force: true });
}
