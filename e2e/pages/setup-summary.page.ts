import type { Page } from 'playwright';

/** Setup wizard — Summary page, the last one. */
export class SetupSummaryPage {
  public constructor(private readonly page: Page) {}

  public heading() {
    return this.page.getByRole('heading', { level: 1 });
  }

  public startConfigurationCheckbox() {
    return this.page.getByRole('checkbox', { name: 'Start Configuration Wizard now' });
  }

  public async finish(): Promise<void> {
    await this.page.getByRole('button', { name: 'Finish' }).click();
  }
}
