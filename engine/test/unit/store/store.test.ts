import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { migrate, openDatabase, schemaVersion, WAL_SIZE_LIMIT_BYTES } from '../../../src/store/database.ts';
import { migrations } from '../../../src/store/migrations.ts';
import { adCandidatesPageSql, exportPageSql, LINKS_OF_DELETED_AFTER_RUN_SQL, MANAGED_CLOUD_PAGE_SQL, planCandidatesPageSql, Store, UNCONFIRMED_OPERATIONS_SQL } from '../../../src/store/store.ts';
import type { PlannedOperation } from '../../../src/contract/model.ts';
import { exportPriority } from '../../../src/sync/plan.ts';

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

  it('keeps each source\'s objects apart: a full import of one source never deletes another\'s', () => {
    const { store } = tempStore();
    const entry = (guid: string) => ({ guid, guidBase64: guid, dn: `CN=${guid}`, objectClass: 'user' as const, deleted: false, attributes: {} });
    store.upsertAdEntries([entry('a1'), entry('a2')], 1, 'contoso.com');
    store.upsertAdEntries([entry('b1')], 1, 'fabrikam.com');
    store.upsertAdEntries([entry('a1')], 2, 'contoso.com');
    assert.equal(store.markUnseenAdObjectsDeleted(2, 'contoso.com'), 1, 'a2 is gone from its source');
    assert.deepEqual([...store.adSyncCandidates()].flat().map((e) => e.guid).sort(), ['a1', 'b1'], 'b1, not seen by that import, is another source\'s');
    assert.equal((store.db.prepare("SELECT source FROM ad_objects WHERE guid = 'b1'").get() as { source: string }).source, 'fabrikam.com');
  });
});

describe('store: export order', () => {
  const kinds = ['create-user', 'create-group', 'add-member', 'update-user', 'set-manager', 'delete-user'] as const;
  const op = (i: number): PlannedOperation => ({
    kind: kinds[i % kinds.length] as PlannedOperation['kind'], objectType: i % kinds.length === 1 ? 'group' : 'user',
    sourceAnchor: `anchor-${i}`, dn: `CN=u${i},OU=T,DC=x`, reason: 'test',
  });

  it('pages through a plan in export order, only the statuses asked for, each operation once', () => {
    const { store } = tempStore();
    const runId = store.startRun('full', false);
    const planId = store.createPlan(runId, 'applying', []);
    const operations = Array.from({ length: 5000 }, (_, i) => op(i));
    store.transaction(() => store.addOperations(planId, operations, 'planned'));
    // Some already done, some to retry, as in a resumed export.
    store.transaction(() => {
      for (let seq = 1; seq <= 5000; seq += 3) store.setOperationStatus(planId, seq, 'confirmed');
      for (let seq = 2; seq <= 5000; seq += 7) store.setOperationStatus(planId, seq, 'failed', 'boom');
    });
    const seen = [...store.operationsToExport(planId, ['planned', 'failed'], 97)].flat();
    const expected = store.listOperations(planId).filter((o) => o.status === 'planned' || o.status === 'failed');
    assert.deepEqual(seen.map((o) => o.seq), expected.map((o) => o.seq));
    assert.equal(new Set(seen.map((o) => o.seq)).size, seen.length);
    const priorities = seen.map((o) => exportPriority(o.operation));
    assert.deepEqual(priorities, [...priorities].sort((a, b) => a - b), 'export order is by priority');
    store.close();
  });

  it('reads each page from the export-order index, without sorting the rest of the plan', () => {
    const { store } = tempStore();
    const plan = store.db.prepare(`EXPLAIN QUERY PLAN ${exportPageSql(2)}`).all(1, -1, 0, 'planned', 'failed', 200) as Array<{ detail: string }>;
    const details = plan.map((row) => row.detail).join(' | ');
    assert.match(details, /USING INDEX plan_operations_order \(plan_id=\? AND \(priority,seq\)>\(\?,\?\)\)/);
    assert.doesNotMatch(details, /TEMP B-TREE/);
    store.close();
  });
});

describe('store: plan operation rows', () => {
  it('keeps an operation as its columns and the rest as JSON, and reads it back whole — also rows written whole by earlier versions', () => {
    const { store } = tempStore();
    const planId = store.createPlan(store.startRun('full', false), 'applying', []);
    const withAll: PlannedOperation = { kind: 'add-member', objectType: 'group', sourceAnchor: 'g-anchor', adGuid: '00000000-0000-0000-0000-00000000000a', dn: 'CN=G,OU=T,DC=x', cloudId: 'cloud-g', reason: 'member', member: { sourceAnchor: 'u-anchor', objectType: 'user', dn: 'CN=U,OU=T,DC=x', cloudId: 'cloud-u' } } as PlannedOperation;
    const orphan: PlannedOperation = { kind: 'delete-user', objectType: 'user', sourceAnchor: 'o-anchor', cloudId: 'cloud-o', reason: 'gone from AD' } as PlannedOperation;
    store.transaction(() => store.addOperations(planId, [withAll, orphan], 'planned'));
    const raw = store.db.prepare('SELECT operation FROM plan_operations WHERE plan_id = ? ORDER BY seq').all(planId) as Array<{ operation: string }>;
    assert.doesNotMatch(raw[0]?.operation ?? '', /CN=G,OU=T|g-anchor|add-member|0000000a/, 'the column values are not repeated in the JSON');
    const read = store.listOperations(planId).map((o) => o.operation);
    assert.deepEqual(read.find((o) => o.kind === 'add-member'), withAll);
    assert.deepEqual(read.find((o) => o.kind === 'delete-user'), orphan);
    assert.equal('dn' in (read.find((o) => o.kind === 'delete-user') as object), false);
    // A row of an earlier version: the whole operation in the JSON.
    store.db.prepare('UPDATE plan_operations SET operation = ? WHERE plan_id = ? AND seq = 1').run(JSON.stringify(withAll), planId);
    assert.deepEqual(store.listOperations(planId).find((o) => o.seq === 1)?.operation, withAll);
    // Updated with a changed operation (a create that got its cloud id), the columns follow.
    store.setOperationStatus(planId, 2, 'confirmed', undefined, { ...orphan, dn: 'CN=Last known,DC=x' });
    assert.equal(store.listOperations(planId).find((o) => o.seq === 2)?.operation.dn, 'CN=Last known,DC=x');
    store.close();
  });
});

describe('store: write-ahead log', () => {
  it('cuts the log back after a large transaction instead of keeping its size for good', () => {
    const { store, dir } = tempStore();
    store.db.exec('CREATE TABLE bulk (v BLOB)');
    const insert = store.db.prepare('INSERT INTO bulk (v) VALUES (?)');
    store.transaction(() => { for (let i = 0; i < 400; i += 1) insert.run(Buffer.alloc(100_000, i)); }); // ~40 MB in one transaction
    const wal = join(dir, 'dirsync.db-wal');
    assert.ok(statSync(wal).size > WAL_SIZE_LIMIT_BYTES, 'the large transaction went through the log');
    for (let i = 0; i < 3; i += 1) store.transaction(() => insert.run(Buffer.alloc(10, i)));
    assert.ok(statSync(wal).size <= WAL_SIZE_LIMIT_BYTES, `the log is ${statSync(wal).size} bytes`);
    store.close();
  });
});

describe('store: paging the connector spaces', () => {
  it('reads each page of AD candidates and managed cloud objects from the key index, without sorting the rest', () => {
    const { store } = tempStore();
    for (const [label, sql, args] of [
      ['AD candidates', adCandidatesPageSql(false), [{ after: '', limit: 1000 }]],
      ['plan candidates (with link and cloud object)', planCandidatesPageSql(false), [{ after: '', limit: 1000 }]],
      ['managed cloud objects', MANAGED_CLOUD_PAGE_SQL, ['', 1000]],
    ] as const) {
      const details = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
      assert.doesNotMatch(details, /TEMP B-TREE/, `${label}: ${details}`);
    }
    store.close();
  });

  it('finds what a delta run needs through indexes of what changed, never by reading every object or operation', () => {
    const { store } = tempStore();
    for (const [label, sql, args, index] of [
      ['changed AD candidates', adCandidatesPageSql(true), [{ after: '', limit: 500, run: 3 }], 'ad_objects_changed'],
      ['changed plan candidates', planCandidatesPageSql(true), [{ after: '', limit: 500, run: 3 }], 'ad_objects_changed'],
      ['links of deleted AD objects', LINKS_OF_DELETED_AFTER_RUN_SQL, [3], 'ad_objects_changed'],
      ['operations sent, not confirmed', UNCONFIRMED_OPERATIONS_SQL, [], 'plan_operations_sent'],
    ] as const) {
      const details = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail);
      assert.match(details[0] ?? '', new RegExp(`USING INDEX ${index}\\b`), `${label}: ${details.join(' | ')}`);
    }
    store.close();
  });

  it('pages through the AD candidates changed after a run, in order', () => {
    const { store } = tempStore();
    const first = store.startRun('full', false);
    const entry = (i: number, title: string) => ({ guid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, guidBase64: `g${i}`, dn: `CN=O${i},DC=x`,
      objectClass: i % 5 === 0 ? 'container' : 'user', deleted: false, attributes: { title: [title] }, memberGuids: [] });
    store.transaction(() => store.upsertAdEntries(Array.from({ length: 1200 }, (_, i) => entry(i, 'a')) as never, first));
    const second = store.startRun('delta', false);
    const changed = Array.from({ length: 1200 }, (_, i) => i).filter((i) => i % 3 === 0);
    store.transaction(() => store.upsertAdEntries(changed.map((i) => entry(i, 'b')) as never, second));
    const seen = [...store.adSyncCandidates({ changedAfterRun: first, pageSize: 70 })].flat().map((e) => e.guid);
    assert.deepEqual(seen, changed.filter((i) => i % 5 !== 0).map((i) => entry(i, 'b').guid));
    store.close();
  });

  it('pages through every AD candidate once, in order, skipping deleted objects and other classes', () => {
    const { store } = tempStore();
    const runId = store.startRun('full', false);
    const entries = Array.from({ length: 2500 }, (_, i) => ({
      guid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, guidBase64: `g${i}`, dn: `CN=O${i},DC=x`, objectClass: i % 10 === 0 ? 'organizationalUnit' : i % 7 === 0 ? 'group' : 'user',
      deleted: i % 13 === 0, attributes: {}, memberGuids: [],
    }));
    store.transaction(() => store.upsertAdEntries(entries as never, runId));
    const seen = [...store.adSyncCandidates({ pageSize: 300 })].flat().map((e) => e.guid);
    const expected = entries.filter((e) => !e.deleted && e.objectClass !== 'organizationalUnit').map((e) => e.guid).sort();
    assert.deepEqual(seen, expected);
    // With links: the cloud id of each linked object (a link still being made has none).
    store.setLink({ adGuid: entries[1]!.guid, sourceAnchor: 'g1', objectType: 'user', cloudId: 'cloud-1', state: 'linked', dn: entries[1]!.dn }, runId);
    store.setLink({ adGuid: entries[2]!.guid, sourceAnchor: 'g2', objectType: 'user', state: 'pending-create', dn: entries[2]!.dn }, runId);
    const linked = [...store.adSyncCandidatesLinked(300)].flat();
    assert.deepEqual(linked.map((c) => c.entry.guid), expected);
    assert.deepEqual(linked.filter((c) => c.linkedCloudId !== undefined).map((c) => [c.entry.guid, c.linkedCloudId]), [[entries[1]!.guid, 'cloud-1']]);
    store.close();
  });
});

describe('store: the in-scope table', () => {
  it('is rebuilt in place: unchanged rows are not rewritten, changed ones are, objects no longer in scope are dropped, duplicates are found in it', () => {
    const { store } = tempStore();
    const rows = [
      { guid: 'a', dn: 'CN=A,DC=x', upn: 'a@contoso.com', mail: 'shared@contoso.com' },
      { guid: 'b', dn: 'CN=B,DC=x', upn: 'B@contoso.com', mail: 'SHARED@contoso.com' },
      { guid: 'c', dn: 'CN=C,DC=x', upn: 'b@contoso.com' },
    ];
    store.beginInScopeRebuild();
    for (const row of rows) store.putInScope(row);
    store.finishInScopeTable('digest-1', new Set(['a', 'b', 'c']));
    assert.equal(store.inScopeTableBuiltFor(), 'digest-1');
    assert.deepEqual(store.inScopeSharedValues('upn').map((r) => r.guid).sort(), ['b', 'c']);
    assert.deepEqual(store.inScopeSharedValues('mail').map((r) => r.guid).sort(), ['a', 'b']);

    const changes = (): number => (store.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    store.beginInScopeRebuild();
    assert.equal(store.inScopeTableBuiltFor(), undefined, 'while it is rebuilt, the table counts as not built');
    const before = changes();
    store.putInScope(rows[0] as (typeof rows)[0]);
    assert.equal(changes(), before, 'an unchanged row is not written');
    store.putInScope({ ...(rows[2] as (typeof rows)[0]), upn: 'c@contoso.com' });
    assert.equal(changes(), before + 1, 'a changed row is');
    store.finishInScopeTable('digest-2', new Set(['a', 'c']));
    assert.equal(store.countInScope(), 2);
    assert.equal(store.inScopeRow('b'), undefined, 'b left the scope');
    assert.equal(store.inScopeRow('c')?.upn, 'c@contoso.com');
    assert.deepEqual(store.inScopeSharedValues('upn'), []);
    store.close();
  });
});
