import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readinessChecks } from '../../src/diagnostics/readiness.ts';

describe('readiness checks', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dirsync-ready-'));

  it('checks the OS, disk space, clock and the service, each with a fix when it is not a pass', () => {
    const checks = readinessChecks({ dataDir });
    const ids = checks.map((c) => c.id);
    for (const id of ['os-64-bit', 'disk-space', 'clock', 'service-running', 'service-registered']) assert.ok(ids.includes(id), `${id} is checked`);
    for (const check of checks) if (check.status !== 'pass') assert.ok(check.fix, `${check.id} says how to fix it`);
    assert.equal(checks.find((c) => c.id === 'os-64-bit')?.status, 'pass');
  });

  it('fails the clock check when this computer is more than five minutes off', () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    assert.equal(readinessChecks({ dataDir, now, referenceTime: now + 10 * 60_000 }).find((c) => c.id === 'clock')?.status, 'fail');
    assert.equal(readinessChecks({ dataDir, now, referenceTime: now + 30_000 }).find((c) => c.id === 'clock')?.status, 'pass');
  });
});
