import type { Locator } from 'playwright';
import { WizardPageObject } from './wizard-page.ts';

/** Configuration Wizard — Active Directory page. With one forest, the page's own methods; with several, each forest's section (forest()). */
export class ConfigureActiveDirectoryPage extends WizardPageObject {
  /** The forest sections, the first forest's first. */
  public forestSections() {
    return this.page.getByTestId('forest-section');
  }

  /** One forest's section: 0 the first forest, 1… those added after it. */
  public forest(index: number): ForestSectionObject {
    return new ForestSectionObject(this.forestSections().nth(index));
  }

  public addForestButton() {
    return this.page.getByRole('button', { name: 'Add another forest' });
  }

  /** Adds a forest section and returns it. */
  public async addForest(): Promise<ForestSectionObject> {
    const count = await this.forestSections().count();
    await this.addForestButton().click();
    await this.forestSections().nth(count).waitFor();
    return this.forest(count);
  }

  public async fill(values: { readonly url: string; readonly user: string; readonly password: string }): Promise<void> {
    await this.page.getByRole('textbox', { name: /^Domain controller/ }).fill(values.url);
    await this.page.getByRole('textbox', { name: /^Enterprise administrator/ }).fill(values.user);
    await this.page.getByLabel(/^Password/).fill(values.password);
  }

  /** Clicks "Test connection" and waits until the test has finished. */
  public async testConnection(): Promise<void> {
    await this.page.getByRole('button', { name: 'Test connection' }).click();
    await this.page.getByText('Connecting to the domain controller…').waitFor({ state: 'detached', timeout: 60_000 });
  }

  public error() {
    return this.page.getByTestId('error-bar');
  }

  public untrustedCertificate() {
    return this.page.getByTestId('untrusted-certificate');
  }

  public fingerprint() {
    return this.page.getByTestId('fingerprint');
  }

  public async trustCertificate(): Promise<void> {
    await this.page.getByRole('checkbox', { name: 'Trust this certificate' }).check();
  }

  public connectionOk() {
    return this.page.getByTestId('connection-ok');
  }

  /** Creates the service account, confirming reuse when the service says one exists; waits for the self-test. */
  public async createServiceAccount(): Promise<void> {
    await this.page.getByRole('button', { name: 'Create the service account' }).click();
    const done = this.page.getByTestId('service-account');
    const exists = this.page.getByTestId('account-exists');
    await done.or(exists).waitFor({ timeout: 120_000 });
    if (await exists.isVisible()) {
      await this.page.getByRole('checkbox', { name: /Reuse the existing account/ }).check();
      await this.page.getByRole('button', { name: 'Create the service account' }).click();
      await done.waitFor({ timeout: 120_000 });
    }
  }

  public accountDn() {
    return this.page.getByTestId('account-dn');
  }

  /** The rights self-test: each check's text and whether it passed. */
  public async rightsChecks(): Promise<Array<{ text: string; ok: boolean }>> {
    const items = this.page.getByTestId('rights-checks').getByRole('listitem');
    const result: Array<{ text: string; ok: boolean }> = [];
    for (const item of await items.all()) {
      result.push({ text: (await item.textContent()) ?? '', ok: (await item.getAttribute('data-ok')) === 'true' });
    }
    return result;
  }

  /** Fills the connection, tests it, trusts the DC's certificate when the page asks, and waits for the connection to be good. */
  public async connectTrusting(connection: { url: string; user: string; password: string }): Promise<void> {
    await this.fill(connection);
    await this.testConnection();
    if (await this.untrustedCertificate().isVisible()) {
      await this.trustCertificate();
      await this.testConnection();
    }
    await this.connectionOk().waitFor();
  }
}

/** A domain of a forest as its section lists it. */
export type ListedDomain = { readonly dnsName: string; readonly ticked: boolean; readonly foundBy: string | null; readonly disabled: boolean; readonly text: string };

/** One forest's section of the Active Directory page: the same fields as the page's, within the section. */
export class ForestSectionObject {
  public constructor(public readonly root: Locator) {}

  public heading() {
    return this.root.getByRole('heading', { level: 2 });
  }

  public async fill(values: { readonly url: string; readonly user: string; readonly password: string }): Promise<void> {
    await this.root.getByRole('textbox', { name: /^Domain controller/ }).fill(values.url);
    await this.root.getByRole('textbox', { name: /^Enterprise administrator/ }).fill(values.user);
    await this.root.getByLabel(/^Password/).fill(values.password);
  }

  /** Clicks "Test connection" and waits until the test (and the reading of the forest's domains) has finished. */
  public async testConnection(): Promise<void> {
    await this.root.getByRole('button', { name: 'Test connection' }).click();
    await this.root.getByText('Connecting to the domain controller…').waitFor({ state: 'detached', timeout: 60_000 });
  }

  public error() {
    return this.root.getByTestId('error-bar');
  }

  public untrustedCertificate() {
    return this.root.getByTestId('untrusted-certificate');
  }

  public connectionOk() {
    return this.root.getByTestId('connection-ok');
  }

  /** Fills the connection, tests it, trusts the DC's certificate when asked, and waits for the connection to be good. */
  public async connectTrusting(connection: { url: string; user: string; password: string }): Promise<void> {
    await this.fill(connection);
    await this.testConnection();
    if (await this.untrustedCertificate().isVisible()) {
      await this.root.getByRole('checkbox', { name: /^Trust (this certificate|the issuing authority)/ }).check();
      await this.testConnection();
    }
    await this.connectionOk().waitFor();
  }

  /** The forest's domains as listed (read from the DC, or configured on a rerun). */
  public async domains(): Promise<ListedDomain[]> {
    const result: ListedDomain[] = [];
    for (const item of await this.root.getByTestId('forest-domain').all()) {
      const checkbox = item.getByRole('checkbox');
      const hasCheckbox = (await checkbox.count()) > 0;
      result.push({ dnsName: (await item.getAttribute('data-dns-name')) ?? '', ticked: (await item.getAttribute('data-ticked')) === 'true',
        foundBy: await item.getAttribute('data-found-by'), disabled: hasCheckbox ? await checkbox.isDisabled() : true, text: (await item.textContent()) ?? '' });
    }
    return result;
  }

  public duplicate() {
    return this.root.getByTestId('forest-duplicate');
  }

  public createButton() {
    return this.root.getByRole('button', { name: 'Create the service account' });
  }

  /** Creates the service account, confirming reuse when the service says one exists; waits for the self-test. */
  public async createServiceAccount(): Promise<void> {
    await this.createButton().click();
    const done = this.root.getByTestId('service-account');
    const exists = this.root.getByTestId('account-exists');
    await done.or(exists).waitFor({ timeout: 120_000 });
    if (await exists.isVisible()) {
      await this.root.getByRole('checkbox', { name: /Reuse the existing account/ }).check();
      await this.createButton().click();
      await done.waitFor({ timeout: 120_000 });
    }
  }

  public accountDn() {
    return this.root.getByTestId('account-dn');
  }

  public accountStatus() {
    return this.root.getByTestId('account-status');
  }

  /** The rights self-test on the domain of the DC given: each check's text and whether it passed. */
  public async rightsChecks(): Promise<Array<{ text: string; ok: boolean }>> {
    const result: Array<{ text: string; ok: boolean }> = [];
    for (const item of await this.root.getByTestId('rights-checks').getByRole('listitem').all()) {
      result.push({ text: (await item.textContent()) ?? '', ok: (await item.getAttribute('data-ok')) === 'true' });
    }
    return result;
  }

  public async remove(): Promise<void> {
    await this.root.getByRole('button', { name: 'Remove this forest' }).click();
  }
}
