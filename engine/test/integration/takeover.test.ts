/**
 * The takeover from Entra Connect (docs/takeover.md) through the service's control API, against the lab's AD
 * and a tenant Entra Connect synchronizes from it (the lab's Connect seed, with orphans and drifted attributes):
 * detection, the report, the switch refused while the old server runs, the switch, the conversion followed
 * across a restart of the service, and the adoption run writing exactly what the report announced.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../../../lab/connection.ts';
import { defaultSocketPath } from '../../src/base/locations.ts';
import type { HandoverReport } from '../../src/contract/handover.ts';
import { controlClient, RemoteError, type ControlEndpoint } from '../../src/service/control-client.ts';
import { startService, type RunningService } from '../../src/service/daemon.ts';
import { DRIFTED, entraConnectSeed, scopeDnOf } from '../../../lab/tenant/connect-seed.ts';
import type { TenantSeed } from '../../../lab/tenant/seed.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, startHarness, writesSince, type Harness } from '../support/engine-harness.ts';

type Obj = Record<string, unknown> & { id: string };

const ORPHANS = 3;
const DRIFT_EVERY = 150;
const CYCLE_MS = 2000;

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('taking over a tenant Entra Connect synchronizes', () => {
  let harness: Harness;
  let sandbox: AdSandbox;
  let seed: TenantSeed;
  let running: RunningService;
  let endpoint: ControlEndpoint;
  let report: HandoverReport;
  let blockedBefore: number;
  const startedServices: RunningService[] = [];

  const objects = (type: 'user' | 'group'): Obj[] => ((harness.tenant.state.dump() as { objects: Record<string, Obj[]> }).objects[type] ?? []);
  const api = () => controlClient(endpoint);

  async function start(): Promise<void> {
    running = await startService({ dataDir: harness.dataDir, schedule: false, ownershipSettleMs: 50, handoverPollSeconds: 1 });
    startedServices.push(running);
    endpoint = { socketPath: running.socket.socketPath ?? '' };
  }

  before(async () => {
    const ad = await sharedAd();
    seed = await entraConnectSeed(ad, { orphans: ORPHANS, driftEvery: DRIFT_EVERY, serverName: 'AADC01' });
    sandbox = await createAdSandbox(ad, 'Test Takeover');
    await sandbox.addUser('Joiner Jo', { sAMAccountName: 'joinerjo', userPrincipalName: 'joiner.jo@contoso.com', displayName: 'Joiner Jo' });
    // The old DirSync's service account in AD: out of scope (a sync service account), listed for removal afterwards.
    await sandbox.addUser('MSOL_0a1b2c3d4e5f', { sAMAccountName: 'MSOL_0a1b2c3d4e5f' });
    harness = await startHarness({ tenant: { seed }, scopeOuGuids: [await sandbox.guidOf(scopeDnOf(ad)), await sandbox.guidOf(sandbox.ouDn)] });
    harness.tenant.state.setOldSync({ running: true, cycleMs: CYCLE_MS, conversionPerSecond: 600 });
    const preview = await harness.sync('full', true);
    blockedBefore = harness.store.listReports(preview.id, 'blocked').length;
    harness.store.close();
    await start();
  });

  after(async () => {
    for (const service of startedServices) await service.stop().catch(() => undefined);
    await harness?.close();
    await sandbox?.close();
  });

  it('detects Entra Connect, its server, what it synchronizes, and that it still runs', async () => {
    const status = await until('two cycles of the old server', () => api().getHandover({}), (s) => s.activity?.cycleObserved === true, 20_000);
    assert.equal(status.tenantSynchronized, true);
    assert.equal(status.tool?.kind, 'entra-connect');
    assert.equal(status.tool?.server, 'AADC01');
    const syncedUsers = (seed.users ?? []).filter((u) => u.props?.['onPremisesSyncEnabled'] === true).length;
    assert.deepEqual(status.synchronized, { user: syncedUsers, group: (seed.groups ?? []).filter((g) => g.props?.['onPremisesSyncEnabled'] === true).length });
    assert.equal(status.activity?.stopped, false);
    assert.ok(Math.abs((status.activity?.cycleSeconds ?? 0) - CYCLE_MS / 1000) <= 1, `the cycle is seen: ${status.activity?.cycleSeconds}`);
    assert.match(status.summary, /synchronized by Microsoft Entra Connect \(or the older DirSync\) on the server AADC01: \d+ users and \d+ groups\. It still runs/);
  });

  it('reports, before anything changes, every adoption with its attribute changes, the creates and the orphans', async () => {
    const seq = lastSeq(harness.tenant);
    report = await api().handoverReport({});
    assert.deepEqual(writesSince(harness.tenant, seq), [], 'the report writes nothing');
    assert.equal(report.counts.adopt, blockedBefore, 'every object blocked as synchronized today is adopted');
    const changed = report.objects.filter((o) => o.category === 'adopt' && (o.changes?.length ?? 0) > 0);
    const expectedDrift = (seed.users ?? []).filter((u) => u.props?.['jobTitle'] === DRIFTED.jobTitle).length;
    assert.ok(expectedDrift >= 10, `the seed drifted ${expectedDrift} users`);
    const drifted = changed.filter((o) => o.changes?.some((c) => c.from === DRIFTED.jobTitle));
    assert.equal(drifted.length, expectedDrift, 'every drifted user is listed with its changes');
    for (const o of drifted) {
      assert.deepEqual(o.changes?.map((c) => [c.property, c.from]), [['department', DRIFTED.department], ['jobTitle', DRIFTED.jobTitle]], o.name);
    }
    assert.equal(changed.length, expectedDrift, JSON.stringify(changed.filter((o) => !drifted.includes(o))));
    // Entra Connect gave c.green@contoso.com to Christine Green (duplicate attribute resiliency); Directory Sync refuses the
    // duplicate on Christine (invalid), and cannot give it to Chris while Christine's cloud user holds it: said, not attempted.
    const invalid = report.objects.filter((o) => o.category === 'invalid');
    assert.equal(report.counts.invalid, 7, 'the AD objects Directory Sync refuses are said, as on the Readiness page');
    assert.match(invalid.find((o) => o.name.startsWith('CN=Chris Green,'))?.reason ?? '', /mail "c\.green@contoso\.com" is held in the tenant by the cloud user .* it is not written/);
    assert.equal(report.counts.conflict + report.counts.blocked, 0);
    assert.deepEqual(report.objects.filter((o) => o.category === 'create').map((o) => o.name), [`CN=Joiner Jo,${sandbox.ouDn}`]);
    assert.equal(report.counts.orphan, ORPHANS);
    assert.ok(report.objects.filter((o) => o.category === 'orphan').every((o) => /^former\.employee\d+@/.test(o.name)));
    assert.equal(report.counts.memberChanges, 0, 'memberships are already as AD says');
    assert.equal(report.counts.managerChanges, 0, 'managers too');
    assert.ok(report.notes.some((n) => /password changes made in Active Directory no longer reach/.test(n)));
    assert.deepEqual(report.oldAccounts.ad, [`CN=MSOL_0a1b2c3d4e5f,${sandbox.ouDn}`]);
    assert.match(report.oldAccounts.cloud.join(), /^Sync_AADC01_[0-9a-f]{12}@contoso\.onmicrosoft\.com$/);
    assert.ok(report.notes.some((n) => n.includes(`found: CN=MSOL_0a1b2c3d4e5f,${sandbox.ouDn}`)), 'the notes name the accounts to remove');
  });

  it('says the same through dirsync handover and dirsync doctor', async () => {
    const run = (args: ReadonlyArray<string>): Promise<{ code: number | null; stdout: string }> => new Promise((resolve) => {
      const child = spawn(process.execPath, [join(repoRoot, 'engine', 'bin', 'dirsync.js'), '--data-dir', harness.dataDir, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
      child.once('exit', (code) => resolve({ code, stdout }));
    });
    const status = await run(['handover', 'status']);
    assert.equal(status.code, 0);
    assert.match(status.stdout, /^This tenant is synchronized by Microsoft Entra Connect \(or the older DirSync\) on the server AADC01/);
    assert.match(status.stdout, /To take over: dirsync handover report, then dirsync handover switch --confirm "/);
    const cliReport = JSON.parse((await run(['--json', 'handover', 'report'])).stdout) as HandoverReport;
    assert.deepEqual(cliReport.counts, report.counts, 'the CLI reports the same numbers');
    const doctor = JSON.parse((await run(['--json', 'doctor'])).stdout) as { checks: Array<{ id: string; status: string; fix?: string }> };
    const takeover = doctor.checks.find((c) => c.id === 'takeover');
    assert.equal(takeover?.status, 'warning');
    assert.match(takeover?.fix ?? '', /dirsync handover report/);
  });

  it('refuses the switch with a wrong confirmation, and while the old server still synchronizes', async () => {
    const status = await api().getHandover({});
    await assert.rejects(api().beginHandoverSwitch({ confirmation: 'yes' }), (e: unknown) => e instanceof RemoteError && /type the tenant's name exactly/.test(e.message));
    await assert.rejects(api().beginHandoverSwitch({ confirmation: status.confirmation }),
      (e: unknown) => e instanceof RemoteError && /still synchronizes this tenant/.test(e.message) && /Set-ADSyncScheduler/.test(e.message));
    assert.equal(harness.tenant.state.pendingUserCodes().length, 0, 'no sign-in is started');
  });

  it('switches once the old server has stopped for two cycles, follows the conversion across a restart, and adopts', async () => {
    harness.tenant.state.setOldSync({ running: false });
    const stopped = await until('the old server to count as stopped', () => api().getHandover({}), (s) => s.activity?.stopped === true, 20_000);
    const usersBefore = objects('user').length;
    const groupsBefore = objects('group').length;
    const prompt = await api().beginHandoverSwitch({ confirmation: stopped.confirmation });
    harness.tenant.state.approveDeviceCode(prompt.userCode, harness.tenant.connection.globalAdminUpn);
    const switched = await api().completeHandoverSwitch({ signInId: prompt.signInId });
    assert.equal(switched.state?.phase, 'converting');
    assert.equal(switched.tenantSynchronized, false);
    const patch = harness.tenant.state.requestLog().filter((e) => e.method === 'PATCH' && /\/organization\//.test(e.path));
    assert.ok(patch.some((e) => e.status === 204), 'directory synchronization was turned off through Graph');

    // The service is stopped in the middle of the conversion and started again: the takeover resumes.
    await running.stop();
    await start();
    const done = await until('the adoption', () => api().getHandover({}), (s) => s.state?.phase === 'done', 180_000);
    const runs = await api().listRuns({ limit: 5 });
    const adoption = runs.find((r) => r.id === done.state?.adoptionRunId);
    assert.ok(adoption, 'the adoption run is in history');
    assert.match(adoption.message ?? '', /Takeover: this run adopts/);
    assert.deepEqual((await api().listErrors({ runId: adoption.id })).filter((e) => e.code.startsWith('export')), [], 'nothing the report announced is refused');
    assert.equal((adoption.exported['update-user'] ?? 0) + (adoption.exported['update-group'] ?? 0), report.counts.adopt, 'every adopted object is written once (its anchor, and its differences)');
    assert.equal(adoption.exported['create-user'] ?? 0, 1, 'only the AD user with no cloud counterpart is created');
    assert.equal((adoption.exported['delete-user'] ?? 0) + (adoption.exported['delete-group'] ?? 0), 0, 'nothing is deleted');
    assert.equal(adoption.held, ORPHANS, 'the orphans wait for approval');
    assert.equal(objects('user').length, usersBefore + 1, 'no duplicate user');
    assert.equal(objects('group').length, groupsBefore, 'no duplicate group');
    const drifted = objects('user').filter((u) => u['jobTitle'] === DRIFTED.jobTitle);
    assert.deepEqual(drifted.map((u) => u['userPrincipalName']), [], 'the drifted attributes now say what AD says');
    const next = await api().startRun({ kind: 'full' });
    const after = await until('the next full run', () => api().listRuns({ limit: 1 }), (r) => r[0]?.id === next.runId && r[0].status !== 'running');
    assert.deepEqual(after[0]?.exported, {}, 'a full run after the adoption writes nothing');
    assert.equal(after[0]?.held, ORPHANS);
  });
});

/**
 * Cloud Sync, and the old DirSync (immutable ids from objectGUID, also for users whose ms-DS-ConsistencyGuid
 * differs): both detected and adopted, on the Sales OU of the lab (fewer objects, the same rules).
 */
for (const tool of ['cloud-sync', 'dirsync', 'by hand'] as const) {
  describe(`taking over a tenant ${tool === 'cloud-sync' ? 'Cloud Sync' : tool === 'dirsync' ? 'DirSync' : 'Entra Connect synchronizes, turned off by hand'}${tool === 'by hand' ? '' : ' synchronizes'}`, () => {
    let harness: Harness;
    let running: RunningService;
    let seed: TenantSeed;
    let endpoint: ControlEndpoint;
    const api = () => controlClient(endpoint);
    const users = (): Obj[] => ((harness.tenant.state.dump() as { objects: Record<string, Obj[]> }).objects['user'] ?? []);

    before(async () => {
      const ad = await sharedAd();
      // DirSync's server stopped three hours ago: more than two of Connect's default 30-minute cycles.
      seed = await entraConnectSeed(ad, { baseOu: 'OU=Sales,OU=Contoso', tool: tool === 'by hand' ? 'entra-connect' : tool, sourceAnchor: 'mS-DS-ConsistencyGuid',
        ...(tool === 'dirsync' ? { lastSyncDateTime: new Date(Date.now() - 3 * 3600_000) } : {}) });
      const sandbox = await createAdSandbox(ad, `Test Takeover ${tool}`);
      try {
        harness = await startHarness({ tenant: { seed }, scopeOuGuids: [await sandbox.guidOf(scopeDnOf(ad, 'OU=Sales,OU=Contoso'))] });
      } finally {
        await sandbox.close();
      }
      harness.tenant.state.setOldSync({ running: false, conversionPerSecond: 1000 });
      harness.store.close();
      running = await startService({ dataDir: harness.dataDir, schedule: false, ownershipSettleMs: 50, handoverPollSeconds: 1 });
      endpoint = { socketPath: running.socket.socketPath ?? '' };
    });

    after(async () => {
      await running?.stop();
      await harness?.close();
    });

    it('is detected, reported and adopted by its anchors, with nothing created twice', async () => {
      const status = await api().getHandover({});
      assert.equal(status.tool?.kind, tool === 'cloud-sync' ? 'cloud-sync' : 'entra-connect');
      if (tool === 'by hand') harness.tenant.state.setOldSync({ conversionPerSecond: 40 });
      assert.match(status.summary, tool === 'cloud-sync' ? /Microsoft Entra Cloud Sync/ : /on the server SYNC01/);
      const report = await api().handoverReport({});
      const synced = (seed.users ?? []).filter((u) => u.props?.['onPremisesSyncEnabled'] === true);
      assert.ok(synced.length > 50, `the Sales OU has ${synced.length} synchronized users`);
      assert.equal(report.counts.create + report.counts.orphan + report.counts.conflict + report.counts.blocked, 0, JSON.stringify(report.counts));
      assert.equal(report.counts.adoptWithChanges, 0, JSON.stringify(report.objects.filter((o) => (o.changes?.length ?? 0) > 0).slice(0, 3)));
      const before = new Map(users().map((u) => [u.id, u['onPremisesImmutableId']]));
      if (tool === 'by hand') {
        // An administrator turns directory synchronization off with PowerShell (Set-EntraDirSyncEnabled): the service finds it and follows.
        const t = harness.tenant.state.tenant;
        t.store.update(t.organization(), { onPremisesSyncEnabled: false });
        const found = await api().getHandover({});
        assert.equal(found.state?.phase, 'converting');
        assert.equal(found.state?.switchedBy, 'found turned off in the tenant');
        await assert.rejects(api().startRun({ kind: 'full' }), (e: unknown) => e instanceof RemoteError && /Runs wait while Microsoft Entra ID converts/.test(e.message));
      } else {
        // Cloud Sync's agent is simply gone here: the administrator says so instead of waiting for its cycles.
        const prompt = await api().beginHandoverSwitch({ confirmation: status.confirmation, oldToolGone: tool === 'cloud-sync' });
        harness.tenant.state.approveDeviceCode(prompt.userCode, harness.tenant.connection.globalAdminUpn);
        await api().completeHandoverSwitch({ signInId: prompt.signInId });
      }
      const done = await until('the adoption', () => api().getHandover({}), (s) => s.state?.phase === 'done', 180_000);
      const adoption = (await api().listRuns({ limit: 5 })).find((r) => r.id === done.state?.adoptionRunId);
      assert.ok(adoption);
      assert.equal((adoption.exported['update-user'] ?? 0) + (adoption.exported['update-group'] ?? 0), report.counts.adopt);
      assert.equal(Object.keys(adoption.exported).filter((k) => !k.startsWith('update-')).length, 0, JSON.stringify(adoption.exported));
      assert.equal(users().length, before.size, 'no user created');
      const changed = users().filter((u) => before.get(u.id) !== u['onPremisesImmutableId']);
      assert.deepEqual(changed.map((u) => u['userPrincipalName']), [], 'every immutable id stays as the old tool wrote it (objectGUID for DirSync)');
    });
  });
}

/**
 * The service process killed (SIGKILL) in the middle of the conversion and in the middle of the adoption run,
 * then started again: the takeover resumes where it stood, and nothing is duplicated or lost.
 */
describe('a takeover survives the service killed during the conversion and the adoption', () => {
  let harness: Harness;
  let seed: TenantSeed;
  let service: { child: ChildProcess; exited: Promise<number | null> } | undefined;

  const dirsyncArgs = (dataDir: string, args: ReadonlyArray<string>): string[] => [join(repoRoot, 'engine', 'bin', 'dirsync.js'), '--data-dir', dataDir, ...args];
  const objects = (type: 'user' | 'group'): Obj[] => ((harness.tenant.state.dump() as { objects: Record<string, Obj[]> }).objects[type] ?? []);

  function startServiceProcess(): void {
    const child = spawn(process.execPath, dirsyncArgs(harness.dataDir, ['service', 'run', '--no-schedule', '--handover-poll', '1']), { stdio: 'ignore' });
    service = { child, exited: new Promise((resolve) => child.once('exit', resolve)) };
  }

  async function killService(): Promise<void> {
    service?.child.kill('SIGKILL');
    await service?.exited;
    service = undefined;
  }

  async function endpoint(): Promise<ControlEndpoint> {
    const socketPath = defaultSocketPath(harness.dataDir);
    await until('the service socket', async () => controlClient({ socketPath }).getStatus({}).then(() => true, () => false), (up) => up, 30_000);
    return { socketPath };
  }

  before(async () => {
    const ad = await sharedAd();
    seed = await entraConnectSeed(ad, { baseOu: 'OU=Sales,OU=Contoso', lastSyncDateTime: new Date(Date.now() - 3 * 3600_000) });
    const sandbox = await createAdSandbox(ad, 'Test Takeover Kills');
    try {
      harness = await startHarness({ tenant: { seed }, scopeOuGuids: [await sandbox.guidOf(scopeDnOf(ad, 'OU=Sales,OU=Contoso'))] });
    } finally {
      await sandbox.close();
    }
    harness.tenant.state.setOldSync({ running: false, conversionPerSecond: 25 });
    harness.store.close();
  });

  after(async () => {
    await killService();
    await harness?.close();
  });

  it('resumes after each kill and adopts every object exactly once', { timeout: 10 * 60_000 }, async () => {
    const usersBefore = objects('user').length;
    const groupsBefore = objects('group').length;
    startServiceProcess();
    const api = controlClient(await endpoint());
    const status = await api.getHandover({});
    // The switch through the CLI, as an administrator runs it: it asks the running service, and waits for the sign-in.
    const cli = spawn(process.execPath, dirsyncArgs(harness.dataDir, ['handover', 'switch', '--confirm', status.confirmation]), { stdio: 'ignore' });
    const cliExit = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    const code = await until('the switch sign-in', async () => harness.tenant.state.pendingUserCodes()[0], (c) => c !== undefined, 30_000);
    harness.tenant.state.approveDeviceCode(code as string, harness.tenant.connection.globalAdminUpn);
    assert.equal(await cliExit, 0, 'dirsync handover switch succeeded');

    const converting = await until('the conversion under way', () => api.getHandover({}), (s) => s.state?.phase === 'converting' && (s.state.remaining?.user ?? 0) > 0, 30_000);
    assert.ok((converting.state?.remaining?.user ?? 0) < (converting.state?.synchronizedAtSwitch.user ?? 0) + 1);
    await killService();
    // Kills land inside the adoption's batches: half of them are answered 300 ms late.
    harness.tenant.state.injectFaults({ mode: 'latency', latencyMs: 300, ratio: 0.5, pathPrefix: '/v1.0/$batch', when: 'after' });
    const seq = lastSeq(harness.tenant);
    startServiceProcess();
    await until('the adoption to write', async () => harness.tenant.state.requestLog(seq).filter((r) => r.isWrite && /\/users\//.test(r.path)).length, (n) => n >= 40, 180_000);
    await killService();
    harness.tenant.state.clearFaults();
    startServiceProcess();
    const again = controlClient(await endpoint());
    const done = await until('the adoption', () => again.getHandover({}), (s) => s.state?.phase === 'done', 300_000);
    const runs = await again.listRuns({ limit: 10 });
    assert.ok(runs.some((r) => r.status === 'failed' && /stopped before the run finished/.test(r.message ?? '')), 'the killed adoption run is recorded as failed');
    assert.equal(objects('user').length, usersBefore, 'no user created twice');
    assert.equal(objects('group').length, groupsBefore, 'no group created twice');
    const synced = (seed.users ?? []).filter((u) => u.props?.['onPremisesSyncEnabled'] === true).map((u) => u.userPrincipalName.toLowerCase());
    const anchor = `extension_${harness.tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`;
    const unadopted = objects('user').filter((u) => synced.includes(String(u['userPrincipalName']).toLowerCase()) && typeof u[anchor] !== 'string');
    assert.ok(unadopted.length <= 2, `every valid synchronized user is adopted (left: ${unadopted.map((u) => u['userPrincipalName']).join(', ')})`);
    assert.equal(objects('user').filter((u) => u['onPremisesSyncEnabled'] === true).length, 0, 'every object converted');
    const next = await again.startRun({ kind: 'full' });
    const after = await until('the next full run', () => again.listRuns({ limit: 1 }), (r) => r[0]?.id === next.runId && r[0].status !== 'running');
    assert.deepEqual(after[0]?.exported, {}, `a full run after the adoption writes nothing (adopted by run ${done.state?.adoptionRunId})`);
  });
});
