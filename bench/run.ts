/**
 * `npm run bench [-- --sizes 10000,30000,100000]`: builds (once) and restores the DC snapshot of each
 * size, measures it in a network namespace of its own, writes bench/results.json and
 * bench/results.md, and prints each target as met or not. Exits 1 when a result is wrong (objects
 * missing or extra writes in the tenant), never because it is slow.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { repoRoot } from '../lab/connection.ts';
import { runInNetns } from '../engine/test/support/store-fixture.ts';
import type { PreviewMeasurement, SizeMeasurements } from './measure.ts';
import { defaultBenchDir, ensureSnapshot } from './snapshot.ts';
import { growthOf, judgeTargets, type TargetResult } from './targets.ts';

export type BenchResults = { readonly measuredAt: string; readonly machine: string; readonly sizes: ReadonlyArray<SizeMeasurements>; readonly targets: ReadonlyArray<TargetResult> };

export async function runBench(options: { sizes: ReadonlyArray<number>; benchDir: string; log: (line: string) => void }): Promise<BenchResults> {
  const sizes: SizeMeasurements[] = [];
  for (const users of options.sizes) {
    options.log(`${users.toLocaleString('en-US')} users: DC snapshot…`);
    const snapshot = await ensureSnapshot(options.benchDir, users, options.log);
    options.log(snapshot.built ? `  built in ${(snapshot.info.buildMs / 1000).toFixed(0)} s` : `  restored from ${snapshot.dir}`);
    const work = mkdtempSync(join(tmpdir(), `dirsync-bench-${users}-`));
    try {
      const resultFile = join(work, 'result.json');
      const run = await runInNetns(`dirsync-bench-${process.pid}`, join(repoRoot, 'bench', 'measure.ts'), [String(users), snapshot.dir, work, resultFile]);
      if (run.code !== 0) throw new Error(`The ${users}-user measurement failed:\n${run.stderr.slice(-4000)}`);
      sizes.push(JSON.parse(readFileSync(resultFile, 'utf8')) as SizeMeasurements);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const cpus = (await import('node:os')).cpus();
  return { measuredAt: new Date().toISOString(), machine: `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, Node ${process.version}`, sizes, targets: judgeTargets(sizes) };
}

const hoursText = (seconds: number): string => `${(seconds / 3600).toFixed(2)} h`;

/** Where a preview's time went, when the measurement says. */
function previewPhases(p: PreviewMeasurement): string {
  const ph = p.phasesMs;
  return ph ? `; copy of the store and start ${(ph.copy / 1000).toFixed(1)} s, AD ${(ph.ad / 1000).toFixed(1)} s, tenant ${(ph.tenant / 1000).toFixed(1)} s, planning ${(ph.planning / 1000).toFixed(1)} s` : '';
}

function bindSummary(membersPerBind: ReadonlyArray<number>): string {
  let binds = 0;
  let members = 0;
  membersPerBind.forEach((count, size) => {
    binds += count;
    members += count * size;
  });
  return binds === 0 ? 'none bound' : `${binds.toLocaleString('en-US')} binds carried ${members.toLocaleString('en-US')} memberships, ${(members / binds).toFixed(1)} each`;
}

const mb = (bytes: number | undefined): string => (bytes === undefined ? '?' : (bytes / 1024 / 1024).toFixed(0));

export function summary(results: BenchResults): string {
  const lines = [`# Benchmark results (${results.measuredAt}, ${results.machine})`, ''];
  for (const m of results.sizes) {
    lines.push(`## ${m.users.toLocaleString('en-US')} users, ${m.snapshot.groups.toLocaleString('en-US')} groups, ${m.snapshot.memberships.toLocaleString('en-US')} memberships (largest group ${m.snapshot.largestGroup.toLocaleString('en-US')})`, '',
      `- DC snapshot built in ${(m.snapshot.buildMs / 1000).toFixed(0)} s${m.snapshot.dbcheckMs === undefined ? '' : ` (then samba-tool dbcheck: no error, ${(m.snapshot.dbcheckMs / 1000).toFixed(0)} s)`}; restored and started in ${(m.dcStartMs / 1000).toFixed(1)} s`,
      `- ldapsearch dump: ${m.ldapsearch.entries} entries in ${(m.ldapsearch.ms / 1000).toFixed(1)} s (${Math.round(m.ldapsearch.perSecond)}/s); engine full import: ${m.fullImport.entries} in ${(m.fullImport.ms / 1000).toFixed(1)} s (${Math.round(m.fullImport.perSecond)}/s)`,
      `- first full run: ${(m.firstFull.wallMs / 1000).toFixed(1)} s, export ${(m.firstFull.exportMs / 1000).toFixed(1)} s, ${m.firstFull.writeRequests} writes, ${m.firstFull.throttled} answered 429`,
      `- write requests of the first run by kind: ${Object.entries(m.firstFull.writeRequestsByKind).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}`
        + ` (add-members: up to 20 memberships of one group per request; ${bindSummary(m.firstFull.membersPerBind)})`,
      `- the first run's writes at the real budget (3,000 per 150 s, used at 0.95): ${hoursText(m.firstFull.projectedExportSeconds.documented)} by the documented cost (one per request), `
        + `${hoursText(m.firstFull.projectedExportSeconds.observed)} if a bind of N members costs ⌈N/3⌉ (observed by a third party)`,
      `- no-change delta ${(m.noChangeDelta.wallMs / 1000).toFixed(2)} s; 1% delta ${(m.onePercentDelta.wallMs / 1000).toFixed(2)} s (${m.onePercentDelta.writes} writes); no-change full ${(m.noChangeFull.wallMs / 1000).toFixed(1)} s (planning ${(m.noChangeFull.planningMs / 1000).toFixed(2)} s)`,
      `- peak RSS (MB): ${Object.entries(m.peakRssBytes).map(([k, v]) => `${k} ${(v / 1024 / 1024).toFixed(0)}`).join(', ')}; store ${(m.storeBytes / 1024 / 1024).toFixed(1)} MB`,
      ...(['firstFull', 'noChangeFull'] as const).map((run) => `- highest RSS / live heap in each phase (MB), ${run === 'firstFull' ? 'first full run' : 'no-change full run'}: ${
        Object.entries(m.rssByPhaseBytes[run]).map(([k, v]) => `${k} ${mb(v)} / ${mb(m.heapByPhaseBytes[run][k as keyof typeof m.rssByPhaseBytes.firstFull])}`).join(', ')}`),
      `- configuration preview (Readiness page): new installation ${(m.preview.newInstall.wallMs / 1000).toFixed(1)} s, ${(m.preview.newInstall.peakRssBytes / 1024 / 1024).toFixed(0)} MB peak RSS (${m.preview.newInstall.counts.create} to create${previewPhases(m.preview.newInstall)}); wizard rerun ${(m.preview.rerun.wallMs / 1000).toFixed(1)} s, ${(m.preview.rerun.peakRssBytes / 1024 / 1024).toFixed(0)} MB (${m.preview.rerun.counts.matched} matched${previewPhases(m.preview.rerun)})`,
      `- tenant: ${m.tenant.users} users, ${m.tenant.groups} groups, ${m.tenant.memberships} memberships (all present)`, '');
  }
  const growth = growthOf(results.sizes);
  if (growth.length > 0) {
    const sizes = [...results.sizes].sort((a, b) => a.users - b.users).map((m) => m.users.toLocaleString('en-US'));
    lines.push('## Growth', '', `Exponent k of value ∝ users^k (least squares over ${sizes.join(', ')} users), and the value projected to 1,000,000 users.`, '',
      `| measure | ${sizes.join(' | ')} | k | at 1,000,000 |`, `|---|${sizes.map(() => '---|').join('')}---|---|`);
    for (const g of growth) lines.push(`| ${g.name} | ${g.values.map((v) => `${v.toFixed(1)} ${g.unit}`).join(' | ')} | ${g.exponent.toFixed(2)} | ${g.projected.toFixed(0)} ${g.unit} |`);
    lines.push('');
  }
  lines.push('## Targets', '', '| size | target | measured | |', '|---|---|---|---|');
  for (const t of results.targets) lines.push(`| ${t.size.toLocaleString('en-US')} | ${t.target} | ${t.value} | ${t.met ? 'met' : '**not met**'} |`);
  return `${lines.join('\n')}\n`;
}

if (process.argv[1]?.endsWith('run.ts')) {
  const program = new Command('bench').option('--sizes <list>', 'user counts, comma-separated', '10000,30000,100000')
    .option('--out <dir>', 'where results.json and results.md go', join(repoRoot, 'bench'))
    .option('--bench-dir <dir>', 'where the DC snapshots are kept', defaultBenchDir());
  program.parse();
  const opts = program.opts<{ sizes: string; out: string; benchDir: string }>();
  const sizes = opts.sizes.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 100)) {
    process.stderr.write(`--sizes must be whole numbers of users (at least 100), e.g. 10000,100000; got ${opts.sizes}\n`);
    process.exit(2);
  }
  runBench({ sizes, benchDir: opts.benchDir, log: (l) => process.stdout.write(`${l}\n`) }).then((results) => {
    mkdirSync(opts.out, { recursive: true });
    writeFileSync(join(opts.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const text = summary(results);
    writeFileSync(join(opts.out, 'results.md'), text);
    process.stdout.write(`\n${text}`);
  }, (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
}
