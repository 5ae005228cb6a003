/**
 * `npm start`: opens Directory Sync. Where an Electron binary can run (a desktop with the binary
 * installed) it opens the desktop app; otherwise it serves browser mode on loopback and prints the
 * address to open.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../app-root.ts';
import { defaultDataDir } from '../base/config.ts';
import { startService } from '../service/daemon.ts';

const repoRoot = appRoot;

function electronBinary(): string | undefined {
  const packageDir = join(repoRoot, 'node_modules', 'electron');
  const pathFile = join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const candidate = join(packageDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(candidate) ? candidate : undefined;
}

const hasDisplay = Boolean(process.env['DISPLAY'] || process.env['WAYLAND_DISPLAY']) || process.platform === 'win32' || process.platform === 'darwin';
const electron = electronBinary();
const wantBrowser = process.argv.includes('--browser');

if (electron && hasDisplay && !wantBrowser) {
  const child = spawn(electron, [join(repoRoot, 'dist', 'electron', 'main.cjs')], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  // Browser mode: the service itself serves the wizard on 127.0.0.1, behind a random token.
  const port = Number(process.env['DIRSYNC_PORT'] ?? 0);
  const dataDir = defaultDataDir();
  const running = await startService({ dataDir, browser: { port } });
  const why = !electron ? 'no Electron binary is installed' : !hasDisplay ? 'there is no desktop (DISPLAY)' : '--browser was given';
  console.log(`Directory Sync is running in browser mode (${why}); its data is in ${dataDir}.`);
  console.log(`Open ${running.browser?.url}?token=${running.browser?.token} in a browser on this computer. Press Ctrl+C to stop.`);
  const stop = () => { void running.stop().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
