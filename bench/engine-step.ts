/**
 * One engine run of the benchmark, in a process of its own (as the service runs it), so that its
 * peak memory is the engine's: `engine-step.ts <dataDir> <full|delta|preview> <timeScale>`. Prints
 * one JSON line: the run's summary, when each phase started and ended, the ETAs the product showed
 * during export, and the process's peak RSS.
 *
 * `preview` is the Configuration Wizard's Readiness page: the service's own previewConfig (a copy of
 * the store, then a full dry run on it) for the saved configuration, with the preview's counts.
 */
import { appendFileSync } from 'node:fs';
import { limitHeapGrowth } from '../engine/src/base/heap.ts';
import { openStore, requireConfig, sessionFor } from '../engine/src/run/session.ts';
import { phaseEtaSeconds, runSync } from '../engine/src/run/run.ts';
import type { PreviewCategory, RunPhase, RunProgress } from '../engine/src/contract/control-api.ts';
import { EventHub } from '../engine/src/service/control-server.ts';
import { DirSyncService } from '../engine/src/service/service.ts';
import type { RunSummary } from '../engine/src/contract/model.ts';

// As every engine process does (engine/src/cli/main.ts).
limitHeapGrowth();

export type EtaSample = { readonly atMs: number; readonly etaSeconds: number; readonly done: number; readonly total: number };
export type StepResult = {
  readonly summary: RunSummary;
  readonly wallMs: number;
  /** Milliseconds from the start of the run to the first progress of each phase. */
  readonly phaseStartMs: Partial<Record<RunPhase, number>>;
  readonly etaSamples: ReadonlyArray<EtaSample>;
  readonly maxRssBytes: number;
  /** The highest RSS seen at a progress report of each phase (where the memory goes). */
  readonly rssByPhaseBytes: Partial<Record<RunPhase, number>>;
  /** The same for the JavaScript heap in use (with Buffers): how much of the RSS is live objects rather than garbage not yet collected or SQLite's pages. */
  readonly heapByPhaseBytes: Partial<Record<RunPhase, number>>;
  /** A preview's report: how many objects fall in each category. */
  readonly previewCounts?: Readonly<Record<PreviewCategory, number>>;
};

const [dataDir, kind, timeScaleText] = process.argv.slice(2);
if (!dataDir || (kind !== 'full' && kind !== 'delta' && kind !== 'preview')) throw new Error('usage: engine-step.ts <dataDir> <full|delta|preview> <timeScale>');
const timeScale = Number(timeScaleText ?? '1');
const phaseStartMs: Partial<Record<RunPhase, number>> = {};
const etaSamples: EtaSample[] = [];
const rssByPhaseBytes: Partial<Record<RunPhase, number>> = {};
const heapByPhaseBytes: Partial<Record<RunPhase, number>> = {};
const t0 = performance.now();
let currentPhase: RunPhase | 'before' = 'before';
// DIRSYNC_BENCH_MEMORY_LOG=<file>: every second, where the memory is (RSS, V8 heap, Buffers) and in which phase.
const memoryLog = process.env['DIRSYNC_BENCH_MEMORY_LOG'];
if (memoryLog) {
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    const mb = (n: number): number => Math.round(n / 1048576);
    appendFileSync(memoryLog, `${JSON.stringify({ step: kind, s: Math.round((performance.now() - t0) / 1000), phase: currentPhase, rss: mb(m.rss), heapUsed: mb(m.heapUsed),
      heapTotal: mb(m.heapTotal), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) })}\n`);
  }, 1000);
  sample.unref();
}
const onProgress = (p: RunProgress): void => {
  const at = performance.now() - t0;
  if (phaseStartMs[p.phase] === undefined) phaseStartMs[p.phase] = at;
  currentPhase = p.phase;
  // The phase that just ended is what this report's memory belongs to, too: record it for both.
  const memory = process.memoryUsage();
  rssByPhaseBytes[p.phase] = Math.max(rssByPhaseBytes[p.phase] ?? 0, memory.rss);
  heapByPhaseBytes[p.phase] = Math.max(heapByPhaseBytes[p.phase] ?? 0, memory.heapUsed + memory.external);
  if (p.phase !== 'exporting' || p.total === undefined) return;
  // The same estimate the service shows (service.ts progress()).
  const etaSeconds = p.etaSeconds ?? phaseEtaSeconds(p.done, p.total, (at - (phaseStartMs.exporting ?? at)) / 1000);
  if (etaSeconds !== undefined) etaSamples.push({ atMs: at, etaSeconds, done: p.done, total: p.total });
};

async function engineRun(runKind: 'full' | 'delta'): Promise<StepResult> {
  const store = openStore(dataDir as string);
  const config = requireConfig(store);
  // The tenant's app write budget (3,000 per 150 s), on the emulated tenant's clock.
  const session = sessionFor(store, config, { writeBudget: { writes: 3000, windowSeconds: 150 / timeScale } });
  const summary = await runSync(session, { kind: runKind, dryRun: false, onProgress });
  const wallMs = performance.now() - t0;
  store.close();
  return { summary, wallMs, phaseStartMs, etaSamples, maxRssBytes: process.resourceUsage().maxRSS * 1024, rssByPhaseBytes, heapByPhaseBytes };
}

async function preview(): Promise<StepResult> {
  const events = new EventHub();
  events.subscribe((line) => {
    const { event, data } = JSON.parse(line) as { event: string; data: RunProgress };
    if (event === 'onDidProgress') onProgress(data);
  });
  const service = new DirSyncService({ dataDir: dataDir as string, events, schedule: false });
  service.start();
  try {
    const config = requireConfig(service.store);
    const result = await service.previewConfig({ config: config as unknown as Record<string, unknown> });
    const wallMs = performance.now() - t0;
    return { summary: result.run, wallMs, phaseStartMs, etaSamples, maxRssBytes: process.resourceUsage().maxRSS * 1024, rssByPhaseBytes, heapByPhaseBytes, previewCounts: result.counts };
  } finally {
    await service.stop();
  }
}

void (async () => {
  const result = kind === 'preview' ? await preview() : await engineRun(kind);
  process.stdout.write(`${JSON.stringify(result)}\n`);
})().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
