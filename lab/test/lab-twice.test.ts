/**
 * `npm run lab`, stop, `npm run lab` again (issue 28, first contact 1): the DC is provisioned anew with new
 * objectGUIDs, so the tenant must start afresh too — a new installation's first sync against the second lab
 * finds no conflict and no orphan, and creates what the first one created. The lab runs in a network
 * namespace of its own (lab-twice-probe.ts), so it never meets the shared lab the other suites use.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../connection.ts';
import { runCommand } from '../samba/system.ts';

const probe = join(repoRoot, 'lab', 'test', 'support', 'lab-twice-probe.ts');

type Round = { status: string; planned: Record<string, number>; exported: Record<string, number>; held: number; errors: string[]; matchReport: Record<string, number> };

describe('the lab started twice', () => {
  const netns = `dirsync-lab-twice-${process.pid}`;
  const labDir = mkdtempSync(join(tmpdir(), 'dirsync-lab-twice-'));

  before(async () => {
    const add = await runCommand('ip', ['netns', 'add', netns], { timeoutMs: 10_000 });
    assert.equal(add.code, 0, `ip netns add: ${add.stderr}`);
    const up = await runCommand('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up'], { timeoutMs: 10_000 });
    assert.equal(up.code, 0, up.stderr);
  });
  after(async () => {
    await runCommand('ip', ['netns', 'delete', netns], { timeoutMs: 10_000 });
    rmSync(labDir, { recursive: true, force: true });
  });

  it('starts both halves fresh: the second lab\'s first sync meets no conflict and no orphan, and creates what the first did', { timeout: 10 * 60_000 }, async () => {
    const result = await runCommand('ip', ['netns', 'exec', netns, process.execPath, '--import', 'tsx', probe, labDir], { cwd: repoRoot, timeoutMs: 9 * 60_000 });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const { first, second } = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { first: Round; second: Round };
    assert.ok((first.exported['create-user'] ?? 0) > 0, `the first lab's sync created users: ${JSON.stringify(first)}`);
    assert.equal(second.matchReport['conflict'] ?? 0, 0, `no conflict with what the last lab wrote: ${JSON.stringify(second.matchReport)}`);
    assert.equal(second.held, 0, 'no orphan of the last lab held for deletion');
    assert.deepEqual(second.planned, first.planned, 'the same plan as the first lab\'s');
    assert.deepEqual(second.exported, first.exported);
    assert.deepEqual(second.errors.map((e) => e.replace(/^.*: /, '')), first.errors.map((e) => e.replace(/^.*: /, '')), 'the same errors (the seeded problems of that OU), nothing more');
    assert.equal(second.status, first.status);
  });
});
