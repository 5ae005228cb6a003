import type { Page } from 'playwright';
import { SetupLicensePage } from '../pages/setup-license.page.ts';
import { SetupWelcomePage } from '../pages/setup-welcome.page.ts';

/**
 * From the Setup wizard's Welcome page to the Configuration Wizard's: accepts the license, then goes
 * through whatever pages Setup shows after it (each waits for its Next or Finish to be enabled).
 */
export async function throughSetupWizard(page: Page): Promise<void> {
  await new SetupWelcomePage(page).next();
  const license = new SetupLicensePage(page);
  await license.acceptCheckbox().check();
  await license.nextButton().click();
  const forward = page.getByRole('button', { name: /^(Next|Finish)$/ });
  for (let pages = 0; pages < 5; pages++) {
    await page.waitForURL(/#\/(configure\/welcome|setup\/(?!license$)[\w-]+)$/);
    if (/#\/configure\/welcome$/.test(page.url())) return;
    const before = page.url();
    await forward.and(page.locator(':enabled')).waitFor({ timeout: 30_000 });
    await forward.click();
    await page.waitForURL((url) => url.toString() !== before);
  }
  await page.waitForURL(/#\/configure\/welcome$/);
}
