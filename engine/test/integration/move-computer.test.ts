import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readConnection, repoRoot, type LabConnection } from '../../../lab/connection.ts';
import { startTenantServer, type TenantServer } from '../../../lab/tenant/index.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, writesSince } from '../support/engine-harness.ts';
import { listProcesses } from '../../../lab/samba/system.ts';

type Result = { code: number; stdout: string; stderr: string; json: Record<string, unknown> | undefined };

const dirsyncBin = join(repoRoot, 'engine', 'bin', 'dirsync.js');
const PASSPHRASE = 'correct horse battery staple 42';

/** Moving an installation: the old computer (A) and the new one (B) are two data directories and two service processes. */
describe('moving Directory Sync to another computer', () => {
  let sandbox: AdSandbox;
  let tenant: TenantServer;
  let labFile: string;
  const scratch = mkdtempSync(join(tmpdir(), 'dirsync-move-'));
  const oldComputer = join(scratch, 'old');
  const newComputer = join(scratch, 'new');
  const exportFile = join(scratch, 'moved-configuration.json');
  const services = new Map<string, ChildProcess>();
  const users: Record<string, string> = {};
  let adPassword: string;

  async function dirsync(dataDir: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}): Promise<Result> {
    const child = spawn(process.execPath, [dirsyncBin, '--data-dir', dataDir, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)));
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(stdout) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    return { code, stdout, stderr, json };
  }

  /** `dirsync service run --no-schedule` in the background, until its control socket answers. */
  async function startServiceProcess(dataDir: string): Promise<void> {
    // As on an administrator's computer: nothing trusts the lab's CA but the configuration, so the
    // service starts itself again with it (the path a service manager's SIGTERM must get through).
    const env = { ...process.env };
    delete env['NODE_EXTRA_CA_CERTS'];
    const child = spawn(process.execPath, [dirsyncBin, '--data-dir', dataDir, 'service', 'run', '--no-schedule'], { env, stdio: 'ignore' });
    services.set(dataDir, child);
    for (let i = 0; i < 200; i += 1) {
      if (existsSync(join(dataDir, 'control.sock')) && (await dirsync(dataDir, ['--json', 'ownership'])).code === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the service for ${dataDir} did not answer on its control socket`);
  }

  async function stopServiceProcess(dataDir: string): Promise<void> {
    const child = services.get(dataDir);
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    services.delete(dataDir);
    // As a service manager would see it: SIGTERM to the process it started stops the whole service.
    for (let i = 0; i < 50 && serviceProcesses(dataDir).length > 0; i += 1) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(serviceProcesses(dataDir), [], `the service for ${dataDir} outlived SIGTERM to the process that started it`);
  }

  function serviceProcesses(dataDir: string): number[] {
    return listProcesses().filter((p) => p.cmdline.includes(`--data-dir ${dataDir} `) && p.cmdline.includes('service run')).map((p) => p.pid);
  }

  function managedUsers(): Array<Record<string, unknown>> {
    const anchor = `extension_${tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`;
    const dump = tenant.state.dump() as { objects: Record<string, Array<Record<string, unknown>>> };
    return (dump.objects['user'] ?? []).filter((u) => typeof u[anchor] === 'string' && String(u['displayName']).startsWith('Move '));
  }

  before(async () => {
    const ad = await sharedAd();
    adPassword = ad.adminPassword;
    sandbox = await createAdSandbox(ad, 'Test Move');
    for (const name of ['Ann', 'Ben', 'Cat', 'Dan']) {
      users[name] = await sandbox.addUser(`Move ${name}`, { sAMAccountName: `move${name.toLowerCase()}`, userPrincipalName: `move.${name.toLowerCase()}@contoso.com`, displayName: `Move ${name}` });
    }
    await sandbox.addGroup('Move Team', [users['Ann'] as string, users['Ben'] as string]);
    tenant = await startTenantServer({ timeScale: 60 });
    labFile = join(scratch, 'lab-connection.json');
    writeFileSync(labFile, JSON.stringify({ ...(readConnection() as LabConnection), tenant: tenant.connection }));
    const ouGuid = await sandbox.guidOf(sandbox.ouDn);

    // The old computer: configured, serving, holding the tenant, synchronized.
    const init = await dirsync(oldComputer, ['--json', 'init', '--lab', labFile, '--ou', ouGuid]);
    assert.equal(init.code, 0, init.stderr);
    await startServiceProcess(oldComputer);
    const claim = await dirsync(oldComputer, ['--json', 'ownership', '--claim']);
    assert.equal(claim.code, 0, claim.stdout + claim.stderr);
    const first = await dirsync(oldComputer, ['--json', 'sync', '--full']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(managedUsers().length, 4);
  });
  after(async () => {
    for (const dir of [...services.keys()]) await stopServiceProcess(dir);
    await tenant?.close();
    await sandbox?.close();
  });

  it('exports the configuration with its secrets encrypted under a passphrase, never in clear', async () => {
    const result = await dirsync(oldComputer, ['--json', 'config', 'export', exportFile, '--with-secrets'], { DIRSYNC_EXPORT_PASSPHRASE: PASSPHRASE });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.json, { exported: exportFile, secrets: true });
    const text = readFileSync(exportFile, 'utf8');
    assert.ok(!text.includes(adPassword), 'the AD password is in the export in clear');
    assert.ok(!text.includes(tenant.connection.clientSecret), 'the client secret is in the export in clear');
    const exported = JSON.parse(text) as { format: string; configuration: { sources: Array<{ ad: { bindDn: string } }> }; secrets: { kdf: string } };
    assert.equal(exported.format, 'directory-sync-configuration');
    assert.equal(exported.secrets.kdf, 'scrypt');

    const short = await dirsync(oldComputer, ['config', 'export', join(scratch, 'weak.json'), '--with-secrets'], { DIRSYNC_EXPORT_PASSPHRASE: 'short' });
    assert.equal(short.code, 2);
    assert.match(short.stderr, /passphrase is too short: use at least 12 characters/);
    assert.ok(!existsSync(join(scratch, 'weak.json')));
  });

  it('imports on the new computer only with the right passphrase', async () => {
    const wrong = await dirsync(newComputer, ['config', 'import', exportFile], { DIRSYNC_EXPORT_PASSPHRASE: 'not the passphrase at all' });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /The passphrase does not open the secrets in .*nothing was imported/);
    const none = await dirsync(newComputer, ['--json', 'status']);
    assert.doesNotMatch(none.stdout, /"configured": true/, 'a failed import left a configuration behind');

    const right = await dirsync(newComputer, ['--json', 'config', 'import', exportFile], { DIRSYNC_EXPORT_PASSPHRASE: PASSPHRASE });
    assert.equal(right.code, 0, right.stderr);
    assert.deepEqual(right.json?.['secrets'], ['ad.password', 'cloud.clientSecret']);
  });

  it('takes the tenant over; the first full run matches everything and holds the deletions made while no server ran', async () => {
    // The old computer is shut down for the move; meanwhile someone leaves the company.
    await stopServiceProcess(oldComputer);
    await sandbox.remove(users['Dan'] as string);

    await startServiceProcess(newComputer);
    const shown = await dirsync(newComputer, ['ownership']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^Another server, .* \(server id [0-9a-f-]{36}\) holds the tenant/);
    const takeOver = await dirsync(newComputer, ['ownership', '--take-over']);
    assert.equal(takeOver.code, 0, takeOver.stdout + takeOver.stderr);
    assert.match(takeOver.stdout, /This server now holds the tenant: the previous holder stops writing at its next run/);

    const seq = lastSeq(tenant);
    const full = await dirsync(newComputer, ['--json', 'sync', '--full']);
    assert.equal(full.code, 4, `the orphan must wait for approval: ${full.stdout}${full.stderr}`);
    const summary = full.json as { planned: Record<string, number>; exported: Record<string, number>; held: number; planId: number };
    assert.equal(summary.planned['create-user'] ?? 0, 0, 'the new computer would create a duplicate');
    assert.equal(summary.planned['create-group'] ?? 0, 0, 'the new computer would create a duplicate group');
    assert.equal(summary.held, 1, 'the user deleted while no server ran is held behind the gate');
    assert.deepEqual(writesSince(tenant, seq).filter((w) => w.method === 'POST' && /\/users$/.test(w.path)), []);
    assert.equal(managedUsers().length, 4, 'nothing is deleted before the approval');

    const approved = await dirsync(newComputer, ['--json', 'approve', String(summary.planId)]);
    assert.equal(approved.code, 0, approved.stdout + approved.stderr);
    assert.deepEqual(managedUsers().map((u) => u['displayName']).sort(), ['Move Ann', 'Move Ben', 'Move Cat']);
  });

  it('the old computer, started again, stops exporting at its next run and says why', async () => {
    await startServiceProcess(oldComputer);
    await sandbox.replace(users['Cat'] as string, 'title', ['Changed after the move']);
    const seq = lastSeq(tenant);
    const run = await dirsync(oldComputer, ['--json', 'sync']);
    const summary = run.json as { exported: Record<string, number>; planned: Record<string, number>; message?: string };
    assert.deepEqual(summary.exported, {}, run.stdout);
    assert.match(summary.message ?? '', /Another server .* holds the tenant ownership lease/);
    assert.deepEqual(writesSince(tenant, seq), [], 'the old computer wrote to the tenant after the take-over');
    const status = await dirsync(oldComputer, ['--json', 'status']);
    const lastRun = (status.json as { lastRun: { message?: string } }).lastRun;
    assert.match(lastRun.message ?? '', /Another server .* holds the tenant ownership lease: this server only plans\. .*dirsync ownership --take-over/);
    // The new computer carries the change.
    const delta = await dirsync(newComputer, ['--json', 'sync']);
    assert.equal(delta.code, 0, delta.stdout + delta.stderr);
    assert.equal((delta.json as { exported: Record<string, number> }).exported['update-user'], 1);
  });
});
