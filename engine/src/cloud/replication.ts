/**
 * Microsoft Entra ID is eventually consistent (docs/eventual-consistency.md): a write is accepted by one
 * replica and reaches the others seconds (at times minutes) later, so a request right after it may not
 * see it. What the engine recognises of that, and how long it waits for it.
 */
import { createHash } from 'node:crypto';

/** How long after this product created (or restored) an object a "not found" for it may be replication, not absence. */
export const RECENT_WRITE_WINDOW_MS = 30 * 60_000;

/** How long after a create went unanswered a conflict on its UPN or immutable id may be its own object, not yet replicated. */
export const UNANSWERED_CREATE_WINDOW_MS = 2 * 60 * 60_000;

/** How long a run waits, in all, for objects it created to reach the replicas before it leaves the rest to the next run. */
export const DEFAULT_REPLICATION_WAIT_MS = 120_000;

/** Graph's answers for a reference or target its replica has not seen (graph-reference.md and docs/eventual-consistency.md). */
const REFUSED_REFERENCE = [/not a valid reference update/i, /objects? being referenced do(es)? not exist/i];

/** Whether an answer is what a replica that has not seen an object says of it. */
export function isReplicationRefusal(status: number, code: string | undefined, message: string): boolean {
  if (status === 404) return code === undefined || /ResourceNotFound/i.test(code);
  return status === 400 && REFUSED_REFERENCE.some((pattern) => pattern.test(message));
}

/** Whether a write made at `writtenAt` (ISO) is recent enough that replicas may still miss it. */
export function isRecentWrite(writtenAt: string | undefined, now = Date.now(), windowMs = RECENT_WRITE_WINDOW_MS): boolean {
  if (writtenAt === undefined) return false;
  const at = Date.parse(writtenAt);
  return Number.isFinite(at) && now - at < windowMs;
}

/**
 * The alternate key (`uniqueName`) of the group made from an AD object's anchor: a create sent twice is an
 * upsert of one group, never a second group (security groups have no other unique property).
 */
export function groupUniqueName(sourceAnchor: string): string {
  return `dirsync-${createHash('sha256').update(sourceAnchor, 'utf8').digest('hex').slice(0, 40)}`;
}

/** Waits between attempts to reach objects still replicating: 1, 2, 4, 8, 16, then 30 s, never past the deadline. */
export function replicationBackoffMs(attempt: number, remainingMs: number): number {
  return Math.max(0, Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1), remainingMs));
}
