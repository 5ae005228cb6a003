import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultAttributeFlow } from '../../../src/sync/attribute-flow.ts';
import type { CloudObject } from '../../../src/sync/cloud-object.ts';
import { guardError, syncedCounterparts, type SyncedLookups } from '../../../src/sync/create-guard.ts';
import { mapEntry, type DesiredObject } from '../../../src/sync/map.ts';
import { matchObject } from '../../../src/sync/match.ts';
import { adGroup, adUser, cloudUser } from './builders.ts';

const SID = 'S-1-5-21-1004336348-1177238915-682003330-1105';
const soft = { userPrincipalName: true, mail: true };
const none = { byAnchor: [], byUserPrincipalName: [], byMail: [] };

function desired(entry: ReturnType<typeof adUser>): DesiredObject {
  const result = mapEntry(entry, defaultAttributeFlow);
  assert.equal(result.kind, 'mapped');
  return (result as { desired: DesiredObject }).desired;
}

function cloudGroup(id: string, props: Record<string, unknown>, extra: Partial<CloudObject> = {}): CloudObject {
  return { id, objectType: 'group', properties: props, displayName: typeof props['displayName'] === 'string' ? props['displayName'] : undefined, ...extra };
}

function lookups(objects: ReadonlyArray<CloudObject>): SyncedLookups {
  const lower = (v: unknown): string => String(v).toLowerCase();
  return {
    bySecurityIdentifier: (sid) => objects.filter((o) => o.securityIdentifier === sid),
    byAnchor: (anchor) => objects.filter((o) => o.immutableId === anchor || o.managedAnchor === anchor),
    byUserPrincipalName: (upn) => objects.filter((o) => o.userPrincipalName?.toLowerCase() === upn.toLowerCase()),
    groupsNamed: (name, alias) => objects.filter((o) => o.objectType === 'group' && o.onPremisesSyncEnabled
      && lower(o.properties['displayName']) === lower(name) && lower(o.properties['mailNickname']) === lower(alias)),
  };
}

describe('match in a tenant another tool synchronizes', () => {
  it('blocks a group whose SID a synchronized cloud group carries (it has no anchor of ours)', () => {
    const group = desired(adGroup({ cn: 'Sales', sAMAccountName: 'Sales' }));
    const synced = cloudGroup('g1', { displayName: 'Sales' }, { securityIdentifier: SID, onPremisesSyncEnabled: true });
    const decision = matchObject(group, { ...none, bySecurityIdentifier: [synced] }, soft);
    assert.deepEqual([decision.kind, decision.cloud?.id, decision.synchronized], ['blocked', 'g1', true]);
    assert.match(decision.reason, /synchronized by another tool/);
  });

  it('hard-matches a group whose SID a cloud group no longer synchronized carries, unless another anchor owns it', () => {
    const group = desired(adGroup({ cn: 'Sales' }));
    const formerly = cloudGroup('g1', {}, { securityIdentifier: SID, onPremisesSyncEnabled: false });
    assert.equal(matchObject(group, { ...none, bySecurityIdentifier: [formerly] }, soft).kind, 'hard-match');
    const owned = cloudGroup('g1', {}, { securityIdentifier: SID, managedAnchor: 'another-anchor' });
    assert.equal(matchObject(group, { ...none, bySecurityIdentifier: [owned] }, soft).kind, 'conflict');
  });

  it('blocks a user whose UPN a synchronized user holds before calling it a conflict of anchors', () => {
    const user = desired(adUser({ userPrincipalName: 'ann@contoso.com' }));
    const synced = cloudUser('u1', { userPrincipalName: 'ann@contoso.com' }, { immutableId: 'other', onPremisesSyncEnabled: true });
    const decision = matchObject(user, { ...none, byUserPrincipalName: [synced] }, soft);
    assert.deepEqual([decision.kind, decision.synchronized], ['blocked', true]);
  });

  it('says which earlier registration wrote the anchor of an adopted object', () => {
    const group = desired(adGroup({ cn: 'Sales' }));
    const earlier = cloudGroup('g1', {}, { managedAnchor: group.sourceAnchor, anchorRegistration: 'Directory Sync (old-host) (1111)' });
    const decision = matchObject(group, { ...none, byAnchor: [earlier] }, soft);
    assert.equal(decision.kind, 'hard-match');
    assert.match(decision.reason, /earlier registration Directory Sync \(old-host\)/);
  });
});

describe('the create guard', () => {
  it('refuses a group whose name and alias a synchronized group has, naming both identities', () => {
    const group = desired(adGroup({ cn: 'Sales', sAMAccountName: 'Sales', mailNickname: 'sales' }));
    const synced = cloudGroup('g1', { displayName: 'SALES', mailNickname: 'Sales' }, { securityIdentifier: 'S-1-5-21-9-9-9-9', onPremisesSyncEnabled: true });
    const found = syncedCounterparts(group, SID, lookups([synced]));
    assert.deepEqual(found.map((f) => f.cloud.id), ['g1']);
    const error = guardError(group, SID, found);
    assert.equal(error.code, 'match-beside-synchronized');
    assert.match(error.reason, new RegExp(`SID ${SID}`));
    assert.match(error.reason, /g1/);
    assert.match(error.reason, /S-1-5-21-9-9-9-9/);
  });

  it('refuses a user whose SID, immutable id or UPN a synchronized user has', () => {
    const user = desired(adUser({ userPrincipalName: 'ann@contoso.com' }));
    const bySid = cloudUser('u1', {}, { securityIdentifier: SID, onPremisesSyncEnabled: true });
    const byImmutable = cloudUser('u2', {}, { immutableId: user.sourceAnchor, onPremisesSyncEnabled: true });
    const byUpn = cloudUser('u3', { userPrincipalName: 'ANN@contoso.com' }, { onPremisesSyncEnabled: true });
    assert.deepEqual(syncedCounterparts(user, SID, lookups([bySid, byImmutable, byUpn])).map((f) => f.cloud.id), ['u1', 'u2', 'u3']);
  });

  it('lets through what only cloud-only objects, or objects of another type, share', () => {
    const user = desired(adUser({ userPrincipalName: 'ann@contoso.com' }));
    const cloudOnly = cloudUser('u1', { userPrincipalName: 'ann@contoso.com' });
    const syncedGroup = cloudGroup('g1', {}, { securityIdentifier: SID, onPremisesSyncEnabled: true });
    const deleted = cloudUser('u2', {}, { securityIdentifier: SID, onPremisesSyncEnabled: true, softDeleted: true });
    assert.deepEqual(syncedCounterparts(user, SID, lookups([cloudOnly, syncedGroup, deleted])), []);
  });
});
