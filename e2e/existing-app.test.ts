/**
 * "Use an existing app registration" on the Microsoft Entra page, in Chromium against the service and the
 * emulated tenant: the permissions it needs, from the engine's one definition; "Test the app" with a wrong
 * secret, with an app that lacks a permission (each named on the page, the wizard refusing to go on), and once
 * the permission is granted, the tenant it reached — then on to Active Directory.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright';
import type { TenantServer } from '../lab/tenant/index.ts';
import { ENGINE_APP_ROLES } from '../lab/tenant/seed.ts';
import { DIRECTORY_SYNC_GRAPH_PERMISSIONS } from '../engine/src/contract/permissions.ts';
import { ConfigureEntraPage } from './pages/configure-entra.page.ts';
import { ConfigureWelcomePage } from './pages/configure-welcome.page.ts';
import { saveScreenshot } from './support/browser.ts';
import { throughSetupWizard } from './support/setup-to-configure.ts';
import { startWizardSession, type WizardSession } from './support/wizard-session.ts';

const LACKING = 'RoleManagement.Read.Directory';

describe('an existing app registration on the Microsoft Entra page', () => {
  let session: WizardSession | undefined;
  let page: Page;
  let tenant: TenantServer;
  let consoleErrors: string[];

  before(async () => {
    session = await startWizardSession('existing-app', { tenantSeed: { app: { roles: ENGINE_APP_ROLES.filter((r) => r !== LACKING) } } });
    ({ page, tenant, consoleErrors } = session);
  });
  after(async () => {
    await session?.close([]);
  });

  it('names the permissions the app needs, and refuses a wrong secret and an app lacking one, saying which', async () => {
    await page.goto(session?.startUrl ?? '');
    await throughSetupWizard(page);
    await page.waitForURL(/#\/configure\/welcome$/);
    await new ConfigureWelcomePage(page).next();
    const entra = new ConfigureEntraPage(page);
    await entra.heading().filter({ hasText: 'Connect to Microsoft Entra ID' }).waitFor();
    await entra.chooseExistingApp();
    const t = tenant.connection;
    await entra.useCustomInstance(t.authorityHost, t.graphBaseUrl);
    const permissions = page.getByTestId('existing-app-permissions');
    await permissions.filter({ hasText: DIRECTORY_SYNC_GRAPH_PERMISSIONS.join(', ') }).waitFor();
    assert.doesNotMatch((await permissions.textContent()) ?? '', /Organization\.Read\.All/, 'only what the engine uses');

    await entra.fillExistingApp(t.tenantId, t.clientId, 'not-the-secret');
    assert.equal(await entra.nextButton().isDisabled(), true, 'not before the app passed the test');
    await entra.testExistingApp();
    const refused = page.getByTestId('error-bar').filter({ hasText: 'The app could not sign in' });
    await refused.waitFor();
    assert.match((await refused.textContent()) ?? '', /secret/i);
    assert.doesNotMatch((await refused.textContent()) ?? '', /not-the-secret/, 'the secret typed is not echoed');
    await saveScreenshot(page, 'existing-app-01-wrong-secret');

    await entra.fillExistingApp(t.tenantId, t.clientId, t.clientSecret);
    await entra.testExistingApp();
    const missing = page.getByTestId('existing-app-missing');
    await missing.waitFor();
    assert.match((await missing.textContent()) ?? '', new RegExp(`does not carry ${LACKING.replace(/\./g, '\\.')}\\.`));
    assert.equal(await entra.nextButton().isDisabled(), true, 'an app lacking a permission is not used');
    await saveScreenshot(page, 'existing-app-02-missing-permission');
  });

  it('goes on once the permission is granted and the app passes the test', async () => {
    const t = tenant.connection;
    // The administrator grants the permission (with consent) in the tenant: the same app, the same secret.
    tenant.state.reset({ app: { roles: ENGINE_APP_ROLES, clientSecret: t.clientSecret } });
    const entra = new ConfigureEntraPage(page);
    await entra.testExistingApp();
    const ok = page.getByTestId('existing-app-ok');
    await ok.waitFor();
    assert.match((await ok.textContent()) ?? '', new RegExp(`signed in to ${t.tenantDisplayName} and has every permission`));
    await saveScreenshot(page, 'existing-app-03-ok');
    await entra.next();
    await page.getByRole('heading', { name: 'Connect to Active Directory' }).waitFor();
    assert.deepEqual(consoleErrors, []);
  });
});
