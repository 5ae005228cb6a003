import { WizardPageObject } from './wizard-page.ts';

/** Setup wizard — License terms page. */
export class SetupLicensePage extends WizardPageObject {
  public licenseText() {
    return this.page.getByTestId('license-text');
  }

  public acceptCheckbox() {
    return this.page.getByRole('checkbox', { name: 'I accept the license terms' });
  }

  public async back(): Promise<void> {
    await this.page.getByRole('button', { name: 'Back' }).click();
  }
}
