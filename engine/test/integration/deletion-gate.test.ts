import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, startHarness, writesSince, type Harness } from '../support/engine-harness.ts';
import { withPrimarySource } from '../../src/base/config.ts';

describe('deletion gate', () => {
  let sandbox: AdSandbox;
  let harness: Harness;
  let ou: string;
  const dns: string[] = [];

  const managedUsers = (): number => {
    const dump = harness.tenant.state.dump() as { objects: Record<string, Array<Record<string, unknown>>> };
    const anchor = `extension_${harness.tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`;
    return (dump.objects['user'] ?? []).filter((u) => typeof u[anchor] === 'string').length;
  };

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Deletion Gate');
    ou = await sandbox.addOu('People');
    for (let i = 0; i < 12; i += 1) {
      dns.push(await sandbox.addUser(`Gate User ${i}`, { sAMAccountName: `gateuser${i}`, userPrincipalName: `gate.user${i}@contoso.com`, displayName: `Gate User ${i}` }, ou));
    }
    harness = await startHarness({ config: {
      scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] },
      deletionThreshold: { count: 500, percent: 10 },
    } });
    const first = await harness.sync('full');
    assert.equal(first.exported['create-user'], 12);
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('holds deletions above the threshold, lets other changes flow, and deletes after approval', async () => {
    await sandbox.remove(dns[0] as string);
    await sandbox.remove(dns[1] as string);
    await sandbox.replace(dns[2] as string, 'title', ['Still Here']);
    const seq = lastSeq(harness.tenant);
    const run = await harness.sync('delta');
    assert.equal(run.status, 'waiting-for-approval');
    assert.equal(run.held, 2);
    assert.match(run.message ?? '', /deletion threshold/);
    const writes = writesSince(harness.tenant, seq).map((w) => w.method);
    assert.deepEqual(writes, ['PATCH'], 'the update flows, the deletions wait');
    assert.equal(managedUsers(), 12);

    const pending = harness.store.plansWithStatus('pending-approval');
    assert.equal(pending.length, 1);
    const held = harness.store.listOperations(pending[0]?.id as number, { status: 'held' });
    assert.deepEqual(held.map((h) => h.operation.dn).sort(), [dns[0], dns[1]].sort());

    const approved = await harness.approve(pending[0]?.id as number);
    assert.equal(approved.exported['delete-user'], 2);
    assert.equal(managedUsers(), 10);
  });

  it('deletes nothing when the scope shrinks by more than half, even under a generous threshold', async () => {
    harness.config = { ...harness.config, deletionThreshold: { count: 500, percent: 100 } };
    for (const dn of dns.slice(3, 9)) await sandbox.remove(dn);
    const seq = lastSeq(harness.tenant);
    const run = await harness.sync('full');
    assert.equal(run.status, 'waiting-for-approval');
    assert.equal(run.held, 6);
    assert.match(run.message ?? '', /shrank/);
    assert.deepEqual(writesSince(harness.tenant, seq).filter((w) => w.method === 'DELETE'), []);
  });

  it('deletes nothing when the AD import returns nothing in scope', async () => {
    const empty = await sandbox.addOu('Empty');
    const emptyScope = { includedOuGuids: [await sandbox.guidOf(empty)], excludedOuGuids: [] };
    harness.config = { ...withPrimarySource(harness.config, (source) => ({ ...source, scope: emptyScope })), deletionThreshold: { count: 500, percent: 100 } };
    const seq = lastSeq(harness.tenant);
    const run = await harness.sync('full');
    assert.equal(run.status, 'waiting-for-approval');
    assert.match(run.message ?? '', /returned no object in scope/);
    assert.deepEqual(writesSince(harness.tenant, seq).filter((w) => w.method === 'DELETE'), []);
    assert.equal(managedUsers(), 10);
  });
});
