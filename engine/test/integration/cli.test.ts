import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readConnection, repoRoot, type LabConnection } from '../../../lab/connection.ts';
import { startTenantServer, type TenantServer } from '../../../lab/tenant/index.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';

type Result = { code: number; stdout: string; stderr: string; json: unknown };

describe('the dirsync command', () => {
  let sandbox: AdSandbox;
  let tenant: TenantServer;
  let labFile: string;
  let lab: LabConnection;
  let ouGuid: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'dirsync-cli-'));
  const outputs: string[] = [];

  /** Runs the CLI in a child process (asynchronously: the emulated tenant answers from this process). */
  async function dirsync(args: ReadonlyArray<string>, options: { dataDir?: string; trustLabCa?: boolean } = {}): Promise<Result> {
    const env = { ...process.env };
    // As on an administrator's machine: nothing trusts the lab's CA unless the configuration says so.
    if (options.trustLabCa === false) delete env['NODE_EXTRA_CA_CERTS'];
    const child = spawn(process.execPath, [join(repoRoot, 'engine', 'bin', 'dirsync.js'), '--data-dir', options.dataDir ?? dataDir, ...args], {
      env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)));
    const result = { status: code, stdout, stderr };
    outputs.push(result.stdout, result.stderr);
    let json: unknown;
    try {
      json = JSON.parse(result.stdout);
    } catch {
      json = undefined;
    }
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, json };
  }

  before(async () => {
    const ad = await sharedAd();
    sandbox = await createAdSandbox(ad, 'Test CLI');
    for (let i = 0; i < 10; i += 1) {
      await sandbox.addUser(`Cli User ${i}`, { sAMAccountName: `cliuser${i}`, userPrincipalName: `cli.user${i}@contoso.com`, displayName: `Cli User ${i}` });
    }
    ouGuid = await sandbox.guidOf(sandbox.ouDn);
    tenant = await startTenantServer();
    lab = { ...(readConnection() as LabConnection), tenant: tenant.connection };
    labFile = join(dataDir, 'lab-connection.json');
    writeFileSync(labFile, JSON.stringify(lab));
  });
  after(async () => {
    await tenant?.close();
    await sandbox?.close();
  });

  it('init --lab writes the configuration and tests both connections', async () => {
    const result = await dirsync(['--json', 'init', '--lab', labFile, '--ou', ouGuid], { trustLabCa: false });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.json, { configured: true, dataDir, ad: { ok: true, dirSync: true },
      cloud: { ok: true, tenant: tenant.connection.tenantDisplayName, verifiedDomains: [...tenant.connection.verifiedDomains] } });
  });

  it('init fails fast with a clear message on a wrong password, and on a bad setting', async () => {
    const other = mkdtempSync(join(tmpdir(), 'dirsync-cli-bad-'));
    const bad = await dirsync(['init', '--lab', labFile, '--ad-password', 'not-the-password'], { dataDir: other });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /refused the user name or password/);
    const invalid = await dirsync(['init', '--ad-url', 'http://dc', '--ad-bind-dn', 'x', '--ad-password', 'y', '--base-dn', 'OU=x', '--tenant-id', 't', '--client-id', 'c', '--client-secret', 's'], { dataDir: other });
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /ad\.url: must start with ldaps:\/\//);
    assert.match(invalid.stderr, /ad\.baseDn/);
  });

  it('plan previews every operation with its reason and writes nothing', async () => {
    const before = tenant.state.requestLog().filter((r) => r.isWrite).length;
    const result = await dirsync(['--json', 'plan']);
    assert.equal(result.code, 0, result.stderr);
    const plan = result.json as { operations: Array<{ kind: string; dn: string; reason: string }> };
    const creates = plan.operations.filter((o) => o.kind === 'create-user');
    assert.equal(creates.length, 10);
    assert.ok(creates.every((o) => o.reason.length > 0 && o.dn.includes('OU=Test CLI')));
    assert.equal(tenant.state.requestLog().filter((r) => r.isWrite).length, before, 'a preview writes nothing to the tenant');
  });

  it('sync applies the plan; status, history and match describe the result', async () => {
    const sync = await dirsync(['--json', 'sync'], { trustLabCa: false });
    assert.equal(sync.code, 0, sync.stderr);
    assert.equal((sync.json as { exported: Record<string, number> }).exported['create-user'], 10);
    assert.deepEqual((sync.json as { writeRequestsByKind?: Record<string, number> }).writeRequestsByKind, { 'create-user': 10 }, 'one write request per user created');
    const status = (await dirsync(['--json', 'status'])).json as { configured: boolean; changeTracking: string; managed: { user: number } };
    assert.equal(status.configured, true);
    assert.equal(status.changeTracking, 'DirSync');
    assert.equal(status.managed.user, 10);
    const history = (await dirsync(['--json', 'history'])).json as Array<{ status: string }>;
    assert.equal(history[0]?.status, 'succeeded');
    const match = (await dirsync(['--json', 'match'])).json as { counts: Record<string, number> };
    assert.equal(match.counts['linked'], 10);
    const text = await dirsync(['status']);
    assert.match(text.stdout, /Managed in the tenant: 10 users/);
  });

  it('exits 3 and lists each object error with its DN, attribute, reason and fix', async () => {
    await sandbox.addUser('Cli Bad', { sAMAccountName: 'clibad', userPrincipalName: 'clibad@fabrikam.com', displayName: 'Cli Bad' });
    const sync = await dirsync(['sync']);
    assert.equal(sync.code, 3, sync.stdout + sync.stderr);
    const errors = (await dirsync(['--json', 'errors'])).json as Array<{ dn: string; attribute: string; reason: string; hint: string }>;
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.dn ?? '', /^CN=Cli Bad,OU=Test CLI/);
    assert.equal(errors[0]?.attribute, 'userPrincipalName');
    assert.match(errors[0]?.reason ?? '', /fabrikam\.com is not a verified domain/);
    assert.match(errors[0]?.hint ?? '', /Verify fabrikam\.com/);
  });

  it('exits 4 when deletions wait for approval, and approve applies them', async () => {
    for (let i = 0; i < 3; i += 1) await sandbox.remove(`CN=Cli User ${i},${sandbox.ouDn}`);
    const sync = await dirsync(['sync']);
    assert.equal(sync.code, 4, sync.stdout + sync.stderr);
    const status = (await dirsync(['--json', 'status'])).json as { pendingApprovals: Array<{ id: number; held: Array<{ dn: string }> }> };
    const plan = status.pendingApprovals[0];
    assert.equal(plan?.held.length, 3);
    const approve = await dirsync(['--json', 'approve', String(plan?.id)]);
    assert.equal(approve.code, 0, approve.stderr);
    assert.equal((approve.json as { exported: Record<string, number> }).exported['delete-user'], 3);
  });

  it('exports a configuration without secrets and imports it elsewhere', async () => {
    const file = join(dataDir, 'exported.json');
    assert.equal((await dirsync(['config', 'export', file])).code, 0);
    const text = readFileSync(file, 'utf8');
    assert.equal(text.includes(lab.ad.adminPassword), false);
    assert.equal(text.includes(tenant.connection.clientSecret), false);
    const elsewhere = mkdtempSync(join(tmpdir(), 'dirsync-cli-import-'));
    assert.equal((await dirsync(['config', 'import', file], { dataDir: elsewhere })).code, 0);
    const shown = (await dirsync(['--json', 'config', 'show'], { dataDir: elsewhere })).json as { cloud: { tenantId: string } };
    assert.equal(shown.cloud.tenantId, tenant.connection.tenantId);
  });

  it('never prints a secret', () => {
    const all = outputs.join('\n');
    assert.equal(all.includes(lab.ad.adminPassword), false, 'the AD password appeared in output');
    assert.equal(all.includes(tenant.connection.clientSecret), false, 'the client secret appeared in output');
  });
});
