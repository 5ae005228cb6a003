import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright';
import type { AdConnection } from '../lab/connection.ts';
import type { TenantServer } from '../lab/tenant/index.ts';
import { sharedAd } from '../lab/test/support/shared-lab.ts';
import type { RunningService } from '../engine/src/service/daemon.ts';
import { ConfigureActiveDirectoryPage } from './pages/configure-active-directory.page.ts';
import { ConfigureEntraPage } from './pages/configure-entra.page.ts';
import { ConfigureScopePage } from './pages/configure-scope.page.ts';
import { ConfigureWelcomePage } from './pages/configure-welcome.page.ts';
import { saveScreenshot } from './support/browser.ts';
import { startWizardSession, type WizardSession } from './support/wizard-session.ts';
import { throughSetupWizard } from './support/setup-to-configure.ts';

/**
 * The Configuration Wizard's first pages against the real service (browser mode, empty data dir),
 * the shared lab's Samba DC and an in-process emulated tenant. The tests share one page and run in
 * order, as an administrator would go through the wizard.
 */
describe('configuration wizard in a browser', () => {
  let session: WizardSession | undefined;
  let service: RunningService;
  let tenant: TenantServer;
  let ad: AdConnection;
  let page: Page;
  let consoleErrors: string[];
  let createdAccountDn: string | undefined;

  before(async () => {
    ad = await sharedAd();
    session = await startWizardSession('configure');
    ({ tenant, service, page, consoleErrors } = session);
  });
  after(async () => {
    await session?.close([createdAccountDn]);
  });

  it('leads from the license to the Configuration Wizard and removes the token from the address bar', async () => {
    await page.goto(`${service.browser?.url}?token=${service.browser?.token}`);
    await throughSetupWizard(page);
    const welcome = new ConfigureWelcomePage(page);
    await welcome.heading().filter({ hasText: 'Welcome to the Configuration Wizard' }).waitFor();
    assert.equal(await welcome.heading().textContent(), 'Welcome to the Configuration Wizard');
    assert.equal(await welcome.currentStep().textContent(), 'Welcome');
    assert.match(page.url(), /^http:\/\/127\.0\.0\.1:\d+\/#\/configure\/welcome$/, 'the token is no longer in the address');
    await saveScreenshot(page, 'configure-01-welcome');
    await welcome.next();
    assert.deepEqual(consoleErrors, []);
  });

  it('signs a Global Administrator in and shows the tenant name and its verified domains', async () => {
    const entra = new ConfigureEntraPage(page);
    await entra.heading().filter({ hasText: 'Connect to Microsoft Entra ID' }).waitFor();
    assert.equal(await entra.heading().textContent(), 'Connect to Microsoft Entra ID');
    assert.equal(await entra.nextButton().isDisabled(), true, 'Next waits for the sign-in');
    const t = tenant.connection;
    await entra.chooseSignIn();
    await entra.useCustomInstance(t.authorityHost, t.graphBaseUrl, t.tenantId);
    await saveScreenshot(page, 'configure-02-entra');
    await entra.signIn();
    const userCode = await entra.userCode();
    assert.ok(tenant.state.pendingUserCodes().includes(userCode), `the page shows the pending code (${userCode})`);
    assert.match((await entra.verificationUri().textContent()) ?? '', /^https:\/\//);
    await saveScreenshot(page, 'configure-03-entra-device-code');
    tenant.state.approveDeviceCode(userCode, t.globalAdminUpn);
    await entra.waitForTenant();
    assert.equal(await entra.tenantName().textContent(), t.tenantDisplayName);
    const domains = await entra.verifiedDomains();
    for (const domain of t.verifiedDomains) assert.ok(domains.includes(domain), `${domain} is listed (${domains.join(', ')})`);
    assert.match((await entra.appName().textContent()) ?? '', /^Directory Sync \(/);
    assert.equal(await entra.nextButton().isDisabled(), false);
    assert.deepEqual(await entra.notices().allTextContents(), [], 'a new registration has nothing to report');
    await saveScreenshot(page, 'configure-04-entra-signed-in');
    assert.deepEqual(consoleErrors, []);
  });

  it('signs in again and says which earlier consent it revoked because Directory Sync no longer needs it', async () => {
    const t = tenant.connection;
    const store = tenant.state.tenant.store;
    const sp = [...store.liveObjects('servicePrincipal')].find((o) => String(o.props['displayName']).startsWith('Directory Sync ('));
    const graphSp = store.byAppId('servicePrincipal', '00000003-0000-0000-c000-000000000000');
    const role = (graphSp?.props['appRoles'] as Array<{ id: string; value: string }> | undefined)?.find((r) => r.value === 'Directory.Read.All');
    assert.ok(sp && graphSp && role);
    // What an earlier version of Directory Sync asked for and the administrator consented to.
    store.addAppRoleAssignment({ id: randomUUID(), appRoleId: role.id, principalId: sp.id, principalType: 'ServicePrincipal', resourceId: graphSp.id,
      createdDateTime: new Date().toISOString() });

    const entra = new ConfigureEntraPage(page);
    await entra.signInAgain();
    const userCode = await entra.userCode();
    tenant.state.approveDeviceCode(userCode, t.globalAdminUpn);
    await entra.waitForTenant();
    const notices = await entra.notices().allTextContents();
    assert.equal(notices.length, 1, notices.join(' | '));
    assert.match(notices[0] ?? '', /^Consent for Directory\.Read\.All was revoked: Directory Sync no longer needs that permission and keeps only User\.ReadWrite\.All, /);
    assert.ok(!store.appRoleAssignments.some((a) => a.principalId === sp.id && a.appRoleId === role.id), 'the consent is gone from the tenant');
    await saveScreenshot(page, 'configure-04b-entra-consent-revoked');
    await entra.next();
    assert.deepEqual(consoleErrors, []);
  });

  it('shows the untrusted LDAPS certificate with its fingerprint, and the test passes once it is trusted', async () => {
    const adPage = new ConfigureActiveDirectoryPage(page);
    await adPage.heading().filter({ hasText: 'Connect to Active Directory' }).waitFor();
    assert.equal(await adPage.heading().textContent(), 'Connect to Active Directory');
    await adPage.fill({ url: ad.ldapsUrl, user: ad.adminBindDn, password: ad.adminPassword });
    await adPage.testConnection();
    assert.equal(await adPage.untrustedCertificate().isVisible(), true);
    assert.match((await adPage.fingerprint().textContent()) ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    await saveScreenshot(page, 'configure-05-ad-untrusted-certificate');
    await adPage.trustCertificate();
    await adPage.testConnection();
    assert.match((await adPage.connectionOk().textContent()) ?? '', new RegExp(`Connected to ${ad.baseDn}`));
    assert.equal(await adPage.error().count(), 0);
    await saveScreenshot(page, 'configure-06-ad-connected');
    assert.deepEqual(consoleErrors, []);
  });

  it('shows a wrong password and an unreachable domain controller inline, and stays on the page', async () => {
    const adPage = new ConfigureActiveDirectoryPage(page);
    await adPage.fill({ url: ad.ldapsUrl, user: ad.adminBindDn, password: 'not-the-password' });
    await adPage.testConnection();
    if (await adPage.untrustedCertificate().isVisible()) {
      await adPage.trustCertificate();
      await adPage.testConnection();
    }
    assert.equal(await adPage.error().getAttribute('data-code'), 'ad-invalid-credentials');
    assert.ok(((await adPage.error().textContent()) ?? '').length > 40, 'the service\'s message is shown');
    assert.match(page.url(), /#\/configure\/active-directory$/);
    assert.equal(await adPage.nextButton().isDisabled(), true);
    await saveScreenshot(page, 'configure-07-ad-wrong-password');

    await adPage.fill({ url: 'ldaps://127.0.0.1:1', user: ad.adminBindDn, password: ad.adminPassword });
    await adPage.testConnection();
    assert.equal(await adPage.error().getAttribute('data-code'), 'ad-unreachable');
    assert.match(page.url(), /#\/configure\/active-directory$/);
    assert.equal(await adPage.nextButton().isDisabled(), true);
    await saveScreenshot(page, 'configure-08-ad-unreachable');
    assert.deepEqual(consoleErrors, []);
  });

  it('creates the MSOL_ service account and shows its rights self-test', async () => {
    const adPage = new ConfigureActiveDirectoryPage(page);
    await adPage.connectTrusting({ url: ad.ldapsUrl, user: ad.adminBindDn, password: ad.adminPassword });
    await adPage.createServiceAccount();
    const dn = (await adPage.accountDn().textContent()) ?? '';
    assert.match(dn, /^CN=MSOL_[0-9a-f]{12},CN=Users,/);
    if (await page.getByText('Created', { exact: true }).isVisible()) createdAccountDn = dn;
    const checks = await adPage.rightsChecks();
    assert.ok(checks.length >= 3, `the self-test lists its checks (${checks.length})`);
    for (const name of ['bind', 'readDirectory', 'dirSync']) {
      const check = checks.find((c) => c.text.startsWith(`${name}:`));
      assert.equal(check?.ok, true, `${name} passed: ${check?.text}`);
    }
    await saveScreenshot(page, 'configure-09-ad-service-account');
    assert.deepEqual(consoleErrors, []);
  });

  it('moves through the OU tree with the keyboard alone and ticks an OU, with the OUs beneath it, with Space', async () => {
    await new ConfigureActiveDirectoryPage(page).nextButton().click();
    const scope = new ConfigureScopePage(page);
    await scope.waitForPage();
    await scope.waitForTree();
    assert.equal(await scope.tree().count(), 1, 'the OUs are one tree named "Organizational units"');
    const contoso = `OU=Contoso,${ad.baseDn}`;
    const engineering = `OU=Engineering,${contoso}`;
    const platform = `OU=Platform,${engineering}`;
    const siteReliability = `OU=Site Reliability,${platform}`;
    const shown = await shownOuDns();
    for (const dn of [contoso, engineering, platform, siteReliability]) assert.ok(shown.includes(dn), `${dn} is shown (${shown.join('; ')})`);
    const keys = async (...pressed: string[]): Promise<string | undefined> => {
      for (const key of pressed) await page.keyboard.press(key);
      return scope.focusedDn();
    };

    // One tab stop: Shift+Tab from the filter lands on the tree's first OU, the next one leaves the tree.
    await page.getByRole('textbox', { name: 'LDAP filter (optional)' }).focus();
    assert.equal(await keys('Shift+Tab'), shown[0], 'the tree is the tab stop before the filter');
    assert.equal(await keys('Shift+Tab'), undefined, 'one Shift+Tab leaves the tree');
    assert.equal(await keys('Tab'), shown[0]);
    assert.equal(await keys('End'), shown[shown.length - 1]);
    assert.equal(await keys('Home'), shown[0]);
    for (let index = 1; index <= shown.indexOf(engineering); index++) assert.equal(await keys('ArrowDown'), shown[index], `ArrowDown ${index}`);
    assert.equal(await keys('ArrowUp'), shown[shown.indexOf(engineering) - 1]);
    assert.equal(await keys('ArrowDown'), engineering);

    assert.equal(await keys('ArrowLeft'), engineering, 'Left collapses an open OU and stays on it');
    assert.equal(await scope.ouCheckbox(engineering).getAttribute('aria-expanded'), 'false');
    assert.equal(await scope.ouCheckbox(platform).count(), 0, 'a collapsed OU hides the OUs beneath it');
    assert.equal(await keys('ArrowRight'), engineering, 'Right expands a collapsed OU and stays on it');
    assert.equal(await scope.ouCheckbox(engineering).getAttribute('aria-expanded'), 'true');
    assert.equal(await keys('ArrowRight'), platform, 'Right on an open OU moves to its first child');
    assert.equal(await scope.ouCheckbox(platform).getAttribute('aria-level'), '3');
    assert.equal(await keys('ArrowRight'), siteReliability);
    assert.equal(await keys('ArrowLeft'), platform, 'Left on a leaf moves to its parent');
    assert.equal(await keys('ArrowLeft'), platform);
    assert.equal(await scope.ouCheckbox(platform).getAttribute('aria-expanded'), 'false');
    assert.equal(await keys('ArrowLeft'), engineering);
    assert.equal(await keys('ArrowDown', 'ArrowRight'), platform);
    assert.equal(await scope.ouCheckbox(platform).getAttribute('aria-expanded'), 'true');

    assert.equal(await keys('ArrowUp', 'Space'), engineering);
    assert.equal(await scope.ouCheckbox(engineering).isChecked(), true, 'Space ticks the focused OU');
    for (const dn of [platform, siteReliability]) {
      const below = scope.ouCheckbox(dn);
      assert.equal(await below.isChecked(), true, `${dn} is included`);
      assert.equal(await below.getAttribute('aria-disabled'), 'true');
      assert.equal(await below.getAttribute('title'), 'Included with the OU above it');
    }
    assert.match((await scope.summary().textContent()) ?? '', /^1 organizational unit /);
    await saveScreenshot(page, 'configure-10-scope-keyboard');

    assert.equal(await keys('ArrowDown', 'Space'), platform, 'an included OU is still reachable');
    assert.equal(await scope.ouCheckbox(platform).isChecked(), true, 'Space does not untick an included OU on its own');
    assert.match((await scope.summary().textContent()) ?? '', /^1 organizational unit /);
    assert.equal(await keys('ArrowUp', 'Space'), engineering);
    for (const dn of [engineering, platform, siteReliability]) assert.equal(await scope.ouCheckbox(dn).isChecked(), false, `${dn} is unticked`);
    assert.equal(await scope.ouCheckbox(platform).getAttribute('aria-disabled'), null);
    assert.match((await scope.summary().textContent()) ?? '', /whole domain/);
    assert.deepEqual(consoleErrors, []);
  });

  it('ticks an OU with the mouse, including the OUs beneath it, and unticks it', async () => {
    const scope = new ConfigureScopePage(page);
    const engineering = `OU=Engineering,OU=Contoso,${ad.baseDn}`;
    await scope.tick(engineering);
    assert.equal(await scope.ouCheckbox(engineering).isChecked(), true);
    assert.equal(await scope.ouCheckbox(`OU=Platform,${engineering}`).isChecked(), true);
    assert.match((await scope.summary().textContent()) ?? '', /^1 organizational unit /);
    await scope.ouCheckbox(engineering).uncheck();
    assert.equal(await scope.ouCheckbox(`OU=Platform,${engineering}`).isChecked(), false);
    assert.match((await scope.summary().textContent()) ?? '', /whole domain/);
    assert.deepEqual(consoleErrors, []);
  });

  /** The distinguished names of the OUs the tree shows, top to bottom. */
  async function shownOuDns(): Promise<string[]> {
    const items = page.getByRole('treeitem');
    const dns: string[] = [];
    for (let index = 0; index < await items.count(); index++) dns.push((await items.nth(index).getAttribute('data-dn')) ?? '');
    return dns;
  }
});
