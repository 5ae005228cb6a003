/**
 * Finds the Electron binary without triggering the electron package's download-on-first-use
 * (requiring 'electron' from Node downloads it, which cannot work on a machine without internet).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../lab/connection.ts';

export type ElectronBinary = { readonly found: true; readonly path: string } | { readonly found: false; readonly reason: string };

export function findElectronBinary(): ElectronBinary {
  const packageDir = join(repoRoot, 'node_modules', 'electron');
  const pathFile = join(packageDir, 'path.txt');
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
  const candidate = override ? join(override, relative) : join(packageDir, 'dist', relative);
  if (existsSync(candidate)) return { found: true, path: candidate };
  return {
    found: false,
    reason: `no Electron binary at ${candidate}: the electron package downloads it at first launch ` +
      '(`npx install-electron`), which needs internet access; set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron to run this test',
  };
}
