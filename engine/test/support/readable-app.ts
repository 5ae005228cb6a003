/**
 * Where another local account can run the app from in a test: the checkout when that account can read it, else
 * (a checkout under a private directory, e.g. a CI clone in a mktemp -d) a copy in the test's scratch root — hard
 * links (instant, and readable where only a parent directory of the checkout is private), else (another file system,
 * or private files) a real copy opened to others. Never skipped for the machine's state.
 */
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { repoRoot } from '../../../lab/connection.ts';
import { runCommand } from '../../../lab/samba/system.ts';

/** Whether `account` can read every one of `files` (relative to `appDir`). */
async function readableBy(account: string, appDir: string, files: ReadonlyArray<string>): Promise<boolean> {
  const readsAll = await runCommand('runuser', ['-u', account, '--', 'sh', '-c', 'for f; do test -r "$f" || exit 1; done', 'sh', ...files.map((f) => join(appDir, f))]);
  return readsAll.code === 0;
}

/** Copies what an account runs of the checkout into dir with cp and the given options; whether cp succeeded. */
async function copyApp(dir: string, options: ReadonlyArray<string>): Promise<boolean> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o755 });
  const parts = ['package.json', 'tsconfig.json', 'tsconfig.base.json', 'engine', 'installer', 'lab', 'dist', 'node_modules'].map((p) => join(repoRoot, p)).filter((p) => existsSync(p));
  return (await runCommand('cp', [...options, '-t', dir, ...parts], { timeoutMs: 300_000 })).code === 0;
}

export async function readableAppDir(account: string, scratch: string, files: ReadonlyArray<string>): Promise<string> {
  if (await readableBy(account, repoRoot, files)) return repoRoot;
  // The test's own scratch root (often a mktemp -d, 0700) must let the account through to the copy.
  chmodSync(scratch, 0o755);
  const dir = join(scratch, 'app');
  if ((await copyApp(dir, ['-alH'])) && (await readableBy(account, dir, files))) return dir;
  assert.ok(await copyApp(dir, ['-RH']), `could not copy ${repoRoot} to ${dir}`);
  assert.equal((await runCommand('chmod', ['-R', 'go+rX', dir])).code, 0);
  assert.ok(await readableBy(account, dir, files), `the account ${account} cannot read the copy of the app in ${dir}`);
  return dir;
}
