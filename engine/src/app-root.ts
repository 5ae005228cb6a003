/**
 * The folder Directory Sync is installed in (or checked out to): the nearest folder above this
 * module whose package.json is Directory Sync's. Found by walking up rather than by a fixed number
 * of `..`, so that it is the same from the TypeScript sources (engine/src/…) and from the bundled
 * engine (dist/engine/dirsync.mjs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'directory-sync';

function findAppRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
    if (dirname(dir) === dir) throw new Error(`Directory Sync's package.json (name "${PACKAGE_NAME}") is not in any folder above ${start}: the installation is incomplete; reinstall it.`);
  }
}

export const appRoot: string = findAppRoot(dirname(fileURLToPath(import.meta.url)));

/** Whether this is the bundled engine (dist/engine/dirsync.mjs, what installations run) rather than the TypeScript sources. */
export const bundledEngine: boolean = import.meta.url.endsWith('/dist/engine/dirsync.mjs');
