import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../../../lab/connection.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { openStore } from '../../src/run/session.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { startHarness, type Harness } from '../support/engine-harness.ts';

function managedUsers(harness: Harness): Array<Record<string, unknown>> {
  const dump = harness.tenant.state.dump() as { objects: Record<string, Array<Record<string, unknown>>> };
  const anchor = `extension_${harness.tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`;
  return (dump.objects['user'] ?? []).filter((u) => typeof u[anchor] === 'string');
}

function assertNoDuplicates(harness: Harness): void {
  const anchor = `extension_${harness.tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`;
  const anchors = managedUsers(harness).map((u) => u[anchor]);
  assert.equal(new Set(anchors).size, anchors.length, 'every AD user is in the tenant once');
}

describe('resilience', () => {
  let sandbox: AdSandbox;
  const count = 60;

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Resilience');
    for (let i = 0; i < count; i += 1) {
      await sandbox.addUser(`Sturdy User ${i}`, { sAMAccountName: `sturdy${i}`, userPrincipalName: `sturdy.user${i}@contoso.com`, displayName: `Sturdy User ${i}` });
    }
  });
  after(async () => {
    await sandbox?.close();
  });

  it('finishes under a tiny tenant write budget, honouring every 429 and its Retry-After', async () => {
    const harness = await startHarness({
      config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] } },
      // 20 writes per 150 s, scaled 60×: 20 writes per 2.5 s.
      tenant: { timeScale: 60, budgets: { appTenantWrites: 20 } },
    });
    try {
      const started = Date.now();
      const run = await harness.sync('full');
      assert.equal(run.status, 'succeeded', run.message);
      assert.equal(run.exported['create-user'], count);
      assert.ok((run.throttled ?? 0) > 0, 'the tenant throttled the export');
      const throttled = harness.tenant.state.requestLog().filter((r) => r.status === 429);
      assert.ok(throttled.length > 0);
      assert.equal(managedUsers(harness).length, count);
      assertNoDuplicates(harness);
      assert.ok(Date.now() - started >= 2000, 'the export waited for the budget to refill');
    } finally {
      await harness.close();
    }
  });

  it('converges with no duplicate after the process is killed between batches', async () => {
    const harness = await startHarness({
      config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] } },
      tenant: { timeScale: 1 },
    });
    try {
      // The CLI runs the first sync in a child process. Each $batch is processed by the tenant but its answer
      // comes 1.5 s late, so the kill lands after the tenant made changes the engine has not confirmed.
      const dataDir = harness.dataDir;
      harness.store.close();
      harness.tenant.state.injectFaults({ mode: 'latency', latencyMs: 1500, pathPrefix: '/v1.0/$batch', when: 'after' });
      const child = spawn(process.execPath, [join(repoRoot, 'engine', 'bin', 'dirsync.js'), '--data-dir', dataDir, 'sync', '--full'], { stdio: 'ignore' });
      // Wait until some users were created, then kill it without warning.
      for (let i = 0; i < 600 && managedUsers(harness).length < 20; i += 1) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const createdBeforeKill = managedUsers(harness).length;
      assert.ok(createdBeforeKill > 0 && createdBeforeKill < count, `killed mid-export (${createdBeforeKill} of ${count} created)`);

      harness.tenant.state.clearFaults();
      harness.store = openStore(dataDir);
      assert.ok(harness.store.unconfirmedOperations().length > 0, 'the kill left operations the tenant applied but the engine never confirmed');
      const rerun = await harness.sync('delta');
      assert.notEqual(rerun.status, 'failed', rerun.message);
      assert.equal(managedUsers(harness).length, count);
      assertNoDuplicates(harness);
      const again = await harness.sync('full');
      assert.deepEqual(again.exported, {}, 'the next full run finds nothing left to do');
    } finally {
      await harness.close();
    }
  });
});
