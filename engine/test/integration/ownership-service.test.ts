import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ControlEvents } from '../../src/contract/control-api.ts';
import type { RunSummary } from '../../src/contract/model.ts';
import { controlClient, subscribeControl } from '../../src/service/control-client.ts';
import { startService, type RunningService } from '../../src/service/daemon.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, startHarness, TIME_SCALE, writesSince, type Harness } from '../support/engine-harness.ts';

/** Starts a service over a harness's data directory and runs one run through its control API. */
async function serve(harness: Harness): Promise<{ service: RunningService; run(kind: 'full' | 'delta'): Promise<RunSummary> }> {
  harness.store.close();
  const service = await startService({ dataDir: harness.dataDir, schedule: false, ownershipSettleMs: 50, ownershipVerifySeconds: 0.05,
    writeBudget: { writes: 3000, windowSeconds: 150 / TIME_SCALE } });
  const endpoint = { socketPath: service.socket.socketPath as string };
  return {
    service,
    async run(kind) {
      const finished: RunSummary[] = [];
      const stop = subscribeControl(endpoint, <E extends keyof ControlEvents>(event: E, data: ControlEvents[E]) => {
        if (event === 'onDidFinishRun') finished.push(data as RunSummary);
      });
      await new Promise((r) => setTimeout(r, 50));
      try {
        const { runId } = await controlClient(endpoint).startRun({ kind });
        for (let i = 0; i < 600 && !finished.some((f) => f.id === runId); i += 1) await new Promise((r) => setTimeout(r, 50));
        const summary = finished.find((f) => f.id === runId);
        assert.ok(summary, 'the run finished');
        return summary;
      } finally {
        stop();
      }
    },
  };
}

describe('one active server per tenant', () => {
  let sandbox: AdSandbox;
  let first: Harness;
  let second: Harness;
  let staging: Harness;
  let a: Awaited<ReturnType<typeof serve>>;
  let b: Awaited<ReturnType<typeof serve>>;
  let c: Awaited<ReturnType<typeof serve>>;

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Ownership');
    for (let i = 0; i < 4; i += 1) await sandbox.addUser(`Lease User ${i}`, { sAMAccountName: `leaseuser${i}`, userPrincipalName: `lease.user${i}@contoso.com`, displayName: `Lease User ${i}` });
    const scope = { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] };
    first = await startHarness({ config: { scope } });
    second = await startHarness({ config: { scope }, existingTenant: first.tenant });
    staging = await startHarness({ config: { scope, stagingMode: true }, existingTenant: first.tenant });
    a = await serve(first);
    b = await serve(second);
    c = await serve(staging);
  });
  after(async () => {
    await a?.service.stop();
    await b?.service.stop();
    await c?.service.stop();
    await first?.tenant.close();
    await sandbox?.close();
  });

  it('lets the first server take the free lease and export, and a second one only plan', async () => {
    const runA = await a.run('full');
    assert.equal(runA.exported['create-user'], 4, JSON.stringify(runA));
    const seq = lastSeq(first.tenant);
    await sandbox.addUser('Lease User 4', { sAMAccountName: 'leaseuser4', userPrincipalName: 'lease.user4@contoso.com', displayName: 'Lease User 4' });
    const runB = await b.run('full');
    assert.equal(runB.planned['create-user'], 1, 'the second server sees the change');
    assert.deepEqual(runB.exported, {});
    assert.match(runB.message ?? '', /Another server .* holds the tenant ownership lease/);
    assert.deepEqual(writesSince(first.tenant, seq), [], 'the second server wrote nothing');
    const status = await controlClient({ socketPath: b.service.socket.socketPath as string }).getStatus({});
    assert.equal(status.role, 'not-owner');
    assert.equal(status.ownership?.holder?.serverId !== undefined, true);
  });

  it('stops the first server exporting once the second takes over', async () => {
    const apiB = controlClient({ socketPath: b.service.socket.socketPath as string });
    const refused = await apiB.claimOwnership({ takeOver: false });
    assert.equal(refused.claimed, false, 'without take-over the holder is shown, not replaced');
    assert.ok(refused.holder?.hostName);
    assert.equal((await apiB.claimOwnership({ takeOver: true })).claimed, true);
    const seen = await apiB.getOwnership({});
    assert.equal(seen.thisServer, true);
    assert.equal((await controlClient({ socketPath: a.service.socket.socketPath as string }).getOwnership({})).thisServer, false);
    const runB = await b.run('delta');
    assert.equal(runB.exported['create-user'], 1);

    await sandbox.addUser('Lease User 5', { sAMAccountName: 'leaseuser5', userPrincipalName: 'lease.user5@contoso.com', displayName: 'Lease User 5' });
    const seq = lastSeq(first.tenant);
    const runA = await a.run('delta');
    assert.deepEqual(runA.exported, {});
    assert.match(runA.message ?? '', /Another server/);
    assert.deepEqual(writesSince(first.tenant, seq), [], 'the first server wrote nothing after losing the lease');
    assert.equal((await controlClient({ socketPath: a.service.socket.socketPath as string }).getStatus({})).role, 'not-owner');
  });

  it('never writes in staging mode, and shows what it would change', async () => {
    const seq = lastSeq(first.tenant);
    await sandbox.addUser('Lease User 6', { sAMAccountName: 'leaseuser6', userPrincipalName: 'lease.user6@contoso.com', displayName: 'Lease User 6' });
    const run = await c.run('full');
    assert.equal(run.planned['create-user'], 2, 'staging plans the users the active server has not created yet');
    assert.deepEqual(run.exported, {});
    assert.match(run.message ?? '', /Staging mode/);
    assert.deepEqual(writesSince(first.tenant, seq), []);
    assert.equal((await controlClient({ socketPath: c.service.socket.socketPath as string }).getStatus({})).role, 'staging');
  });

  it('promotes a staging server to active by taking the lease', async () => {
    const api = controlClient({ socketPath: c.service.socket.socketPath as string });
    const config = (await api.getConfig({})).config as Record<string, unknown>;
    await api.saveConfig({ config: { ...config, stagingMode: false } });
    assert.equal((await api.claimOwnership({ takeOver: true })).claimed, true);
    const run = await c.run('full');
    assert.equal(run.exported['create-user'], 2);
  });
});
