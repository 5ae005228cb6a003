import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright';
import type { AdConnection } from '../lab/connection.ts';
import type { TenantServer } from '../lab/tenant/index.ts';
import { sharedAd } from '../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../engine/test/support/ad-sandbox.ts';
import type { RunningService } from '../engine/src/service/daemon.ts';
import { ConfigureActiveDirectoryPage } from './pages/configure-active-directory.page.ts';
import { ConfigureEntraPage } from './pages/configure-entra.page.ts';
import { ConfigureFinishPage } from './pages/configure-finish.page.ts';
import { ConfigureOptionsPage } from './pages/configure-options.page.ts';
import { ConfigureScopePage } from './pages/configure-scope.page.ts';
import { ConfigureWelcomePage } from './pages/configure-welcome.page.ts';
import { saveScreenshot } from './support/browser.ts';
import { startWizardSession, type WizardSession } from './support/wizard-session.ts';
import { throughSetupWizard } from './support/setup-to-configure.ts';

const sandboxUsers = ['First Sync Ann', 'First Sync Ben', 'First Sync Cid'] as const;

/**
 * A new administrator's first synchronization, end to end: the Setup wizard, then every page of the
 * Configuration Wizard against the real service (browser mode, empty data dir), the lab's Samba DC
 * and an in-process emulated tenant. Only a small OU made for this test is in scope.
 */
describe('first synchronization from the wizard', () => {
  let session: WizardSession | undefined;
  let service: RunningService;
  let tenant: TenantServer;
  let ad: AdConnection;
  let sandbox: AdSandbox | undefined;
  let page: Page;
  let consoleErrors: string[];
  let createdAccountDn: string | undefined;

  before(async () => {
    ad = await sharedAd();
    sandbox = await createAdSandbox(ad, 'Test First Sync UI');
    for (const name of sandboxUsers) {
      const login = name.replace(/ /g, '').toLowerCase();
      await sandbox.addUser(name, { sAMAccountName: login.slice(0, 20), userPrincipalName: `${login}@contoso.com`, displayName: name });
    }
    session = await startWizardSession('first-sync');
    ({ tenant, service, page, consoleErrors } = session);
  });
  after(async () => {
    await session?.close([createdAccountDn]);
    await sandbox?.close();
  });

  it('goes from Setup to the Configuration Wizard', async () => {
    await page.goto(`${service.browser?.url}?token=${service.browser?.token}`);
    await throughSetupWizard(page);
    await page.waitForURL(/#\/configure\/welcome$/);
    const welcome = new ConfigureWelcomePage(page);
    await welcome.heading().filter({ hasText: 'Welcome to the Configuration Wizard' }).waitFor();
    assert.equal(await welcome.heading().textContent(), 'Welcome to the Configuration Wizard');
    await saveScreenshot(page, 'first-sync-01-welcome');
    await welcome.next();
    assert.deepEqual(consoleErrors, []);
  });

  it('signs in to Microsoft Entra ID with the device code', async () => {
    const entra = new ConfigureEntraPage(page);
    await entra.heading().filter({ hasText: 'Connect to Microsoft Entra ID' }).waitFor();
    const t = tenant.connection;
    await entra.chooseSignIn();
    await entra.useCustomInstance(t.authorityHost, t.graphBaseUrl, t.tenantId);
    await entra.signIn();
    const userCode = await entra.userCode();
    await saveScreenshot(page, 'first-sync-02-entra-device-code');
    tenant.state.approveDeviceCode(userCode, t.globalAdminUpn);
    await entra.waitForTenant();
    assert.equal(await entra.tenantName().textContent(), t.tenantDisplayName);
    await saveScreenshot(page, 'first-sync-03-entra-signed-in');
    await entra.next();
    assert.deepEqual(consoleErrors, []);
  });

  it('trusts the certificate, creates the service account and goes on to Scope', async () => {
    const adPage = new ConfigureActiveDirectoryPage(page);
    await adPage.heading().filter({ hasText: 'Connect to Active Directory' }).waitFor();
    await adPage.fill({ url: ad.ldapsUrl, user: ad.adminBindDn, password: ad.adminPassword });
    await adPage.testConnection();
    if (await adPage.untrustedCertificate().isVisible()) {
      await adPage.trustCertificate();
      await adPage.testConnection();
    }
    await adPage.connectionOk().waitFor();
    assert.equal(await adPage.nextButton().isDisabled(), true, 'Next waits for the service account');
    await adPage.createServiceAccount();
    const dn = (await adPage.accountDn().textContent()) ?? '';
    assert.match(dn, /^CN=MSOL_[0-9a-f]{12},CN=Users,/);
    if (await page.getByText('Created', { exact: true }).isVisible()) createdAccountDn = dn;
    assert.equal(await adPage.nextButton().isDisabled(), false);
    await saveScreenshot(page, 'first-sync-04-ad-service-account');
    await adPage.nextButton().click();
    await page.waitForURL(/#\/configure\/scope$/);
    assert.deepEqual(consoleErrors, []);
  });

  it('lists the OUs live and scopes the sync to the test OU only', async () => {
    const scope = new ConfigureScopePage(page);
    await scope.waitForPage();
    assert.equal(await scope.heading().textContent(), 'Choose what to synchronize');
    await scope.waitForTree();
    assert.match((await scope.summary().textContent()) ?? '', /whole domain/);
    const ouDn = sandbox?.ouDn ?? '';
    await scope.tick(ouDn);
    assert.equal(await scope.ouCheckbox(ouDn).isChecked(), true);
    assert.match((await scope.summary().textContent()) ?? '', /^1 organizational unit /);
    await scope.ouCheckbox(ouDn).focus();
    await saveScreenshot(page, 'first-sync-05-scope');
    await scope.next();
    await page.waitForURL(/#\/configure\/options$/);
    assert.deepEqual(consoleErrors, []);
  });

  it('offers the default options', async () => {
    const options = new ConfigureOptionsPage(page);
    await options.waitForPage();
    assert.equal(await options.heading().textContent(), 'Options');
    assert.equal(await options.deletionCount().inputValue(), '500');
    assert.equal(await options.deletionPercent().inputValue(), '10');
    assert.equal(await options.intervalMinutes().inputValue(), '30');
    assert.equal(await options.stagingMode().isChecked(), false);
    await saveScreenshot(page, 'first-sync-06-options');
    await options.next();
    await page.waitForURL(/#\/configure\/finish$/);
    assert.deepEqual(consoleErrors, []);
  });

  it('saves, claims the tenant, runs the first sync and shows its result; the tenant has the three users', async () => {
    const finish = new ConfigureFinishPage(page);
    await finish.waitForPage();
    assert.equal(await finish.heading().textContent(), 'Ready to configure');
    assert.equal(await finish.synchronizeNow().isChecked(), true);
    assert.match((await finish.summary().textContent()) ?? '', /1 organizational unit/);
    await saveScreenshot(page, 'first-sync-07-finish');
    await finish.finish();
    const result = await finish.waitForResult();
    assert.equal(await finish.error().count(), 0, `no error: ${await finish.error().allTextContents()}`);
    assert.equal(await result.getAttribute('data-status'), 'succeeded');
    assert.equal(await finish.heading().textContent(), 'Directory Sync is configured');
    assert.equal(await finish.count('created').textContent(), '3');
    assert.equal(await finish.count('errors').textContent(), '0');
    assert.equal(await finish.count('held').textContent(), '0');
    await saveScreenshot(page, 'first-sync-08-result');

    const dump = tenant.state.dump() as { objects: Record<string, Array<Record<string, unknown>>> };
    const names = (dump.objects['user'] ?? []).map((u) => String(u['displayName']));
    for (const name of sandboxUsers) assert.ok(names.includes(name), `${name} is in the tenant`);
    assert.deepEqual(consoleErrors, []);
  });
});
