import { WizardPageObject } from './wizard-page.ts';

/** Setup wizard — Readiness page. */
export class SetupReadinessPage extends WizardPageObject {
  public checks() {
    return this.page.getByRole('list', { name: 'Readiness checks' }).getByRole('listitem');
  }

  public failed() {
    return this.page.locator('[data-testid="readiness"] li[data-status="fail"]');
  }
}
