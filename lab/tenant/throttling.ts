/**
 * Identity-and-access throttling (graph-reference.md §8): token buckets per application+tenant (resource
 * units by tenant size and writes), per application, and per tenant (writes). Window lengths are divided
 * by `timeScale`; Retry-After is the real time until the bucket holds enough tokens, rounded up.
 */
import { GraphHttpError } from './errors.ts';
import type { JsonObject } from './model.ts';

export type ThrottleBudgets = {
  /** Off: no 429s, headers still sent. */
  readonly enabled: boolean;
  /** RU quota of the application+tenant pair per window; undefined = by tenant size (S 3,500 / M 5,000 / L 8,000). */
  readonly appTenantResourceUnits: number | undefined;
  readonly appTenantResourceUnitWindowSeconds: number;
  readonly appTenantWrites: number;
  readonly appTenantWriteWindowSeconds: number;
  readonly applicationResourceUnits: number;
  readonly applicationResourceUnitWindowSeconds: number;
  readonly applicationWrites: number;
  readonly applicationWriteWindowSeconds: number;
  readonly tenantWrites: number;
  readonly tenantWriteWindowSeconds: number;
  /**
   * What a `members@odata.bind` of N members costs. §8.1 documents the write quota in requests: one per
   * POST/PATCH/PUT/DELETE (undefined, the default). A third party was told ≈ ⌈N/3⌉ write units (§8.1's
   * anecdote): 3 charges that way.
   */
  readonly membersPerBindWrite: number | undefined;
};

export const DEFAULT_BUDGETS: ThrottleBudgets = {
  enabled: true,
  appTenantResourceUnits: undefined,
  appTenantResourceUnitWindowSeconds: 10,
  appTenantWrites: 3000,
  appTenantWriteWindowSeconds: 150,
  applicationResourceUnits: 150_000,
  applicationResourceUnitWindowSeconds: 20,
  applicationWrites: 35_000,
  applicationWriteWindowSeconds: 300,
  tenantWrites: 18_000,
  tenantWriteWindowSeconds: 300,
  membersPerBindWrite: undefined,
};

/** S under 50 users, M 50–500, L above 500. */
export function resourceUnitsForTenantSize(userCount: number): number {
  if (userCount < 50) return 3500;
  if (userCount <= 500) return 5000;
  return 8000;
}

class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(public capacity: number, public windowMs: number, now: number) {
    this.tokens = capacity;
    this.last = now;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.capacity) / this.windowMs);
    this.last = now;
  }

  /** Milliseconds until `cost` tokens are available (0 = now). */
  waitMs(cost: number, now: number): number {
    this.refill(now);
    const needed = Math.min(cost, this.capacity) - this.tokens;
    return needed <= 0 ? 0 : (needed * this.windowMs) / this.capacity;
  }

  take(cost: number): void {
    this.tokens -= cost;
  }

  usage(now: number): number {
    this.refill(now);
    return (this.capacity - this.tokens) / this.capacity;
  }

  resize(capacity: number, windowMs: number): void {
    if (capacity === this.capacity && windowMs === this.windowMs) return;
    this.tokens = Math.min(capacity, this.tokens + (capacity - this.capacity));
    this.capacity = capacity;
    this.windowMs = windowMs;
  }
}

export type ThrottleDecision =
  | { readonly allowed: true; readonly limitPercentage: number | undefined }
  | {
    readonly allowed: false;
    readonly retryAfterSeconds: number;
    readonly scope: string;
    readonly information: string;
  };

type BucketKind = 'appTenantRu' | 'appTenantWrite' | 'appRu' | 'appWrite' | 'tenantWrite';

export class Throttler {
  private readonly buckets = new Map<string, TokenBucket>();
  budgets: ThrottleBudgets;

  constructor(budgets: ThrottleBudgets, private readonly timeScale: number, private readonly tenantId: string) {
    this.budgets = budgets;
  }

  private spec(kind: BucketKind, userCount: number): { capacity: number; windowMs: number } {
    const b = this.budgets;
    const scale = (seconds: number): number => (seconds * 1000) / this.timeScale;
    switch (kind) {
      case 'appTenantRu':
        return { capacity: b.appTenantResourceUnits ?? resourceUnitsForTenantSize(userCount), windowMs: scale(b.appTenantResourceUnitWindowSeconds) };
      case 'appTenantWrite':
        return { capacity: b.appTenantWrites, windowMs: scale(b.appTenantWriteWindowSeconds) };
      case 'appRu':
        return { capacity: b.applicationResourceUnits, windowMs: scale(b.applicationResourceUnitWindowSeconds) };
      case 'appWrite':
        return { capacity: b.applicationWrites, windowMs: scale(b.applicationWriteWindowSeconds) };
      case 'tenantWrite':
        return { capacity: b.tenantWrites, windowMs: scale(b.tenantWriteWindowSeconds) };
    }
  }

  private bucket(kind: BucketKind, key: string, userCount: number, now: number): TokenBucket {
    const spec = this.spec(kind, userCount);
    const id = `${kind}:${key}`;
    let bucket = this.buckets.get(id);
    if (!bucket) {
      bucket = new TokenBucket(spec.capacity, spec.windowMs, now);
      this.buckets.set(id, bucket);
    } else {
      bucket.resize(spec.capacity, spec.windowMs);
    }
    return bucket;
  }

  /** Checks and, when allowed, consumes `ru` resource units and `writes` write units for `appId`. */
  check(appId: string, ru: number, writes: number, userCount: number, now: number = Date.now()): ThrottleDecision {
    const checks: { kind: BucketKind; bucket: TokenBucket; cost: number; scope: string; information: string }[] = [
      { kind: 'appTenantRu', bucket: this.bucket('appTenantRu', appId, userCount, now), cost: ru,
        scope: `Tenant_Application/ReadWrite/${appId}/${this.tenantId}`, information: 'ResourceUnitLimitExceeded' },
      { kind: 'appRu', bucket: this.bucket('appRu', appId, userCount, now), cost: ru,
        scope: `Application/ReadWrite/${appId}/${this.tenantId}`, information: 'ResourceUnitLimitExceeded' },
    ];
    if (writes > 0) {
      checks.push(
        { kind: 'appTenantWrite', bucket: this.bucket('appTenantWrite', appId, userCount, now), cost: writes,
          scope: `Tenant_Application/Write/${appId}/${this.tenantId}`, information: 'WriteLimitExceeded' },
        { kind: 'appWrite', bucket: this.bucket('appWrite', appId, userCount, now), cost: writes,
          scope: `Application/Write/${appId}/${this.tenantId}`, information: 'WriteLimitExceeded' },
        { kind: 'tenantWrite', bucket: this.bucket('tenantWrite', 'tenant', userCount, now), cost: writes,
          scope: `Tenant/Write/${appId}/${this.tenantId}`, information: 'WriteLimitExceeded' },
      );
    }
    if (this.budgets.enabled) {
      let worst: { waitMs: number; scope: string; information: string } | undefined;
      for (const c of checks) {
        const waitMs = c.bucket.waitMs(c.cost, now);
        if (waitMs > 0 && (!worst || waitMs > worst.waitMs)) worst = { waitMs, scope: c.scope, information: c.information };
      }
      if (worst) {
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(worst.waitMs / 1000)), scope: worst.scope, information: worst.information };
      }
    }
    let usage = 0;
    for (const c of checks) {
      c.bucket.take(c.cost);
      usage = Math.max(usage, c.bucket.usage(now));
    }
    return { allowed: true, limitPercentage: usage > 0.8 ? Math.min(1.8, Math.round(usage * 10) / 10) : undefined };
  }

  reset(): void {
    this.buckets.clear();
  }

  describe(now: number = Date.now()): JsonObject {
    const out: JsonObject = {};
    for (const [id, bucket] of this.buckets) {
      out[id] = { capacity: bucket.capacity, windowMs: bucket.windowMs, usage: Math.round(bucket.usage(now) * 1000) / 1000 };
    }
    return out;
  }
}

/** The §8.2 429: `TooManyRequests` with Retry-After (integer seconds) and the x-ms-throttle-* headers. */
export function throttledError(retryAfterSeconds: number, scope?: string, information?: string): GraphHttpError {
  const headers: Record<string, string> = { 'Retry-After': String(retryAfterSeconds) };
  if (scope !== undefined) headers['x-ms-throttle-scope'] = scope;
  if (information !== undefined) headers['x-ms-throttle-information'] = information;
  return new GraphHttpError(429, 'TooManyRequests', 'Please retry again later.', {
    headers,
    innerExtra: { code: '429', message: 'Please retry after', status: '429' },
  });
}
