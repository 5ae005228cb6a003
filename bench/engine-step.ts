/**
 * One engine run of the benchmark, in a process of its own (as the service runs it), so that its
 * peak memory is the engine's: `engine-step.ts <dataDir> <full|delta> <timeScale>`. Prints one JSON
 * line: the run's summary, when each phase started and ended, the ETAs the product showed during
 * export, and the process's peak RSS.
 */
import { openStore, requireConfig, sessionFor } from '../engine/src/service/engine.ts';
import { phaseEtaSeconds, runSync } from '../engine/src/service/sync-run.ts';
import type { RunPhase } from '../engine/src/contract/control-api.ts';
import type { RunSummary } from '../engine/src/contract/model.ts';

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
};

const [dataDir, kind, timeScaleText] = process.argv.slice(2);
if (!dataDir || (kind !== 'full' && kind !== 'delta')) throw new Error('usage: engine-step.ts <dataDir> <full|delta> <timeScale>');
const timeScale = Number(timeScaleText ?? '1');
const store = openStore(dataDir);
const config = requireConfig(store);
// The tenant's app write budget (3,000 per 150 s), on the emulated tenant's clock.
const session = sessionFor(store, config, { writeBudget: { writes: 3000, windowSeconds: 150 / timeScale } });
const phaseStartMs: Partial<Record<RunPhase, number>> = {};
const etaSamples: EtaSample[] = [];
const rssByPhaseBytes: Partial<Record<RunPhase, number>> = {};
const t0 = performance.now();
void (async () => {
  const summary = await runSync(session, {
    kind, dryRun: false,
    onProgress: (p) => {
      const at = performance.now() - t0;
      if (phaseStartMs[p.phase] === undefined) phaseStartMs[p.phase] = at;
      // The phase that just ended is what this report's memory belongs to, too: record it for both.
      const rss = process.memoryUsage.rss();
      rssByPhaseBytes[p.phase] = Math.max(rssByPhaseBytes[p.phase] ?? 0, rss);
      if (p.phase !== 'exporting' || p.total === undefined) return;
      // The same estimate the service shows (service.ts progress()).
      const etaSeconds = p.etaSeconds ?? phaseEtaSeconds(p.done, p.total, (at - (phaseStartMs.exporting ?? at)) / 1000);
      if (etaSeconds !== undefined) etaSamples.push({ atMs: at, etaSeconds, done: p.done, total: p.total });
    },
  });
  const wallMs = performance.now() - t0;
  store.close();
  const result: StepResult = { summary, wallMs, phaseStartMs, etaSamples, maxRssBytes: process.resourceUsage().maxRSS * 1024, rssByPhaseBytes };
  process.stdout.write(`${JSON.stringify(result)}\n`);
})().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
