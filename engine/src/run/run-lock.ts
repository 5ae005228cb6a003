/**
 * The run lock: one run at a time per store, and a run whose process died never keeps it.
 */
import { RunInProgressError } from '../errors/run-errors.ts';
import type { Store } from '../store/store.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How often a run writes its heartbeat into the run lock. */
const HEARTBEAT_MS = 30_000;
/** A heartbeat older than this, by the wall clock, makes the holder suspect. */
const STALE_AFTER_MS = 10 * 60_000;

export type RunLockOptions = {
  /** How long to watch a silent holder's heartbeat before taking over (default: a heartbeat interval and 10 s). */
  readonly watchMs?: number;
  readonly heartbeatMs?: number;
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` holding the run lock: one run at a time per store. A holder that looks silent by the
 * wall clock but whose process lives is watched for one heartbeat interval before it is taken over,
 * so that a clock jumping forward never lets a second run start beside a live one; a holder that
 * truly stopped (a hung process, or a reused process id) is taken over after that wait.
 */
export async function withRunLock<T>(store: Store, work: () => Promise<T>, options: RunLockOptions = {}): Promise<T> {
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  let lock = store.acquireRunLock(undefined, STALE_AFTER_MS, isAlive);
  if (!lock.acquired && lock.silent) {
    await sleep(options.watchMs ?? heartbeatMs + 10_000);
    if (store.takeOverRunLock(undefined, lock.silent)) lock = { acquired: true };
  }
  if (!lock.acquired) {
    throw new RunInProgressError(`Another synchronization run is in progress (process ${lock.holder.pid} on ${lock.holder.host}, since ${lock.holder.since}). Wait for it to finish.`);
  }
  store.failAbandonedRuns('The process running it stopped before it finished.');
  const heartbeat = setInterval(() => {
    try {
      store.heartbeatRunLock();
    } catch {
      // A full disk: the run itself meets the same error and stops with it.
    }
  }, heartbeatMs);
  heartbeat.unref();
  return work().finally(() => {
    clearInterval(heartbeat);
    try {
      store.releaseRunLock();
    } catch {
      // Not released (a full disk): a later run reclaims it once its holder is gone or its heartbeat stale.
    }
  });
}
