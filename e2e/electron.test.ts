import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { _electron as electron } from 'playwright';
import { repoRoot } from '../lab/connection.ts';
import { saveScreenshot } from './support/browser.ts';
import { findElectronBinary } from './support/electron-binary.ts';

const binary = findElectronBinary();
const mainScript = join(repoRoot, 'dist', 'electron', 'main.cjs');

describe('Electron shell', () => {
  it('opens the Setup wizard in a sandboxed, isolated window', { skip: binary.found ? false : binary.reason }, async () => {
    assert.ok(binary.found);
    assert.ok(existsSync(mainScript), `${mainScript} is missing: run npm run build first`);
    const app = await electron.launch({ executablePath: binary.path, args: ['--no-sandbox', mainScript] });
    try {
      const page = await app.firstWindow();
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      await page.getByRole('heading', { level: 1 }).waitFor();
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Welcome to Directory Sync Setup');
      // No Node in the renderer, only the preload's bridge.
      assert.equal(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require), 'undefined');
      assert.equal(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process), 'undefined');
      assert.equal(await page.evaluate(() => (globalThis as unknown as { dirsync: { shell: string } }).dirsync.shell), 'electron');
      // The preload runs sandboxed: it sees no Node built-ins beyond Electron's sandbox shim.
      assert.equal(await page.evaluate(() => typeof (globalThis as { module?: unknown }).module), 'undefined');
      // window.open is denied.
      await page.evaluate(() => { (globalThis as unknown as { open(url: string): unknown }).open('https://example.invalid/'); });
      assert.equal(app.windows().length, 1);
      await saveScreenshot(page, 'electron-01-welcome');
      assert.deepEqual(errors, []);
    } finally {
      await app.close();
    }
  });
});
