/**
 * Directory shapes that break naive sync tools, against the real DC: circular group nesting,
 * members outside the scope, objects moved out of scope and back, a renamed OU, a sAMAccountName
 * and UPN reused after a delete, and bad values beside good ones. Each has its expected outcome, and
 * every run after the change converges: a second run writes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, startHarness, writesSince, type Harness } from '../support/engine-harness.ts';

type TenantObject = Record<string, unknown> & { id: string; displayName?: string; userPrincipalName?: string; members?: string[] };

describe('hostile directory shapes', () => {
  let sandbox: AdSandbox;
  let harness: Harness;
  let inScope: string;
  let outside: string;
  const dns: Record<string, string> = {};

  const dump = (): { user: TenantObject[]; group: TenantObject[]; deletedItems: TenantObject[] } => {
    const objects = (harness.tenant.state.dump() as { objects: Record<string, TenantObject[]> }).objects;
    const anchor = `extension_${harness.tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`;
    const managed = (list: TenantObject[] | undefined): TenantObject[] => (list ?? []).filter((o) => typeof o[anchor] === 'string');
    return { user: managed(objects['user']), group: managed(objects['group']), deletedItems: managed(objects['deletedItems']) };
  };
  const user = (upn: string): TenantObject | undefined => dump().user.find((u) => u.userPrincipalName?.toLowerCase() === upn.toLowerCase());
  const group = (name: string): TenantObject | undefined => dump().group.find((g) => g.displayName === name);
  /** A run, then a second one that must write nothing. */
  async function converge(kind: 'full' | 'delta'): Promise<void> {
    const run = await harness.sync(kind);
    assert.notEqual(run.status, 'failed', run.message);
    const seq = lastSeq(harness.tenant);
    const again = await harness.sync('full');
    assert.deepEqual(writesSince(harness.tenant, seq).map((w) => `${w.method} ${w.path}`), [], `a second run writes nothing (${JSON.stringify(again.planned)})`);
  }

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Hostile Shapes');
    inScope = await sandbox.addOu('In');
    outside = await sandbox.addOu('Out');
    const add = async (key: string, parent: string, extra: Record<string, string> = {}): Promise<void> => {
      dns[key] = await sandbox.addUser(`Shape ${key}`, { sAMAccountName: `shape${key}`, userPrincipalName: `shape.${key}@contoso.com`, displayName: `Shape ${key}`, ...extra }, parent);
    };
    for (const key of ['ann', 'ben', 'cat', 'reuse']) await add(key, inScope);
    await add('far', outside);
    await add('nul', inScope, { displayName: 'Shape\u0000nul' });
    await add('badupn', inScope, { userPrincipalName: 'shape.badupn@not-verified.example' });
    // Circular nesting: Alpha ∋ Beta ∋ Alpha; and a member outside the scope.
    dns['alpha'] = await sandbox.addGroup('Shape Alpha', [dns['ann'] as string, dns['far'] as string], inScope);
    dns['beta'] = await sandbox.addGroup('Shape Beta', [dns['ben'] as string, dns['alpha'] as string], inScope);
    await sandbox.addValues(dns['alpha'] as string, 'member', [dns['beta'] as string]);
    // A handful of objects: one deletion is above the default 10% gate, which deletion-gate.test.ts covers.
    harness = await startHarness({ config: { scope: { includedOuGuids: [await sandbox.guidOf(inScope)], excludedOuGuids: [] }, deletionThreshold: { count: 100, percent: 100 } } });
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('syncs circular nesting without looping, and leaves out members outside the scope', async () => {
    const run = await harness.sync('full');
    assert.notEqual(run.status, 'failed', run.message);
    const alpha = group('Shape Alpha');
    const beta = group('Shape Beta');
    assert.ok(alpha && beta, 'both groups of the cycle exist');
    assert.ok(beta.members?.includes(alpha.id) && alpha.members?.includes(beta.id), 'the cycle is as in AD');
    assert.ok(alpha.members?.includes(user('shape.ann@contoso.com')?.id as string));
    assert.equal(user('shape.far@contoso.com'), undefined, 'the out-of-scope user is not created…');
    assert.equal(alpha.members?.length, 2, '…nor made a member');
    assert.equal(run.errors, 2, 'only the two bad objects are errors');
    await converge('delta');
  });

  it('reports the bad values by DN and attribute, and syncs everything else', () => {
    const errors = harness.store.listErrors((harness.store.listRuns(10).at(-1) as { id: number }).id);
    const byDn = new Map(errors.map((e) => [e.dn.toLowerCase(), e]));
    const of = (key: string): [string | undefined, string | undefined] => [byDn.get((dns[key] as string).toLowerCase())?.code, byDn.get((dns[key] as string).toLowerCase())?.attribute];
    assert.deepEqual(of('nul'), ['control-character', 'displayName']);
    assert.deepEqual(of('badupn'), ['upn-unverified-domain', 'userPrincipalName']);
    for (const key of ['ann', 'ben', 'cat', 'reuse']) assert.ok(user(`shape.${key}@contoso.com`), `${key} is in the tenant`);
  });

  it('deletes a user moved out of scope, and restores the same cloud object when it moves back', async () => {
    const before = user('shape.cat@contoso.com')?.id;
    const moved = dns['cat']?.replace(inScope, outside) as string;
    await sandbox.rename(dns['cat'] as string, moved);
    await converge('delta');
    assert.equal(user('shape.cat@contoso.com'), undefined, 'out of scope: deleted in the tenant');
    assert.ok(dump().deletedItems.some((d) => d.id === before), 'soft-deleted, restorable');
    await sandbox.rename(moved, dns['cat'] as string);
    await converge('delta');
    assert.equal(user('shape.cat@contoso.com')?.id, before, 'back in scope: the same cloud object, restored, not a second one');
  });

  it('keeps syncing through a renamed OU, deleting and creating nothing', async () => {
    const ids = dump().user.map((u) => u.id).sort();
    const renamed = inScope.replace(/^OU=In,/, 'OU=Inside,');
    await sandbox.rename(inScope, renamed);
    for (const key of Object.keys(dns)) dns[key] = (dns[key] as string).replace(inScope, renamed);
    inScope = renamed;
    await converge('delta');
    assert.deepEqual(dump().user.map((u) => u.id).sort(), ids);
    await sandbox.replace(dns['ann'] as string, 'title', ['Renamed OU, still synced']);
    await converge('delta');
    assert.equal(user('shape.ann@contoso.com')?.['jobTitle'], 'Renamed OU, still synced');
  });

  it('treats a sAMAccountName and UPN reused after a delete as a new person: the old one deleted, the new one created', async () => {
    const old = user('shape.reuse@contoso.com');
    assert.ok(old);
    await sandbox.remove(dns['reuse'] as string);
    dns['reuse'] = await sandbox.addUser('Shape reuse', { sAMAccountName: 'shapereuse', userPrincipalName: 'shape.reuse@contoso.com', displayName: 'Shape reuse again' }, inScope);
    // The old person's cloud user holds the UPN until its deletion is exported: the new one may have to wait one run for it.
    const first = await harness.sync('delta');
    assert.notEqual(first.status, 'failed', first.message);
    await converge('delta');
    const now = user('shape.reuse@contoso.com');
    assert.ok(now && now.id !== old.id, 'a new cloud user for the new AD object');
    assert.equal(now['displayName'], 'Shape reuse again');
    assert.ok(dump().deletedItems.some((d) => d.id === old.id), 'the former person is deleted, not taken over');
    assert.equal(dump().user.filter((u) => u.userPrincipalName?.toLowerCase() === 'shape.reuse@contoso.com').length, 1);
  });
});
