/**
 * The tenant ownership lease (ARCHITECTURE.md "Ownership: one active server"): an open extension on the
 * organization object that names the one server allowed to export.
 *
 *   GET/POST/PATCH/DELETE /organization/{tenantId}/extensions/com.directorysync.ownership
 *   { serverId, hostName, generation, claimedAt, heartbeatAt }
 *
 * Graph offers no compare-and-swap on open extensions (no ETag; PATCH replaces the whole bag, last
 * writer wins — graph-reference.md §9.3). A claim is therefore: read → write → wait `settleMs` → re-read,
 * and the claim holds only if the re-read still shows this server's write.
 *
 * The race window that remains: two servers that claim at nearly the same moment both write, and the
 * later write wins. Each writer re-reads after `settleMs`; whoever no longer sees its own write backs
 * off. Both can believe they won only when one server's write lands more than `settleMs` after the
 * other's (a slow or paused writer, or a read served by a lagging replica). The loser then finds out on
 * its next verification — within OwnershipGuard's `verifyEverySeconds` — and stops exporting; until then
 * both may export. The same holds for a heartbeat written just as another server takes over (the
 * window is then one read-to-write round trip). `generation` counts claims by a new holder, so a
 * take-over is visible even when host names repeat.
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import { z } from 'zod';
import { mapCloudError } from '../errors/cloud-errors.ts';
import type { EngineError } from '../errors/engine-error.ts';
import { OwnershipContendedError, OwnershipLostError, OwnershipUnverifiedError } from '../errors/ownership-errors.ts';

export const OWNERSHIP_EXTENSION_NAME = 'com.directorysync.ownership';

/** This server: a stable id (kept in its store) and the computer's name, shown to administrators. */
export type ServerIdentity = { readonly serverId: string; readonly hostName: string };

export type OwnershipLease = {
  readonly serverId: string;
  readonly hostName: string;
  /** Increases by one each time another server claims the lease. */
  readonly generation: number;
  /** ISO 8601: when the holder claimed it. */
  readonly claimedAt: string;
  /** ISO 8601: when the holder last confirmed it (OwnershipGuard heartbeat). */
  readonly heartbeatAt: string;
};

/** Milliseconds since the epoch. */
export type Clock = () => number;

export type ClaimOptions = {
  /** Replace another server's lease (after the administrator agreed). */
  readonly takeOver: boolean;
  /** How long to wait between the write and the confirming re-read; default 3000 ms. */
  readonly settleMs?: number;
  readonly now?: Clock;
};

export type ClaimResult =
  | { readonly claimed: true; readonly lease: OwnershipLease }
  /** Another server holds it: show "held by <hostName> since <claimedAt>, take over?". */
  | { readonly claimed: false; readonly holder: OwnershipLease };

/** `owner`, or who holds the lease now (`null`: nobody, it was released). */
export type OwnershipVerdict = 'owner' | { readonly lost: OwnershipLease | null };

export type ReleaseResult = { readonly released: true } | { readonly released: false; readonly holder: OwnershipLease | null };

const DEFAULT_SETTLE_MS = 3000;
const CLAIM_ATTEMPTS = 3;

const leaseSchema = z.object({
  serverId: z.string().min(1),
  hostName: z.string(),
  generation: z.number().int().nonnegative(),
  claimedAt: z.string(),
  heartbeatAt: z.string(),
});

function leasePath(tenantId: string): string {
  return `/organization/${encodeURIComponent(tenantId)}/extensions/${OWNERSHIP_EXTENSION_NAME}`;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function iso(clock: Clock): string {
  return new Date(clock()).toISOString();
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A record someone else wrote in another shape still means "held": it can be replaced only by taking over. */
function toLease(raw: Record<string, unknown>): OwnershipLease {
  const parsed = leaseSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const generation = typeof raw['generation'] === 'number' && Number.isInteger(raw['generation']) && raw['generation'] >= 0 ? raw['generation'] : 0;
  return {
    serverId: typeof raw['serverId'] === 'string' && raw['serverId'] !== '' ? raw['serverId'] : 'unknown',
    hostName: typeof raw['hostName'] === 'string' && raw['hostName'] !== '' ? raw['hostName'] : 'an unknown server',
    generation,
    claimedAt: typeof raw['claimedAt'] === 'string' ? raw['claimedAt'] : '',
    heartbeatAt: typeof raw['heartbeatAt'] === 'string' ? raw['heartbeatAt'] : '',
  };
}

function sameClaim(a: OwnershipLease, b: OwnershipLease): boolean {
  return a.serverId === b.serverId && a.generation === b.generation && a.claimedAt === b.claimedAt;
}

function body(lease: OwnershipLease): Record<string, unknown> {
  return {
    '@odata.type': 'microsoft.graph.openTypeExtension', extensionName: OWNERSHIP_EXTENSION_NAME,
    serverId: lease.serverId, hostName: lease.hostName, generation: lease.generation, claimedAt: lease.claimedAt, heartbeatAt: lease.heartbeatAt,
  };
}

/** The current lease, or null when no server holds one. */
export async function readOwnership(graph: Client, tenantId: string): Promise<OwnershipLease | null> {
  try {
    return toLease((await graph.api(leasePath(tenantId)).get()) as Record<string, unknown>);
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw mapCloudError(error, 'read the tenant ownership lease');
  }
}

/**
 * Writes the whole bag: POST when there was no lease (409 → someone created one meanwhile), PATCH
 * otherwise (404 → it was deleted meanwhile). Returns false when the caller must read again.
 */
async function writeLease(graph: Client, tenantId: string, lease: OwnershipLease, exists: boolean): Promise<boolean> {
  try {
    if (exists) await graph.api(leasePath(tenantId)).patch(body(lease));
    else await graph.api(`/organization/${encodeURIComponent(tenantId)}/extensions`).post(body(lease));
    return true;
  } catch (error) {
    const status = statusOf(error);
    if ((exists && status === 404) || (!exists && status === 409)) return false;
    throw mapCloudError(error, 'write the tenant ownership lease');
  }
}

/**
 * Claims the lease for this server. Without `takeOver`, a lease held by another server is left alone and
 * returned as `holder`. With it, the lease is overwritten with generation + 1. Already holding it
 * refreshes the heartbeat and keeps the generation. See the module comment for the race window.
 */
export async function claimOwnership(graph: Client, tenantId: string, me: ServerIdentity, options: ClaimOptions): Promise<ClaimResult> {
  const clock = options.now ?? Date.now;
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt += 1) {
    const current = await readOwnership(graph, tenantId);
    if (current && current.serverId !== me.serverId && !options.takeOver) return { claimed: false, holder: current };
    const at = iso(clock);
    const lease: OwnershipLease = current && current.serverId === me.serverId
      ? { ...current, hostName: me.hostName, heartbeatAt: at }
      : { serverId: me.serverId, hostName: me.hostName, generation: (current?.generation ?? 0) + 1, claimedAt: at, heartbeatAt: at };
    if (!(await writeLease(graph, tenantId, lease, current !== null))) continue;
    await sleep(settleMs);
    const after = await readAfterOwnWrite(graph, tenantId, current, settleMs);
    if (after && after.serverId === me.serverId) return { claimed: true, lease: sameClaim(after, lease) ? lease : after };
    // Another server wrote after us: it won (and it did not ask us, so neither do we overwrite it now).
    if (after) return { claimed: false, holder: after };
    // Released between our write and the re-read: try again.
  }
  throw new OwnershipContendedError();
}

/** Whether two reads of the lease saw the same write (both none, or the same lease with the same heartbeat). */
function sameWrite(a: OwnershipLease | null, b: OwnershipLease | null): boolean {
  if (a === null || b === null) return a === b;
  return sameClaim(a, b) && a.heartbeatAt === b.heartbeatAt;
}

/** How long a claim waits for its own write to reach the replica that answers its re-read. */
const OWN_WRITE_REPLICATION_MS = 60_000;

/**
 * Re-reads the lease after this server wrote it. Microsoft Entra ID is eventually consistent: a replica
 * that has not seen the write answers with the lease as it was before it — that is waited out (never
 * taken for another server's write); a lease that differs from both is another server's.
 */
async function readAfterOwnWrite(graph: Client, tenantId: string, before: OwnershipLease | null, settleMs: number): Promise<OwnershipLease | null> {
  const deadline = performance.now() + OWN_WRITE_REPLICATION_MS;
  let after = await readOwnership(graph, tenantId);
  for (let attempt = 1; sameWrite(after, before) && performance.now() < deadline; attempt += 1) {
    await sleep(Math.min(5000, Math.max(settleMs, 250) * attempt));
    after = await readOwnership(graph, tenantId);
  }
  return after;
}

/**
 * Whether this server still holds the lease. With `heartbeat`, the holder also writes `heartbeatAt`
 * (read → write at once; a take-over landing in between is overwritten — see the module comment).
 */
export async function verifyOwnership(graph: Client, tenantId: string, me: ServerIdentity,
  options: { readonly heartbeat?: boolean; readonly now?: Clock } = {}): Promise<OwnershipVerdict> {
  const current = await readOwnership(graph, tenantId);
  if (!current || current.serverId !== me.serverId) return { lost: current };
  if (options.heartbeat) {
    const renewed: OwnershipLease = { ...current, hostName: me.hostName, heartbeatAt: iso(options.now ?? Date.now) };
    if (!(await writeLease(graph, tenantId, renewed, true))) return { lost: null };
  }
  return 'owner';
}

/** Gives the lease up (deletes it) when this server holds it; another server's lease is left alone. */
export async function releaseOwnership(graph: Client, tenantId: string, me: ServerIdentity): Promise<ReleaseResult> {
  const current = await readOwnership(graph, tenantId);
  if (!current || current.serverId !== me.serverId) return { released: false, holder: current };
  try {
    await graph.api(leasePath(tenantId)).delete();
  } catch (error) {
    if (statusOf(error) !== 404) throw mapCloudError(error, 'release the tenant ownership lease');
  }
  return { released: true };
}

// ---------------------------------------------------------------------------------------------------
// OwnershipGuard: what the sync run consults before each export page
// ---------------------------------------------------------------------------------------------------

export type OwnershipGuardOptions = {
  readonly graph: Client;
  readonly tenantId: string;
  readonly me: ServerIdentity;
  /** mayExport() re-verifies in the background once the last verification is this old; default 60 s. */
  readonly verifyEverySeconds?: number;
  /** As the owner, write heartbeatAt at most this often while verifying; default 300 s; 0 = never. */
  readonly heartbeatEverySeconds?: number;
  /** Without a successful verification for this long, mayExport() fails closed; default 3 × verifyEverySeconds. */
  readonly maxUnverifiedSeconds?: number;
  /** Wait between write and re-read when claiming through the guard; default 3000 ms. */
  readonly settleMs?: number;
  /** Wall-clock time: what is written into the lease and shown. */
  readonly now?: Clock;
  /**
   * A monotonic clock in milliseconds for the intervals (default performance.now): the wall clock
   * set back an hour must not stop re-verification for an hour while another server took over.
   */
  readonly elapsed?: Clock;
};

export type OwnershipGuardStatus = {
  /** `unknown`: not verified yet. */
  readonly state: 'unknown' | 'owner' | 'lost';
  /** Who holds the lease when it is lost (null: nobody). */
  readonly holder?: OwnershipLease | null;
  /** ISO 8601 time of the last successful verification. */
  readonly verifiedAt?: string;
  /** The last verification failure, when the lease could not be read. */
  readonly lastError?: EngineError;
};

/**
 * A cached view of the lease for the export loop: `mayExport()` is synchronous and cheap; when the last
 * verification is older than `verifyEverySeconds` it starts one in the background (the answer flips
 * once it completes). It is false before the first verification, once the lease is lost, and when the
 * lease could not be read for `maxUnverifiedSeconds` (fail closed). `mayExport` is a bound function, so
 * it can be passed as the exporter's `mayContinue`.
 */
export class OwnershipGuard {
  private state: 'unknown' | 'owner' | 'lost' = 'unknown';
  private holder: OwnershipLease | null = null;
  /** Wall-clock time of the last verification, shown in status(). */
  private verifiedAt: number | undefined;
  /** The same moment, and the last heartbeat, on the monotonic clock: what the intervals are measured on. */
  private verifiedElapsed: number | undefined;
  private heartbeatElapsed: number | undefined;
  private lastError: EngineError | undefined;
  private inFlight: Promise<OwnershipGuardStatus> | undefined;
  private readonly clock: Clock;
  private readonly elapsed: Clock;
  private readonly verifyEveryMs: number;
  private readonly heartbeatEveryMs: number;
  private readonly maxUnverifiedMs: number;

  public constructor(private readonly options: OwnershipGuardOptions) {
    this.clock = options.now ?? Date.now;
    this.elapsed = options.elapsed ?? (() => performance.now());
    this.verifyEveryMs = (options.verifyEverySeconds ?? 60) * 1000;
    this.heartbeatEveryMs = (options.heartbeatEverySeconds ?? 300) * 1000;
    this.maxUnverifiedMs = (options.maxUnverifiedSeconds ?? 3 * (options.verifyEverySeconds ?? 60)) * 1000;
  }

  public readonly mayExport = (): boolean => {
    const now = this.elapsed();
    if (this.verifiedElapsed === undefined || now - this.verifiedElapsed >= this.verifyEveryMs) this.refreshInBackground();
    return this.state === 'owner' && this.verifiedElapsed !== undefined && now - this.verifiedElapsed < this.maxUnverifiedMs;
  };

  /** Throws OwnershipLostError (another holder, or none) or OwnershipUnverifiedError unless mayExport(). */
  public assertMayExport(): void {
    if (this.mayExport()) return;
    if (this.state === 'lost') throw new OwnershipLostError(this.holder);
    const reason = this.lastError ? ` (${this.lastError.message})` : '';
    throw new OwnershipUnverifiedError(this.verifiedAt === undefined
      ? `This server has not confirmed yet that it holds the tenant ownership lease${reason}: it does not export until it has. Check the connection to Microsoft Graph.`
      : `This server could not confirm that it still holds the tenant ownership lease since ${new Date(this.verifiedAt).toISOString()}${reason}: it stops exporting until it can. Check the connection to Microsoft Graph.`);
  }

  public status(): OwnershipGuardStatus {
    return {
      state: this.state,
      ...(this.state === 'lost' ? { holder: this.holder } : {}),
      ...(this.verifiedAt !== undefined ? { verifiedAt: new Date(this.verifiedAt).toISOString() } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Verifies now (joining a verification already under way); rejects when the lease cannot be read. */
  public refresh(): Promise<OwnershipGuardStatus> {
    this.inFlight ??= this.verify().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Resolves once no background verification is under way (its failure is in status().lastError). */
  public async settled(): Promise<void> {
    while (this.inFlight) {
      try {
        await this.inFlight;
      } catch (error) {
        this.lastError = mapCloudError(error, 'verify the tenant ownership lease');
      }
    }
  }

  /** Claims the lease (see claimOwnership) and updates the cached view at once. */
  public async claim(takeOver: boolean): Promise<ClaimResult> {
    const result = await claimOwnership(this.options.graph, this.options.tenantId, this.options.me, { takeOver, settleMs: this.options.settleMs, now: this.clock });
    this.record(result.claimed ? 'owner' : { lost: result.holder });
    if (result.claimed) this.heartbeatElapsed = this.elapsed();
    return result;
  }

  /** Releases the lease if this server holds it; this server then no longer exports. */
  public async release(): Promise<ReleaseResult> {
    const result = await releaseOwnership(this.options.graph, this.options.tenantId, this.options.me);
    this.record(result.released ? { lost: null } : { lost: result.holder });
    return result;
  }

  private refreshInBackground(): void {
    if (this.inFlight) return;
    this.refresh().catch((error: unknown) => {
      this.lastError = mapCloudError(error, 'verify the tenant ownership lease');
    });
  }

  private async verify(): Promise<OwnershipGuardStatus> {
    const { graph, tenantId, me } = this.options;
    const heartbeat = this.state === 'owner' && this.heartbeatEveryMs > 0 && (this.heartbeatElapsed === undefined || this.elapsed() - this.heartbeatElapsed >= this.heartbeatEveryMs);
    try {
      const verdict = await verifyOwnership(graph, tenantId, me, { heartbeat, now: this.clock });
      if (heartbeat && verdict === 'owner') this.heartbeatElapsed = this.elapsed();
      this.record(verdict);
      return this.status();
    } catch (error) {
      this.lastError = mapCloudError(error, 'verify the tenant ownership lease');
      throw this.lastError;
    }
  }

  private record(verdict: OwnershipVerdict): void {
    this.verifiedAt = this.clock();
    this.verifiedElapsed = this.elapsed();
    this.lastError = undefined;
    if (verdict === 'owner') {
      this.state = 'owner';
      this.holder = null;
    } else {
      this.state = 'lost';
      this.holder = verdict.lost;
    }
  }
}
