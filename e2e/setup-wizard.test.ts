import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright';
import { SetupLicensePage } from './pages/setup-license.page.ts';
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
    assert.equal(await license.heading().textContent(), 'License terms');
    assert.match((await license.licenseText().textContent()) ?? '', /MIT License/);
    assert.equal(await license.nextButton().isDisabled(), true, 'Next must wait for the license to be accepted');
    await license.acceptCheckbox().check();
    assert.equal(await license.nextButton().isDisabled(), false);
    await saveScreenshot(page, 'setup-02-license');

    await license.back();
    assert.equal(await welcome.heading().textContent(), 'Welcome to Directory Sync Setup');
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
