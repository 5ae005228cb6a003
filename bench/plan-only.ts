/**
 * Planning alone, on a store the bench kept (`DIRSYNC_BENCH_KEEP_STORE`): copies it, then builds
 * a full plan on the copy as a full run would after its imports, and prints the time, the peak RSS
 * and what was planned. For profiling: `node --cpu-prof --import tsx bench/plan-only.ts <dir>`.
 *
 *   npx tsx bench/plan-only.ts <kept store dir> [runs]
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { limitHeapGrowth } from '../engine/src/base/heap.ts';
import { openStore, requireConfig } from '../engine/src/run/session.ts';
import { buildPlan } from '../engine/src/run/planning.ts';

// As every engine process does (engine/src/cli/main.ts).
limitHeapGrowth();

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
const args = process.argv.slice(2);
const fresh = args.includes('--new');
const [kept, runsText] = args.filter((a) => a !== '--new');
if (!kept) throw new Error('usage: plan-only.ts <kept store dir> [runs] [--new]');
const work = mkdtempSync(join(tmpdir(), 'dirsync-plan-only-'));
try {
  cpSync(kept, work, { recursive: true });
  // The copy's writeback would otherwise run during the timed planning.
  execFileSync('sync');
  const store = openStore(work);
  const config = requireConfig(store);
  if (fresh) store.db.exec('DELETE FROM links; DELETE FROM cloud_members; DELETE FROM cloud_addresses; DELETE FROM cloud_objects; DELETE FROM plan_operations;');
  // The emulated tenant's verified domains (lab/tenant/seed.ts), and the lab app's anchor property.
  const domains = { verified: ['contoso.com', 'fed.contoso.com'] };
  const anchorProperty = `extension_${config.cloud.clientId.replace(/-/g, '')}_sourceAnchor`;
  for (let i = 0; i < Number(runsText ?? '1'); i += 1) {
    const runId = store.startRun('full', false);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const plan = buildPlan({ store, config, runId, mode: { kind: 'full' }, domains, anchorProperty, dryRun: false });
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const memory = process.memoryUsage();
    console.log(`planning ${(ms / 1000).toFixed(2)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s); peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; now RSS ${mb(memory.rss)}, heap ${mb(memory.heapUsed)} of ${mb(memory.heapTotal)}, external ${mb(memory.external)} MB;`,
      `in scope ${plan.inScope}, planned ${JSON.stringify(plan.planned)}, errors ${plan.errors}, held ${plan.held}`);
    store.finishRun(runId, 'succeeded', { imported: { ad: 0, cloud: 0 }, planned: plan.planned, exported: {}, held: plan.held, errors: plan.errors, outOfScope: plan.outOfScope });
  }
  store.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
