import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright';
import type { AdConnection } from '../lab/connection.ts';
import { entraConnectSeed, scopeDnOf } from '../lab/tenant/connect-seed.ts';
import { startTenantServer, type TenantServer } from '../lab/tenant/index.ts';
import type { TenantSeed } from '../lab/tenant/seed.ts';
import { sharedAd } from '../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../engine/test/support/ad-sandbox.ts';
import { startService } from '../engine/src/service/daemon.ts';
import { ConfigureReadinessPage } from './pages/configure-readiness.page.ts';
import { saveScreenshot } from './support/browser.ts';
import { onToFinish, throughWizardToReadiness } from './support/complete-wizard.ts';
import { startWizardSession, type WizardSession } from './support/wizard-session.ts';

type Obj = Record<string, unknown> & { id: string };

/**
 * The wizard in the tenant most administrators have: one Entra Connect synchronizes from the same AD
 * (the lab's Entra Connect seed). The Microsoft Entra page and the Readiness page say so first; every
 * synchronized group and user counts as blocked, nothing is to be created, and the first sync writes none.
 */
describe('the wizard in a tenant Entra Connect synchronizes', () => {
  let session: WizardSession | undefined;
  let page: Page;
  let ad: AdConnection;
  let seed: TenantSeed;
  const accounts: Array<string | undefined> = [];

  before(async () => {
    ad = await sharedAd();
    seed = await entraConnectSeed(ad);
    session = await startWizardSession('synchronized-tenant', { tenantSeed: seed });
    page = session.page;
  });
  after(async () => {
    await session?.close(accounts);
  });

  it('says on the Microsoft Entra page, first, that another tool synchronizes the tenant', async () => {
    const s = session as WizardSession;
    const { notices, accountDn } = await throughWizardToReadiness(page, s, ad, scopeDnOf(ad), 'synchronized-tenant-01');
    accounts.push(accountDn);
    assert.match(notices[0] ?? '', /^This tenant is synchronized by another tool: Microsoft Entra Connect \(or the older DirSync\) on the server SYNC01, \d+ users and 24 groups, last on .* \(it still runs\)\./);
    assert.deepEqual(s.consoleErrors, []);
  });

  it('counts the synchronized groups and users as blocked on the Readiness page, and nothing to create', async () => {
    const readiness = new ConfigureReadinessPage(page);
    await readiness.waitForCounts();
    assert.equal(await readiness.error().count(), 0, `no error: ${await readiness.error().allTextContents()}`);
    await page.getByTestId('preview-tenant-synchronized').waitFor();
    assert.equal(await page.getByTestId('preview-empty').count(), 0, 'the synchronized objects are in scope: the page does not say nothing is');
    const securityGroups = (seed.groups ?? []).filter((g) => g.props?.['mailEnabled'] !== true).length;
    const syncedUsers = (seed.users ?? []).filter((u) => u.props?.['onPremisesSyncEnabled'] === true).length;
    const blocked = await readiness.count('blocked');
    const invalid = await readiness.count('invalid');
    assert.equal(blocked + invalid, securityGroups + syncedUsers, 'every synchronized object is blocked, or refused for its data before any match');
    assert.ok(blocked > syncedUsers - 20, `blocked ${blocked}`);
    assert.equal(await readiness.count('create'), 0);
    assert.equal(await readiness.count('matched'), 0);
    await readiness.open('blocked');
    const reasons = await page.getByTestId('preview-object').allTextContents();
    assert.ok(reasons.every((r) => /synchronized by another tool/.test(r)), reasons.find((r) => !/synchronized by another tool/.test(r)));
    await saveScreenshot(page, 'synchronized-tenant-02-readiness');
    assert.deepEqual(session?.consoleErrors, []);
  });

  it('runs the first sync from the Finished page: it says so first, creates nothing, and every group name stays unique', async () => {
    const s = session as WizardSession;
    const groupsBefore = ((s.tenant.state.dump() as { objects: Record<string, Obj[]> }).objects['group'] ?? []).length;
    const finish = await onToFinish(page);
    await finish.finish();
    const result = await finish.waitForResult();
    assert.equal(await finish.error().count(), 0, `no error: ${await finish.error().allTextContents()}`);
    await page.getByTestId('result-tenant-synchronized').waitFor();
    assert.equal(await finish.count('created').textContent(), '0');
    assert.notEqual(await result.getAttribute('data-status'), 'failed');
    await saveScreenshot(page, 'synchronized-tenant-03-result');
    const groups = (s.tenant.state.dump() as { objects: Record<string, Obj[]> }).objects['group'] ?? [];
    assert.equal(groups.length, groupsBefore, 'no group was created');
    const names = groups.map((g) => String(g['displayName']).toLowerCase());
    assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], 'no group name exists twice');
    assert.deepEqual(s.consoleErrors, []);
  });
});

/**
 * Moving to another computer as the seed's procedure says: install there, run the Configuration
 * Wizard, sign in. The new computer registers an app of its own; the groups the first installation
 * created carry only the first app's anchor, and every one of them is adopted, none created again.
 */
describe('a second installation on another computer, through the wizard', () => {
  let session: WizardSession | undefined;
  let tenant: TenantServer;
  let sandbox: AdSandbox;
  let ad: AdConnection;
  let page: Page;
  let firstAppId = '';
  const accounts: Array<string | undefined> = [];

  before(async () => {
    ad = await sharedAd();
    sandbox = await createAdSandbox(ad, 'Test Second Computer UI');
    const users: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      users.push(await sandbox.addUser(`Second Computer ${i}`, { sAMAccountName: `secondpc${i}`, userPrincipalName: `second.pc${i}@contoso.com`, displayName: `Second Computer ${i}` }));
    }
    const team = await sandbox.addGroup('Second Computer Team', users.slice(0, 2));
    await sandbox.addGroup('Second Computer All', [users[2] as string, team]);
    tenant = await startTenantServer({ timeScale: 60 });
    firstAppId = await firstInstallation(tenant, ad, await sandbox.guidOf(sandbox.ouDn));
    session = await startWizardSession('second-computer', { tenant, hostName: 'dirsync-new' });
    page = session.page;
  });
  after(async () => {
    await session?.close(accounts);
    await tenant?.close();
    await sandbox?.close();
  });

  it('finds the first computer\'s registration when the administrator signs in, and adopts every group and user', async () => {
    const s = session as WizardSession;
    const { notices, accountDn } = await throughWizardToReadiness(page, s, ad, sandbox.ouDn, 'second-computer-01');
    accounts.push(accountDn);
    assert.ok(notices.some((n) => n.includes(`Earlier Directory Sync registrations found: Directory Sync (dirsync-old) (${firstAppId})`)), notices.join('\n'));
    const readiness = new ConfigureReadinessPage(page);
    await readiness.waitForCounts();
    assert.equal(await readiness.error().count(), 0, `no error: ${await readiness.error().allTextContents()}`);
    assert.deepEqual({ create: await readiness.count('create'), matched: await readiness.count('matched') }, { create: 0, matched: 5 });
    await saveScreenshot(page, 'second-computer-02-readiness');

    const finish = await onToFinish(page);
    await finish.finish();
    await finish.heldBy().waitFor();
    await finish.takeOver();
    const result = await finish.waitForResult();
    assert.equal(await finish.error().count(), 0, `no error: ${await finish.error().allTextContents()}`);
    assert.equal(await result.getAttribute('data-status'), 'succeeded');
    assert.equal(await finish.count('created').textContent(), '0', '0 groups and 0 users created');
    await saveScreenshot(page, 'second-computer-03-result');

    const secondAppId = ((await s.service.service.getConfig({})).config as { cloud: { clientId: string } }).cloud.clientId;
    assert.notEqual(secondAppId, firstAppId);
    const groups = ((tenant.state.dump() as { objects: Record<string, Obj[]> }).objects['group'] ?? []).filter((g) => /^Second Computer/.test(String(g['displayName'])));
    assert.equal(groups.length, 2, 'each group exists once');
    const anchor = `extension_${secondAppId.replace(/-/g, '')}_sourceAnchor`;
    assert.ok(groups.every((g) => typeof g[anchor] === 'string'), 'every group carries the new registration\'s anchor');
    assert.deepEqual(s.consoleErrors, []);
  });
});

/** The first computer, "dirsync-old": registers its app through the administrator's sign-in and synchronizes the OU. */
async function firstInstallation(tenant: TenantServer, ad: AdConnection, ouGuid: string): Promise<string> {
  const running = await startService({ dataDir: mkdtempSync(join(tmpdir(), 'dirsync-e2e-first-computer-')), hostName: 'dirsync-old', schedule: false, ownershipSettleMs: 50 });
  try {
    const t = tenant.connection;
    const prompt = await running.service.beginCloudSignIn({ instance: 'custom', tenant: t.tenantId, authorityHost: t.authorityHost, graphBaseUrl: t.graphBaseUrl });
    tenant.state.approveDeviceCode(prompt.userCode, t.globalAdminUpn);
    const registration = await running.service.completeCloudSignIn({ signInId: prompt.signInId });
    await running.service.saveConfig({
      config: {
        version: 1,
        ad: { url: ad.ldapsUrl, bindDn: ad.adminBindDn, baseDn: ad.baseDn, trustedCaPem: readFileSync(ad.caCertFile, 'utf8') },
        cloud: { instance: 'custom', tenantId: t.tenantId, clientId: registration.appId, credential: 'certificate', certificatePem: registration.certificatePem,
          authorityHost: t.authorityHost, graphBaseUrl: t.graphBaseUrl },
        scope: { includedOuGuids: [ouGuid], excludedOuGuids: [] },
      },
      secrets: { adPassword: ad.adminPassword },
    });
    await running.service.claimOwnership({ takeOver: false });
    const { runId } = await running.service.startRun({ kind: 'full' });
    for (;;) {
      const run = (await running.service.listRuns({ limit: 5 })).find((r) => r.id === runId);
      if (run && run.status !== 'running') {
        assert.equal(run.status, 'succeeded', run.message);
        assert.equal(run.exported['create-group'], 2);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return registration.appId;
  } finally {
    await running.stop();
  }
}
