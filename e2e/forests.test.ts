import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright';
import type { AdConnection } from '../lab/connection.ts';
import type { TenantServer } from '../lab/tenant/index.ts';
import { sharedForests } from '../lab/test/support/shared-lab.ts';
import { adminLdap, createAdSandbox, type AdSandbox } from '../engine/test/support/ad-sandbox.ts';
import { sidToString } from '../engine/src/ad/security-descriptor.ts';
import type { RunningService } from '../engine/src/service/daemon.ts';
import { ConfigureActiveDirectoryPage } from './pages/configure-active-directory.page.ts';
import { ConfigureApplyPage } from './pages/configure-apply.page.ts';
import { ConfigureEntraPage } from './pages/configure-entra.page.ts';
import { ConfigureFinishPage } from './pages/configure-finish.page.ts';
import { ConfigureOptionsPage } from './pages/configure-options.page.ts';
import { ConfigureReadinessPage } from './pages/configure-readiness.page.ts';
import { ConfigureScopePage } from './pages/configure-scope.page.ts';
import { ConfigureWelcomePage } from './pages/configure-welcome.page.ts';
import { saveScreenshot } from './support/browser.ts';
import { onToApplied, toEntraSignIn } from './support/complete-wizard.ts';
import { startWizardSession, type WizardSession } from './support/wizard-session.ts';

const sandboxName = 'Test Forests UI';
const contosoUsers = ['Forests Ann', 'Forests Ben'] as const;
const fabrikamUser = 'Forests Fay';
const fabrikamGroup = 'Forests Joint Team';
/** A domain-local security group: the only kind a member of another forest (a foreign security principal) may join. */
const domainLocalSecurity = String(-2147483644);

type SavedSource = { id: string; forest?: string; passwordSecret: string; ad: { baseDn: string; bindDn: string }; scope: { includedOuGuids: string[] } };

/**
 * Two forests from the wizard, end to end: the lab's contoso.test and fabrikam.test (a forest of its own, on its own
 * DC), each with its service account made on the Active Directory page ("Add another forest"), one test OU ticked in
 * each on the Scope page's one tree, the counts per forest on Readiness, the first sync, then a rerun of the wizard
 * that shows both forests as configured and saves the same configuration.
 */
describe('two forests from the wizard', () => {
  let session: WizardSession | undefined;
  let service: RunningService;
  let tenant: TenantServer;
  let contoso: AdConnection;
  let fabrikam: AdConnection;
  let contosoSandbox: AdSandbox | undefined;
  let fabrikamSandbox: AdSandbox | undefined;
  let page: Page;
  let consoleErrors: string[];
  let contosoAccountDn: string | undefined;
  let fabrikamAccountDn: string | undefined;

  before(async () => {
    [contoso, fabrikam] = await sharedForests() as [AdConnection, AdConnection];
    contosoSandbox = await createAdSandbox(contoso, sandboxName);
    fabrikamSandbox = await createAdSandbox(fabrikam, sandboxName);
    for (const name of contosoUsers) {
      const login = name.replace(/ /g, '').toLowerCase();
      await contosoSandbox.addUser(name, { sAMAccountName: login, userPrincipalName: `${login}@contoso.com`, displayName: name });
    }
    // fabrikam.test has contoso.com among its UPN suffixes (a verified domain of the lab tenant).
    const fay = await fabrikamSandbox.addUser(fabrikamUser, { sAMAccountName: 'forestsfay', userPrincipalName: 'forests.fay@contoso.com', displayName: fabrikamUser });
    // Ann of contoso joins a fabrikam group by SID: the fabrikam DC makes her a foreign security principal there.
    const ann = `CN=${contosoUsers[0]},${contosoSandbox.ouDn}`;
    const { searchEntries } = await contosoSandbox.client.search(ann, { scope: 'base', attributes: ['objectSid'], explicitBufferAttributes: ['objectSid'] });
    const sid = sidToString(searchEntries[0]?.['objectSid'] as Buffer);
    const group = `CN=${fabrikamGroup},${fabrikamSandbox.ouDn}`;
    await fabrikamSandbox.client.add(group, { objectClass: ['top', 'group'], sAMAccountName: 'ForestsJointTeam', groupType: domainLocalSecurity, member: [fay] });
    await fabrikamSandbox.addValues(group, 'member', [`<SID=${sid}>`]);
    session = await startWizardSession('forests');
    ({ tenant, service, page, consoleErrors } = session);
  });
  after(async () => {
    await session?.close([contosoAccountDn]);
    if (fabrikamAccountDn) {
      const client = await adminLdap(fabrikam);
      try {
        await client.del(fabrikamAccountDn);
      } finally {
        await client.unbind();
      }
    }
    await fabrikamSandbox?.close();
    await contosoSandbox?.close();
  });

  it('signs in to Microsoft Entra ID and reaches the Active Directory page', async () => {
    const entra = await toEntraSignIn(page, session as WizardSession);
    await entra.signIn();
    tenant.state.approveDeviceCode(await entra.userCode(), tenant.connection.globalAdminUpn);
    await entra.waitForTenant();
    await entra.next();
    await new ConfigureActiveDirectoryPage(page).heading().filter({ hasText: 'Connect to Active Directory' }).waitFor();
    assert.deepEqual(consoleErrors, []);
  });

  it('lists the first forest\'s domains once connected, and makes its service account', async () => {
    const adPage = new ConfigureActiveDirectoryPage(page);
    const first = adPage.forest(0);
    await first.connectTrusting({ url: contoso.ldapsUrl, user: contoso.adminBindDn, password: contoso.adminPassword });
    const domains = await first.domains();
    assert.deepEqual(domains.map((d) => [d.dnsName, d.ticked, d.foundBy, d.disabled]), [['contoso.test', true, 'given', true]],
      'the forest of one domain: the DC given\'s domain, ticked and required');
    assert.match(domains[0]?.text ?? '', /Read from ldaps:\/\/127\.0\.0\.1:636 \(the domain controller given above\)/);
    assert.equal(await adPage.addForestButton().count(), 0, 'another forest is added once this one has its account');
    await first.createServiceAccount();
    const dn = (await first.accountDn().textContent()) ?? '';
    assert.match(dn, /^CN=MSOL_[0-9a-f]{12},CN=Users,DC=contoso,DC=test$/);
    if ((await first.accountStatus().textContent()) === 'Created') contosoAccountDn = dn;
    for (const check of await first.rightsChecks()) assert.equal(check.ok, true, check.text);
    assert.equal(await adPage.nextButton().isDisabled(), false);
    await saveScreenshot(page, 'forests-01-first-forest');
    assert.deepEqual(consoleErrors, []);
  });

  it('adds the second forest with its own DC, administrator and service account', async () => {
    const adPage = new ConfigureActiveDirectoryPage(page);
    const second = await adPage.addForest();
    assert.equal(await adPage.nextButton().isDisabled(), true, 'Next waits for the added forest\'s account');
    assert.equal(await adPage.addForestButton().count(), 0);
    await second.connectTrusting({ url: fabrikam.ldapsUrl, user: fabrikam.adminBindDn, password: fabrikam.adminPassword });
    assert.deepEqual((await second.domains()).map((d) => [d.dnsName, d.ticked, d.foundBy]), [['fabrikam.test', true, 'given']]);
    await saveScreenshot(page, 'forests-02-second-forest-connected');
    await second.createServiceAccount();
    const dn = (await second.accountDn().textContent()) ?? '';
    assert.match(dn, /^CN=MSOL_[0-9a-f]{12},CN=Users,DC=fabrikam,DC=test$/, 'the account is made in the added forest');
    if ((await second.accountStatus().textContent()) === 'Created') fabrikamAccountDn = dn;
    for (const check of await second.rightsChecks()) assert.equal(check.ok, true, check.text);
    assert.deepEqual(await adPage.forestSections().evaluateAll((sections) => sections.map((s) => s.getAttribute('data-forest'))), ['contoso.test', 'fabrikam.test']);
    assert.equal(await second.heading().textContent(), 'Forest fabrikam.test');
    assert.equal(await adPage.nextButton().isDisabled(), false);
    await saveScreenshot(page, 'forests-03-second-forest-account');
    assert.deepEqual(consoleErrors, []);
  });

  it('refuses a forest configured already, and takes away a forest added by mistake', async () => {
    const adPage = new ConfigureActiveDirectoryPage(page);
    const third = await adPage.addForest();
    await third.connectTrusting({ url: contoso.ldapsUrl, user: contoso.adminBindDn, password: contoso.adminPassword });
    await third.duplicate().waitFor();
    assert.equal(await third.createButton().isDisabled(), true);
    assert.equal(await adPage.nextButton().isDisabled(), true);
    await third.remove();
    assert.equal(await adPage.forestSections().count(), 2);
    assert.equal(await adPage.nextButton().isDisabled(), false);
    await adPage.next();
    assert.deepEqual(consoleErrors, []);
  });

  it('shows the OUs of both forests in one tree, one domain each, and ticks one OU in each', async () => {
    const scope = new ConfigureScopePage(page);
    await scope.waitForPage();
    await scope.waitForTree();
    assert.deepEqual(await scope.domainNames(), ['contoso.test (forest contoso.test)', 'fabrikam.test (forest fabrikam.test)']);
    assert.equal(await scope.domainRow(contoso.baseDn).getAttribute('aria-level'), '1');
    assert.equal(await scope.ouCheckbox(contosoSandbox?.ouDn ?? '').getAttribute('aria-level'), '2', 'each domain\'s OUs are beneath it');
    assert.match((await scope.summary().textContent()) ?? '', /^contoso\.test: the whole domain; fabrikam\.test: the whole domain\.$/);
    await scope.tick(contosoSandbox?.ouDn ?? '');
    await scope.tick(fabrikamSandbox?.ouDn ?? '');
    assert.match((await scope.summary().textContent()) ?? '', /^contoso\.test: 1 organizational unit .*; fabrikam\.test: 1 organizational unit /);
    await saveScreenshot(page, 'forests-04-scope');
    await scope.next();
    await page.waitForURL(/#\/configure\/readiness$/);
    assert.deepEqual(consoleErrors, []);
  });

  it('previews the configuration with the counts of each forest', async () => {
    const readiness = new ConfigureReadinessPage(page);
    await readiness.waitForPage();
    await readiness.waitForCounts();
    assert.equal(await readiness.error().count(), 0, `no error: ${await readiness.error().allTextContents()}`);
    assert.equal(await readiness.count('create'), 4, 'two contoso users, a fabrikam user and a fabrikam group');
    const forests = await readiness.forestCounts();
    assert.deepEqual(forests.map((f) => [f.forest, f.domains, f.counts.create]), [['contoso.test', 'contoso.test', 2], ['fabrikam.test', 'fabrikam.test', 2]]);
    for (const category of ['matched', 'conflict', 'invalid'] as const) {
      assert.equal(forests.reduce((total, f) => total + f.counts[category], 0), await readiness.count(category), `the forests' ${category} add up to the total`);
    }
    await saveScreenshot(page, 'forests-05-readiness');
    await readiness.next();
    const options = new ConfigureOptionsPage(page);
    await options.waitForPage();
    await options.next();
    assert.deepEqual(consoleErrors, []);
  });

  it('saves a source for each domain: the added forest with its forest and its own password', async () => {
    const apply = new ConfigureApplyPage(page);
    await apply.waitForApplied();
    assert.equal(await apply.error().count(), 0, `no error: ${await apply.error().allTextContents()}`);
    assert.match((await apply.summary().textContent()) ?? '', /2 organizational units in 2 domains/);
    const { config } = await service.service.getConfig({});
    const sources = (config as { sources: SavedSource[] }).sources;
    assert.deepEqual(sources.map((s) => [s.id, s.forest, s.passwordSecret, s.ad.baseDn]),
      [['primary', undefined, 'ad.password', contoso.baseDn], ['fabrikam.test', 'fabrikam.test', 'ad.password/fabrikam.test', fabrikam.baseDn]]);
    assert.deepEqual(sources[0]?.scope.includedOuGuids, [await contosoSandbox?.guidOf(contosoSandbox.ouDn)]);
    assert.deepEqual(sources[1]?.scope.includedOuGuids, [await fabrikamSandbox?.guidOf(fabrikamSandbox.ouDn)]);
    assert.match(sources[1]?.ad.bindDn ?? '', /,DC=fabrikam,DC=test$/, 'fabrikam is read as its own account');
    await apply.next();
    assert.deepEqual(consoleErrors, []);
  });

  it('runs the first sync over both forests and shows what each domain gave, and the member from another forest', async () => {
    const finish = new ConfigureFinishPage(page);
    await finish.waitForPage();
    await finish.finish();
    const result = await finish.waitForResult();
    assert.equal(await finish.error().count(), 0, `no error: ${await finish.error().allTextContents()}`);
    assert.equal(await result.getAttribute('data-status'), 'succeeded', (await result.textContent()) ?? '');
    assert.equal(await finish.count('created').textContent(), '4');
    const sources = await finish.sources();
    assert.deepEqual(sources.map((s) => [s.domain, s.error]), [['contoso.test', null], ['fabrikam.test', null]]);
    for (const source of sources) assert.ok(source.imported > 0, `${source.domain} was read (${source.imported})`);
    assert.equal(await finish.foreignMembers().textContent(), '1 group member from another forest, reported, not written.');
    await saveScreenshot(page, 'forests-06-first-sync');
    const dump = tenant.state.dump() as { objects: Record<string, Array<Record<string, unknown>>> };
    const names = [...(dump.objects['user'] ?? []), ...(dump.objects['group'] ?? [])].map((o) => String(o['displayName']));
    for (const name of [...contosoUsers, fabrikamUser, fabrikamGroup]) assert.ok(names.includes(name), `${name} is in the tenant`);
    assert.deepEqual(consoleErrors, []);
  });

  it('reruns the wizard: both forests are shown as configured, and the same configuration is saved again', async () => {
    const configBefore = (await service.service.getConfig({})).config;
    await page.getByRole('button', { name: 'Open the Operations view' }).click();
    await page.getByRole('heading', { level: 1, name: 'Directory Sync — Operations' }).waitFor();
    await page.getByTestId('run-sources').waitFor();
    await page.getByRole('button', { name: 'Configuration Wizard…' }).click();
    const welcome = new ConfigureWelcomePage(page);
    await welcome.heading().filter({ hasText: 'Welcome to the Configuration Wizard' }).waitFor();
    await welcome.next();
    const entra = new ConfigureEntraPage(page);
    await entra.heading().filter({ hasText: 'Connect to Microsoft Entra ID' }).waitFor();
    await page.getByText('Directory Sync uses this app registration now.', { exact: false }).waitFor();
    await entra.next();

    const adPage = new ConfigureActiveDirectoryPage(page);
    await adPage.heading().filter({ hasText: 'Connect to Active Directory' }).waitFor();
    assert.equal(await adPage.forestSections().count(), 2);
    for (const [index, ad] of [contoso, fabrikam].entries()) {
      const forest = adPage.forest(index);
      assert.equal(await forest.heading().textContent(), `Forest ${ad.domain}`);
      assert.match((await forest.accountStatus().textContent()) ?? '', new RegExp(`^In use with ${ad.ldapsUrl.replace(/\./g, '\\.')}`));
      assert.match((await forest.accountDn().textContent()) ?? '', new RegExp(`^CN=MSOL_[0-9a-f]{12},CN=Users,${ad.baseDn}$`));
      assert.deepEqual((await forest.domains()).map((d) => [d.dnsName, d.ticked]), [[ad.domain, true]]);
    }
    assert.equal(await adPage.nextButton().isDisabled(), false);
    await saveScreenshot(page, 'forests-07-rerun-active-directory');
    await adPage.next();

    const scope = new ConfigureScopePage(page);
    await scope.waitForPage();
    await scope.waitForTree();
    assert.deepEqual(await scope.domainNames(), ['contoso.test (forest contoso.test)', 'fabrikam.test (forest fabrikam.test)']);
    for (const sandbox of [contosoSandbox, fabrikamSandbox]) {
      assert.equal(await scope.ouCheckbox(sandbox?.ouDn ?? '').isChecked(), true, `${sandbox?.ouDn} is ticked, read as its forest's account`);
    }
    await scope.next();
    const readiness = new ConfigureReadinessPage(page);
    await readiness.waitForPage();
    await readiness.waitForCounts();
    assert.equal(await readiness.error().count(), 0, `no error: ${await readiness.error().allTextContents()}`);
    assert.equal(await readiness.count('create'), 0, 'nothing is created twice');
    assert.deepEqual((await readiness.forestCounts()).map((f) => [f.forest, f.counts.matched]), [['contoso.test', 2], ['fabrikam.test', 2]]);
    await saveScreenshot(page, 'forests-08-rerun-readiness');
    await onToApplied(page);
    assert.deepEqual((await service.service.getConfig({})).config, configBefore, 'the rerun saves both forests as they were');
    assert.deepEqual(consoleErrors, []);
  });
});
