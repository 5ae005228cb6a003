/**
 * The store's disk fills up during a run: the run stops with an error that says so and what to do,
 * the store stays intact, and once space is freed the next run brings the tenant to AD's state with
 * no duplicate. The store lives on a small tmpfs of its own (mounting one needs root, as the lab does).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../../../lab/connection.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { openStore } from '../../src/run/session.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { managedInTenant, startHarness, type Harness } from '../support/engine-harness.ts';

const USERS = 300;
const isRoot = process.getuid?.() === 0;

describe('disk full under the store', { skip: isRoot ? false : 'mounting a small file system for the store needs root (the lab runs as root)' }, () => {
  let sandbox: AdSandbox;
  let harness: Harness;
  let mountPoint: string;
  let dataDir: string;

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Disk Full');
    for (let i = 0; i < USERS; i += 1) {
      await sandbox.addUser(`Full User ${i}`, { sAMAccountName: `full${i}`, userPrincipalName: `full.user${i}@contoso.com`, displayName: `Full User ${i}`, description: 'x'.repeat(200) });
    }
    harness = await startHarness({ config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] } } });
    harness.store.close();
    mountPoint = mkdtempSync(join(tmpdir(), 'dirsync-small-disk-'));
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint], { encoding: 'utf8' });
    assert.equal(mounted.status, 0, mounted.stderr);
    dataDir = join(mountPoint, 'dirsync');
    cpSync(harness.dataDir, dataDir, { recursive: true });
  });
  after(async () => {
    if (mountPoint) spawnSync('umount', [mountPoint]);
    await harness?.close().catch(() => undefined);
    await sandbox?.close();
  });

  // Asynchronous: the emulated tenant answers from this process.
  const dirsync = (args: ReadonlyArray<string>): Promise<{ status: number | null; output: string }> => new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'engine', 'bin', 'dirsync.js'), '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    child.once('close', (status) => resolve({ status, output }));
  });
  const managedUpns = (): string[] => managedInTenant(harness.tenant, 'user').map((u) => String(u['userPrincipalName']).toLowerCase());

  it('stops with "disk full" and what to do, loses nothing, and the next run completes once there is space', async (t) => {
    // Leave room for the store to open, not for a whole import.
    const { bavail, bsize } = statfsSync(mountPoint);
    const filler = join(mountPoint, 'filler');
    writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 150 * 1024)));
    const full = await dirsync(['sync', '--full']);
    t.diagnostic(full.output.trim());
    assert.notEqual(full.status, 0, full.output);
    assert.match(full.output, /disk|space|full/i, `says the disk is full: ${full.output}`);
    assert.match(full.output, /free|space/i, 'and what to do');
    assert.doesNotMatch(full.output, /\n\s+at .+\(.+:\d+:\d+\)/, `no stack trace: ${full.output}`);

    rmSync(filler);
    const integrity = openStore(dataDir);
    assert.equal(integrity.db.pragma('integrity_check', { simple: true }), 'ok', 'the store is intact');
    integrity.close();
    const resumed = await dirsync(['sync', '--full']);
    assert.equal(resumed.status, 0, resumed.output);
    const upns = managedUpns();
    assert.equal(upns.length, USERS, 'every user is in the tenant');
    assert.equal(new Set(upns).size, upns.length, 'once');
  });
});
