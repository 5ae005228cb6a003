/**
 * The one place a run fails: the run is recorded as failed with what it had imported, logged, and
 * sent to the system log; the error goes on to the caller. A store whose disk is full cannot record
 * it: the run then stays unfinished, and the next run marks it failed.
 */
import type { RunSummary } from '../contract/model.ts';
import { storeErrorOf } from '../errors/store-error.ts';
import type { Store } from '../store/store.ts';
import { osLog, type Logger } from '../base/logger.ts';

/** What a run had imported when it stopped. */
export type RunCounts = { ad: number; cloud: number };

export function failRun(store: Store, runId: number, caught: unknown, counts: RunCounts, log: Logger | undefined, planId?: number): never {
  const error = storeErrorOf(caught, store.location) as Error;
  const summary: Omit<RunSummary, 'id' | 'kind' | 'dryRun' | 'status' | 'startedAt' | 'endedAt'> = {
    imported: { ad: counts.ad, cloud: counts.cloud }, planned: {}, exported: {}, held: 0, errors: 0, outOfScope: 0, ...(planId !== undefined ? { planId } : {}),
  };
  try {
    store.finishRun(runId, 'failed', summary, error.message);
  } catch {
    // The store cannot record it (its disk is full): the run stays unfinished, and the next run marks it failed.
  }
  log?.error({ code: (error as { code?: string }).code }, `run failed: ${error.message}`);
  osLog('error', `Directory Sync: run ${runId} failed: ${error.message}`);
  throw error;
}
