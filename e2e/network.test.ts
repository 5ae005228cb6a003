import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright';
import { createInspectionCa, type InspectionCa } from '../lab/proxy/inspection-ca.ts';
import { startSquid, type Squid } from '../lab/proxy/squid.ts';
import { defaultCaDir } from '../lab/tenant/ca.ts';
import { startTenantServer, type TenantServer } from '../lab/tenant/index.ts';
import { sharedAd } from '../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../engine/test/support/ad-sandbox.ts';
import { ConfigureEntraPage } from './pages/configure-entra.page.ts';
import { saveScreenshot } from './support/browser.ts';
import { fromActiveDirectoryToReadiness, onToFinish, toEntraSignIn } from './support/complete-wizard.ts';
import { startWizardSession, type WizardSession } from './support/wizard-session.ts';

const PROXY_USER = 'sync-proxy';
const PROXY_PASSWORD = 'Proxy-Wizard-9!';

/**
 * A company network from the wizard (issue 28): the tenant is reachable only through a real Squid that asks
 * for credentials and inspects TLS with a company CA nothing here trusts. The administrator sets the proxy
 * under "Advanced: network"; a wrong password is named; the sign-in fails on the untrusted chain and the page
 * shows the authority with its fingerprint; "Trust this certificate", then the sign-in, the rest of the
 * wizard and the first sync all go through the proxy. The configuration keeps the proxy, never its password.
 */
describe('the wizard behind an authenticating, TLS-inspecting proxy', () => {
  let ca: InspectionCa;
  let squid: Squid;
  let tenant: TenantServer;
  let sandbox: AdSandbox | undefined;
  let session: WizardSession | undefined;
  let page: Page;
  let createdAccountDn: string | undefined;

  before(async () => {
    ca = await createInspectionCa('Contoso Inspection CA');
    squid = await startSquid({ users: { [PROXY_USER]: PROXY_PASSWORD }, outgoingAddress: '127.0.0.3',
      bump: { caCertPem: ca.certPem, caKeyPem: ca.keyPem, upstreamCaFile: join(defaultCaDir(), 'ca.pem') } });
    tenant = await startTenantServer({ timeScale: 60, acceptFrom: ['127.0.0.3'] });
    sandbox = await createAdSandbox(await sharedAd(), 'Test Wizard Proxy');
    const ann = await sandbox.addUser('Net Ann', { sAMAccountName: 'netann', userPrincipalName: 'net.ann@contoso.com', displayName: 'Net Ann' });
    await sandbox.addUser('Net Ben', { sAMAccountName: 'netben', userPrincipalName: 'net.ben@contoso.com', displayName: 'Net Ben', manager: ann });
    session = await startWizardSession('network', { tenant });
    page = session.page;
  });
  after(async () => {
    await session?.close([createdAccountDn]);
    await tenant?.close();
    await sandbox?.close();
    await squid?.stop();
  });

  it('names a wrong proxy password, then the untrusted chain with its authority, and trusts it', async () => {
    const entra = await toEntraSignIn(page, session as WizardSession);

    await entra.useProxy(squid.url, PROXY_USER, 'wrong-password');
    await entra.testConnection();
    await entra.networkFailure().waitFor({ timeout: 30_000 });
    assert.equal(await entra.networkFailure().getAttribute('data-reason'), 'proxy-auth');
    assert.match(await entra.networkFailure().textContent() ?? '', new RegExp(`The proxy 127\\.0\\.0\\.1:${squid.port} \\(from the configuration\\) refused the user name and password \\(407`));
    await saveScreenshot(page, 'network-01-proxy-password-refused');

    // Signing in with the right password fails on the chain the proxy re-signed: the page tests the path and shows whom to trust.
    await page.getByLabel(/^Proxy password/).fill(PROXY_PASSWORD);
    await entra.signIn();
    await entra.signInError().waitFor({ timeout: 30_000 });
    assert.match(await entra.signInError().textContent() ?? '', /The certificate of 127\.0\.0\.1 is issued by 'Contoso Inspection CA', which this computer does not trust/);
    assert.doesNotMatch(await entra.signInError().textContent() ?? '', /endpoints_resolution_error/);
    await entra.networkFailure().filter({ hasText: 'Contoso Inspection CA' }).waitFor({ timeout: 30_000 });
    assert.equal(await entra.networkFailure().getAttribute('data-reason'), 'tls-untrusted');
    assert.equal(await page.getByTestId('trust-subject').textContent(), 'CN=Contoso Inspection CA, O=Contoso');
    assert.equal(await page.getByTestId('trust-fingerprint').textContent(), new X509Certificate(ca.certPem).fingerprint256);
    await saveScreenshot(page, 'network-02-trust-prompt');

    await entra.trustCertificate();
    await entra.networkOk().waitFor({ timeout: 30_000 });
    assert.match(await entra.networkOk().textContent() ?? '', new RegExp(`through the proxy 127\\.0\\.0\\.1:${squid.port} \\(from the configuration\\)`));
    await saveScreenshot(page, 'network-03-trusted');
  });

  it('signs in, goes through the wizard and runs the first sync, all through the proxy', async () => {
    const entra = new ConfigureEntraPage(page);
    await entra.signIn();
    tenant.state.approveDeviceCode(await entra.userCode(), tenant.connection.globalAdminUpn);
    await entra.waitForTenant();
    assert.equal(await entra.tenantName().textContent(), tenant.connection.tenantDisplayName);
    await entra.next();
    ({ accountDn: createdAccountDn } = await fromActiveDirectoryToReadiness(page, await sharedAd(), sandbox?.ouDn ?? ''));
    const finish = await onToFinish(page);
    await finish.finish();
    await finish.waitForResult();
    assert.equal(await finish.error().count(), 0, `no error: ${await finish.error().allTextContents()}`);
    assert.equal(await finish.count('created').textContent(), '2');
    assert.equal(await finish.count('managers').textContent(), '1 set');
    await saveScreenshot(page, 'network-04-first-sync');
    const users = (tenant.state.dump() as { objects: { user?: Array<Record<string, unknown>> } }).objects.user ?? [];
    assert.deepEqual(users.map((u) => String(u['userPrincipalName'])).filter((upn) => upn.startsWith('net.')).sort(), ['net.ann@contoso.com', 'net.ben@contoso.com']);
    const inClear = squid.accessLog().filter((l) => l.includes(`https://127.0.0.1:${tenant.port}/v1.0/`) && l.includes(PROXY_USER));
    assert.ok(inClear.length > 0, 'the proxy saw the Graph requests, as the proxy user, in clear');
  });

  it('keeps the proxy and the trusted authority in the configuration, and the proxy password only as a secret', async () => {
    const current = await (session as WizardSession).service.service.getConfig({});
    const config = current.config as { network: { proxy: Record<string, unknown> }; cloud: { trustedCaPem?: string } };
    assert.deepEqual(config.network.proxy, { mode: 'url', url: squid.url, username: PROXY_USER });
    assert.equal(new X509Certificate(config.cloud.trustedCaPem ?? '').fingerprint256, new X509Certificate(ca.certPem).fingerprint256);
    assert.ok(current.secrets.includes('network.proxyPassword'), JSON.stringify(current.secrets));
    assert.ok(!JSON.stringify(current).includes(PROXY_PASSWORD), 'the password is never given back');
  });
});
