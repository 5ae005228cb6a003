import { WizardPageObject } from './wizard-page.ts';

/** Configuration Wizard — Options page. */
export class ConfigureOptionsPage extends WizardPageObject {
  /** Waits until the wizard shows this page. */
  public async waitForPage(): Promise<void> {
    await this.page.getByRole('heading', { level: 1, name: 'Options', exact: true }).waitFor();
  }

  public deletionCount() {
    return this.page.getByRole('spinbutton', { name: 'Objects', exact: true });
  }

  public deletionPercent() {
    return this.page.getByRole('spinbutton', { name: 'Percent of synchronized objects' });
  }

  public intervalMinutes() {
    return this.page.getByRole('spinbutton', { name: /^Synchronize every/ });
  }

  public stagingMode() {
    return this.page.getByRole('checkbox', { name: 'Enable staging mode' });
  }
}
