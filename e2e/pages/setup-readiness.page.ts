import type { Page } from 'playwright';

/** Setup wizard — Readiness page. */
export class SetupReadinessPage {
  public constructor(private readonly page: Page) {}

  public heading() {
    return this.page.getByRole('heading', { level: 1 });
  }

  public checks() {
    return this.page.getByRole('list', { name: 'Readiness checks' }).getByRole('listitem');
  }

  public failed() {
    return this.page.locator('[data-testid="readiness"] li[data-status="fail"]');
  }

  public nextButton() {
    return this.page.getByRole('button', { name: 'Next' });
  }
}
