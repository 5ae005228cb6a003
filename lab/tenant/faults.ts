/**
 * Fault injection for reliability tests: 429 / 500 / 503 responses, added latency, or a dropped
 * connection (socket destroyed without a response), before or after the request is processed, for a
 * count of requests and/or a ratio, optionally limited to a path prefix and to `$batch` items.
 */
import { randomUUID } from 'node:crypto';
import { seededRandom } from '../seeded-random.ts';

export type FaultMode = '429' | '500' | '503' | 'latency' | 'drop';

export type FaultRuleInput = {
  readonly mode: FaultMode;
  /** Apply to this many matching requests, then retire (default: unlimited). */
  readonly count?: number;
  /** Probability 0..1 that a matching request is hit (default 1). */
  readonly ratio?: number;
  /** For `latency` (default 1000). */
  readonly latencyMs?: number;
  /** Only requests whose path starts with this (e.g. `/v1.0/users`, `/<tenantId>/oauth2`). */
  readonly pathPrefix?: string;
  /** Only these methods (e.g. ['POST','PATCH']). */
  readonly methods?: ReadonlyArray<string>;
  /** Retry-After seconds for 429/503 (default 1 for 429; none for 503). */
  readonly retryAfterSeconds?: number;
  /** `before` (default): the request is not processed. `after`: it is processed, then the fault replaces the response. */
  readonly when?: 'before' | 'after';
  /** Also hit the individual requests inside `$batch` (429/500/503 only; inner responses). */
  readonly includeBatchItems?: boolean;
};

export type FaultRule = FaultRuleInput & { readonly id: string; remaining: number | undefined; hits: number };

export type FaultHit = { readonly rule: FaultRule };

const MODES = new Set<FaultMode>(['429', '500', '503', 'latency', 'drop']);

/** Validates a rule received as JSON; returns an error message or the rule. */
export function parseFaultRule(input: unknown): FaultRuleInput | string {
  if (typeof input !== 'object' || input === null) return 'Body must be a JSON object.';
  const r = input as Record<string, unknown>;
  const mode = String(r['mode']);
  if (!MODES.has(mode as FaultMode)) return `mode must be one of ${[...MODES].join(', ')}.`;
  const num = (key: string): number | undefined => (typeof r[key] === 'number' ? r[key] : undefined);
  const ratio = num('ratio');
  if (ratio !== undefined && (ratio < 0 || ratio > 1)) return 'ratio must be between 0 and 1.';
  const when = r['when'];
  if (when !== undefined && when !== 'before' && when !== 'after') return "when must be 'before' or 'after'.";
  const methods = Array.isArray(r['methods']) ? r['methods'].map((m) => String(m).toUpperCase()) : undefined;
  const rule: FaultRuleInput = {
    mode: mode as FaultMode,
    ...(num('count') !== undefined ? { count: num('count') } : {}),
    ...(ratio !== undefined ? { ratio } : {}),
    ...(num('latencyMs') !== undefined ? { latencyMs: num('latencyMs') } : {}),
    ...(typeof r['pathPrefix'] === 'string' ? { pathPrefix: r['pathPrefix'] } : {}),
    ...(methods ? { methods } : {}),
    ...(num('retryAfterSeconds') !== undefined ? { retryAfterSeconds: num('retryAfterSeconds') } : {}),
    ...(when === 'after' || when === 'before' ? { when } : {}),
    ...(typeof r['includeBatchItems'] === 'boolean' ? { includeBatchItems: r['includeBatchItems'] } : {}),
  };
  return rule;
}

export class FaultInjector {
  private rules: FaultRule[] = [];
  private random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  add(input: FaultRuleInput): FaultRule {
    const rule: FaultRule = { ...input, id: randomUUID(), remaining: input.count, hits: 0 };
    this.rules.push(rule);
    return rule;
  }

  clear(): void {
    this.rules = [];
  }

  list(): ReadonlyArray<FaultRule> {
    return this.rules;
  }

  /** The first rule that hits this request, consuming one of its counts. */
  match(request: { method: string; path: string; batchItem: boolean; phase: 'before' | 'after' }): FaultRule | undefined {
    for (const rule of this.rules) {
      if ((rule.when ?? 'before') !== request.phase) continue;
      if (request.batchItem && (!rule.includeBatchItems || rule.mode === 'drop' || rule.mode === 'latency')) continue;
      if (rule.pathPrefix !== undefined && !request.path.toLowerCase().startsWith(rule.pathPrefix.toLowerCase())) continue;
      if (rule.methods && !rule.methods.includes(request.method.toUpperCase())) continue;
      if (rule.remaining !== undefined && rule.remaining <= 0) continue;
      if (rule.ratio !== undefined && this.random() >= rule.ratio) continue;
      if (rule.remaining !== undefined) rule.remaining -= 1;
      rule.hits += 1;
      return rule;
    }
    return undefined;
  }
}
