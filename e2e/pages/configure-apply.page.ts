import { WizardPageObject } from './wizard-page.ts';

/** Configuration Wizard — Configure page: the service applies the configuration, step by step. */
export class ConfigureApplyPage extends WizardPageObject {
  /** Waits until every step has finished (or one failed). */
  public async waitForApplied(timeout = 60_000): Promise<void> {
    await this.page.getByRole('heading', { level: 1, name: 'The configuration is applied', exact: true }).or(this.error()).first().waitFor({ timeout });
  }

  public error() {
    return this.page.getByTestId('error-bar');
  }

  public summary() {
    return this.page.getByTestId('configuration-summary');
  }

  /** done, warning, failed, running or waiting. */
  public async taskStatus(task: 'save' | 'account' | 'cloud' | 'schedule'): Promise<string | null> {
    return this.page.getByTestId(`apply-${task}`).getAttribute('data-status');
  }

  public task(task: 'save' | 'account' | 'cloud' | 'schedule') {
    return this.page.getByTestId(`apply-${task}`);
  }
}
