import { WizardPageObject } from './wizard-page.ts';

export type PreviewCategoryId = 'create' | 'matched' | 'conflict' | 'blocked' | 'invalid' | 'out-of-scope' | 'delete';

/** Configuration Wizard — Readiness page: the preview's counts, each opening its list of objects. */
export class ConfigureReadinessPage extends WizardPageObject {
  public async waitForPage(): Promise<void> {
    await this.page.getByRole('heading', { level: 1, name: 'Check what will be synchronized', exact: true }).waitFor();
  }

  /** Waits for the preview to finish (or fail) and returns the counts section. */
  public async waitForCounts(timeout = 120_000) {
    const counts = this.page.getByTestId('preview-counts');
    await counts.or(this.error()).first().waitFor({ timeout });
    return counts;
  }

  public error() {
    return this.page.getByTestId('error-bar');
  }

  public countButton(category: PreviewCategoryId) {
    return this.page.getByTestId(`preview-count-${category}`);
  }

  public async count(category: PreviewCategoryId): Promise<number> {
    return Number(await this.countButton(category).getAttribute('data-count'));
  }

  /** Opens a category's list and waits for its first page. */
  public async open(category: PreviewCategoryId): Promise<void> {
    await this.countButton(category).click();
    await this.page.locator(`[data-testid="preview-list"][data-category="${category}"]`).waitFor();
    await this.page.getByRole('button', { name: 'Show more' }).or(this.page.getByTestId('preview-object').first())
      .or(this.page.getByTestId('preview-list').getByText('None.')).first().waitFor();
  }

  /** The distinguished names in the open list. */
  public async listedDns(): Promise<string[]> {
    return this.page.getByTestId('preview-object').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-dn') ?? ''));
  }

  /** With several domains: the counts of each forest, and the domains it names. */
  public async forestCounts(): Promise<Array<{ forest: string; domains: string; counts: Record<PreviewCategoryId, number> }>> {
    const categories: PreviewCategoryId[] = ['create', 'matched', 'conflict', 'blocked', 'invalid', 'out-of-scope', 'delete'];
    const rows: Array<{ forest: string; domains: string; counts: Record<PreviewCategoryId, number> }> = [];
    for (const row of await this.page.getByTestId('preview-forest').all()) {
      const counts = {} as Record<PreviewCategoryId, number>;
      for (const category of categories) counts[category] = Number(await row.getByTestId(`preview-forest-count-${category}`).getAttribute('data-count'));
      rows.push({ forest: (await row.getAttribute('data-forest')) ?? '', domains: (await row.getByRole('cell').nth(1).textContent()) ?? '', counts });
    }
    return rows;
  }

  public showMore() {
    return this.page.getByRole('button', { name: 'Show more' });
  }
}
