/**
 * Two forests into one tenant (docs/forests.md), against the lab's two Samba DCs: contoso.test (127.0.0.1) and
 * fabrikam.test (127.0.0.2), each its own forest, each a source with its own cookie, scope and account.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFabrikamOrganisation } from '../../../lab/fixtures/fabrikam.ts';
import { buildOrganisation } from '../../../lab/fixtures/organisation.ts';
import { sharedForests, startSecondForestDc, stopSecondForestDc } from '../../../lab/test/support/shared-lab.ts';
import { defaultSeed } from '../../../lab/tenant/seed.ts';
import type { AdConnection } from '../../../lab/connection.ts';
import { runSync, type EngineSession } from '../../src/run/run.ts';
import { adCursorKey } from '../../src/store/keys.ts';
import { runDoctor } from '../../src/diagnostics/doctor.ts';
import { domainStatuses } from '../../src/run/sources.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, managedInTenant, startHarness, writesSince, type Harness } from '../support/engine-harness.ts';

const contosoOrganisation = buildOrganisation();
const fabrikamOrganisation = buildFabrikamOrganisation();
const collision = fabrikamOrganisation.notable.upnCollision;
const FABRIKAM = 'fabrikam.test';

describe('two forests into one tenant', () => {
  let contoso: AdConnection;
  let fabrikam: AdConnection;
  let harness: Harness;
  let contosoBox: AdSandbox;
  let fabrikamBox: AdSandbox;
  let secondForestStopped = false;

  before(async () => {
    [contoso, fabrikam] = (await sharedForests()) as [AdConnection, AdConnection];
    contosoBox = await createAdSandbox(contoso, 'Test Forests');
    fabrikamBox = await createAdSandbox(fabrikam, 'Test Forests');
    const seedDomains = [...(defaultSeed().domains ?? []), { name: 'fabrikam.com', type: 'Managed' as const }];
    harness = await startHarness({
      scopeOuGuids: [await contosoBox.guidOf(contosoOrganisation.notable.scopeOu), await contosoBox.guidOf(contosoBox.ouDn)],
      secondForest: { ad: fabrikam, scopeOuGuids: [await fabrikamBox.guidOf(fabrikamOrganisation.notable.scopeOu), await fabrikamBox.guidOf(fabrikamBox.ouDn)] },
      tenant: { seed: { domains: seedDomains } },
    });
  });
  after(async () => {
    // A test that stopped the second forest's DC and failed before starting it again leaves it to this.
    if (secondForestStopped) await startSecondForestDc();
    await harness?.close();
    await contosoBox?.close();
    await fabrikamBox?.close();
  });

  const managedUpns = (): string[] => managedInTenant(harness.tenant, 'user').map((u) => String(u['userPrincipalName']).toLowerCase());
  const cloudUserOf = (upn: string) => managedInTenant(harness.tenant, 'user').find((u) => String(u['userPrincipalName']).toLowerCase() === upn.toLowerCase());

  it('first full run: every in-scope object of both forests once, anchors unique, the colliding UPN written for neither, the foreign member reported', async () => {
    const run = await harness.sync('full');
    assert.deepEqual(run.sources?.map((s) => [s.id, s.domain, s.forest, s.error]), [['primary', 'contoso.test', 'contoso.test', undefined], [FABRIKAM, FABRIKAM, FABRIKAM, undefined]]);
    assert.ok((run.sources?.[1]?.imported ?? 0) >= fabrikamOrganisation.counts.users + fabrikamOrganisation.counts.groups, JSON.stringify(run.sources));

    const upns = managedUpns();
    assert.equal(new Set(upns).size, upns.length, 'a UPN is held by two managed cloud users');
    const anchors = managedInTenant(harness.tenant, 'user').map((u) => u[`extension_${harness.tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`]);
    assert.equal(new Set(anchors).size, anchors.length, 'two cloud users carry one anchor');
    // Every fabrikam user but the colliding one is in the tenant, once.
    const fabrikamUsers = fabrikamOrganisation.users.filter((u) => u.dn !== collision.fabrikamDn);
    for (const user of fabrikamUsers) assert.ok(upns.includes(String(user.userPrincipalName).toLowerCase()), `${user.dn} is in the tenant`);
    // (contoso's own user with a fabrikam.com UPN, refused in the lab tenant, is valid in this one, which verified fabrikam.com)
    const contosoFabrikamUpns = contosoOrganisation.users.filter((u) => u.inScope && u.expectedProblem === 'unverified-upn-suffix' && /@fabrikam\.com$/i.test(String(u.userPrincipalName)));
    assert.deepEqual(upns.filter((u) => u.endsWith('@fabrikam.com')).sort(),
      [...fabrikamUsers, ...contosoFabrikamUpns].map((u) => String(u.userPrincipalName).toLowerCase()).sort());
    // The UPN both forests use: reported with both DNs for each, written for neither.
    assert.equal(cloudUserOf(collision.userPrincipalName), undefined, 'the colliding UPN was written');
    const errors = harness.store.listErrors(run.id).filter((e) => e.code === 'duplicate-userprincipalname-across-forests');
    assert.deepEqual(errors.map((e) => e.dn).sort(), [collision.contosoDn, collision.fabrikamDn].sort());
    for (const error of errors) {
      const other = error.dn === collision.contosoDn ? collision.fabrikamDn : collision.contosoDn;
      assert.ok(error.reason.includes(other) && error.reason.includes('neither is written'), error.reason);
    }
    // The member from the other forest: reported on its group with its SID, not dropped without a word.
    const foreign = harness.store.listReports(run.id, 'foreign-member');
    assert.deepEqual(foreign.map((r) => r.dn), [fabrikamOrganisation.notable.foreignMember.groupDn]);
    assert.match(foreign[0]?.reason ?? '', /CN=S-1-5-21-[\d-]+,CN=ForeignSecurityPrincipals,DC=fabrikam,DC=test is a foreign security principal/);
    assert.equal(run.foreignMembers, 1);
    // Each forest has its own cookie.
    assert.ok(harness.store.getCursor(adCursorKey('primary')));
    assert.ok(harness.store.getCursor(adCursorKey(FABRIKAM)));
    // The group with the foreign member holds its fabrikam members.
    const groups = managedInTenant(harness.tenant, 'group').map((g) => String(g['displayName']));
    assert.ok(groups.includes('DL-FAB-Joint-Project'), groups.join(', '));
  });

  it('a chosen forest keeps the colliding UPN: its object is written, the other is refused naming it', async () => {
    const preferring = harness.reinstall();
    try {
      preferring.config = { ...preferring.config, preferredForest: FABRIKAM };
      const run = await preferring.sync('full', true);
      const errors = preferring.store.listErrors(run.id).filter((e) => e.code === 'duplicate-userprincipalname-across-forests');
      assert.deepEqual(errors.map((e) => e.dn), [collision.contosoDn]);
      assert.match(errors[0]?.reason ?? '', new RegExp(`${collision.fabrikamDn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} keeps it \\(forest fabrikam.test was chosen to win\\)`));
    } finally {
      await preferring.close();
    }
  });

  it('delta runs: a change in either forest arrives, a deletion in one deletes only that object, and a quiet forest keeps its cookie', async () => {
    const bea = await fabrikamBox.addUser('Bea Box', { sAMAccountName: 'bea.box', userPrincipalName: 'bea.box@fabrikam.com', displayName: 'Bea Box', givenName: 'Bea', sn: 'Box' });
    const cal = await contosoBox.addUser('Cal Box', { sAMAccountName: 'cal.box', userPrincipalName: 'cal.box@contoso.com', displayName: 'Cal Box', givenName: 'Cal', sn: 'Box' });
    let seq = lastSeq(harness.tenant);
    let run = await harness.sync('delta');
    assert.equal(run.kind, 'delta');
    assert.deepEqual(writesSince(harness.tenant, seq).map((w) => `${w.method} ${w.path.replace(/\/users\/[^/?]+/, '/users/{id}')}`).filter((w) => w.startsWith('POST')).length, 2);
    assert.ok(cloudUserOf('bea.box@fabrikam.com') && cloudUserOf('cal.box@contoso.com'));

    // Only fabrikam changes: contoso's cookie stays as it was.
    const contosoCookie = harness.store.getCursor(adCursorKey('primary'));
    const fabrikamCookie = harness.store.getCursor(adCursorKey(FABRIKAM));
    await fabrikamBox.replace(bea, 'title', ['Buyer']);
    seq = lastSeq(harness.tenant);
    run = await harness.sync('delta');
    const writes = writesSince(harness.tenant, seq);
    assert.deepEqual(writes.map((w) => w.method), ['PATCH'], JSON.stringify(writes.map((w) => [w.method, w.path])));
    assert.equal(cloudUserOf('bea.box@fabrikam.com')?.['jobTitle'], 'Buyer');
    assert.equal(harness.store.getCursor(adCursorKey('primary')), contosoCookie, 'the quiet forest\'s cookie moved');
    assert.notEqual(harness.store.getCursor(adCursorKey(FABRIKAM)), fabrikamCookie);

    // A deletion in contoso deletes that object only.
    const calId = String(cloudUserOf('cal.box@contoso.com')?.['id']);
    await contosoBox.remove(cal);
    seq = lastSeq(harness.tenant);
    run = await harness.sync('delta');
    assert.deepEqual(writesSince(harness.tenant, seq).map((w) => `${w.method} ${w.path}`), [`DELETE /v1.0/users/${calId}`]);
    assert.ok(cloudUserOf('bea.box@fabrikam.com'), 'the other forest\'s user went too');
    assert.equal(run.status, 'completed-with-errors'); // the fixture's invalid objects, as every run
  });

  it('a forest whose DC stops mid-run: the other exports, nothing of it is deleted, its cookie stays, and the run after it returns brings everything', async () => {
    const dora = await fabrikamBox.addUser('Dora Box', { sAMAccountName: 'dora.box', userPrincipalName: 'dora.box@fabrikam.com', displayName: 'Dora Box', givenName: 'Dora', sn: 'Box' });
    const eli = await contosoBox.addUser('Eli Box', { sAMAccountName: 'eli.box', userPrincipalName: 'eli.box@contoso.com', displayName: 'Eli Box', givenName: 'Eli', sn: 'Box' });
    await harness.sync('delta');
    const doraId = String(cloudUserOf('dora.box@fabrikam.com')?.['id']);
    // Changes in both forests, and a deletion in fabrikam.
    await contosoBox.replace(eli, 'title', ['Auditor']);
    await fabrikamBox.replace(dora, 'title', ['Pilot']);
    const bea = `CN=Bea Box,${fabrikamBox.ouDn}`;
    const beaId = String(cloudUserOf('bea.box@fabrikam.com')?.['id']);
    await fabrikamBox.remove(bea);
    const fabrikamCookie = harness.store.getCursor(adCursorKey(FABRIKAM));

    // The fabrikam DC answers the connection, then stops before its objects are read.
    const base = harness.session();
    const session: EngineSession = { ...base, connectAd: async (source) => {
      const connection = await base.connectAd(source);
      if (source.id === FABRIKAM) {
        await stopSecondForestDc();
        secondForestStopped = true;
      }
      return connection;
    } };
    let seq = lastSeq(harness.tenant);
    let run = await runSync(session, { kind: 'delta', dryRun: false });
    assert.equal(run.status, 'completed-with-errors');
    const down = run.sources?.find((s) => s.id === FABRIKAM);
    assert.ok(down?.error, JSON.stringify(run.sources));
    assert.ok(harness.store.listErrors(run.id).some((e) => e.code === 'domain-unreachable' && e.dn === fabrikam.baseDn));
    assert.deepEqual(writesSince(harness.tenant, seq).map((w) => w.method), ['PATCH'], 'only contoso\'s change is written');
    assert.equal(cloudUserOf('eli.box@contoso.com')?.['jobTitle'], 'Auditor');
    assert.equal(harness.store.getCursor(adCursorKey(FABRIKAM)), fabrikamCookie, 'the stopped forest\'s cookie moved');

    // Status and the doctor say which domain: its last error, and its checks failed while the other's pass.
    const domains = domainStatuses(harness.store, harness.config, run);
    assert.deepEqual(domains.map((d) => [d.domain, d.forest, d.changeTracking, d.lastError !== undefined]),
      [['contoso.test', 'contoso.test', 'dirsync', false], [FABRIKAM, FABRIKAM, 'dirsync', true]]);
    const doctor = await runDoctor({ dataDir: harness.dataDir });
    const adChecks = doctor.checks.filter((c) => c.id.startsWith('ad-')).map((c) => [c.id, c.status]);
    assert.deepEqual(adChecks, [['ad-certificate/contoso.test', 'ok'], ['ad-connection/contoso.test', 'ok'], ['ad-rights/contoso.test', 'ok'],
      [`ad-connection/${FABRIKAM}`, 'failed']], JSON.stringify(doctor.checks.filter((c) => c.id.startsWith('ad-'))));

    // A full run while it is down: nothing of it is deleted (no orphans, no deletions).
    seq = lastSeq(harness.tenant);
    run = await harness.sync('full');
    assert.ok(run.sources?.find((s) => s.id === FABRIKAM)?.error);
    assert.deepEqual(writesSince(harness.tenant, seq).filter((w) => w.method === 'DELETE'), []);
    assert.ok(cloudUserOf('bea.box@fabrikam.com') && cloudUserOf('dora.box@fabrikam.com'));

    // It returns: the next run brings its change and its deletion.
    await startSecondForestDc();
    secondForestStopped = false;
    await fabrikamBox.client.unbind().catch(() => undefined);
    fabrikamBox = await createAdSandbox(fabrikam, 'Test Forests', { reopen: true });
    seq = lastSeq(harness.tenant);
    run = await harness.sync('delta');
    assert.equal(run.sources?.find((s) => s.id === FABRIKAM)?.error, undefined);
    assert.deepEqual(writesSince(harness.tenant, seq).map((w) => `${w.method} ${w.path}`).sort(), [`DELETE /v1.0/users/${beaId}`, `PATCH /v1.0/users/${doraId}`].sort());
    assert.equal(cloudUserOf('dora.box@fabrikam.com')?.['jobTitle'], 'Pilot');
  });

  it('an object migrated to the other forest with its ms-DS-ConsistencyGuid waits while the first holds it, then takes its cloud object over', async () => {
    const fay = await contosoBox.addUser('Fay Box', { sAMAccountName: 'fay.box', userPrincipalName: 'fay.box@contoso.com', displayName: 'Fay Box', givenName: 'Fay', sn: 'Box', title: 'Clerk' });
    await harness.sync('delta');
    const cloud = cloudUserOf('fay.box@contoso.com');
    assert.ok(cloud);
    // ADMT copies the user with a new objectGUID and carries ms-DS-ConsistencyGuid (the source anchor: its objectGUID's bytes).
    const guid = await contosoBox.guidOf(fay);
    const hex = guid.replace(/-/g, '');
    const bytes = Buffer.concat([Buffer.from(hex.slice(0, 8), 'hex').reverse(), Buffer.from(hex.slice(8, 12), 'hex').reverse(), Buffer.from(hex.slice(12, 16), 'hex').reverse(), Buffer.from(hex.slice(16), 'hex')]);
    const migrated = await fabrikamBox.addUser('Fay Box', { sAMAccountName: 'fay.box', userPrincipalName: 'fay.box@contoso.com', displayName: 'Fay Box', givenName: 'Fay', sn: 'Box',
      title: 'Senior Clerk', 'mS-DS-ConsistencyGuid': bytes });
    let seq = lastSeq(harness.tenant);
    let run = await harness.sync('delta');
    const waiting = harness.store.listErrors(run.id).filter((e) => e.code === 'anchor-in-use');
    assert.deepEqual(waiting.map((e) => e.dn), [migrated]);
    assert.ok(waiting[0]?.reason.includes(fay), waiting[0]?.reason);
    assert.deepEqual(writesSince(harness.tenant, seq), [], 'written while both hold the anchor');

    // The migration ends: the contoso object is deleted. No deletion: the fabrikam object is that cloud user now.
    await contosoBox.remove(fay);
    seq = lastSeq(harness.tenant);
    run = await harness.sync('delta');
    const writes = writesSince(harness.tenant, seq);
    assert.deepEqual(writes.map((w) => `${w.method} ${w.path}`), [`PATCH /v1.0/users/${String(cloud['id'])}`], JSON.stringify(run));
    assert.equal(cloudUserOf('fay.box@contoso.com')?.['jobTitle'], 'Senior Clerk');
    assert.equal(harness.store.linkByCloudId(String(cloud['id']))?.adGuid, await fabrikamBox.guidOf(migrated));
    // And the next full run writes nothing.
    seq = lastSeq(harness.tenant);
    await harness.sync('full');
    assert.deepEqual(writesSince(harness.tenant, seq).map((w) => `${w.method} ${w.path}`), []);
  });
});
