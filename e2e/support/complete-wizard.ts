/**
 * Walking the wizard as an administrator does, for tests whose point lies past it: Setup, then the
 * Configuration Wizard's pages with a device-code sign-in, the MSOL_ account and one OU ticked, to
 * Readiness; then on from Readiness to the Finished page. The tests of the pages themselves
 * (configuration-wizard, first-sync) walk them step by step with their own assertions.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright';
import type { AdConnection } from '../../lab/connection.ts';
import { ConfigureActiveDirectoryPage } from '../pages/configure-active-directory.page.ts';
import { ConfigureApplyPage } from '../pages/configure-apply.page.ts';
import { ConfigureEntraPage } from '../pages/configure-entra.page.ts';
import { ConfigureFinishPage } from '../pages/configure-finish.page.ts';
import { ConfigureOptionsPage } from '../pages/configure-options.page.ts';
import { ConfigureReadinessPage } from '../pages/configure-readiness.page.ts';
import { ConfigureScopePage } from '../pages/configure-scope.page.ts';
import { ConfigureWelcomePage } from '../pages/configure-welcome.page.ts';
import { saveScreenshot } from './browser.ts';
import { throughSetupWizard } from './setup-to-configure.ts';
import type { WizardSession } from './wizard-session.ts';

/**
 * Setup, the Configuration Wizard's Welcome, then the Microsoft Entra page with "Sign in as a Global Administrator" and
 * the session tenant's custom instance chosen (its tenant id too, unless `withTenant` is false), before signing in.
 */
export async function toEntraSignIn(page: Page, session: WizardSession, withTenant = true): Promise<ConfigureEntraPage> {
  await page.goto(session.startUrl);
  await throughSetupWizard(page);
  const welcome = new ConfigureWelcomePage(page);
  await welcome.heading().filter({ hasText: 'Welcome to the Configuration Wizard' }).waitFor();
  await welcome.next();
  const entra = new ConfigureEntraPage(page);
  await entra.heading().filter({ hasText: 'Connect to Microsoft Entra ID' }).waitFor();
  const t = session.tenant.connection;
  await entra.chooseSignIn();
  await entra.useCustomInstance(t.authorityHost, t.graphBaseUrl, withTenant ? t.tenantId : undefined);
  return entra;
}

/** Setup, then the Configuration Wizard's pages up to Readiness: sign-in, the MSOL_ account, one OU ticked. Returns the notices and the account's DN. */
export async function throughWizardToReadiness(page: Page, session: WizardSession, ad: AdConnection, ouDn: string, shots: string): Promise<{ notices: string[]; accountDn?: string }> {
  const entra = await toEntraSignIn(page, session);
  const t = session.tenant.connection;
  await entra.signIn();
  session.tenant.state.approveDeviceCode(await entra.userCode(), t.globalAdminUpn);
  await entra.waitForTenant();
  const notices = await entra.notices().allTextContents();
  await saveScreenshot(page, `${shots}-entra`);
  await entra.next();
  return { notices, ...await fromActiveDirectoryToReadiness(page, ad, ouDn) };
}

/** From the Active Directory page (reached): the DC trusted, the MSOL_ account, one OU ticked, to Readiness. Returns the account's DN if this test created it. */
export async function fromActiveDirectoryToReadiness(page: Page, ad: AdConnection, ouDn: string): Promise<{ accountDn?: string }> {
  const adPage = new ConfigureActiveDirectoryPage(page);
  await adPage.heading().filter({ hasText: 'Connect to Active Directory' }).waitFor();
  await adPage.connectTrusting({ url: ad.ldapsUrl, user: ad.adminBindDn, password: ad.adminPassword });
  await adPage.createServiceAccount();
  const dn = (await adPage.accountDn().textContent()) ?? '';
  const accountDn = await page.getByText('Created', { exact: true }).isVisible() ? dn : undefined;
  await adPage.nextButton().click();
  const scope = new ConfigureScopePage(page);
  await scope.waitForPage();
  await scope.waitForTree();
  await scope.tick(ouDn);
  await scope.next();
  await page.waitForURL(/#\/configure\/readiness$/);
  return { accountDn };
}

/** Readiness (already counted), Options and Configure, until the configuration is applied without an error. */
export async function onToApplied(page: Page): Promise<ConfigureApplyPage> {
  await new ConfigureReadinessPage(page).next();
  const options = new ConfigureOptionsPage(page);
  await options.waitForPage();
  await options.next();
  const apply = new ConfigureApplyPage(page);
  await apply.waitForApplied();
  assert.equal(await apply.error().count(), 0, `no error: ${await apply.error().allTextContents()}`);
  return apply;
}

/** Readiness (already counted), Options and Configure, to the Finished page. */
export async function onToFinish(page: Page): Promise<ConfigureFinishPage> {
  await (await onToApplied(page)).next();
  const finish = new ConfigureFinishPage(page);
  await finish.waitForPage();
  return finish;
}
