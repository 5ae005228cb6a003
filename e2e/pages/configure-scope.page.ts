import type { Page } from 'playwright';

/** Configuration Wizard — Scope page. */
export class ConfigureScopePage {
  public constructor(private readonly page: Page) {}

  public heading() {
    return this.page.getByRole('heading', { level: 1 });
  }

  /** Waits until the wizard shows this page. */
  public async waitForPage(): Promise<void> {
    await this.page.getByRole('heading', { level: 1, name: 'Choose what to synchronize', exact: true }).waitFor();
  }

  public nextButton() {
    return this.page.getByRole('button', { name: 'Next' });
  }

  /** Waits until the OU tree has been read from the domain. */
  public async waitForTree(): Promise<void> {
    await this.page.getByTestId('ou-tree').waitFor({ timeout: 60_000 });
  }

  /** The checkbox of the OU with this distinguished name. */
  public ouCheckbox(dn: string) {
    return this.page.locator(`[data-testid="ou"][data-dn="${dn}"]`).getByRole('checkbox').first();
  }

  public summary() {
    return this.page.getByTestId('scope-summary');
  }

  public async tick(dn: string): Promise<void> {
    await this.ouCheckbox(dn).check();
  }

  public async next(): Promise<void> {
    await this.nextButton().click();
  }
}
