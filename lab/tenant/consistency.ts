/**
 * Eventual consistency of the emulated tenant (lab/tenant/README.md, "Eventual consistency"). Microsoft
 * Entra serves reads from replicas and replicates writes asynchronously: a successful write does not
 * guarantee that the next read reflects it ("Designing for Eventual Consistency for Microsoft Entra").
 *
 * With `TenantOptions.consistency` (or `PUT /_lab/consistency`) every write to a directory object is applied
 * to the primary at once and becomes visible to other requests only after its own lag, drawn from a seeded
 * PRNG. A request is served by a lagging replica with probability `staleReadRatio`; the replica shows each
 * object as it was before its not-yet-replicated changes. The directory store asks `Replication` (one per
 * store) for that view; `Consistency` (one per tenant) holds the settings, the PRNGs and the request context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { seededRandom } from '../seeded-random.ts';
import type { Clock } from './clock.ts';
import type { AppRoleAssignment, DirectoryObject } from './model.ts';

export type LagRange = { readonly min: number; readonly max: number };

export type ConsistencyOptions = {
  /** Replication lag of each write to a directory object, in ms of the tenant clock (uniform in [min, max]). */
  readonly lagMs: LagRange;
  /** Seed of the PRNGs (lags, replica choice); default 1. */
  readonly seed?: number;
  /** Probability (0..1) that a request is served by a lagging replica; default 1 (every request). */
  readonly staleReadRatio?: number;
  /** Lag before the token endpoint sees new applications, service principals, credentials and app role assignments. */
  readonly tokenLagMs?: LagRange;
};

/** `PUT /users/{id}/manager/$ref` naming a manager that is not replicated yet (400 Request_BadRequest). */
export const NOT_VALID_REFERENCE_UPDATE = 'Not a valid reference update.';
/** `members@odata.bind` / `owners@odata.bind` naming an object that is not replicated yet (400 Request_BadRequest). */
export const REFERENCED_OBJECT_MISSING = 'The source resource object or one of the objects being referenced do not exist.';

/** The longest lag accepted (one hour of tenant clock). */
export const MAX_LAG_MS = 3_600_000;

/** A lagging replica as of `at` (tenant clock). Write requests resolve their target and references on it. */
export type ReplicaView = { readonly at: number; readonly write: boolean };

type RequestContext = { readonly view: ReplicaView | undefined; readonly epoch: number };

const ALLOWED_KEYS = ['enabled', 'lagMs', 'seed', 'staleReadRatio', 'tokenLagMs'];

function checkRange(value: unknown, name: string): LagRange | string {
  const r = value as Record<string, unknown> | null;
  const ok = typeof r === 'object' && r !== null && !Array.isArray(r) && Object.keys(r).every((k) => k === 'min' || k === 'max')
    && typeof r['min'] === 'number' && typeof r['max'] === 'number' && Number.isFinite(r['min']) && Number.isFinite(r['max'])
    && r['min'] >= 0 && r['min'] <= r['max'] && r['max'] <= MAX_LAG_MS;
  if (!ok) return `${name} must be { "min": <ms>, "max": <ms> } with 0 <= min <= max <= ${MAX_LAG_MS}.`;
  return { min: Math.round(Number(r['min'])), max: Math.round(Number(r['max'])) };
}

/**
 * Validates consistency settings received as JSON (`PUT /_lab/consistency`, `TenantOptions.consistency`,
 * `TenantControl.setConsistency`). `{ "enabled": false }` means off. Returns the settings or an error message.
 */
export function parseConsistency(input: unknown): { readonly options: ConsistencyOptions | undefined } | { readonly error: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { error: 'Body must be a JSON object.' };
  const b = input as Record<string, unknown>;
  const unknown = Object.keys(b).find((k) => !ALLOWED_KEYS.includes(k));
  if (unknown !== undefined) return { error: `Unknown property '${unknown}'. Allowed: ${ALLOWED_KEYS.join(', ')}.` };
  if (b['enabled'] !== undefined && typeof b['enabled'] !== 'boolean') return { error: 'enabled must be true or false.' };
  if (b['enabled'] === false) return { options: undefined };
  if (b['lagMs'] === undefined) return { error: 'lagMs is required: { "min": <ms>, "max": <ms> } (or { "enabled": false } to turn the mode off).' };
  const lagMs = checkRange(b['lagMs'], 'lagMs');
  if (typeof lagMs === 'string') return { error: lagMs };
  const seed = b['seed'];
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isSafeInteger(seed))) return { error: 'seed must be an integer.' };
  const ratio = b['staleReadRatio'];
  if (ratio !== undefined && (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1))) return { error: 'staleReadRatio must be a number from 0 to 1.' };
  let tokenLagMs: LagRange | undefined;
  if (b['tokenLagMs'] !== undefined) {
    const parsed = checkRange(b['tokenLagMs'], 'tokenLagMs');
    if (typeof parsed === 'string') return { error: parsed };
    tokenLagMs = parsed;
  }
  return {
    options: {
      lagMs, ...(seed !== undefined ? { seed } : {}), ...(ratio !== undefined ? { staleReadRatio: ratio } : {}),
      ...(tokenLagMs !== undefined ? { tokenLagMs } : {}),
    },
  };
}

/** `200-400` (or `300` for a fixed lag) → `{ min: 200, max: 400 }`. */
export function parseLagRange(text: string, name: string): LagRange {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(text);
  const range = m ? checkRange({ min: Number(m[1]), max: Number(m[2] ?? m[1]) }, name) : undefined;
  if (range === undefined || typeof range === 'string') {
    throw new Error(`${name} must be <min>-<max> in milliseconds (0 <= min <= max <= ${MAX_LAG_MS}), e.g. 200-400. Got '${text}'.`);
  }
  return range;
}

/** The lab daemon's settings from its environment: `DIRSYNC_LAB_LAG_MS=min-max` turns the mode on. */
export function consistencyFromEnv(env: Readonly<Record<string, string | undefined>>): ConsistencyOptions | undefined {
  const lag = env['DIRSYNC_LAB_LAG_MS'];
  if (lag === undefined || lag.trim() === '') return undefined;
  const tokenLag = env['DIRSYNC_LAB_TOKEN_LAG_MS'];
  const seed = env['DIRSYNC_LAB_LAG_SEED'];
  if (seed !== undefined && !/^\d+$/.test(seed.trim())) throw new Error(`DIRSYNC_LAB_LAG_SEED must be a non-negative integer. Got '${seed}'.`);
  return {
    lagMs: parseLagRange(lag, 'DIRSYNC_LAB_LAG_MS'),
    ...(tokenLag !== undefined && tokenLag.trim() !== '' ? { tokenLagMs: parseLagRange(tokenLag, 'DIRSYNC_LAB_TOKEN_LAG_MS') } : {}),
    ...(seed !== undefined ? { seed: Number(seed.trim()) } : {}),
  };
}

/** A copy that later changes of the primary object do not reach (values are replaced, never changed in place). */
export function cloneObject(obj: DirectoryObject): DirectoryObject {
  return {
    ...obj, props: { ...obj.props }, members: [...obj.members], owners: [...obj.owners], internal: { ...obj.internal },
    extensions: obj.extensions.map((e) => ({ ...e, data: { ...e.data } })), propSeq: { ...obj.propSeq },
  };
}

function pickLag(random: () => number, range: LagRange): number {
  return range.min + Math.floor(random() * (range.max - range.min + 1));
}

/** The tenant's consistency settings, PRNGs and the per-request context (which replica serves the request). */
export class Consistency {
  private settings: ConsistencyOptions | undefined;
  private lagRandom: () => number = seededRandom(1);
  private tokenRandom: () => number = seededRandom(2);
  private readRandom: () => number = seededRandom(3);
  private readonly context = new AsyncLocalStorage<RequestContext>();
  private epoch = 0;

  constructor(readonly clock: Clock, options?: ConsistencyOptions) {
    this.configure(options);
  }

  get options(): ConsistencyOptions | undefined {
    return this.settings;
  }

  /** New settings (or undefined = off); the PRNGs restart from the seed. */
  configure(options: ConsistencyOptions | undefined): void {
    this.settings = options;
    const seed = options?.seed ?? 1;
    this.lagRandom = seededRandom(seed);
    this.tokenRandom = seededRandom(seed ^ 0x2545f491);
    this.readRandom = seededRandom(seed ^ 0x5bd1e995);
  }

  /**
   * Runs a Graph handler on a lagging replica (probability staleReadRatio) or on the primary. Without the mode
   * it just runs it.
   */
  serve<T>(write: boolean, run: () => T): T {
    const options = this.settings;
    if (!options) return run();
    const ratio = options.staleReadRatio ?? 1;
    const stale = ratio >= 1 || (ratio > 0 && this.readRandom() < ratio);
    this.epoch += 1;
    return this.context.run({ view: stale ? { at: this.clock.now(), write } : undefined, epoch: this.epoch }, run);
  }

  /** Runs `read` against the primary (uniqueness checks: writes are serialized on the primary). */
  onPrimary<T>(read: () => T): T {
    const current = this.context.getStore();
    if (!current?.view) return read();
    return this.context.run({ view: undefined, epoch: current.epoch }, read);
  }

  currentView(): ReplicaView | undefined {
    return this.context.getStore()?.view;
  }

  /** Identifies the request being served (0 outside requests): the changes of one request replicate together. */
  currentEpoch(): number {
    return this.context.getStore()?.epoch ?? 0;
  }

  drawLag(): number {
    return this.settings ? pickLag(this.lagRandom, this.settings.lagMs) : 0;
  }

  /** A token-endpoint lag, or undefined when tokens are not lagged. */
  drawTokenLag(): number | undefined {
    const range = this.settings?.tokenLagMs;
    return range ? pickLag(this.tokenRandom, range) : undefined;
  }
}

type Version = {
  /** The object before this change (null: it did not exist). */
  readonly before: DirectoryObject | null;
  readonly visibleAt: number;
  /** Change sequence of the first change it covers (delta); undefined for changes delta does not track (owners). */
  seq: number | undefined;
  readonly lagMs: number;
  readonly epoch: number;
  /** Order of recording (reports). */
  readonly n: number;
};

type TokenEntry = { readonly visibleAt: number; readonly lagMs: number; readonly n: number };
type AssignmentVersion = { readonly before: AppRoleAssignment | null; readonly visibleAt: number; readonly lagMs: number; readonly n: number };

/** What `GET /_lab/consistency` answers: the settings in the shape `PUT` takes, with the defaults filled in. */
export type ConsistencyState =
  | { readonly enabled: false }
  | { readonly enabled: true; readonly lagMs: LagRange; readonly seed: number; readonly staleReadRatio: number; readonly tokenLagMs?: LagRange };

export function consistencyState(options: ConsistencyOptions | undefined): ConsistencyState {
  if (!options) return { enabled: false };
  return {
    enabled: true, lagMs: options.lagMs, seed: options.seed ?? 1, staleReadRatio: options.staleReadRatio ?? 1,
    ...(options.tokenLagMs ? { tokenLagMs: options.tokenLagMs } : {}),
  };
}

export type PendingChange = { readonly objectId: string; readonly seq: number | null; readonly lagMs: number; readonly visibleAt: string };
export type PendingTokenChange = { readonly key: string; readonly lagMs: number; readonly visibleAt: string };

/** `GET /_lab/consistency/pending`: the changes not replicated yet, in the order they were written. */
export type PendingReplication = { readonly changes: ReadonlyArray<PendingChange>; readonly tokens: ReadonlyArray<PendingTokenChange> };

/**
 * The not-yet-replicated changes of one directory store: per object, the versions it had before each pending
 * change (in order; each visible at or after the previous one, as a replica applies its log in order), and
 * what the token endpoint does not know yet.
 */
export class Replication {
  private readonly versions = new Map<string, Version[]>();
  private readonly tokenKeys = new Map<string, TokenEntry>();
  private readonly assignments = new Map<string, AssignmentVersion[]>();
  private recorded = 0;

  constructor(readonly consistency: Consistency) {}

  currentView(): ReplicaView | undefined {
    return this.consistency.currentView();
  }

  onPrimary<T>(read: () => T): T {
    return this.consistency.onPrimary(read);
  }

  /** Called before an object changes (before = undefined when it is being created). */
  record(id: string, before: DirectoryObject | undefined, seq: number | undefined): void {
    const list = this.versions.get(id);
    const last = list?.[list.length - 1];
    const epoch = this.consistency.currentEpoch();
    if (last && epoch !== 0 && last.epoch === epoch) {
      last.seq ??= seq;
      return;
    }
    const lagMs = this.consistency.drawLag();
    const now = this.consistency.clock.now();
    const visibleAt = Math.max(now + lagMs, last?.visibleAt ?? 0);
    this.recorded += 1;
    const version: Version = { before: before ? cloneObject(before) : null, visibleAt, seq, lagMs, epoch, n: this.recorded };
    if (list) list.push(version);
    else this.versions.set(id, [version]);
    // Replicated versions are dropped when read; a directory written to but not read is swept now and then.
    if (this.recorded % 256 === 0) this.pendingIds(now);
  }

  /** Drops the versions visible at `at`; the first pending one, if any. */
  private firstPending(id: string, at: number): Version | undefined {
    const list = this.versions.get(id);
    if (!list) return undefined;
    let visible = 0;
    while (visible < list.length && (list[visible]?.visibleAt ?? 0) <= at) visible += 1;
    if (visible === list.length) {
      this.versions.delete(id);
      return undefined;
    }
    if (visible > 0) list.splice(0, visible);
    return list[0];
  }

  /** The object on a replica at `at`: undefined = as on the primary, null = absent, else the replica's copy (read only). */
  viewOf(id: string, at: number): DirectoryObject | null | undefined {
    if (this.versions.size === 0) return undefined;
    const pending = this.firstPending(id, at);
    return pending === undefined ? undefined : pending.before;
  }

  /** Ids of the objects with changes not replicated at `at`. */
  pendingIds(at: number): string[] {
    const out: string[] = [];
    for (const id of [...this.versions.keys()]) if (this.firstPending(id, at)) out.push(id);
    return out;
  }

  /** The lowest change sequence not replicated at `at` (Infinity when everything is). */
  minPendingSeq(at: number): number {
    let min = Infinity;
    for (const id of this.pendingIds(at)) {
      for (const v of this.versions.get(id) ?? []) if (v.seq !== undefined && v.seq < min) min = v.seq;
    }
    return min;
  }

  /** The token endpoint learns of something (an application, a service principal, a credential) after a lag. */
  recordToken(key: string): void {
    const lagMs = this.consistency.drawTokenLag();
    if (lagMs === undefined) return;
    this.recorded += 1;
    this.tokenKeys.set(key, { visibleAt: this.consistency.clock.now() + lagMs, lagMs, n: this.recorded });
  }

  tokenVisible(key: string): boolean {
    const entry = this.tokenKeys.get(key);
    if (!entry) return true;
    if (entry.visibleAt > this.consistency.clock.now()) return false;
    this.tokenKeys.delete(key);
    return true;
  }

  /** Called before an app role assignment is added (before = null) or removed (before = the assignment). */
  recordAssignment(id: string, before: AppRoleAssignment | null): void {
    const lagMs = this.consistency.drawTokenLag();
    if (lagMs === undefined) return;
    const list = this.assignments.get(id) ?? [];
    const visibleAt = Math.max(this.consistency.clock.now() + lagMs, list[list.length - 1]?.visibleAt ?? 0);
    this.recorded += 1;
    list.push({ before: before ? { ...before } : null, visibleAt, lagMs, n: this.recorded });
    this.assignments.set(id, list);
  }

  /** The app role assignments as the token endpoint knows them now. */
  tokenAssignments(primary: ReadonlyArray<AppRoleAssignment>): ReadonlyArray<AppRoleAssignment> {
    if (this.assignments.size === 0) return primary;
    const now = this.consistency.clock.now();
    const pending = new Map<string, AppRoleAssignment | null>();
    for (const [id, list] of [...this.assignments]) {
      const first = list.find((v) => v.visibleAt > now);
      if (first) pending.set(id, first.before);
      else this.assignments.delete(id);
    }
    const out = primary.filter((a) => !pending.has(a.id));
    for (const before of pending.values()) if (before) out.push(before);
    return out;
  }

  /** What is not replicated yet (lab control report), in the order it was written. */
  describe(): PendingReplication {
    const now = this.consistency.clock.now();
    const iso = (ms: number): string => new Date(ms).toISOString();
    const changes: (PendingChange & { n: number })[] = [];
    for (const id of this.pendingIds(now)) {
      for (const v of this.versions.get(id) ?? []) changes.push({ objectId: id, seq: v.seq ?? null, lagMs: v.lagMs, visibleAt: iso(v.visibleAt), n: v.n });
    }
    const tokens: (PendingTokenChange & { n: number })[] = [];
    for (const [key, e] of this.tokenKeys) if (e.visibleAt > now) tokens.push({ key, lagMs: e.lagMs, visibleAt: iso(e.visibleAt), n: e.n });
    for (const [id, list] of this.assignments) {
      for (const v of list) {
        if (v.visibleAt > now) tokens.push({ key: `appRoleAssignment:${id}`, lagMs: v.lagMs, visibleAt: iso(v.visibleAt), n: v.n });
      }
    }
    const strip = <T extends { n: number }>(items: T[]): Omit<T, 'n'>[] => items.sort((a, b) => a.n - b.n).map(({ n: _n, ...rest }) => rest);
    return { changes: strip(changes), tokens: strip(tokens) };
  }
}
