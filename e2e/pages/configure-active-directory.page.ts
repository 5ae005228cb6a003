import { WizardPageObject } from './wizard-page.ts';

/** Configuration Wizard — Active Directory page. */
export class ConfigureActiveDirectoryPage extends WizardPageObject {
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
