import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PlannedOperation } from '../../../src/contract/model.ts';
import { defaultAttributeFlow } from '../../../src/sync/attribute-flow.ts';
import { applyGate, defaultDeletionThreshold } from '../../../src/sync/gate.ts';
import { mapEntry, type DesiredObject } from '../../../src/sync/map.ts';
import { matchObject } from '../../../src/sync/match.ts';
import { diffProperties, exportPriority, planManager, planMembership, planObject } from '../../../src/sync/plan.ts';
import { adUser, cloudUser } from './builders.ts';

const settings = {
  anchorProperty: 'extension_app_sourceAnchor',
  ownedProperties: {
    user: [...new Set(defaultAttributeFlow.user.map((r) => r.target.split('.')[0] as string))],
    group: [...new Set(defaultAttributeFlow.group.map((r) => r.target.split('.')[0] as string))],
  },
};
const noSoft = { userPrincipalName: false, mail: false };
const soft = { userPrincipalName: true, mail: true };

function desiredUser(attributes: Record<string, string>): DesiredObject {
  const result = mapEntry(adUser({ userPrincipalName: 'ann@contoso.com', ...attributes }), defaultAttributeFlow);
  assert.equal(result.kind, 'mapped');
  return (result as { desired: DesiredObject }).desired;
}

const none = { byAnchor: [], byUserPrincipalName: [], byMail: [] };

describe('match', () => {
  it('creates when nothing in the tenant carries the anchor, UPN or mail', () => {
    assert.equal(matchObject(desiredUser({}), none, soft).kind, 'create');
  });

  it('hard-matches on the source anchor before anything else', () => {
    const d = desiredUser({});
    const cloud = cloudUser('c1', {}, { immutableId: d.sourceAnchor });
    const decision = matchObject(d, { ...none, byAnchor: [cloud], byUserPrincipalName: [cloudUser('c2', {})] }, soft);
    assert.deepEqual([decision.kind, decision.cloud?.id], ['hard-match', 'c1']);
  });

  it('restores a soft-deleted cloud object that carries the anchor', () => {
    const d = desiredUser({});
    const decision = matchObject(d, { ...none, byAnchor: [cloudUser('c1', {}, { immutableId: d.sourceAnchor, softDeleted: true })] }, soft);
    assert.equal(decision.kind, 'restore');
  });

  it('soft-matches on UPN only when enabled, and never onto an administrator', () => {
    const d = desiredUser({});
    const sameUpn = cloudUser('c1', { userPrincipalName: 'ann@contoso.com' });
    assert.equal(matchObject(d, { ...none, byUserPrincipalName: [sameUpn] }, soft).kind, 'soft-match-upn');
    assert.equal(matchObject(d, { ...none, byUserPrincipalName: [sameUpn] }, noSoft).kind, 'conflict');
    const admin = cloudUser('c1', { userPrincipalName: 'ann@contoso.com' }, { isAdmin: true });
    assert.equal(matchObject(d, { ...none, byUserPrincipalName: [admin] }, soft).kind, 'blocked');
  });

  it('never takes over a cloud object that another source anchor owns', () => {
    const d = desiredUser({});
    const owned = cloudUser('c1', { userPrincipalName: 'ann@contoso.com' }, { immutableId: 'someone-else' });
    assert.equal(matchObject(d, { ...none, byUserPrincipalName: [owned] }, soft).kind, 'conflict');
  });
});

describe('plan', () => {
  it('creates with every mapped property and the product anchor', () => {
    const d = desiredUser({ title: 'Engineer' });
    const [op] = planObject(d, { kind: 'create', reason: 'new' }, settings);
    assert.equal(op?.kind, 'create-user');
    assert.equal(op?.properties?.['jobTitle'], 'Engineer');
    assert.equal(op?.properties?.['extension_app_sourceAnchor'], d.sourceAnchor);
  });

  it('updates only what changed, and clears what AD cleared', () => {
    const d = desiredUser({ title: 'Lead' });
    const current = { ...d.properties, jobTitle: 'Engineer', mobilePhone: '+1 555', extension_app_sourceAnchor: d.sourceAnchor };
    const ops = planObject(d, { kind: 'linked', cloud: cloudUser('c1', current), reason: 'linked' }, settings);
    assert.equal(ops.length, 1);
    assert.deepEqual(ops[0]?.properties, { jobTitle: 'Lead', mobilePhone: null });
    assert.deepEqual(ops[0]?.previous, { jobTitle: 'Engineer', mobilePhone: '+1 555' });
  });

  it('plans nothing for an object already in step', () => {
    const d = desiredUser({ title: 'Lead' });
    const current = { ...d.properties, extension_app_sourceAnchor: d.sourceAnchor };
    assert.deepEqual(planObject(d, { kind: 'linked', cloud: cloudUser('c1', current), reason: 'linked' }, settings), []);
  });

  it('diffs extension attributes one by one', () => {
    const { changes } = diffProperties(
      { onPremisesExtensionAttributes: { extensionAttribute1: 'a', extensionAttribute2: null } },
      { onPremisesExtensionAttributes: { extensionAttribute1: 'a', extensionAttribute2: 'old' } }, ['onPremisesExtensionAttributes']);
    assert.deepEqual(changes, { onPremisesExtensionAttributes: { extensionAttribute2: null } });
  });

  it('adds AD members and removes only managed members that left', () => {
    const group = { sourceAnchor: 'g', adGuid: 'g', dn: 'CN=G', cloudId: 'cg' };
    const members = [{ sourceAnchor: 'u1', objectType: 'user' as const, cloudId: 'c1' }, { sourceAnchor: 'u2', objectType: 'user' as const, cloudId: 'c2' }];
    const managed = new Map([['c3', { sourceAnchor: 'u3', objectType: 'user' as const }]]);
    const ops = planMembership(group, members, new Set(['c1', 'c3', 'cloud-only']), managed);
    assert.deepEqual(ops.map((o) => [o.kind, o.member?.sourceAnchor]), [['add-member', 'u2'], ['remove-member', 'u3']]);
  });

  it('exports disables and deletes first, then creates, then updates, then membership', () => {
    const op = (kind: PlannedOperation['kind'], properties?: Record<string, unknown>): PlannedOperation =>
      ({ kind, objectType: 'user', sourceAnchor: 'x', reason: 'r', properties });
    assert.deepEqual([op('add-member'), op('update-user', { jobTitle: 'x' }), op('create-user'), op('update-user', { accountEnabled: false }), op('delete-user')]
      .map(exportPriority), [3, 2, 1, 0, 0]);
  });
});

const operationArbitrary = fc.record({
  kind: fc.constantFrom<PlannedOperation['kind']>('delete-user', 'delete-group', 'create-user', 'update-user', 'add-member', 'update-group'),
  objectType: fc.constantFrom<'user' | 'group'>('user', 'group'),
  sourceAnchor: fc.string({ minLength: 1, maxLength: 4 }),
  reason: fc.constant('r'),
}).map((op): PlannedOperation => ({ ...op, objectType: op.kind.endsWith('group') ? 'group' : op.kind === 'add-member' ? 'group' : 'user' }));

const gateInput = fc.record({
  operations: fc.array(operationArbitrary, { maxLength: 60 }),
  managedUsers: fc.nat(200),
  managedGroups: fc.nat(50),
  inScopeNow: fc.nat(300),
  inScopeBefore: fc.option(fc.nat(300), { nil: undefined }),
  count: fc.nat(20),
  percent: fc.nat(100),
  orphans: fc.array(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 5 }),
});

describe('gate (properties)', () => {
  it('holds only deletions, and loses or invents no operation', () => {
    fc.assert(fc.property(gateInput, (g) => {
      const result = applyGate({ operations: g.operations, managedCount: { user: g.managedUsers, group: g.managedGroups },
        inScopeNow: g.inScopeNow, inScopeBefore: g.inScopeBefore, threshold: { count: g.count, percent: g.percent }, orphanAnchors: new Set(g.orphans) });
      assert.equal(result.proceed.length + result.held.length, g.operations.length);
      for (const op of result.held) assert.ok(op.kind.startsWith('delete-') && op.gated);
      assert.deepEqual(result.proceed.filter((op) => !op.kind.startsWith('delete-')), g.operations.filter((op) => !op.kind.startsWith('delete-')));
    }));
  });

  it('lets no deletion through when AD returned nothing in scope, or the scope more than halved', () => {
    fc.assert(fc.property(gateInput, (g) => {
      const managed = { user: g.managedUsers + 1, group: g.managedGroups };
      const empty = applyGate({ operations: g.operations, managedCount: managed, inScopeNow: 0, threshold: defaultDeletionThreshold, orphanAnchors: new Set() });
      assert.equal(empty.proceed.filter((op) => op.kind.startsWith('delete-')).length, 0);
      const shrunk = applyGate({ operations: g.operations, managedCount: managed, inScopeNow: g.inScopeNow, inScopeBefore: g.inScopeNow * 2 + 2,
        threshold: defaultDeletionThreshold, orphanAnchors: new Set() });
      assert.equal(shrunk.proceed.filter((op) => op.kind.startsWith('delete-')).length, 0);
    }));
  });

  it('never lets more deletions of a type through than the threshold allows, and never an orphan', () => {
    fc.assert(fc.property(gateInput, (g) => {
      const managedCount = { user: g.managedUsers, group: g.managedGroups };
      const orphanAnchors = new Set(g.orphans);
      const result = applyGate({ operations: g.operations, managedCount, inScopeNow: g.inScopeNow, inScopeBefore: g.inScopeBefore,
        threshold: { count: g.count, percent: g.percent }, orphanAnchors });
      for (const type of ['user', 'group'] as const) {
        const passing = result.proceed.filter((op) => op.kind.startsWith('delete-') && op.objectType === type);
        assert.ok(passing.length <= g.count);
        if (passing.length > 0) assert.ok(passing.length * 100 <= g.percent * managedCount[type]);
        for (const op of passing) assert.ok(!orphanAnchors.has(op.sourceAnchor));
      }
    }));
  });
});

describe('planManager', () => {
  const user = { sourceAnchor: 'YW5u', adGuid: 'a1', dn: 'CN=Ann,OU=Staff,DC=contoso,DC=com', cloudId: 'ann-id' };
  const boss = { sourceAnchor: 'Ym9zcw==', objectType: 'user' as const, dn: 'CN=Boss,OU=Staff,DC=contoso,DC=com', cloudId: 'boss-id' };

  it('sets the manager AD names when the tenant has another or none, and does nothing when they agree', () => {
    assert.deepEqual(planManager(user, boss.dn, boss, undefined).map((op) => [op.kind, op.member?.cloudId]), [['set-manager', 'boss-id']]);
    assert.deepEqual(planManager(user, boss.dn, boss, 'someone-else').map((op) => op.kind), ['set-manager']);
    assert.deepEqual(planManager(user, boss.dn, boss, 'boss-id'), []);
    // A manager created in the same run has no cloud id yet: set it (the exporter resolves it after the create).
    assert.deepEqual(planManager(user, boss.dn, { ...boss, cloudId: undefined }, undefined).map((op) => op.kind), ['set-manager']);
  });

  it('removes a manager the tenant has when AD names none, or one that is not synchronized, and says which', () => {
    const none = planManager(user, undefined, undefined, 'boss-id');
    assert.deepEqual(none.map((op) => [op.kind, op.reason]), [['remove-manager', 'Active Directory names no manager']]);
    const outside = planManager(user, 'CN=Ext,OU=Elsewhere,DC=contoso,DC=com', undefined, 'boss-id');
    assert.match(outside[0]?.reason ?? '', /\(CN=Ext,OU=Elsewhere,DC=contoso,DC=com\) is not synchronized/);
    assert.deepEqual(planManager(user, undefined, undefined, undefined), []);
    // Only a user can be a manager in the tenant: a group reference is treated as no manager.
    assert.deepEqual(planManager(user, 'CN=Team,DC=contoso,DC=com', { ...boss, objectType: 'group' }, undefined), []);
  });

  it('exports manager links with the memberships, after every create', () => {
    const [set] = planManager(user, boss.dn, boss, undefined);
    assert.ok(set);
    assert.equal(exportPriority(set), 3);
  });
});
