import type { Page } from 'playwright';

/** What every wizard page shares: its heading, the step the frame marks current, and Next. */
export abstract class WizardPageObject {
  public constructor(protected readonly page: Page) {}

  public heading() {
    return this.page.getByRole('heading', { level: 1 });
  }

  public currentStep() {
    return this.page.locator('[aria-current="step"]');
  }

  public nextButton() {
    return this.page.getByRole('button', { name: 'Next' });
  }

  public async next(): Promise<void> {
    await this.nextButton().click();
  }
}
