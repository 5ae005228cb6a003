import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, startHarness, writesSince, type Harness } from '../support/engine-harness.ts';

type CloudUser = { id: string; displayName?: string };

describe('manager links are exported', () => {
  let sandbox: AdSandbox;
  let harness: Harness;
  let excluded: string;
  const dn: Record<string, string> = {};

  const user = async (name: string, parent?: string, manager?: string) => {
    dn[name] = await sandbox.addUser(`Mgr ${name}`, {
      sAMAccountName: `mgr${name.toLowerCase()}`, userPrincipalName: `mgr.${name.toLowerCase()}@contoso.com`, displayName: `Mgr ${name}`,
      ...(manager ? { manager: dn[manager] as string } : {}),
    }, parent);
  };
  const cloudUser = (name: string): CloudUser | undefined => {
    const dump = harness.tenant.state.dump() as { objects: Record<string, CloudUser[]> };
    return (dump.objects['user'] ?? []).find((u) => u.displayName === `Mgr ${name}`);
  };
  /** The manager's display name in the tenant, read through Graph's own manager reference. */
  const cloudManagerOf = (name: string): string | undefined => {
    const id = cloudUser(name)?.id;
    const object = id ? harness.tenant.state.tenant.store.get(id) : undefined;
    const manager = object ? harness.tenant.state.tenant.store.managerOf(object) : undefined;
    return manager ? String(manager.props['displayName']) : undefined;
  };
  async function run(kind: 'delta' | 'full'): Promise<string[]> {
    const seq = lastSeq(harness.tenant);
    const summary = await harness.sync(kind);
    assert.notEqual(summary.status, 'failed', summary.message);
    return writesSince(harness.tenant, seq).map((w) => `${w.method} ${w.path.replace(/[0-9a-f-]{36}/g, '{id}')}`).sort();
  }

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Manager');
    excluded = await sandbox.addOu('Elsewhere');
    await user('Boss');
    await user('Ann', undefined, 'Boss');
    await user('Ben', undefined, 'Boss');
    await user('Cat');
    await user('Ext', excluded);
    await user('Dan', undefined, 'Ext');
    harness = await startHarness({
      config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [await sandbox.guidOf(excluded)] }, deletionThreshold: { count: 500, percent: 100 } },
    });
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('sets the manager of users created in the same run, after the users exist', async () => {
    const first = await harness.sync('full');
    assert.equal(first.exported['create-user'], 5);
    assert.equal(first.exported['set-manager'], 2, JSON.stringify(first.exported));
    assert.equal(cloudManagerOf('Ann'), 'Mgr Boss');
    assert.equal(cloudManagerOf('Ben'), 'Mgr Boss');
    assert.equal(cloudManagerOf('Cat'), undefined);
    assert.equal(cloudManagerOf('Dan'), undefined, 'a manager out of scope is not synchronized, so neither is the link');
  });

  it('writes nothing more when nothing changed, on a delta or a full run', async () => {
    assert.deepEqual(await run('delta'), []);
    assert.deepEqual(await run('full'), [], 'a full run re-read the managers from the tenant and found them as exported');
  });

  it('changes a manager with one PUT of manager/$ref, and removes one that AD no longer names', async () => {
    await sandbox.replace(dn['Ann'] as string, 'manager', [dn['Cat'] as string]);
    await sandbox.deleteValues(dn['Ben'] as string, 'manager', [dn['Boss'] as string]);
    assert.deepEqual(await run('delta'), ['DELETE /v1.0/users/{id}/manager/$ref', 'PUT /v1.0/users/{id}/manager/$ref']);
    assert.equal(cloudManagerOf('Ann'), 'Mgr Cat');
    assert.equal(cloudManagerOf('Ben'), undefined);
  });

  it('creates a new user and sets its manager in one delta run', async () => {
    await user('Eve', undefined, 'Ann');
    const writes = await run('delta');
    assert.deepEqual(writes, ['POST /v1.0/users', 'PUT /v1.0/users/{id}/manager/$ref']);
    assert.equal(cloudManagerOf('Eve'), 'Mgr Ann');
  });

  it('takes back a manager set in the tenant by hand when AD names none (found by the full run)', async () => {
    const dan = cloudUser('Dan');
    const boss = cloudUser('Boss');
    assert.ok(dan && boss);
    const store = harness.tenant.state.tenant.store;
    const danObject = store.get(dan.id);
    assert.ok(danObject);
    store.setManager(danObject, boss.id);
    assert.deepEqual(await run('delta'), [], 'a delta run trusts the store: cloud drift waits for the full run');
    const plan = await harness.sync('full', true);
    assert.equal(plan.planned['remove-manager'], 1);
    assert.deepEqual(await run('full'), ['DELETE /v1.0/users/{id}/manager/$ref']);
    assert.equal(cloudManagerOf('Dan'), undefined);
  });

  it('deleting a manager in AD leaves the reports without a manager, and the next runs write nothing for it', async () => {
    await sandbox.remove(dn['Cat'] as string);
    const writes = await run('delta');
    // Cat is deleted; Graph drops Ann's reference to a deleted manager itself, so removing it answers 404 and counts as done.
    assert.ok(writes.includes('DELETE /v1.0/users/{id}'), writes.join(', '));
    assert.equal(cloudManagerOf('Ann'), undefined);
    assert.deepEqual(await run('full'), []);
  });
});
