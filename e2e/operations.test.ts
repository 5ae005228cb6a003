import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright';
import { sharedAd } from '../lab/test/support/shared-lab.ts';
import type { RunSummary } from '../engine/src/contract/model.ts';
import { controlClient, subscribeControl } from '../engine/src/service/control-client.ts';
import { startService, type RunningService } from '../engine/src/service/daemon.ts';
import { createAdSandbox, type AdSandbox } from '../engine/test/support/ad-sandbox.ts';
import { startHarness, TIME_SCALE, type Harness } from '../engine/test/support/engine-harness.ts';
import { OperationsPage } from './pages/operations.page.ts';
import { launchChromium, openWatchedPage, saveScreenshot } from './support/browser.ts';

describe('operations view in a browser', () => {
  let sandbox: AdSandbox;
  let harness: Harness;
  let service: RunningService;
  let browser: Browser;
  const dns: string[] = [];

  const managedUsers = (): number => {
    const dump = harness.tenant.state.dump() as { objects: Record<string, Array<Record<string, unknown>>> };
    const anchor = `extension_${harness.tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`;
    return (dump.objects['user'] ?? []).filter((u) => typeof u[anchor] === 'string').length;
  };

  async function run(kind: 'full' | 'delta'): Promise<RunSummary> {
    const endpoint = { socketPath: service.socket.socketPath as string };
    const finished: RunSummary[] = [];
    const stop = subscribeControl(endpoint, (event, data) => { if (event === 'onDidFinishRun') finished.push(data as RunSummary); });
    await new Promise((r) => setTimeout(r, 50));
    try {
      const { runId } = await controlClient(endpoint).startRun({ kind });
      for (let i = 0; i < 600 && !finished.some((f) => f.id === runId); i += 1) await new Promise((r) => setTimeout(r, 50));
      return finished.find((f) => f.id === runId) as RunSummary;
    } finally {
      stop();
    }
  }

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Operations UI');
    for (let i = 0; i < 12; i += 1) {
      dns.push(await sandbox.addUser(`Ops User ${i}`, { sAMAccountName: `opsuser${i}`, userPrincipalName: `ops.user${i}@contoso.com`, displayName: `Ops User ${i}` }));
    }
    harness = await startHarness({ config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] } } });
    harness.store.close();
    service = await startService({ dataDir: harness.dataDir, schedule: false, browser: {}, ownershipSettleMs: 50, writeBudget: { writes: 3000, windowSeconds: 150 / TIME_SCALE } });
    assert.equal((await run('full')).exported['create-user'], 12);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await service?.stop();
    await harness?.tenant.close();
    await sandbox?.close();
  });

  it('shows a deletion held by the threshold, exactly what it deletes, and applies it when approved', async () => {
    await sandbox.remove(dns[0] as string);
    await sandbox.remove(dns[1] as string);
    await sandbox.addUser('Ops Bad', { sAMAccountName: 'opsbad', userPrincipalName: 'ops.bad@fabrikam.com', displayName: 'Ops Bad' });
    const held = await run('delta');
    assert.equal(held.status, 'waiting-for-approval');

    const { page, consoleErrors } = await openWatchedPage(browser);
    await page.goto(`${service.browser?.url}?token=${service.browser?.token}#/operations`);
    const ops = new OperationsPage(page);
    assert.equal(await ops.heading().textContent(), 'Directory Sync — Operations');
    await ops.role().waitFor();
    assert.match((await ops.role().textContent()) ?? '', /^Active/);
    assert.match((await ops.lastRun().textContent()) ?? '', /delta run \d+: waiting-for-approval/);
    const table = ops.heldTable(held.planId as number);
    await table.waitFor();
    const text = (await table.textContent()) ?? '';
    assert.match(text, /CN=Ops User 0,OU=Test Operations UI/);
    assert.match(text, /CN=Ops User 1,OU=Test Operations UI/);
    assert.match((await ops.errorsTable().textContent()) ?? '', /CN=Ops Bad.*fabrikam\.com.*Verify fabrikam\.com/);
    await saveScreenshot(page, 'operations-01-held-deletions');
    assert.equal(managedUsers(), 12, 'nothing deleted before approval');

    await ops.approve(2);
    await page.getByText('Nothing waits for approval.').waitFor();
    assert.equal(managedUsers(), 10);
    await ops.lookUp('ops.user5@contoso.com');
    await ops.lookupResult().waitFor();
    assert.match((await ops.lookupResult().textContent()) ?? '', /CN=Ops User 5,OU=Test Operations UI.*in scope.*Ops User 5/);
    await saveScreenshot(page, 'operations-02-approved');
    assert.deepEqual(consoleErrors, []);
  });
});
