/**
 * When the next run happens and what kind it is: a delta every `intervalMinutes`, a full run when the
 * configuration changed in a way that needs one (or none has run yet), catch-up after downtime.
 * Pure: the service passes the time in.
 */
import { createHash } from 'node:crypto';
import type { DirSyncConfig } from '../base/config.ts';
import { primarySource } from '../base/config.ts';

export type ScheduleDecision = { readonly kind: 'full' | 'delta'; readonly at: number; readonly reason: string };

/** The parts of the configuration that change what is in scope or how it maps: changing them needs a full run. */
export function fullRunConfigHash(config: DirSyncConfig): string {
  const first = primarySource(config);
  // One domain hashes as it always did; more: every domain, its forest and scope, and the forest that wins a conflict.
  const domains = config.sources.length === 1 ? {} : {
    sources: config.sources.map((s) => ({ url: s.ad.url, baseDn: s.ad.baseDn, forest: s.forest ?? null, scope: s.scope })), preferredForest: config.preferredForest ?? null,
  };
  const relevant = { ad: { url: first.ad.url, baseDn: first.ad.baseDn }, cloud: { tenantId: config.cloud.tenantId, clientId: config.cloud.clientId },
    scope: first.scope, attributeFlow: config.attributeFlow, matching: config.matching, ...domains };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex');
}

export function nextRun(input: {
  readonly now: number;
  readonly intervalMinutes: number;
  /** End of the last finished run (any kind), if any. */
  readonly lastRunEndedAt?: number;
  /** Hash of the configuration at the last successful full run. */
  readonly lastFullRunConfigHash?: string;
  readonly configHash: string;
  /** When the last successful full run ended, and how often a full run must happen anyway (0: never). */
  readonly lastFullRunAt?: number;
  readonly fullEveryHours?: number;
}): ScheduleDecision {
  const interval = input.intervalMinutes * 60_000;
  // A time after now was recorded before the clock was set back: counted as now, so that the schedule
  // does not stall until the clock catches up with it (a day set back would be a day without a run).
  const past = (at: number | undefined): number | undefined => (at === undefined ? undefined : Math.min(at, input.now));
  const lastRunEndedAt = past(input.lastRunEndedAt);
  const lastFullRunAt = past(input.lastFullRunAt);
  if (input.lastFullRunConfigHash === undefined) return { kind: 'full', at: input.now, reason: 'no full run yet' };
  if (input.lastFullRunConfigHash !== input.configHash) return { kind: 'full', at: input.now, reason: 'the configuration changed what is synchronized' };
  // A periodic full run confirms deletions an account that cannot read tombstones never sees, and catches cloud drift.
  const fullEvery = (input.fullEveryHours ?? 0) * 3_600_000;
  if (fullEvery > 0 && lastFullRunAt !== undefined && lastFullRunAt + fullEvery <= Math.max(input.now, (lastRunEndedAt ?? 0) + interval)) {
    return { kind: 'full', at: Math.max(input.now, Math.min(lastFullRunAt + fullEvery, (lastRunEndedAt ?? input.now) + interval)), reason: 'the periodic full run' };
  }
  if (lastRunEndedAt === undefined) return { kind: 'delta', at: input.now, reason: 'no run recorded' };
  const due = lastRunEndedAt + interval;
  if (due <= input.now) return { kind: 'delta', at: input.now, reason: due + interval <= input.now ? 'catching up after downtime' : 'scheduled' };
  return { kind: 'delta', at: due, reason: 'scheduled' };
}
