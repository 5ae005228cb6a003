import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { migrate, openDatabase, schemaVersion } from '../../../src/store/database.ts';
import { migrations } from '../../../src/store/migrations.ts';
import { Store } from '../../../src/store/store.ts';

function tempStore(): { store: Store; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dirsync-store-'));
  return { store: Store.open(join(dir, 'dirsync.db'), join(dir, 'secret.key')), dir };
}

describe('store', () => {
  it('creates the schema at the newest version and upgrades in place without losing data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dirsync-migrate-'));
    const file = join(dir, 'old.db');
    const v1 = openDatabase(file, { migrations: migrations.filter((m) => m.version === 1) });
    v1.prepare("INSERT INTO cursors (name, value, updated_at) VALUES ('x', 'kept', 'now')").run();
    v1.close();
    const next = [...migrations, { version: 99, name: 'test', sql: 'CREATE TABLE later (id INTEGER);' }];
    const upgraded = openDatabase(file, { migrations: next });
    assert.equal(schemaVersion(upgraded), 99);
    assert.equal((upgraded.prepare("SELECT value FROM cursors WHERE name = 'x'").get() as { value: string }).value, 'kept');
    upgraded.close();
  });

  it('refuses a store written by a newer version, saying what to do', () => {
    const db = openDatabase(':memory:');
    db.pragma('user_version = 500');
    assert.throws(() => migrate(db, migrations), /newer than this version/);
  });

  it('keeps secrets encrypted at rest with an owner-only key file', () => {
    const { store, dir } = tempStore();
    store.secrets.set('ad.password', 'S3cret-Value!');
    assert.equal(store.secrets.get('ad.password'), 'S3cret-Value!');
    store.close();
    const raw = readFileSync(join(dir, 'dirsync.db'));
    assert.equal(raw.includes(Buffer.from('S3cret-Value!')), false, 'the secret must not be stored in clear text');
    if (process.platform !== 'win32') assert.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600);
  });

  it('refuses a second run while the first holds the lock, and reclaims the lock of a dead holder', () => {
    const { store } = tempStore();
    assert.equal(store.acquireRunLock(1, 60_000, () => true).acquired, true);
    const busy = store.acquireRunLock(2, 60_000, () => true);
    assert.equal(busy.acquired, false);
    const reclaimed = store.acquireRunLock(2, 60_000, () => false);
    assert.equal(reclaimed.acquired, true, 'a holder whose process is gone must not keep the lock');
    store.releaseRunLock();
    assert.equal(store.acquireRunLock(3, 60_000, () => true).acquired, true);
  });

  it('writes the AD space page by page and marks objects a full import did not see as deleted', () => {
    const { store } = tempStore();
    const entry = (guid: string) => ({ guid, guidBase64: guid, dn: `CN=${guid}`, objectClass: 'user' as const, deleted: false, attributes: {} });
    store.upsertAdEntries([entry('a'), entry('b')], 1);
    store.upsertAdEntries([entry('a')], 2);
    assert.equal(store.markUnseenAdObjectsDeleted(2), 1);
    assert.equal(store.getAdEntry('b') !== undefined, true);
    assert.equal([...store.adSyncCandidates()].flat().map((e) => e.guid).join(), 'a');
  });
});
