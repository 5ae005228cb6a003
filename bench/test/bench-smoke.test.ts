/**
 * `npm run bench` at a small size (2,000 users, 100 groups), as a smoke test: a real DC snapshot
 * built with Samba's loader, restored in a network namespace, synchronized to the emulated tenant
 * by engine processes. It fails when a result is wrong (the bench checks the tenant holds every
 * user, group and membership, and that the no-change runs write nothing and the 1% delta writes
 * exactly the changes); how fast it was is reported, not asserted.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runBench, summary } from '../run.ts';
import { defaultBenchDir } from '../snapshot.ts';

test('the bench at 2,000 users measures a correct synchronization and judges every target', { timeout: 600_000 }, async () => {
  const lines: string[] = [];
  const benchDir = process.env['CI'] === 'true' ? mkdtempSync(join(tmpdir(), 'dirsync-bench-smoke-')) : defaultBenchDir();
  try {
    const results = await runBench({ sizes: [2000], benchDir, log: (l) => lines.push(l) });
    const [m] = results.sizes;
    assert.ok(m);
    assert.equal(m.tenant.users, 2000);
    assert.equal(m.tenant.groups, 100);
    assert.equal(m.tenant.memberships, m.snapshot.memberships);
    assert.equal(m.onePercentDelta.writes, 20);
    assert.equal(m.noChangeDelta.writes, 0);
    assert.ok(m.fullImport.entries >= 2000 + 100 && Math.abs(m.ldapsearch.entries - m.fullImport.entries) <= m.fullImport.entries / 100,
      `ldapsearch read ${m.ldapsearch.entries} entries, the engine ${m.fullImport.entries}: they must read the same entries`);
    assert.ok(m.peakRssBytes.firstFull > 0 && m.storeBytes > 0);
    // Memberships go up to 20 to a request: fewer write requests than memberships, every request counted once by kind.
    const byKind = m.firstFull.writeRequestsByKind;
    assert.equal(Object.values(byKind).reduce((a, b) => a + b, 0), m.firstFull.writeRequests);
    assert.equal(byKind['create-user'], 2000);
    assert.ok((byKind['add-members'] ?? 0) > 0 && m.firstFull.writeRequests < 2000 + 100 + m.snapshot.memberships / 5, JSON.stringify(byKind));
    assert.equal(m.firstFull.membersPerBind.reduce((sum, n, size) => sum + n * size, 0) + (byKind['add-member'] ?? 0), m.snapshot.memberships, 'every membership sent once');
    assert.ok(m.firstFull.projectedExportSeconds.observed > m.firstFull.projectedExportSeconds.documented);
    assert.equal(results.targets.length, 11);
    const text = summary(results);
    for (const target of results.targets) assert.ok(text.includes(target.target));
    process.stdout.write(text);
  } finally {
    if (process.env['CI'] === 'true') rmSync(benchDir, { recursive: true, force: true });
  }
});
