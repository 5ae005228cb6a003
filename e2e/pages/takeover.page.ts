import type { Page } from 'playwright';

/** The Takeover page (#/takeover): who synchronizes the tenant, the report, the switch, the progress. */
export class TakeoverPage {
  public constructor(private readonly page: Page) {}

  public heading() {
    return this.page.getByRole('heading', { level: 1 });
  }

  public summary() {
    return this.page.getByTestId('handover-summary');
  }

  public oldToolName() {
    return this.page.getByTestId('old-tool-name');
  }

  public oldToolState() {
    return this.page.getByTestId('old-tool-state');
  }

  public async waitForOldTool(stopped: boolean, timeout = 30_000): Promise<void> {
    await this.page.locator(`[data-testid="old-tool-state"][data-stopped="${String(stopped)}"]`).waitFor({ timeout });
  }

  public async makeReport(): Promise<void> {
    await this.page.getByTestId('make-report').click();
    await this.page.getByTestId('handover-report').waitFor({ timeout: 180_000 });
  }

  public async count(key: string): Promise<number> {
    return Number(await this.page.getByTestId(`report-${key}`).textContent());
  }

  public listed(category: string) {
    return this.page.getByTestId(`report-${category}-list`).getByTestId('report-object');
  }

  public notes() {
    return this.page.getByTestId('handover-notes').locator('li');
  }

  public async switchOff(confirmation: string): Promise<void> {
    await this.page.getByTestId('confirmation').fill(confirmation);
    await this.page.getByTestId('switch').click();
  }

  public error() {
    return this.page.getByTestId('error-bar');
  }

  public async userCode(): Promise<string> {
    const code = this.page.getByTestId('user-code');
    await code.waitFor();
    return (await code.textContent()) ?? '';
  }

  public async waitForPhase(phase: 'converting' | 'adopting' | 'done', timeout = 300_000): Promise<void> {
    await this.page.locator(`[data-testid="handover-phase"][data-phase="${phase}"]`).waitFor({ timeout });
  }

  public remaining() {
    return this.page.getByTestId('handover-remaining');
  }

  public done() {
    return this.page.getByTestId('handover-done');
  }
}
