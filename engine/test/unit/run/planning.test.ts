import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PlannedOperation } from '../../../src/contract/model.ts';
import { buildPlan } from '../../../src/run/planning.ts';
import { Store } from '../../../src/store/store.ts';
import type { AdEntry } from '../../../src/sync/ad-entry.ts';
import type { CloudObject } from '../../../src/sync/cloud-object.ts';
import { adGroup, adUser, TEST_ANCHOR_PROPERTY, testConfig } from '../sync/builders.ts';

const ANCHOR_PROPERTY = TEST_ANCHOR_PROPERTY;
const config = testConfig('the planning test');

/** A small directory in an in-memory store: Ann is new, Bob is linked and got a new title, Carl was deleted in AD, and a group holds Ann and Bob. */
function directory(): { store: Store; runId: number; ann: AdEntry; bob: AdEntry; carl: AdEntry; team: AdEntry } {
  const store = Store.inMemory();
  const runId = store.startRun('full', false);
  const ann = adUser({ cn: 'Ann', userPrincipalName: 'ann@contoso.com', displayName: 'Ann' });
  const bob = adUser({ cn: 'Bob', userPrincipalName: 'bob@contoso.com', displayName: 'Bob', title: 'Director' });
  const carl = adUser({ cn: 'Carl', userPrincipalName: 'carl@contoso.com', displayName: 'Carl' }, { deleted: true });
  const team = adGroup({ cn: 'Team', sAMAccountName: 'Team' }, { memberGuids: [] });
  const withMembers: AdEntry = { ...team, memberGuids: [ann.guid, bob.guid] };
  store.transaction(() => store.upsertAdEntries([ann, bob, carl, withMembers], runId));
  const cloud = (id: string, entry: AdEntry, properties: Record<string, unknown>): CloudObject => ({ id, objectType: 'user', managedAnchor: entry.guidBase64,
    immutableId: entry.guidBase64, userPrincipalName: String(properties['userPrincipalName']), properties: { ...properties, [ANCHOR_PROPERTY]: entry.guidBase64 } });
  store.transaction(() => {
    store.upsertCloudObjects([cloud('c-bob', bob, { userPrincipalName: 'bob@contoso.com', displayName: 'Bob', jobTitle: 'Engineer' }),
      cloud('c-carl', carl, { userPrincipalName: 'carl@contoso.com', displayName: 'Carl' })], runId);
    for (const [entry, id] of [[bob, 'c-bob'], [carl, 'c-carl']] as const) {
      store.setLink({ adGuid: entry.guid, sourceAnchor: entry.guidBase64, objectType: 'user', cloudId: id, state: 'linked', dn: entry.dn }, runId);
    }
  });
  return { store, runId, ann, bob, carl, team: withMembers };
}

function operations(store: Store, planId: number): Array<PlannedOperation & { status: string }> {
  return store.listOperations(planId).map((s) => ({ ...s.operation, status: s.status }));
}

describe('planning on an in-memory store', () => {
  it('plans creates, the changed attribute, the group and its members, and holds the deletion over the threshold', () => {
    const { store, runId, ann, carl } = directory();
    const plan = buildPlan({ store, config, runId, mode: { kind: 'full' }, domains: { verified: ['contoso.com'] }, anchorProperty: ANCHOR_PROPERTY, dryRun: false });
    assert.deepEqual(plan.planned, { 'create-user': 1, 'update-user': 1, 'create-group': 1, 'add-member': 2, 'delete-user': 1 });
    const ops = operations(store, plan.planId);
    assert.equal(ops.find((op) => op.kind === 'create-user')?.adGuid, ann.guid);
    assert.ok('jobTitle' in (ops.find((op) => op.kind === 'update-user')?.properties ?? {}), 'the new title is written');
    const deletion = ops.find((op) => op.kind === 'delete-user');
    assert.deepEqual([deletion?.cloudId, deletion?.status, deletion?.gated], ['c-carl', 'held', true], 'one deletion of two managed users is over 10%: held');
    assert.equal(deletion?.adGuid, carl.guid);
    assert.equal(plan.held, 1);
    assert.match(plan.heldReasons.join(' '), /exceed the deletion threshold/);
    assert.equal(plan.inScope, 3);
    store.close();
  });

  it('names a member by the cloud object this very plan links it to', () => {
    const { store, runId, bob, team } = directory();
    // Bob's link names a cloud user that is gone; the live one carrying his anchor holds his values: planning links him to it.
    store.transaction(() => {
      store.upsertCloudObjects([{ id: 'c-bob', objectType: 'user', managedAnchor: bob.guidBase64, immutableId: bob.guidBase64, userPrincipalName: 'bob@contoso.com',
        properties: { accountEnabled: true, mailNickname: bob.attributes['samaccountname']?.[0], userPrincipalName: 'bob@contoso.com', displayName: 'Bob', jobTitle: 'Director', onPremisesImmutableId: bob.guidBase64, [ANCHOR_PROPERTY]: bob.guidBase64 } }], runId);
      store.setLink({ adGuid: bob.guid, sourceAnchor: bob.guidBase64, objectType: 'user', cloudId: 'c-bob-gone', state: 'linked', dn: bob.dn }, runId);
    });
    assert.ok(team.guid > bob.guid, 'the group is planned after its member');
    const plan = buildPlan({ store, config, runId, mode: { kind: 'full' }, domains: { verified: ['contoso.com'] }, anchorProperty: ANCHOR_PROPERTY, dryRun: false });
    const ops = operations(store, plan.planId);
    assert.deepEqual(ops.filter((op) => op.adGuid === bob.guid).map((op) => op.kind), [], `Bob needs no change: ${JSON.stringify(ops.filter((op) => op.adGuid === bob.guid))}`);
    assert.equal(store.getLink(bob.guid)?.cloudId, 'c-bob');
    const bobAdded = ops.find((op) => op.kind === 'add-member' && op.member?.sourceAnchor === bob.guidBase64);
    assert.equal(bobAdded?.member?.cloudId, 'c-bob', 'the group adds the cloud user Bob is linked to now, not the one that is gone');
    store.close();
  });

  it('in a tenant another tool synchronizes, blocks its group by SID and holds every create with what needs it', () => {
    const { store, runId, team } = directory();
    const sid = 'S-1-5-21-1-2-3-1105';
    store.transaction(() => {
      store.upsertAdEntries([{ ...team, sid }], runId);
      store.upsertCloudObjects([{ id: 'c-team', objectType: 'group', securityIdentifier: sid, onPremisesSyncEnabled: true, displayName: 'Team',
        properties: { displayName: 'Team', mailNickname: 'Team' } }], runId);
    });
    const plan = buildPlan({ store, config, runId, mode: { kind: 'full' }, domains: { verified: ['contoso.com'] }, anchorProperty: ANCHOR_PROPERTY, dryRun: false,
      recordMatches: true, tenantSynchronized: true });
    assert.equal(plan.planned['create-group'] ?? 0, 0, 'the synchronized group is never created again');
    assert.equal(plan.planned['add-member'] ?? 0, 0, 'nor given members');
    assert.equal(plan.matchReport['blocked'], 1);
    const held = operations(store, plan.planId).filter((op) => op.status === 'held').map((op) => op.kind).sort();
    assert.deepEqual(held, ['create-user', 'delete-user']);
    assert.match(plan.heldReasons[0] ?? '', /^This tenant is synchronized by another tool .*: 1 objects that have no synchronized counterpart/);
    store.close();
  });

  it('with two domains of one forest: a group takes members from the other domain, each domain keeps its own scope, and a foreign member is reported', () => {
    const store = Store.inMemory();
    const runId = store.startRun('full', false);
    const emeaOu = adUser({ cn: 'EMEA Staff' }, { objectClass: 'organizationalUnit', dn: 'OU=Staff,DC=emea,DC=contoso,DC=test' });
    const ann = adUser({ cn: 'Ann', userPrincipalName: 'ann@contoso.com' });
    const eve = adUser({ cn: 'Eve', userPrincipalName: 'eve@contoso.com' }, { dn: 'CN=Eve,OU=Staff,DC=emea,DC=contoso,DC=test', parentGuid: emeaOu.guid });
    const outside = adUser({ cn: 'Olaf', userPrincipalName: 'olaf@contoso.com' }, { dn: 'CN=Olaf,CN=Users,DC=emea,DC=contoso,DC=test' });
    const sid = 'S-1-5-21-7-8-9-1104';
    const team = adGroup({ cn: 'Team', sAMAccountName: 'Team' }, { memberGuids: [ann.guid, eve.guid, outside.guid],
      foreignMembers: [{ sid, dn: `CN=${sid},CN=ForeignSecurityPrincipals,DC=contoso,DC=test` }] });
    store.transaction(() => {
      store.upsertAdEntries([ann, team], runId, 'primary');
      store.upsertAdEntries([emeaOu, eve, outside], runId, 'emea.contoso.test');
    });
    const base = testConfig('two domains');
    const first = base.sources[0] as (typeof base.sources)[number];
    const twoDomains = { ...base, sources: [first, { ...first, id: 'emea.contoso.test', forest: 'contoso.test', passwordSecret: 'ad.password',
      ad: { ...first.ad, url: 'ldaps://dc1.emea.contoso.test', baseDn: 'DC=emea,DC=contoso,DC=test' }, scope: { includedOuGuids: [emeaOu.guid], excludedOuGuids: [] } }] };
    const plan = buildPlan({ store, config: twoDomains, runId, mode: { kind: 'full' }, domains: { verified: ['contoso.com'] }, anchorProperty: ANCHOR_PROPERTY, dryRun: false });
    // Ann (the whole contoso.test domain is in scope) and Eve (inside the emea OU ticked); Olaf is outside emea's scope.
    assert.deepEqual(plan.planned, { 'create-user': 2, 'create-group': 1, 'add-member': 2 });
    const members = operations(store, plan.planId).filter((op) => op.kind === 'add-member').map((op) => op.member?.dn).sort();
    assert.deepEqual(members, [ann.dn, eve.dn].sort());
    assert.equal(plan.outOfScope, 1, 'Olaf is out of emea.contoso.test\'s scope');
    assert.equal(plan.foreignMembers, 1);
    assert.match(store.listReports(runId, 'foreign-member')[0]?.reason ?? '', new RegExp(`SID ${sid}\\): an account of another forest`));
    store.close();
  });

  it('hands a cloud object over only to an object of another forest, never to one of the same forest', () => {
    const store = Store.inMemory();
    const runId = store.startRun('full', false);
    const sam = adUser({ cn: 'Sam', userPrincipalName: 'sam@contoso.com', displayName: 'Sam' }, { deleted: true });
    // The same anchor in the same domain (a copied ms-DS-ConsistencyGuid), and in another forest (migrated).
    const copy = adUser({ cn: 'Sam Copy', userPrincipalName: 'sam.copy@contoso.com', displayName: 'Sam Copy' }, { consistencyGuidBase64: sam.guidBase64 });
    store.transaction(() => {
      store.upsertAdEntries([sam, copy], runId, 'primary');
      store.upsertCloudObjects([{ id: 'c-sam', objectType: 'user', managedAnchor: sam.guidBase64, immutableId: sam.guidBase64, userPrincipalName: 'sam@contoso.com',
        properties: { userPrincipalName: 'sam@contoso.com', displayName: 'Sam', [ANCHOR_PROPERTY]: sam.guidBase64 } }], runId);
      store.setLink({ adGuid: sam.guid, sourceAnchor: sam.guidBase64, objectType: 'user', cloudId: 'c-sam', state: 'linked', dn: sam.dn }, runId);
    });
    const plan = buildPlan({ store, config, runId, mode: { kind: 'full' }, domains: { verified: ['contoso.com'] }, anchorProperty: ANCHOR_PROPERTY, dryRun: false });
    const ops = operations(store, plan.planId);
    assert.deepEqual(ops.map((op) => [op.kind, op.cloudId]), [['delete-user', 'c-sam']], 'the same forest: the deletion stands, nothing is written for the copy');
    const refused = store.listErrors(runId).filter((e) => e.code === 'anchor-in-use');
    assert.deepEqual(refused.map((e) => e.dn), [copy.dn]);
    assert.match(refused[0]?.reason ?? '', /two objects of one forest never share an anchor/);
    assert.equal(store.getLink(sam.guid)?.cloudId, 'c-sam', 'planning changes no link');
    store.close();
  });
});
