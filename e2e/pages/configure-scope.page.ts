import { WizardPageObject } from './wizard-page.ts';

/** Configuration Wizard — Scope page. */
export class ConfigureScopePage extends WizardPageObject {
  /** Waits until the wizard shows this page. */
  public async waitForPage(): Promise<void> {
    await this.page.getByRole('heading', { level: 1, name: 'Choose what to synchronize', exact: true }).waitFor();
  }

  /** Waits until the OU tree has been read from the domain. */
  public async waitForTree(): Promise<void> {
    await this.page.getByTestId('ou-tree').waitFor({ timeout: 60_000 });
  }

  /** The tree of OUs (role tree). */
  public tree() {
    return this.page.getByRole('tree', { name: 'Organizational units' });
  }

  /**
   * The OU with this distinguished name: a treeitem whose aria-checked is its tick, so Playwright's
   * isChecked() and check() work on it as on a checkbox.
   */
  public ouCheckbox(dn: string) {
    return this.page.getByRole('treeitem').and(this.page.locator(`[data-testid="ou"][data-dn="${dn}"]`));
  }

  /** The distinguished name of the OU that has the keyboard focus, if an OU has it. */
  public async focusedDn(): Promise<string | undefined> {
    const focused = this.page.locator('[data-testid="ou"]:focus');
    return (await focused.count()) === 0 ? undefined : (await focused.getAttribute('data-dn')) ?? undefined;
  }

  /** With several domains: the top-level row of a domain (by its naming context), its OUs beneath it. */
  public domainRow(baseDn: string) {
    return this.page.getByRole('treeitem').and(this.page.locator(`[data-testid="ou-domain"][data-dn="${baseDn}"]`));
  }

  /** The names of the top-level domain rows, top to bottom. */
  public async domainNames(): Promise<string[]> {
    return this.page.getByTestId('ou-domain').allTextContents();
  }

  public summary() {
    return this.page.getByTestId('scope-summary');
  }

  public async tick(dn: string): Promise<void> {
    await this.ouCheckbox(dn).check();
  }
}
