import type { Page } from 'playwright';

/** Setup wizard — License terms page. */
export class SetupLicensePage {
  public constructor(private readonly page: Page) {}

  public heading() {
    return this.page.getByRole('heading', { level: 1 });
  }

  public licenseText() {
    return this.page.getByTestId('license-text');
  }

  public acceptCheckbox() {
    return this.page.getByRole('checkbox', { name: 'I accept the license terms' });
  }

  public nextButton() {
    return this.page.getByRole('button', { name: 'Next' });
  }

  public async back(): Promise<void> {
    await this.page.getByRole('button', { name: 'Back' }).click();
  }
}
