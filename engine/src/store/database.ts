/**
 * The state store: one SQLite file (better-sqlite3), WAL, forward-only migrations.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreError } from '../errors/store-error.ts';
import { migrations, type Migration } from './migrations.ts';

export type Db = Database.Database;

export function openDatabase(file: string, options: { migrations?: ReadonlyArray<Migration> } = {}): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  let db: Db;
  try {
    db = new Database(file);
  } catch (error) {
    throw new StoreError(`Cannot open the state store ${file}: ${(error as Error).message}. Check that the data directory exists and is writable by the service.`);
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, options.migrations ?? migrations);
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies every migration above the store's version, each in its own transaction. */
export function migrate(db: Db, list: ReadonlyArray<Migration>): void {
  const current = schemaVersion(db);
  const latest = list.reduce((max, m) => Math.max(max, m.version), 0);
  if (current > latest) {
    throw new StoreError(`The state store has schema version ${current}, newer than this version of Directory Sync understands (${latest}). Install the newer version again, or restore a backup of the store.`);
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
