import type { Page } from 'playwright';

/** Configuration Wizard — Welcome page. */
export class ConfigureWelcomePage {
  public constructor(private readonly page: Page) {}

  public heading() {
    return this.page.getByRole('heading', { level: 1 });
  }

  public currentStep() {
    return this.page.locator('[aria-current="step"]');
  }

  public async next(): Promise<void> {
    await this.page.getByRole('button', { name: 'Next' }).click();
  }
}
