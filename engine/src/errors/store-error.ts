import { EngineError } from './engine-error.ts';

/** The state store cannot be opened, migrated or written. */
export class StoreError extends EngineError {
  public readonly code = 'store';
  public override readonly name = 'StoreError';
}

/** SQLite's result codes for a store that cannot be written for lack of space. */
const DISK_FULL_CODES = new Set(['SQLITE_FULL', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_SHMSIZE']);

/**
 * A store error an administrator can act on, from what SQLite (or the file system) threw; other
 * errors are returned as they are.
 */
export function storeErrorOf(error: unknown, where: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (DISK_FULL_CODES.has(code) || code === 'ENOSPC')) {
    return new StoreError(`The disk holding the store (${where}) is full (${(error as Error).message}). Free space on it, or move the data directory ` +
      'to a larger disk; nothing was lost: the next run goes on from where this one stopped.');
  }
  return error;
}
