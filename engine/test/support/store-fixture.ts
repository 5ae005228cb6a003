/**
 * Store fixtures for the upgrade tests: what an installation of an earlier version leaves on disk
 * (its data directory: the store, the key file) together with the directory it synchronized (a
 * snapshot of the stopped lab DC) and the tenant it wrote to (the emulated tenant's saved state and
 * the lab CA), so that a newer version can open that store and carry on against the same objects.
 *
 * A fixture is made by the code of its schema version (make-store-fixture.ts, `npm run
 * fixture:store`), committed as `engine/test/fixtures/stores/schema-v<N>.tar.xz`, and never edited.
 * Both making and restoring run in a network namespace of their own, where the DC and the tenant
 * listen on the same 127.0.0.1 addresses and ports as when the fixture was made, beside the
 * shared lab.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../../lab/connection.ts';
import { runCommand } from '../../../lab/samba/system.ts';

/** The emulated tenant's time scale while a fixture is made and restored (its write budget window, shortened). */
export const FIXTURE_TIME_SCALE = 60;
/** The OU a fixture's installation synchronizes. */
export const FIXTURE_OU = 'Upgrade Fixture';

export const storeFixturesDir = join(repoRoot, 'engine', 'test', 'fixtures', 'stores');

export function storeFixtureArchive(schemaVersion: number): string {
  return join(storeFixturesDir, `schema-v${schemaVersion}.tar.xz`);
}

/** Where each part of an unpacked fixture lives. */
export function fixtureLayout(root: string) {
  const dir = resolve(root);
  return {
    root: dir,
    /** fixture.json: what made it and what it holds. */
    metaFile: join(dir, 'fixture.json'),
    /** The lab directory: `dc-snapshot/` (the stopped DC), `ca/` (the lab CA the tenant's TLS comes from). */
    labDir: join(dir, 'lab'),
    dcSnapshot: join(dir, 'lab', 'dc-snapshot'),
    caDir: join(dir, 'lab', 'ca'),
    caFile: join(dir, 'lab', 'ca', 'ca.pem'),
    tenantState: join(dir, 'tenant-state.json'),
    /** The data directory of the installation: dirsync.db and secret.key. */
    dataDir: join(dir, 'data'),
  };
}

/** What fixture.json says. */
export type StoreFixtureMeta = {
  readonly schemaVersion: number;
  readonly productVersion: string;
  readonly commit: string;
  readonly madeAt: string;
  /** The OU the fixture's installation synchronizes. */
  readonly scopeOuDn: string;
  /** Objects the installation manages in the tenant, by type. */
  readonly managed: { readonly users: number; readonly groups: number; readonly members: number };
  /** A user in scope, for the test to change after the upgrade. */
  readonly sampleUserDn: string;
};

export async function packFixture(root: string, archive: string): Promise<void> {
  mkdirSync(resolve(archive, '..'), { recursive: true });
  const result = await runCommand('tar', ['-C', root, '--sort=name', '--owner=0', '--group=0', '-cJf', archive, '.'], {
    env: { ...process.env, XZ_OPT: '-9' }, timeoutMs: 300_000,
  });
  if (result.code !== 0) throw new Error(`tar could not pack ${root} into ${archive}: ${result.stderr}`);
}

export async function unpackFixture(archive: string, root: string): Promise<void> {
  mkdirSync(root, { recursive: true });
  const result = await runCommand('tar', ['-C', root, '-xJf', archive], { timeoutMs: 300_000 });
  if (result.code !== 0) throw new Error(`tar could not unpack ${archive}: ${result.stderr}`);
}

/**
 * Runs a Node script (with tsx) inside a new network namespace with only loopback, and resolves with
 * its exit code and output; the namespace is removed afterwards.
 */
export async function runInNetns(name: string, script: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}):
  Promise<{ code: number; stdout: string; stderr: string }> {
  const add = await runCommand('ip', ['netns', 'add', name]);
  if (add.code !== 0) throw new Error(`ip netns add ${name} failed (run as root): ${add.stderr.trim()}`);
  try {
    const up = await runCommand('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
    if (up.code !== 0) throw new Error(`bringing up loopback in ${name} failed: ${up.stderr.trim()}`);
    return await new Promise((resolveRun, reject) => {
      const child = spawn('ip', ['netns', 'exec', name, process.execPath, '--import', 'tsx', script, ...args], {
        cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => {
        err.push(chunk);
        if (process.env['DIRSYNC_FIXTURE_VERBOSE'] === '1') process.stderr.write(chunk);
      });
      child.on('error', reject);
      child.on('close', (code) => resolveRun({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    });
  } finally {
    await runCommand('ip', ['netns', 'del', name]);
  }
}
