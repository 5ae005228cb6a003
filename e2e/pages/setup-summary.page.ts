import { WizardPageObject } from './wizard-page.ts';

/** Setup wizard — Summary page, the last one. */
export class SetupSummaryPage extends WizardPageObject {
  public startConfigurationCheckbox() {
    return this.page.getByRole('checkbox', { name: 'Start Configuration Wizard now' });
  }

  public async finish(): Promise<void> {
    await this.page.getByRole('button', { name: 'Finish' }).click();
  }
}
