import assert from 'node:assert/strict';
import { mkdtempSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { repoRoot } from '../../../lab/connection.ts';
import { runCommand } from '../../../lab/samba/system.ts';
import type { DoctorReport } from '../../src/diagnostics/doctor.ts';

const bin = join(repoRoot, 'engine', 'bin', 'dirsync.js');
const bundle = join(repoRoot, 'dist', 'engine', 'dirsync.mjs');

async function versionsLine(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dirsync-bin-'));
  const run = await runCommand(process.execPath, [bin, '--data-dir', dataDir, '--json', 'doctor'], { timeoutMs: 60_000 });
  const report = JSON.parse(run.stdout) as DoctorReport;
  return report.checks.find((c) => c.id === 'versions')?.detail ?? '';
}

describe('the dirsync command', () => {
  before(async () => {
    const build = await runCommand('npm', ['run', '-s', 'build:engine'], { cwd: repoRoot, timeoutMs: 120_000 });
    assert.equal(build.code, 0, build.stderr);
  });

  it('runs the bundled engine that npm run build made', async () => {
    assert.match(await versionsLine(), /\(bundled engine\)/);
  });

  it('runs the TypeScript sources instead when they are newer than the bundle, never a stale bundle', async () => {
    const { atime, mtime } = statSync(bundle);
    utimesSync(bundle, atime, new Date(Date.now() - 10 * 365 * 24 * 3600 * 1000));
    try {
      assert.match(await versionsLine(), /\(engine run from its TypeScript sources\)/);
    } finally {
      utimesSync(bundle, atime, mtime);
    }
    assert.match(await versionsLine(), /\(bundled engine\)/);
  });
});
