import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright';
import { defaultCaDir } from '../lab/tenant/ca.ts';
import { startTenantServer, type TenantServer } from '../lab/tenant/index.ts';
import { sharedAd } from '../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../engine/test/support/ad-sandbox.ts';
import { saveScreenshot } from './support/browser.ts';
import { fromActiveDirectoryToReadiness, onToFinish, toEntraSignIn } from './support/complete-wizard.ts';
import { startWizardSession, type WizardSession } from './support/wizard-session.ts';

/**
 * README's "Try the wizard against the lab", step by step (issue 28, first contact 2): a service that does
 * not trust the lab's CA (no NODE_EXTRA_CA_CERTS, as `npm start` runs it), the lab's emulated tenant as
 * `npm run lab` starts it. The sign-in fails on the untrusted chain, the page shows the lab's CA with its
 * fingerprint, "Trust this certificate", the device code entered on the lab's sign-in page in another
 * browser tab, and the wizard goes on to a first sync — from the wizard alone, nothing set by hand.
 */
describe('the wizard against the lab, as the README walks it', () => {
  let tenant: TenantServer;
  let sandbox: AdSandbox | undefined;
  let session: WizardSession | undefined;
  let page: Page;
  let createdAccountDn: string | undefined;
  const extraCa = process.env['NODE_EXTRA_CA_CERTS'];

  before(async () => {
    // The service reads the trusted authorities when it builds its network: without this variable it trusts only
    // Node's roots, the system's store and what the wizard is told to trust — as `npm start` runs it.
    delete process.env['NODE_EXTRA_CA_CERTS'];
    tenant = await startTenantServer({ timeScale: 60 });
    sandbox = await createAdSandbox(await sharedAd(), 'Test Lab Walkthrough');
    await sandbox.addUser('Walk Ann', { sAMAccountName: 'walkann', userPrincipalName: 'walk.ann@contoso.com', displayName: 'Walk Ann' });
    session = await startWizardSession('lab-walkthrough', { tenant });
    page = session.page;
  });
  after(async () => {
    if (extraCa !== undefined) process.env['NODE_EXTRA_CA_CERTS'] = extraCa;
    await session?.close([createdAccountDn]);
    await tenant?.close();
    await sandbox?.close();
  });

  it('trusts the lab\'s CA from the Microsoft Entra page and signs in on the lab\'s sign-in page', async () => {
    const entra = await toEntraSignIn(page, session as WizardSession, false);
    const t = tenant.connection;
    await entra.signIn();
    await entra.signInError().waitFor({ timeout: 30_000 });
    assert.match(await entra.signInError().textContent() ?? '', /The certificate of 127\.0\.0\.1 is issued by 'Directory Sync Lab CA', which this computer does not trust/);
    await entra.networkFailure().filter({ hasText: 'Directory Sync Lab CA' }).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('trust-fingerprint').textContent(), labCa().fingerprint256, 'the fingerprint README says to compare (openssl x509 -fingerprint -sha256)');
    await saveScreenshot(page, 'lab-walkthrough-01-trust-lab-ca');
    await entra.trustCertificate();
    await entra.networkOk().waitFor({ timeout: 30_000 });

    await entra.signIn();
    const code = await entra.userCode();
    const signInPage = await entra.verificationUri().getAttribute('href');
    assert.equal(signInPage, `${t.authorityHost}/devicelogin`);
    // The administrator's own browser: it does not trust the lab's CA either, and goes on past the warning.
    const browserTab = await (await session!.browser.newContext({ ignoreHTTPSErrors: true })).newPage();
    await browserTab.goto(signInPage ?? '');
    await browserTab.getByLabel('Code').fill(code);
    await browserTab.getByLabel('User').fill(t.globalAdminUpn);
    await browserTab.getByLabel('Password').fill(t.globalAdminPassword);
    await browserTab.getByRole('button', { name: 'Sign in' }).click();
    await browserTab.getByText('You have signed in to the application on your device.').waitFor();
    await browserTab.close();
    await entra.waitForTenant();
    assert.equal(await entra.tenantName().textContent(), t.tenantDisplayName);
    await saveScreenshot(page, 'lab-walkthrough-02-signed-in');
    await entra.next();
  });

  it('goes on through Active Directory, Scope and Readiness to a first sync', async () => {
    ({ accountDn: createdAccountDn } = await fromActiveDirectoryToReadiness(page, await sharedAd(), sandbox?.ouDn ?? ''));
    const finish = await onToFinish(page);
    await finish.finish();
    await finish.waitForResult();
    assert.equal(await finish.error().count(), 0, `no error: ${await finish.error().allTextContents()}`);
    assert.equal(await finish.count('created').textContent(), '1');
    await saveScreenshot(page, 'lab-walkthrough-03-first-sync');
    const saved = (await session!.service.service.getConfig({})).config as { cloud: { trustedCaPem?: string } };
    assert.equal(new X509Certificate(saved.cloud.trustedCaPem ?? '').fingerprint256, labCa().fingerprint256, 'the service keeps trusting it, with nothing set by hand');
  });
});

function labCa(): X509Certificate {
  return new X509Certificate(readFileSync(join(defaultCaDir(), 'ca.pem'), 'utf8'));
}
