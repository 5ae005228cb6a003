import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright';
import { SetupLicensePage } from './pages/setup-license.page.ts';
import { SetupReadinessPage } from './pages/setup-readiness.page.ts';
import { SetupSummaryPage } from './pages/setup-summary.page.ts';
import { SetupWelcomePage } from './pages/setup-welcome.page.ts';
import { launchChromium, openWatchedPage, saveScreenshot } from './support/browser.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startService, type RunningService } from '../engine/src/service/daemon.ts';

describe('setup wizard in a browser', () => {
  let browser: Browser;
  let service: RunningService;
  let url: string;

  before(async () => {
    service = await startService({ dataDir: mkdtempSync(join(tmpdir(), 'dirsync-e2e-')), schedule: false, browser: {} });
    url = `${service.browser?.url}?token=${service.browser?.token}`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await service?.stop();
  });

  it('opens on the Welcome page and accepts the license only when the box is ticked', async () => {
    const { page, consoleErrors } = await openWatchedPage(browser);
    await page.goto(url);

    const welcome = new SetupWelcomePage(page);
    assert.equal(await welcome.heading().textContent(), 'Welcome to Directory Sync Setup');
    assert.equal(await welcome.currentStep().textContent(), 'Welcome');
    assert.match(page.url(), /#\/setup\/welcome$/);
    await saveScreenshot(page, 'setup-01-welcome');

    await welcome.next();
    const license = new SetupLicensePage(page);
    await page.getByRole('heading', { level: 1, name: 'License terms' }).waitFor();
    assert.match((await license.licenseText().textContent()) ?? '', /MIT License/);
    assert.equal(await license.nextButton().isDisabled(), true, 'Next must wait for the license to be accepted');
    await license.acceptCheckbox().check();
    assert.equal(await license.nextButton().isDisabled(), false);
    await saveScreenshot(page, 'setup-02-license');

    await license.back();
    await page.getByRole('heading', { level: 1, name: 'Welcome to Directory Sync Setup' }).waitFor();
    assert.deepEqual(consoleErrors, []);
  });

  it('checks this computer, then finishes into the Configuration Wizard with its box ticked', async () => {
    const { page, consoleErrors } = await openWatchedPage(browser);
    await page.goto(url);
    await new SetupWelcomePage(page).next();
    const license = new SetupLicensePage(page);
    await license.acceptCheckbox().check();
    await license.nextButton().click();

    const readiness = new SetupReadinessPage(page);
    await page.getByRole('heading', { level: 1, name: 'Check this computer' }).waitFor();
    await readiness.checks().first().waitFor();
    const titles = await readiness.checks().allTextContents();
    for (const title of ['64-bit operating system', 'Disk space', 'Clock', 'Directory Synchronization Service running']) {
      assert.ok(titles.some((t) => t.startsWith(title)), `${title} is checked`);
    }
    assert.equal(await readiness.failed().count(), 0);
    assert.equal(await readiness.nextButton().isDisabled(), false);
    await saveScreenshot(page, 'setup-03-readiness');
    await readiness.nextButton().click();

    const summary = new SetupSummaryPage(page);
    await page.getByRole('heading', { level: 1, name: 'Setup is complete' }).waitFor();
    assert.equal(await summary.startConfigurationCheckbox().isChecked(), true);
    await saveScreenshot(page, 'setup-04-summary');
    await summary.finish();
    await page.waitForURL(/#\/configure\/welcome$/);
    assert.deepEqual(consoleErrors, []);
  });

  it('sends an unknown address back to the Welcome page', async () => {
    const { page, consoleErrors } = await openWatchedPage(browser);
    await page.goto(`${url}#/setup/no-such-step`);
    await page.waitForURL(/#\/setup\/welcome$/);
    assert.equal(await new SetupWelcomePage(page).heading().textContent(), 'Welcome to Directory Sync Setup');
    assert.deepEqual(consoleErrors, []);
  });
});
