import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildOrganisation, type FixtureUser } from '../../../lab/fixtures/organisation.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, startHarness, writesSince, type Harness } from '../support/engine-harness.ts';

type CloudUser = { id: string; displayName?: string; userPrincipalName?: string; accountEnabled?: boolean; onPremisesImmutableId?: string; jobTitle?: string; [k: string]: unknown };

const expectedCode: Record<string, string> = {
  'unverified-upn-suffix': 'upn-unverified-domain',
  'non-routable-upn-suffix': 'upn-unverified-domain',
  'upn-invalid-character': 'upn-invalid-character',
  'upn-prefix-too-long': 'upn-too-long',
  'duplicate-mail': 'duplicate-mail',
};

describe('initial full sync of the seeded organisation', () => {
  const organisation = buildOrganisation();
  let harness: Harness;
  let sandbox: AdSandbox;

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Full Sync');
    harness = await startHarness({ scopeOuGuids: [await sandbox.guidOf(organisation.notable.scopeOu), await sandbox.guidOf(sandbox.ouDn)] });
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('creates every valid in-scope user and security group with its values, and reports the rest', async () => {
    const seeded = (harness.tenant.state.dump() as { objects: Record<string, CloudUser[]> }).objects['user'] ?? [];
    const cloudOnlyUpns = new Set(seeded.map((u) => u.userPrincipalName?.toLowerCase()));
    const run = await harness.sync('full');
    assert.equal(run.kind, 'full');
    const dump = harness.tenant.state.dump() as { objects: Record<string, CloudUser[]> };
    const anchorKey = `extension_${harness.tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`;
    const managedUsers = (dump.objects['user'] ?? []).filter((u) => typeof u[anchorKey] === 'string');
    const byName = new Map(managedUsers.map((u) => [u.displayName, u]));

    const inScope = organisation.users.filter((u) => u.inScope);
    const valid = inScope.filter((u) => u.expectedProblem === undefined);
    // Cloud-only users with the same UPN are conflicts (soft match is off by default): reported, not taken over.
    const conflicts = valid.filter((u) => cloudOnlyUpns.has(u.userPrincipalName?.toLowerCase()));
    assert.ok(conflicts.length > 0, 'the lab tenant has cloud-only users that clash with AD users');
    const errorsOfRun = harness.store.listErrors(run.id);
    for (const user of conflicts) assert.ok(errorsOfRun.some((e) => e.dn === user.dn && e.code === 'match-conflict'), `${user.dn} is reported as a conflict`);
    // Of two users with the same mail, exactly one is created.
    assert.equal(managedUsers.length, valid.length - conflicts.length + 1, `run: ${JSON.stringify(run)}`);

    const ceo = organisation.users.find((u) => u.dn === organisation.notable.ceo) as FixtureUser;
    const ceoCloud = managedUsers.find((u) => u.userPrincipalName?.toLowerCase() === ceo.userPrincipalName?.toLowerCase());
    assert.ok(ceoCloud, 'the CEO is in the tenant');
    assert.equal(ceoCloud.displayName, ceo.displayName);
    assert.equal(ceoCloud.jobTitle, ceo.title);
    for (const dn of organisation.notable.accented) {
      const user = organisation.users.find((u) => u.dn === dn);
      if (!user?.inScope || user.expectedProblem) continue;
      assert.ok(byName.has(user.displayName), `${user.displayName} (accents) is in the tenant`);
    }
    const disabled = valid.filter((u) => !u.enabled);
    assert.ok(disabled.length > 0);
    for (const user of disabled) {
      const cloud = managedUsers.find((u) => u.userPrincipalName?.toLowerCase() === user.userPrincipalName?.toLowerCase());
      assert.equal(cloud?.accountEnabled, false, `${user.dn} is disabled in AD`);
    }
    for (const user of valid.filter((u) => u.consistencyGuid)) {
      const cloud = managedUsers.find((u) => u.userPrincipalName?.toLowerCase() === user.userPrincipalName?.toLowerCase());
      assert.equal(cloud?.onPremisesImmutableId, cloud?.[anchorKey]);
      assert.notEqual(cloud?.onPremisesImmutableId, undefined);
    }
    // Nothing from outside the scope.
    const outside = organisation.users.filter((u) => !u.inScope);
    for (const user of outside) assert.equal(managedUsers.some((u) => u.userPrincipalName?.toLowerCase() === user.userPrincipalName?.toLowerCase()), false, `${user.dn} is out of scope`);

    // Every object with bad data is reported with its DN, the attribute and the reason.
    const errors = harness.store.listErrors(run.id);
    const problems = inScope.filter((u) => u.expectedProblem !== undefined);
    const reported = problems.filter((u) => errors.some((e) => e.dn === u.dn && e.code === expectedCode[u.expectedProblem as string]));
    assert.equal(reported.length, problems.length - 1, `errors: ${JSON.stringify(errors.map((e) => [e.dn, e.code]))}`);
    for (const e of errors) {
      assert.ok(e.attribute && e.reason && e.hint, `error for ${e.dn} has attribute, reason and hint`);
    }

    // Contacts and distribution/mail-enabled groups: reported as not writable, by DN.
    const notWritable = harness.store.listReports(run.id, 'not-writable').map((r) => r.dn);
    for (const contact of organisation.contacts.filter((c) => c.inScope)) assert.ok(notWritable.includes(contact.dn), `${contact.dn} is reported`);
    for (const group of organisation.groups.filter((g) => g.inScope && !g.security)) assert.ok(notWritable.includes(group.dn), `${group.dn} is reported`);
    assert.ok(notWritable.includes(organisation.notable.mailEnabledSecurityGroup));
  });

  it('creates security groups with their memberships, nested groups and the large group included', async () => {
    const dump = harness.tenant.state.dump() as { objects: Record<string, Array<{ id: string; displayName: string; members?: string[] }>> };
    const groups = dump.objects['group'] ?? [];
    const large = organisation.groups.find((g) => g.dn === organisation.notable.largeGroup);
    const cloudLarge = groups.find((g) => g.displayName === (large?.displayName ?? large?.cn));
    assert.ok(cloudLarge, 'the large group exists');
    assert.ok((cloudLarge.members?.length ?? 0) >= 1600, `large group has ${cloudLarge.members?.length} members`);
    const nested = organisation.groups.find((g) => g.dn === organisation.notable.nestedGroups[0]);
    const cloudNested = groups.find((g) => g.displayName === (nested?.displayName ?? nested?.cn));
    const childGroupIds = (cloudNested?.members ?? []).filter((id) => groups.some((g) => g.id === id));
    assert.ok(childGroupIds.length > 0, 'a nested group has a group member in the tenant');
  });

  it('makes members in the tenant only of the members that are synchronized themselves', async () => {
    const valid = await sandbox.addUser('Member Valid', { sAMAccountName: 'mvalid', userPrincipalName: 'member.valid@contoso.com', mail: 'member.shared@contoso.com' });
    const unverified = await sandbox.addUser('Member Unverified', { sAMAccountName: 'munverified', userPrincipalName: 'member.unverified@unverified.example' });
    const duplicate = await sandbox.addUser('Member Zduplicate', { sAMAccountName: 'mzduplicate', userPrincipalName: 'member.zduplicate@contoso.com', mail: 'Member.Shared@contoso.com' });
    const group = await sandbox.addGroup('Mixed Members', [valid, unverified, duplicate, organisation.notable.largeGroup]);
    const run = await harness.sync('full');
    const planned = harness.store.operationsOfObject(await sandbox.guidOf(group)).filter((o) => o.runId === run.id && o.operation.kind === 'add-member')
      .map((o) => (o.operation as { member: { dn?: string } }).member.dn).sort();
    assert.deepEqual(planned, [valid, organisation.notable.largeGroup].sort(), 'only the synchronized members are planned as members');
    const errors = harness.store.listErrors(run.id);
    assert.ok(errors.some((e) => e.dn === unverified && e.code === 'upn-unverified-domain'), 'the member with an unverified suffix is reported');
    assert.ok(errors.some((e) => e.dn === duplicate && e.code === 'duplicate-mail'), 'the member whose mail is taken is reported');
    const dump = harness.tenant.state.dump() as { objects: Record<string, Array<{ id: string; displayName?: string; members?: string[] }>> };
    const named = (name: string) => [...(dump.objects['user'] ?? []), ...(dump.objects['group'] ?? [])].find((o) => o.displayName === name)?.id;
    const mixed = (dump.objects['group'] ?? []).find((g) => g.displayName === 'Mixed Members');
    const large = organisation.groups.find((g) => g.dn === organisation.notable.largeGroup);
    assert.deepEqual([...(mixed?.members ?? [])].sort(), [named('Member Valid'), named(large?.displayName ?? large?.cn ?? '')].sort());
  });

  it('changes nothing when run again (no-change delta and full runs write nothing)', async () => {
    const before = harness.tenant.state.requestLog().length;
    const delta = await harness.sync('delta');
    assert.deepEqual(delta.exported, {});
    const full = await harness.sync('full');
    assert.deepEqual(full.exported, {}, JSON.stringify(full.planned));
    const writes = harness.tenant.state.requestLog().slice(before).filter((r) => r.isWrite && !/\$batch/.test(r.path));
    assert.deepEqual(writes.map((w) => `${w.method} ${w.path}`), []);
  });

  it('changes the large group by one member with one write each way', async () => {
    const joiner = await sandbox.addUser('Large Group Joiner', { sAMAccountName: 'lgjoiner', userPrincipalName: 'lg.joiner@contoso.com', displayName: 'Large Group Joiner' });
    await sandbox.addValues(organisation.notable.largeGroup, 'member', [joiner]);
    let seq = lastSeq(harness.tenant);
    await harness.sync('delta');
    assert.deepEqual(writesSince(harness.tenant, seq).map((w) => `${w.method} ${w.path.replace(/[0-9a-f-]{36}/g, '{id}')}`).sort(),
      ['POST /v1.0/groups/{id}/members/$ref', 'POST /v1.0/users']);
    await sandbox.deleteValues(organisation.notable.largeGroup, 'member', [joiner]);
    seq = lastSeq(harness.tenant);
    await harness.sync('delta');
    assert.deepEqual(writesSince(harness.tenant, seq).map((w) => `${w.method} ${w.path.replace(/[0-9a-f-]{36}/g, '{id}')}`), ['DELETE /v1.0/groups/{id}/members/{id}/$ref']);
  });
});
