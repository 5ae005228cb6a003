import type { Page } from 'playwright';

/** Operations view. */
export class OperationsPage {
  public constructor(private readonly page: Page) {}

  public heading() {
    return this.page.getByRole('heading', { level: 1 });
  }

  public role() {
    return this.page.getByTestId('role');
  }

  public lastRun() {
    return this.page.getByTestId('last-run');
  }

  public heldTable(planId: number) {
    return this.page.getByRole('table', { name: `Deletions held in plan ${planId}` });
  }

  public async approve(count: number): Promise<void> {
    await this.page.getByRole('button', { name: `Approve ${count} deletions` }).click();
  }

  public errorsTable() {
    return this.page.getByRole('table', { name: 'Objects with errors' });
  }

  public async lookUp(query: string): Promise<void> {
    await this.page.getByLabel('User principal name, account name, mail or DN').fill(query);
    await this.page.getByRole('button', { name: 'Look up' }).click();
  }

  public lookupResult() {
    return this.page.getByTestId('lookup');
  }
}
