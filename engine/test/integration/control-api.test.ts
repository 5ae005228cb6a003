import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { ControlEvents, RunProgress } from '../../src/contract/control-api.ts';
import type { RunSummary } from '../../src/contract/model.ts';
import { controlClient, subscribeControl, RemoteError, type ControlEndpoint } from '../../src/service/control-client.ts';
import { startService, type RunningService } from '../../src/service/daemon.ts';
import type { ServiceClock } from '../../src/service/service.ts';
import { repoRoot } from '../../../lab/connection.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { startHarness, TIME_SCALE, type Harness } from '../support/engine-harness.ts';

/** A clock the test moves by hand: the scheduler's timers fire only when it advances. */
function fakeClock(start: number): ServiceClock & { advance(ms: number): void } {
  let now = start;
  let timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  return {
    now: () => now,
    setTimer(fn, ms) {
      const timer = { at: now + ms, fn, cancelled: false };
      timers.push(timer);
      return { cancel: () => { timer.cancelled = true; } };
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => !t.cancelled && t.at <= now);
      timers = timers.filter((t) => !due.includes(t));
      for (const t of due) t.fn();
    },
  };
}

function raw(port: number, path: string, headers: Record<string, string>, body = '{}'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('control API through the real transports', () => {
  let sandbox: AdSandbox;
  let harness: Harness;
  let running: RunningService;
  let endpoint: ControlEndpoint;
  const clock = fakeClock(Date.now());
  const finished: RunSummary[] = [];
  const progress: RunProgress[] = [];
  let unsubscribe: () => void;
  let serviceAccountDn: string | undefined;

  function nextFinish(): Promise<RunSummary> {
    const count = finished.length;
    return new Promise((resolve) => {
      const poll = setInterval(() => {
        if (finished.length > count) {
          clearInterval(poll);
          resolve(finished[finished.length - 1] as RunSummary);
        }
      }, 20);
    });
  }

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Control API');
    for (let i = 0; i < 5; i += 1) {
      await sandbox.addUser(`Api User ${i}`, { sAMAccountName: `apiuser${i}`, userPrincipalName: `api.user${i}@contoso.com`, displayName: `Api User ${i}` });
    }
    harness = await startHarness({ config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] }, deletionThreshold: { count: 500, percent: 10 } } });
    harness.store.close();
    running = await startService({ dataDir: harness.dataDir, clock, browser: { serveRenderer: false }, ownershipSettleMs: 50,
      writeBudget: { writes: 3000, windowSeconds: 150 / TIME_SCALE } });
    endpoint = { socketPath: running.socket.socketPath as string };
    unsubscribe = subscribeControl(endpoint, <E extends keyof ControlEvents>(event: E, data: ControlEvents[E]) => {
      if (event === 'onDidFinishRun') finished.push(data as RunSummary);
      if (event === 'onDidProgress') progress.push(data as RunProgress);
    });
  });
  after(async () => {
    unsubscribe?.();
    await running?.stop();
    await harness?.tenant.close();
    if (serviceAccountDn) await sandbox.remove(serviceAccountDn);
    await sandbox?.close();
  });

  it('keeps the local socket to the service user alone', () => {
    if (process.platform === 'win32') return;
    assert.equal(statSync(running.socket.socketPath as string).mode & 0o777, 0o600);
  });

  it('schedules the first full run at once, then a delta every interval, on its own clock', async () => {
    const api = controlClient(endpoint);
    const first = nextFinish();
    clock.advance(0);
    const full = await first;
    assert.equal(full.kind, 'full');
    assert.equal(full.exported['create-user'], 5);
    const phases = [...new Set(progress.filter((p) => p.runId === full.id).map((p) => p.phase))];
    assert.deepEqual(phases, ['starting', 'importing-ad', 'importing-cloud', 'planning', 'exporting', 'done'], 'live progress covers every phase');
    assert.ok(progress.some((p) => p.runId === full.id && p.phase === 'exporting' && p.total === 5), 'the export phase knows its total');
    const status = await api.getStatus({});
    assert.equal(status.role, 'active');
    assert.equal(status.changeTracking, 'dirsync');
    assert.ok(status.nextRunAt);
    const wait = Date.parse(status.nextRunAt) - clock.now();
    assert.ok(wait > 29 * 60_000 && wait <= 31 * 60_000, `next run in ${wait} ms`);
    const second = nextFinish();
    clock.advance(wait);
    assert.equal((await second).kind, 'delta');
  });

  it('answers every method: runs, history, errors, match report, plans, approval, lookup', async () => {
    const api = controlClient(endpoint);
    await sandbox.addUser('Api Bad', { sAMAccountName: 'apibad', userPrincipalName: 'api.bad@fabrikam.com', displayName: 'Api Bad' });
    const done = nextFinish();
    const { runId } = await api.startRun({ kind: 'delta' });
    const summary = await done;
    assert.equal(summary.id, runId);
    await assert.rejects(api.startRun({ kind: 'full', dryRun: true }).then(async () => api.startRun({ kind: 'full' })), (e: unknown) => e instanceof RemoteError && e.code === 'run-in-progress');
    await nextFinish();
    const runs = await api.listRuns({ limit: 10 });
    assert.ok(runs.some((r) => r.id === runId));
    const errors = await api.listErrors({ runId });
    assert.equal(errors[0]?.attribute, 'userPrincipalName');
    const preview = runs.length > 0 ? await (async () => { const p = nextFinish(); await api.startRun({ kind: 'full', dryRun: true }); return p; })() : undefined;
    const report = await api.matchReport({ runId: preview?.id as number });
    assert.equal(report.filter((r) => r.kind === 'linked').length, 5);

    const lookup = await api.lookupObject({ query: 'api.user1@contoso.com' });
    assert.equal(lookup.ad?.dn, `CN=Api User 1,${sandbox.ouDn}`);
    assert.equal(lookup.ad?.inScope, true);
    assert.ok(lookup.cloud?.id);
    assert.equal(lookup.lastExport?.kind, 'create-user');
    const bad = await api.lookupObject({ query: 'apibad' });
    assert.match(bad.errors[0]?.reason ?? '', /fabrikam\.com/);

    // Held deletions: approve one plan, reject another.
    await sandbox.remove(`CN=Api User 0,${sandbox.ouDn}`);
    const heldRun = nextFinish();
    await api.startRun({ kind: 'delta' });
    const held = await heldRun;
    assert.equal(held.status, 'waiting-for-approval');
    const plan = await api.getPlan({ planId: held.planId as number });
    assert.equal(plan.operations.filter((o) => o.status === 'held').length, 1);
    assert.deepEqual(await api.rejectPlan({ planId: held.planId as number }), { rejected: 1 });
    const again = nextFinish();
    await api.startRun({ kind: 'delta' });
    await again;
    const heldAgain = nextFinish();
    await api.startRun({ kind: 'full' });
    const second = await heldAgain;
    assert.equal(second.held, 1, 'a rejected deletion is held again while the object is still gone');
    const approved = await api.approvePlan({ planId: second.planId as number });
    assert.equal(approved.exported['delete-user'], 1);
  });

  it('tests an AD connection and shows the certificate to trust, with its fingerprint', async () => {
    const api = controlClient(endpoint);
    const ad = harness.ad;
    const untrusted = await api.testAdConnection({ url: ad.ldapsUrl, bindDn: ad.adminBindDn, password: ad.adminPassword });
    assert.equal(untrusted.ok, false);
    assert.equal(untrusted.ok === false && untrusted.code, 'ad-certificate');
    assert.match(untrusted.certificate?.fingerprintSha256 ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const caPem = untrusted.certificate?.caPem as string;
    assert.match(caPem, /^-----BEGIN CERTIFICATE-----/);
    // The DC's own certificate, issued by the CA the lab provisioned it with, is what is shown and what "trust" pins.
    const presented = new X509Certificate(caPem);
    assert.ok(presented.checkIssued(new X509Certificate(readFileSync(ad.caCertFile))), 'the certificate shown is the one the lab gave the DC');
    assert.equal(untrusted.certificate?.fingerprintSha256, presented.fingerprint256);
    assert.equal(untrusted.certificate?.trustFingerprintSha256, presented.fingerprint256, 'Samba sends no chain: the certificate shown is the one trusted');
    const trusted = await api.testAdConnection({ url: ad.ldapsUrl, bindDn: ad.adminBindDn, password: ad.adminPassword, trustedCaPem: caPem });
    assert.deepEqual(trusted.ok && [trusted.baseDn, trusted.dirSync, trusted.certificate.trusted], [ad.baseDn, true, true]);
    const wrong = await api.testAdConnection({ url: ad.ldapsUrl, bindDn: ad.adminBindDn, password: 'wrong', trustedCaPem: caPem });
    assert.equal(wrong.ok === false && wrong.code, 'ad-invalid-credentials');
    const pinnedElsewhere = await api.testAdConnection({ url: ad.ldapsUrl, bindDn: ad.adminBindDn, password: ad.adminPassword,
      trustedCaPem: readFileSync(join(repoRoot, '.lab', 'ca', 'ca.pem'), 'utf8') });
    assert.equal(pinnedElsewhere.ok === false && pinnedElsewhere.code, 'ad-certificate', 'a CA that did not issue the DC certificate is refused');
    const unreachable = await api.testAdConnection({ url: 'ldaps://127.0.0.1:1', bindDn: ad.adminBindDn, password: 'x' });
    assert.equal(unreachable.ok === false && unreachable.code, 'ad-unreachable');
    const ous = await api.listOus({ url: ad.ldapsUrl, bindDn: ad.adminBindDn, password: ad.adminPassword, trustedCaPem: caPem, baseDn: ad.baseDn });
    const contoso = ous.find((o) => o.name === 'Contoso');
    assert.ok(contoso && contoso.children.some((c) => c.name === 'Engineering' && c.children.some((g) => g.name === 'Platform')), 'nested OUs come as a tree');
  });

  it('refuses browser-mode calls without the token, with a wrong token, from a foreign origin or host', async () => {
    const browser = running.browser as { port: number; token: string };
    const good = { authorization: `Bearer ${browser.token}`, host: `127.0.0.1:${browser.port}` };
    assert.equal((await raw(browser.port, '/api/getStatus', good)).status, 200);
    assert.equal((await raw(browser.port, '/api/getStatus', { host: good.host })).status, 401);
    assert.equal((await raw(browser.port, '/api/getStatus', { ...good, authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await raw(browser.port, '/api/getStatus', { ...good, origin: 'https://evil.example' })).status, 403);
    assert.equal((await raw(browser.port, '/api/getStatus', { ...good, host: `evil.example:${browser.port}` })).status, 421);
    assert.equal((await raw(browser.port, '/api/getStatus', { ...good, origin: `http://127.0.0.1:${browser.port}` })).status, 200);
    const api = controlClient({ url: `http://127.0.0.1:${browser.port}/`, token: browser.token });
    assert.equal((await api.getStatus({})).configured, true);
  });

  it('creates the MSOL_ service account through the service, proves its rights, rotates its password, and never returns it', async () => {
    const api = controlClient(endpoint);
    const ad = harness.ad;
    const before = await api.getConfig({});
    assert.deepEqual([...before.secrets].sort(), ['ad.password', 'cloud.clientSecret']);
    assert.equal(JSON.stringify(before).includes(ad.adminPassword), false, 'getConfig returns no secret');
    const account = await api.createServiceAccount({ url: ad.ldapsUrl, trustedCaPem: readFileSync(ad.caCertFile, 'utf8'), adminBindDn: ad.adminBindDn,
      adminPassword: ad.adminPassword, baseDn: ad.baseDn, reuseExisting: true });
    serviceAccountDn = account.dn;
    assert.match(account.dn, /^CN=MSOL_[0-9a-f]{12},CN=Users,/);
    assert.equal('password' in account, false);
    assert.equal(account.rights.dirSync, true);
    const config = (await api.getConfig({})).config as { sources: Array<{ ad: { bindDn: string } }> };
    assert.equal(config.sources[0]?.ad.bindDn, account.dn, 'the service now reads AD as its own account');
    const rights = await api.verifyServiceAccount({});
    assert.equal(rights.readDirectory, true);
    const seesDeletions = rights.checks.find((c) => c.name === 'readDeletedObjects')?.ok;
    const warned = (await api.getStatus({})).warnings.some((w) => /cannot see deleted objects/.test(w));
    assert.equal(warned, seesDeletions === false, 'status warns exactly when the account cannot see deletions');
    assert.deepEqual(await api.rotateServiceAccountPassword({ adminBindDn: ad.adminBindDn, adminPassword: ad.adminPassword }), { rotated: true });
    const done = nextFinish();
    await api.startRun({ kind: 'full' });
    const run = await done;
    assert.notEqual(run.status, 'failed', run.message);
    assert.equal(run.imported.ad > 0, true);
    await assert.rejects(api.saveConfig({ config: { ...config, sources: config.sources.map((source) => ({ ...source, ad: { ...source.ad, url: 'dc1:636' } })) } }),
      (e: unknown) => e instanceof RemoteError && e.code === 'config' && /sources\.0\.ad\.url/.test(e.message));
  });

  it('signs an administrator in with a device code, registers the app with a certificate, and syncs as it', async () => {
    const api = controlClient(endpoint);
    const t = harness.tenant.connection;
    const abandoned = await api.beginCloudSignIn({ instance: 'custom', tenant: t.tenantId, authorityHost: t.authorityHost, graphBaseUrl: t.graphBaseUrl });
    assert.deepEqual(await api.cancelCloudSignIn({ signInId: abandoned.signInId }), { cancelled: true });
    await assert.rejects(api.completeCloudSignIn({ signInId: abandoned.signInId }), (e: unknown) => e instanceof RemoteError && /start the sign-in again/.test(e.message));
    const prompt = await api.beginCloudSignIn({ instance: 'custom', tenant: t.tenantId, authorityHost: t.authorityHost, graphBaseUrl: t.graphBaseUrl });
    assert.match(prompt.userCode, /\w+/);
    assert.ok(harness.tenant.state.pendingUserCodes().includes(prompt.userCode));
    harness.tenant.state.approveDeviceCode(prompt.userCode, t.globalAdminUpn);
    const registration = await api.completeCloudSignIn({ signInId: prompt.signInId });
    assert.match(registration.displayName, /^Directory Sync \(/);
    assert.equal(registration.tenantId, t.tenantId);
    assert.ok(registration.verifiedDomains.includes('contoso.com'));
    assert.equal(JSON.stringify(registration).includes('PRIVATE KEY'), false, 'the private key stays in the service');
    const config = (await api.getConfig({})).config as { cloud: Record<string, unknown> };
    await api.saveConfig({ config: { ...config, cloud: { ...config.cloud, clientId: registration.appId, credential: 'certificate', certificatePem: registration.certificatePem } } });
    const done = nextFinish();
    await api.startRun({ kind: 'full' });
    const run = await done;
    assert.notEqual(run.status, 'failed', run.message);
    const calls = harness.tenant.state.requestLog().filter((r) => r.path.startsWith('/v1.0/') && r.appId === registration.appId && r.status < 400);
    assert.ok(calls.length > 0, 'the run called Graph as the new app, signed in with its certificate');
  });

  it('lets the dirsync command run through the service while it runs', async () => {
    const count = finished.length;
    const child = spawn(process.execPath, [join(repoRoot, 'engine', 'bin', 'dirsync.js'), '--data-dir', harness.dataDir, '--json', 'sync'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)));
    assert.equal(code, 0, stdout);
    const summary = JSON.parse(stdout) as RunSummary;
    assert.equal(finished.length, count + 1, 'the service ran it and announced it');
    assert.equal(finished[finished.length - 1]?.id, summary.id);
  });

  it('logs every run with its run id, as JSON lines, and never a secret', () => {
    running.service.log.flush();
    const text = readFileSync(join(harness.dataDir, 'logs', 'dirsync.log'), 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { runId?: number; msg: string });
    const started = lines.filter((l) => l.msg === 'run started');
    assert.ok(started.length >= 3);
    for (const line of started) assert.equal(typeof line.runId, 'number');
    assert.ok(lines.some((l) => l.msg === 'run finished' && typeof l.runId === 'number'));
    assert.equal(text.includes(harness.ad.adminPassword), false, 'the AD password is not in the log');
    assert.equal(text.includes(harness.tenant.connection.clientSecret), false, 'the client secret is not in the log');
  });
});
