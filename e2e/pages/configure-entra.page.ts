import { WizardPageObject } from './wizard-page.ts';

/** Configuration Wizard — Microsoft Entra ID page. */
export class ConfigureEntraPage extends WizardPageObject {
  public async chooseSignIn(): Promise<void> {
    await this.page.getByRole('radio', { name: /Sign in as a Global Administrator/ }).check();
  }

  public async chooseExistingApp(): Promise<void> {
    await this.page.getByRole('radio', { name: 'Use an existing app registration' }).check();
  }

  /** "Use an existing app registration": its fields, typed as an administrator does. */
  public async fillExistingApp(tenant: string, clientId: string, clientSecret: string): Promise<void> {
    await this.page.getByRole('textbox', { name: /^Tenant id/ }).fill(tenant);
    await this.page.getByRole('textbox', { name: /^Application \(client\) id/ }).fill(clientId);
    await this.page.getByLabel(/^Client secret/).fill(clientSecret);
  }

  public async testExistingApp(): Promise<void> {
    await this.page.getByRole('button', { name: 'Test the app' }).click();
  }

  /** Opens "Advanced" and chooses a custom cloud instance with its addresses (the lab's emulated tenant). */
  public async useCustomInstance(authorityHost: string, graphBaseUrl: string, tenant?: string): Promise<void> {
    await this.page.getByRole('button', { name: 'Advanced: cloud instance' }).click();
    await this.page.getByRole('radio', { name: 'Custom' }).check();
    await this.page.getByRole('textbox', { name: /^Authority host/ }).fill(authorityHost);
    await this.page.getByRole('textbox', { name: /^Microsoft Graph address/ }).fill(graphBaseUrl);
    if (tenant !== undefined) await this.page.getByRole('textbox', { name: /^Tenant \(optional\)/ }).fill(tenant);
  }

  public async signIn(): Promise<void> {
    await this.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  public async signInAgain(): Promise<void> {
    await this.page.getByRole('button', { name: 'Sign in again', exact: true }).click();
  }

  /** What the registration changed or could not do (revoked consent, warnings). */
  public notices() {
    return this.page.getByTestId('registration-notice');
  }

  /** The code the administrator types at the verification address, once the sign-in has started. */
  public async userCode(): Promise<string> {
    const code = this.page.getByTestId('user-code');
    await code.waitFor({ timeout: 30_000 });
    return (await code.textContent()) ?? '';
  }

  public verificationUri() {
    return this.page.getByTestId('verification-uri');
  }

  public async waitForTenant(): Promise<void> {
    await this.page.getByTestId('tenant-summary').waitFor({ timeout: 60_000 });
  }

  public tenantName() {
    return this.page.getByTestId('tenant-name');
  }

  public async verifiedDomains(): Promise<string[]> {
    return this.page.getByTestId('verified-domains').getByRole('listitem').allTextContents();
  }

  public appName() {
    return this.page.getByTestId('app-name');
  }

  /** Opens "Advanced: network" (when closed) and chooses a proxy with its user and password. */
  public async useProxy(url: string, user: string, password: string): Promise<void> {
    if (!(await this.page.getByTestId('network-fields').isVisible())) await this.page.getByRole('button', { name: 'Advanced: network' }).click();
    await this.page.getByRole('radio', { name: 'Through this proxy' }).check();
    await this.page.getByRole('textbox', { name: /^Proxy address/ }).fill(url);
    await this.page.getByRole('textbox', { name: /^Proxy user name/ }).fill(user);
    await this.page.getByLabel(/^Proxy password/).fill(password);
  }

  public async testConnection(): Promise<void> {
    await this.page.getByRole('button', { name: 'Test the connection' }).click();
  }

  /** What the connection test (or a failed sign-in's) found wrong; `data-reason` says which step. */
  public networkFailure() {
    return this.page.getByTestId('network-failure');
  }

  public networkOk() {
    return this.page.getByTestId('network-ok');
  }

  public async trustCertificate(): Promise<void> {
    await this.page.getByRole('button', { name: 'Trust this certificate' }).click();
  }

  public signInError() {
    return this.page.getByTestId('error-bar');
  }
}
