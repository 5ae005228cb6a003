/**
 * The state store: one SQLite file (better-sqlite3), WAL, forward-only migrations.
 */
import Database from 'better-sqlite3';
import { accessSync, chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StoreError } from '../errors/store-error.ts';
import { AccessError, accessErrorOf } from '../errors/access-error.ts';
import { productVersion } from '../version.ts';
import { migrations, type Migration } from './migrations.ts';

export type Db = Database.Database;

/** The newest schema version a list of migrations reaches. */
export function latestSchemaVersion(list: ReadonlyArray<Migration> = migrations): number {
  return list.reduce((max, m) => Math.max(max, m.version), 0);
}

/**
 * The schema version recorded in a store file's header (SQLite's user_version, bytes 60–63), read
 * without opening it as a database, so a store this version must refuse is never written to; 0 for
 * an empty or new file.
 */
export function storedSchemaVersion(file: string): number {
  if (!existsSync(file)) return 0;
  const header = Buffer.alloc(100);
  const fd = openSync(file, 'r');
  try {
    if (readSync(fd, header, 0, 100, 0) < 100) return 0;
  } finally {
    closeSync(fd);
  }
  if (header.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') {
    throw new StoreError(`${file} is not a Directory Sync state store (not an SQLite database). Restore the store from a backup, or move this file away to start afresh.`);
  }
  return header.readUInt32BE(60);
}

/**
 * The schema version of a store that may be open elsewhere (the service runs): with a write-ahead
 * log the header can lag behind, so the log is read too, through a read-only connection.
 */
export function liveSchemaVersion(file: string): number {
  const header = storedSchemaVersion(file);
  if (!existsSync(`${file}-wal`)) return header;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return schemaVersion(db);
  } finally {
    db.close();
  }
}

export type OpenedDatabase = { readonly db: Db; readonly upgradedFrom?: number; readonly backupFile?: string };

/**
 * Opens (or creates) the store and migrates it forward. A store of a newer schema than this version
 * knows is refused before anything is written to it. Before an existing store is migrated, a copy is
 * kept in `backups/` beside it (what it was, for a downgrade or a failed upgrade), and the upgrade
 * is recorded in the store.
 */
export const WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;

export function openDatabase(file: string, options: { migrations?: ReadonlyArray<Migration> } = {}): Db {
  return openDatabaseWithUpgrade(file, options).db;
}

/** SQLite says only "unable to open database file": whether this account may not read or write the store or its folder. */
function deniedAccess(file: string): AccessError | undefined {
  for (const [path, mode] of [[dirname(file), constants.R_OK | constants.W_OK | constants.X_OK], [file, constants.R_OK | constants.W_OK]] as const) {
    try {
      accessSync(path, mode);
    } catch (error) {
      const refused = accessErrorOf(error, path);
      if (refused instanceof AccessError) return refused;
    }
  }
  return undefined;
}

export function openDatabaseWithUpgrade(file: string, options: { migrations?: ReadonlyArray<Migration> } = {}): OpenedDatabase {
  const list = options.migrations ?? migrations;
  const latest = latestSchemaVersion(list);
  const found = file === ':memory:' ? 0 : storedSchemaVersion(file);
  if (found > latest) throw newerStoreError(file, found, latest);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  let db: Db;
  try {
    db = new Database(file);
  } catch (error) {
    const refused = deniedAccess(file);
    if (refused) throw refused;
    throw new StoreError(`Cannot open the state store ${file}: ${(error as Error).message}. Check that the data directory exists and is writable by the service.`);
  }
  // The store holds the configuration and the encrypted secrets: only its owner may read it (the
  // write-ahead log and shared-memory files SQLite makes beside it take the same permissions).
  if (file !== ':memory:' && process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // The write-ahead log keeps the size of the largest transaction it ever held (78 MB after a first
  // run at 100,000 users) unless told otherwise: after each checkpoint it is cut back to 16 MB.
  db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  const before = schemaVersion(db);
  let backupFile: string | undefined;
  if (before > 0 && before < latest && file !== ':memory:') backupFile = backupBeforeUpgrade(db, file, before);
  migrate(db, list);
  if (before > 0 && before < latest && hasTable(db, 'store_upgrades')) {
    db.prepare('INSERT INTO store_upgrades (from_version, to_version, product_version, upgraded_at, backup_file) VALUES (?, ?, ?, ?, ?)')
      .run(before, latest, productVersion, nowIso(), backupFile ?? null);
  }
  return { db, ...(before > 0 && before < latest ? { upgradedFrom: before } : {}), ...(backupFile ? { backupFile } : {}) };
}

function newerStoreError(file: string, found: number, latest: number): StoreError {
  return new StoreError(`The state store ${file} has schema version ${found}, newer than this version of Directory Sync (${productVersion}) understands (${latest}). ` +
    'It was left untouched. Install the newer version of Directory Sync again, or restore a backup of the store made by this version (backups/ beside it).');
}

function hasTable(db: Db, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** A consistent copy of the store as it is, in `backups/` beside it, before its schema changes. */
function backupBeforeUpgrade(db: Db, file: string, version: number): string {
  const dir = join(dirname(file), 'backups');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const backup = join(dir, `${basename(file, '.db')}-schema-${version}-${stamp}.db`);
  try {
    db.prepare('VACUUM INTO ?').run(backup);
  } catch (error) {
    db.close();
    throw new StoreError(`Before upgrading the state store ${file} from schema ${version}, its backup to ${backup} failed: ${(error as Error).message}. ` +
      'Free disk space in the data directory and start the service again; the store was not changed.');
  }
  if (process.platform !== 'win32') chmodSync(backup, 0o600);
  return backup;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies every migration above the store's version, each in its own transaction. */
export function migrate(db: Db, list: ReadonlyArray<Migration>): void {
  const current = schemaVersion(db);
  const latest = latestSchemaVersion(list);
  if (current > latest) {
    db.close();
    throw newerStoreError(db.name, current, latest);
  }
  for (const migration of [...list].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}

export function nowIso(): string {
  return new Date().toISOString();
}
