import { WizardPageObject } from './wizard-page.ts';

/** Configuration Wizard — Finished page. */
export class ConfigureFinishPage extends WizardPageObject {
  /** Waits until the wizard shows this page. */
  public async waitForPage(): Promise<void> {
    await this.page.getByRole('heading', { level: 1, name: 'Configuration complete', exact: true }).waitFor();
  }

  /** The warning that another server holds the tenant. */
  public heldBy() {
    return this.page.getByTestId('ownership-held');
  }

  /** Leaves the tenant to the other server: this one only plans. */
  public async notNow(): Promise<void> {
    await this.heldBy().getByRole('button', { name: 'Not now' }).click();
  }

  public planningOnly() {
    return this.page.getByTestId('planning-only');
  }

  public async takeOver(): Promise<void> {
    await this.heldBy().getByRole('button', { name: 'Take over' }).click();
    await this.heldBy().getByRole('button', { name: 'Yes, take over' }).click();
  }

  public synchronizeNow() {
    return this.page.getByRole('checkbox', { name: 'Synchronize directories now' });
  }

  public async finish(): Promise<void> {
    await this.page.getByRole('button', { name: 'Finish' }).click();
  }

  public progress() {
    return this.page.getByTestId('run-progress');
  }

  public error() {
    return this.page.getByTestId('error-bar');
  }

  /** Waits for the first run's result (or an error) and returns the result section. */
  public async waitForResult(timeout = 240_000) {
    const result = this.page.getByTestId('run-result');
    await result.or(this.error()).first().waitFor({ timeout });
    return result;
  }

  /** With several domains: each domain's part of the run (objects read, or why it was not read). */
  public async sources(): Promise<Array<{ domain: string; imported: number; error: string | null }>> {
    const rows: Array<{ domain: string; imported: number; error: string | null }> = [];
    for (const row of await this.page.getByTestId('run-result').getByTestId('run-source').all()) {
      rows.push({ domain: (await row.getAttribute('data-domain')) ?? '', imported: Number(await row.getAttribute('data-imported')), error: await row.getAttribute('data-error') });
    }
    return rows;
  }

  /** "N group members from another forest, reported, not written." */
  public foreignMembers() {
    return this.page.getByTestId('run-result').getByTestId('foreign-members');
  }

  public count(name: 'created' | 'updated' | 'deleted' | 'memberships' | 'managers' | 'errors' | 'held' | 'writes') {
    return this.page.getByTestId(`result-${name}`);
  }
}
