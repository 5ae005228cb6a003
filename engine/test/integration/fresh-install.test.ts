import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, startHarness, writesSince, type Harness } from '../support/engine-harness.ts';

describe('a fresh installation against a tenant already populated', () => {
  let sandbox: AdSandbox;
  let first: Harness;
  let second: Harness;
  const dns: string[] = [];

  const managed = (harness: Harness): Array<Record<string, unknown>> => {
    const dump = harness.tenant.state.dump() as { objects: Record<string, Array<Record<string, unknown>>> };
    const anchor = `extension_${harness.tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`;
    return [...(dump.objects['user'] ?? []), ...(dump.objects['group'] ?? [])].filter((o) => typeof o[anchor] === 'string');
  };

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Fresh Install');
    for (let i = 0; i < 8; i += 1) {
      dns.push(await sandbox.addUser(`Fresh User ${i}`, { sAMAccountName: `freshuser${i}`, userPrincipalName: `fresh.user${i}@contoso.com`, displayName: `Fresh User ${i}` }));
    }
    dns.push(await sandbox.addGroup('Fresh Team', dns.slice(0, 4)));
    first = await startHarness({ config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] } } });
    const run = await first.sync('full');
    assert.equal(run.exported['create-user'], 8);
  });
  after(async () => {
    await second?.close();
    await first?.close();
    await sandbox?.close();
  });

  it('matches every cloud object it manages before writing, creates no duplicate, and finds deletions made while nothing ran', async () => {
    // The old installation is gone; meanwhile a user is deleted in AD.
    first.store.close();
    await sandbox.remove(dns[7] as string);
    second = first.reinstall();
    const before = managed(second).length;
    const seq = lastSeq(second.tenant);
    const run = await second.sync('full');
    assert.equal(run.planned['create-user'] ?? 0, 0, 'nothing is created twice');
    assert.equal(run.planned['create-group'] ?? 0, 0);
    assert.equal(run.matchReport?.['hard-match'], 8, 'seven users and the group are hard-matched by their anchor');
    assert.equal(managed(second).length, before, 'no duplicate in the tenant');
    // The user deleted while nothing ran is an orphan: its deletion waits for approval.
    assert.equal(run.status, 'waiting-for-approval');
    assert.equal(run.held, 1);
    assert.match(run.message ?? '', /orphans/);
    assert.deepEqual(writesSince(second.tenant, seq).filter((w) => w.method === 'DELETE' || w.method === 'POST'), []);
    const plan = second.store.plansWithStatus('pending-approval')[0];
    const held = second.store.listOperations(plan?.id as number, { status: 'held' });
    assert.match(held[0]?.operation.displayName ?? '', /Fresh User 7/);
    const approved = await second.approve(plan?.id as number);
    assert.equal(approved.exported['delete-user'], 1);
    assert.equal(managed(second).length, before - 1);
  });
});
