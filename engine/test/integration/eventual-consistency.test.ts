/**
 * Eventual consistency (docs/eventual-consistency.md): the same first sync of the lab's organisation
 * against a strongly consistent tenant and against one whose every write reaches other requests only
 * after a lag (seeded, 0.2–6 s: "seconds are typical"). With the lag the run must end with the same
 * tenant, the same reported errors and nothing more — no error caused by lag, no duplicate — and a full
 * run right after creates, reading replicas that have not seen them, must neither delete nor create. Then answers lost after
 * the tenant applied creates (the connection dropped), with lag: no second group, no second user, no
 * lost membership; and changes still refused when the run's wait ends are left to the next run, as
 * waiting, not as errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildOrganisation } from '../../../lab/fixtures/organisation.ts';
import { startTenantServer, type TenantServer } from '../../../lab/tenant/index.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import {
  DIRECTORY_SYNC_GRAPH_PERMISSIONS, beginAdminSignIn, checkAppCredential, registerDirectorySyncApp, tokenRoles, type AdminSession, type CloudSettings,
} from '../../src/cloud/app-registration.ts';
import type { RunSummary } from '../../src/contract/model.ts';
import { AppCredentialCheckError } from '../../src/errors/app-registration-errors.ts';
import { runSync } from '../../src/run/run.ts';
import { sessionFor } from '../../src/run/session.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, startHarness, type Harness } from '../support/engine-harness.ts';

const LAG = { lagMs: { min: 200, max: 6000 }, seed: 2512 };

type Entry = Record<string, unknown> & { id: string; members?: string[]; managerId?: string };

/** A tenant's managed objects as AD would describe them: users by UPN with values and manager, groups by name with member names. */
function describeTenant(tenant: TenantServer): { users: Map<string, string>; groups: Map<string, string>; anchors: string[] } {
  const anchorKey = `extension_${tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`;
  const objects = (tenant.state.dump() as { objects: Record<string, Entry[]> }).objects;
  const managed = [...(objects['user'] ?? []), ...(objects['group'] ?? [])].filter((o) => typeof o[anchorKey] === 'string');
  const nameOf = new Map(managed.map((o) => [o.id, String(o['userPrincipalName'] ?? o['displayName']).toLowerCase()]));
  const users = new Map<string, string>();
  const groups = new Map<string, string>();
  for (const o of managed) {
    const name = nameOf.get(o.id) as string;
    if (o['@odata.type'] === '#microsoft.graph.user') {
      users.set(name, JSON.stringify([o['displayName'], o['jobTitle'], o['department'], o['accountEnabled'], o['mail'], o['managerId'] ? nameOf.get(o.managerId) : null]));
    } else {
      groups.set(name, JSON.stringify((o.members ?? []).map((m) => nameOf.get(m) ?? `unmanaged:${m}`).sort()));
    }
  }
  return { users, groups, anchors: managed.map((o) => String(o[anchorKey])) };
}

function errorsOf(harness: Harness, run: RunSummary): string[] {
  return harness.store.listErrors(run.id).map((e) => `${e.dn} ${e.code}`).sort();
}

/** Graph's refusals the lag caused, as the tenant logged them: proof the run met the lag. */
function lagRefusals(tenant: TenantServer, since: number): number {
  return tenant.state.requestLog(since).filter((r) => (r.status === 404 || r.status === 400) && /\$ref|groups\(|\/users\//.test(r.path)).length;
}

describe('eventual consistency: a lagging tenant', () => {
  const organisation = buildOrganisation();
  let consistent: Harness;
  let lagging: Harness;
  let sandbox: AdSandbox;
  const timings: Record<string, number> = {};
  let firstRun: RunSummary | undefined;

  before(async () => {
    const ad = await sharedAd();
    sandbox = await createAdSandbox(ad, 'Test Eventual Consistency Scope');
    const scopeOuGuids = [await sandbox.guidOf(organisation.notable.scopeOu), await sandbox.guidOf(sandbox.ouDn)];
    consistent = await startHarness({ scopeOuGuids });
    lagging = await startHarness({ scopeOuGuids, tenant: { consistency: LAG } });
  });
  after(async () => {
    await consistent?.close();
    await lagging?.close();
    await sandbox?.close();
    if (Object.keys(timings).length > 0) console.log(`# eventual consistency: first sync ${JSON.stringify(timings)}`);
  });

  it('a first sync with lag ends with the tenant exactly as without it: no error caused by lag, no duplicate', { timeout: 15 * 60_000 }, async () => {
    let started = performance.now();
    const reference = await consistent.sync('full');
    timings['withoutLagSeconds'] = Math.round((performance.now() - started) / 100) / 10;
    started = performance.now();
    const seq = lastSeq(lagging.tenant);
    const run = await lagging.sync('full');
    firstRun = run;
    timings['withLagSeconds'] = Math.round((performance.now() - started) / 100) / 10;

    assert.ok(lagRefusals(lagging.tenant, seq) > 0, 'the lagging tenant refused references to objects it had not replicated yet (the lag was met)');
    assert.match(run.message ?? '', /changes waited for Microsoft Entra ID to replicate objects created moments ago, then were sent/);
    assert.equal(run.status, reference.status, `the same outcome: ${run.message}`);
    assert.deepEqual(errorsOf(lagging, run), errorsOf(consistent, reference), 'the same errors, none caused by lag');
    assert.equal(run.errors, reference.errors);
    const want = describeTenant(consistent.tenant);
    const got = describeTenant(lagging.tenant);
    assert.ok(want.users.size > 100 && want.groups.size > 5, 'the organisation was synchronized');
    assert.equal(new Set(got.anchors).size, got.anchors.length, 'no object twice');
    assert.deepEqual([...got.users].sort(), [...want.users].sort(), 'every user, value and manager as without lag');
    assert.deepEqual([...got.groups].sort(), [...want.groups].sort(), 'every group and membership as without lag');
  });

  it('a full run right after creates, reading replicas that have not seen them, neither deletes nor creates anything', { timeout: 10 * 60_000 }, async () => {
    for (let i = 0; i < 3; i += 1) {
      await sandbox.addUser(`Fresh User ${i}`, { sAMAccountName: `fresh${i}`, userPrincipalName: `fresh.user${i}@contoso.com`, displayName: `Fresh User ${i}` });
    }
    await sandbox.addGroup('Fresh Group', []);
    // Every write from now on takes 20 s to reach the replicas that answer reads.
    lagging.tenant.state.setConsistency({ lagMs: { min: 20_000, max: 20_000 }, seed: 2513 });
    const delta = await lagging.sync('delta');
    assert.deepEqual(delta.exported, { 'create-user': 3, 'create-group': 1 });
    const before = describeTenant(lagging.tenant);
    const seq = lastSeq(lagging.tenant);
    const run = await lagging.sync('full');
    assert.ok(lagging.tenant.state.pendingReplication().changes.length > 0, 'the creates were still replicating when the full run read the tenant');
    assert.match(run.message ?? '', /4 objects created moments ago are not yet listed by Microsoft Graph \(its replicas lag\): kept as they are/);
    const writes = lagging.tenant.state.requestLog(seq).filter((r) => r.isWrite && !/\/\$batch/.test(r.path));
    // Stale memberships and managers of the first run's last seconds are sent again: Graph answers them as done
    // (memberships bound together are refused as a whole, then found present one by one).
    const harmful = writes.filter((w) => !((w.method === 'POST' && /\/members\/\$ref$/.test(w.path) && w.status === 400)
      || (w.method === 'PATCH' && /^\/v1\.0\/groups\/[0-9a-f-]+$/.test(w.path) && w.status === 400) || (w.method === 'PUT' && /\/manager\/\$ref$/.test(w.path) && w.status === 204)));
    assert.deepEqual(harmful.map((w) => `${w.method} ${w.path} ${w.status}`), [], 'nothing deleted, nothing created again, nothing changed');
    assert.deepEqual(errorsOf(lagging, run), errorsOf(lagging, firstRun as RunSummary), 'the organisation\'s invalid objects reported again, and no other error');
    assert.deepEqual(describeTenant(lagging.tenant), before, 'the tenant is as it was');
  });
});

describe('eventual consistency: answers lost after the tenant applied creates, and a wait that ends', () => {
  let sandbox: AdSandbox;
  let harness: Harness;
  const USERS = 30;
  const GROUPS = 6;

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Eventual Consistency Lost');
    const dns: string[] = [];
    for (let i = 0; i < USERS; i += 1) {
      dns.push(await sandbox.addUser(`Lag User ${i}`, { sAMAccountName: `lag${i}`, userPrincipalName: `lag.user${i}@contoso.com`, displayName: `Lag User ${i}`,
        ...(i > 0 ? { manager: dns[0] as string } : {}) }));
    }
    for (let g = 0; g < GROUPS; g += 1) await sandbox.addGroup(`Lag Group ${g}`, dns.filter((_, i) => i % GROUPS === g));
    harness = await startHarness({ scopeOuGuids: [await sandbox.guidOf(sandbox.ouDn)], tenant: { consistency: { lagMs: { min: 500, max: 3000 }, seed: 77 } } });
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('creates sent again after their answers were lost make no second group or user, and every membership', { timeout: 10 * 60_000 }, async () => {
    // The tenant applies the first three batches, then drops the connection: the engine never hears that it created them.
    harness.tenant.state.injectFaults({ mode: 'drop', count: 3, pathPrefix: '/v1.0/$batch', when: 'after' });
    const run = await harness.sync('full');
    harness.tenant.state.clearFaults();
    assert.equal(run.errors, 0, `no error: ${JSON.stringify(harness.store.listErrors(run.id))}`);
    assert.equal(run.status, 'succeeded', run.message);
    const tenant = describeTenant(harness.tenant);
    assert.equal(new Set(tenant.anchors).size, tenant.anchors.length, 'no object twice');
    assert.equal(tenant.users.size, USERS);
    assert.equal(tenant.groups.size, GROUPS, `exactly ${GROUPS} groups: ${[...tenant.groups.keys()].join(', ')}`);
    for (let g = 0; g < GROUPS; g += 1) {
      const members = JSON.parse(tenant.groups.get(`lag group ${g}`) ?? '[]') as string[];
      assert.equal(members.length, Array.from({ length: USERS }, (_, i) => i).filter((i) => i % GROUPS === g).length, `every member of Lag Group ${g}`);
    }
    for (const [upn, values] of tenant.users) if (upn !== 'lag.user0@contoso.com') assert.equal((JSON.parse(values) as unknown[])[5], 'lag.user0@contoso.com', `${upn}'s manager`);
  });

  it('changes still refused when the wait ends are left to the next run as waiting, not errors, and the next run sends them', { timeout: 10 * 60_000 }, async () => {
    for (let i = 0; i < 4; i += 1) await sandbox.addUser(`Lag Late ${i}`, { sAMAccountName: `laglate${i}`, userPrincipalName: `lag.late${i}@contoso.com`, displayName: `Lag Late ${i}` });
    await sandbox.addGroup('Lag Late Group', [0, 1, 2, 3].map((i) => `CN=Lag Late ${i},${sandbox.ouDn}`));
    // A lag longer than the run waits: the memberships cannot be sent in this run.
    harness.tenant.state.setConsistency({ lagMs: { min: 60_000, max: 60_000 }, seed: 78 });
    const session = { ...sessionFor(harness.store, harness.config, { writeBudget: { writes: 3000, windowSeconds: 2.5 }, replicationWaitMs: 1500 }) };
    const run = await runSync(session, { kind: 'delta', dryRun: false });
    assert.equal(run.errors, 0, JSON.stringify(harness.store.listErrors(run.id)));
    assert.equal(run.status, 'succeeded');
    assert.match(run.message ?? '', /4 changes still wait for Microsoft Entra ID to replicate objects created moments ago: the next run sends them/);
    assert.equal(describeTenant(harness.tenant).groups.get('lag late group'), '[]', 'the memberships wait');
    // Replication catches up (the tenant's clock moves past the lag); the next delta run sends what waited.
    harness.tenant.state.advanceClock(61);
    const next = await runSync(session, { kind: 'delta', dryRun: false });
    assert.equal(next.errors, 0);
    assert.deepEqual(JSON.parse(describeTenant(harness.tenant).groups.get('lag late group') ?? '[]'), [0, 1, 2, 3].map((i) => `lag.late${i}@contoso.com`));
  });
});

describe('eventual consistency: the app registration waits for its permissions to reach a token', () => {
  let tenant: TenantServer;
  let admin: AdminSession;
  const cloud = (): CloudSettings => ({ instance: 'custom', authorityHost: tenant.connection.authorityHost, graphBaseUrl: tenant.connection.graphBaseUrl });

  before(async () => {
    // Directory writes lag 0.2–3 s; the token service learns of new applications, credentials and consent 3–8 s later.
    tenant = await startTenantServer({ consistency: { lagMs: { min: 200, max: 3000 }, tokenLagMs: { min: 3000, max: 8000 }, seed: 4242 } });
    const pending = await beginAdminSignIn(cloud());
    tenant.state.approveDeviceCode(pending.userCode, tenant.connection.globalAdminUpn);
    admin = await pending.result;
  });
  after(async () => {
    await admin?.signOut();
    await tenant?.close();
  });

  it('registers through a lagging directory, waits with progress until the token carries every permission, and the application then writes', { timeout: 5 * 60_000 }, async () => {
    const registration = await registerDirectorySyncApp(admin, { hostName: 'lag01.contoso.com' });
    const waits: string[] = [];
    const started = performance.now();
    const { connector } = await checkAppCredential(registration, { ...cloud(), timeoutSeconds: 60, retryDelayMs: 500, onWait: (what, seconds) => waits.push(`${what} ${seconds}`) });
    const waited = (performance.now() - started) / 1000;
    assert.ok(waits.length > 0, 'it waited for replication, and said so');
    assert.ok(waits.every((w) => /^Waiting for Microsoft Entra ID to make the new (permissions effective|application and its certificate known) \d+$/.test(w)), waits.join('; '));
    assert.ok(waited < 30, `within the lag, not the bound (${waited.toFixed(1)} s)`);
    assert.deepEqual([...tokenRoles(await connector.accessToken())].sort(), [...DIRECTORY_SYNC_GRAPH_PERMISSIONS].sort(), 'the token carries every permission');
    const user = await connector.graph.api('/users').post({
      accountEnabled: true, displayName: 'Lag Probe', mailNickname: 'lag.probe', userPrincipalName: 'lag.probe@contoso.com',
      passwordProfile: { password: 'Probe-Passw0rd!', forceChangePasswordNextSignIn: true }, [registration.anchorProperty]: 'bGFn',
    }) as { id: string };
    assert.ok(user.id, 'the new application writes at once');
  });

  it('fails, after its bound and not before, with a message that says replication is slow and what to do', { timeout: 2 * 60_000 }, async () => {
    tenant.state.setConsistency({ lagMs: { min: 200, max: 1000 }, tokenLagMs: { min: 600_000, max: 600_000 }, seed: 4243 });
    const registration = await registerDirectorySyncApp(admin, { hostName: 'lag02.contoso.com' });
    const started = performance.now();
    await assert.rejects(checkAppCredential(registration, { ...cloud(), timeoutSeconds: 4, retryDelayMs: 500 }), (error: unknown) => {
      assert.ok(error instanceof AppCredentialCheckError, String(error));
      assert.match((error as Error).message, /can take a few minutes to replicate; try the check again, or register again/);
      return true;
    });
    assert.ok((performance.now() - started) / 1000 >= 3.5, 'it waited for its bound');
  });
});
