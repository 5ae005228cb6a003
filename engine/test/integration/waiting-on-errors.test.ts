/**
 * Membership and manager changes that can never be sent — their member or manager is an object in error (here
 * in conflict: an AD user whose UPN a cloud-only user (the tenant's Global Administrator) holds) — are not planned: they are set aside in
 * the plan, each naming that object and its error, counted apart, and never tried at export (issue 28, item 6).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { startHarness, type Harness } from '../support/engine-harness.ts';

describe('changes that wait for an object in error', () => {
  let sandbox: AdSandbox;
  let harness: Harness;
  let twinDn: string;

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Waiting On Errors');
    twinDn = await sandbox.addUser('Admin Twin', { sAMAccountName: 'admintwin2', userPrincipalName: 'admin@contoso.onmicrosoft.com', displayName: 'Admin Twin' });
    const ann = await sandbox.addUser('Wait Ann', { sAMAccountName: 'waitann', userPrincipalName: 'wait.ann@contoso.com', displayName: 'Wait Ann', manager: twinDn });
    const ben = await sandbox.addUser('Wait Ben', { sAMAccountName: 'waitben', userPrincipalName: 'wait.ben@contoso.com', displayName: 'Wait Ben' });
    await sandbox.addGroup('Wait Group', [ann, ben, twinDn]);
    harness = await startHarness({ config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] } } });
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('sets them aside in the plan, naming the object in error, and plans only what will be written', async () => {
    const first = await harness.sync('full');
    assert.equal(first.status, 'completed-with-errors', 'the user in conflict is an error');
    assert.equal(first.waitingOnErrors, 2, 'Ann\'s manager and the group\'s third member wait');
    assert.deepEqual(first.planned, { 'create-user': 2, 'create-group': 1, 'add-member': 2 }, JSON.stringify(first.planned));
    assert.deepEqual(first.exported, first.planned, 'everything planned is written');
    const waiting = harness.store.listOperations(first.planId ?? 0).filter((s) => s.status === 'skipped');
    assert.deepEqual(waiting.map((s) => s.operation.kind).sort(), ['add-member', 'set-manager']);
    for (const s of waiting) {
      assert.match(s.error ?? '', new RegExp(`^waits for CN=Admin Twin,${sandbox.ouDn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, which is not in the tenant: the UPN admin@contoso\\.onmicrosoft\\.com is used by cloud user`), s.error);
    }

    const again = await harness.sync('full');
    assert.deepEqual(again.planned, {}, `a second full run plans nothing it cannot write (${JSON.stringify(again.planned)})`);
    assert.equal(again.waitingOnErrors, 2, 'and still says what waits');
    assert.deepEqual(again.exported, {});
  });
});
