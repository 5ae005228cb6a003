/**
 * The engine's state: connector spaces, links, cursors, runs, plans and errors, over one SQLite file.
 * Every method is small and synchronous (better-sqlite3); multi-step changes take a transaction.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { MatchReportEntry, ObjectError, PlannedOperation, RunKind, RunStatus, RunSummary, SyncObjectType } from '../contract/model.ts';
import type { AdEntry } from '../sync/ad-entry.ts';
import type { CloudObject } from '../sync/cloud-object.ts';
import { exportPriority } from '../sync/plan.ts';
import type { Statement } from 'better-sqlite3';
import { nowIso, openDatabase, type Db } from './database.ts';
import { packJson, standardMembershipReason, unpackJson } from './compact.ts';
import { IN_SCOPE_BUILT_FOR, PRIMARY_SOURCE } from './keys.ts';
import { SecretStore, loadOrCreateKey, platformKeyProtector, type KeyProtector } from './secrets.ts';

export type LinkState = 'pending-create' | 'linked';
/** An AD object as planning reads it: with its link and, when the link is live, its cloud object. */
export type PlanCandidate = { readonly entry: AdEntry; readonly link?: Link; readonly linkedCloud?: CloudObject };
type PlanCandidateRow = {
  guid: string; entry: string; linkAnchor: string | null; linkType: string | null; linkCloudId: string | null; linkState: string | null; linkDn: string | null;
  cloud: string | null;
};
export type Link = { readonly adGuid: string; readonly sourceAnchor: string; readonly objectType: SyncObjectType; readonly cloudId?: string; readonly state: LinkState; readonly dn: string };

/**
 * A plan operation is kept as its columns (kind, object type, anchor, GUID, DN: what queries
 * select on) and a JSON of the rest: with the column values inside the JSON too, the rows of a
 * first run at 100,000 users (655,000 operations) took 580 MB. Rows written before that carry the
 * whole operation in the JSON; both read back the same.
 */
export const OPERATION_COLUMNS = 'operation, kind, object_type AS objectType, source_anchor AS sourceAnchor, ad_guid AS adGuid, dn';
export type OperationRow = { operation: string; kind: string; objectType: string; sourceAnchor: string; adGuid: string | null; dn: string | null };

export function packOperation(op: PlannedOperation): string {
  const { kind: _kind, objectType: _objectType, sourceAnchor: _sourceAnchor, adGuid: _adGuid, dn: _dn, ...rest } = op;
  // A membership change's standard reason is made again from its member when read (store/compact.ts).
  const { reason, ...withoutReason } = rest;
  return packJson(JSON.stringify(reason === standardMembershipReason(op) ? withoutReason : rest));
}

export function readOperation(row: OperationRow): PlannedOperation {
  const op = {
    kind: row.kind, objectType: row.objectType, sourceAnchor: row.sourceAnchor, ...(row.adGuid === null ? {} : { adGuid: row.adGuid }), ...(row.dn === null ? {} : { dn: row.dn }),
    ...(JSON.parse(unpackJson(row.operation)) as object),
  } as PlannedOperation;
  return op.reason === undefined ? { ...op, reason: standardMembershipReason(op) ?? '' } : op;
}

type StoredOperationRow = OperationRow & { planId: number; seq: number; status: OperationStatus; error: string | null };

function storedOperation(r: StoredOperationRow): StoredOperation {
  return { planId: r.planId, seq: r.seq, status: r.status, error: r.error ?? undefined, operation: readOperation(r) };
}

/**
 * Pages of the connector spaces, read in key order from where the last page ended. The `+` before
 * the filtered columns keeps SQLite off their indexes (object_class, managed_anchor): through those
 * it fetched every matching row and sorted them all for each page, O(n²) (5.1 s vs 0.3 s for
 * 100,000 rows). The objects changed after a run (a delta plan) are found through changed_run's
 * index and only they are sorted: through the key index a delta with nothing changed read all.
 */
function candidatesPageSql(changedAfterRun: boolean, columns: string, joins = ''): string {
  if (changedAfterRun) {
    return `SELECT ${columns} FROM ad_objects a INDEXED BY ad_objects_changed ${joins}
      WHERE a.changed_run > @run AND a.guid > @after AND a.object_class IN ('user', 'group', 'contact') AND a.deleted = 0 ORDER BY a.guid LIMIT @limit`;
  }
  return `SELECT ${columns} FROM ad_objects a ${joins} WHERE a.guid > @after AND +a.object_class IN ('user', 'group', 'contact') AND +a.deleted = 0 ORDER BY a.guid LIMIT @limit`;
}
export function adCandidatesPageSql(changedAfterRun: boolean): string {
  return candidatesPageSql(changedAfterRun, 'a.guid, a.entry');
}
/** The same pages with each object's linked cloud id (a full plan's pass 1: members and managers then need no lookup of their own). */
const AD_CANDIDATES_LINKED_PAGE_SQL = candidatesPageSql(false, 'a.guid, a.entry, l.cloud_id AS linkCloudId', "LEFT JOIN links l ON l.ad_guid = a.guid AND l.state = 'linked'");
/**
 * The same pages for planning, each AD object with its link and its linked cloud object in the same
 * row (one lookup per object, not three statements).
 */
export function planCandidatesPageSql(changedAfterRun: boolean): string {
  return candidatesPageSql(changedAfterRun,
    'a.guid, a.entry, l.source_anchor AS linkAnchor, l.object_type AS linkType, l.cloud_id AS linkCloudId, l.state AS linkState, l.dn AS linkDn, c.object AS cloud',
    "LEFT JOIN links l ON l.ad_guid = a.guid LEFT JOIN cloud_objects c ON c.id = l.cloud_id AND l.state = 'linked'");
}
export const LINKS_OF_DELETED_AFTER_RUN_SQL = 'SELECT l.ad_guid AS adGuid FROM ad_objects a JOIN links l ON l.ad_guid = a.guid WHERE a.changed_run > ? AND a.deleted = 1';
export const UNCONFIRMED_OPERATIONS_SQL = `SELECT plan_id AS planId, seq, status, error, ${OPERATION_COLUMNS} FROM plan_operations WHERE status = 'sent' ORDER BY plan_id, seq`;
const MANAGED_ANCHORS_PAGE_SQL = 'SELECT id, managed_anchor AS managedAnchor FROM cloud_objects WHERE id > ? AND +managed_anchor IS NOT NULL AND +soft_deleted = 0 ORDER BY id LIMIT ?';
export const MANAGED_CLOUD_PAGE_SQL = 'SELECT id, object FROM cloud_objects WHERE id > ? AND +managed_anchor IS NOT NULL AND +soft_deleted = 0 ORDER BY id LIMIT ?';
/** Cloud objects another tool synchronized once (an on-premises SID, written only by sync tools) and no longer synchronizes, not managed here. */
const FORMERLY_SYNCED_PAGE_SQL = 'SELECT id, object FROM cloud_objects WHERE id > ? AND +sid IS NOT NULL AND +synced = 0 AND +managed_anchor IS NULL AND +soft_deleted = 0 ORDER BY id LIMIT ?';

/** One page of a plan's operations in export order, after (priority, seq): parameters plan_id, priority, seq, the statuses, the page size. */
export function exportPageSql(statusCount: number): string {
  return `SELECT plan_id AS planId, seq, status, error, ${OPERATION_COLUMNS}, priority FROM plan_operations
      WHERE plan_id = ? AND (priority, seq) > (?, ?) AND status IN (${Array.from({ length: statusCount }, () => '?').join(', ')}) ORDER BY priority, seq LIMIT ?`;
}

export type OperationStatus = 'planned' | 'held' | 'approved' | 'sent' | 'confirmed' | 'failed' | 'skipped' | 'rejected';
export type StoredOperation = { readonly planId: number; readonly seq: number; readonly status: OperationStatus; readonly error?: string; readonly operation: PlannedOperation };
export type PlanStatus = 'previewed' | 'applying' | 'applied' | 'pending-approval' | 'approved' | 'rejected' | 'superseded';
export type StoredPlan = { readonly id: number; readonly runId: number; readonly createdAt: string; readonly status: PlanStatus; readonly reasons: ReadonlyArray<string> };

type AdRow = { guid: string; entry: string };

/** An AD object in scope, with the values the tenant requires unique (users: UPN and mail). */
export type InScopeRow = { readonly guid: string; readonly dn: string; readonly upn?: string; readonly mail?: string };
type CloudRow = { object: string };

/** The holder of the run lock as seen at one moment: who, and the heartbeat it had written. */
export type RunLockSighting = { readonly pid: number; readonly host: string; readonly heartbeat: string };

export type RunLockResult =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly holder: { pid: number; host: string; runId?: number; since: string }; readonly silent?: RunLockSighting };

export class Store {
  public readonly secrets: SecretStore;

  /** Prepared statements by SQL text: preparing costs more than running (a third of a no-change full run's time before). */
  private readonly statements = new Map<string, Statement>();

  private constructor(public readonly db: Db, key: Buffer) {
    this.secrets = new SecretStore(db, key);
  }

  /** The prepared statement for this SQL; a fresh one while the cached one is busy iterating. */
  private sql(text: string): Statement {
    const cached = this.statements.get(text);
    if (cached && !cached.busy) return cached;
    const statement = this.db.prepare(text);
    if (!cached) this.statements.set(text, statement);
    return statement;
  }

  /** The store's file (for messages). */
  public get location(): string {
    return this.db.name;
  }

  /** Opens (or makes) the store; its secret key is held as this OS holds it (`protector`: DPAPI on Windows, see secrets.ts). */
  public static open(file: string, keyFile: string, protector: KeyProtector | undefined = platformKeyProtector()): Store {
    return new Store(openDatabase(file), loadOrCreateKey(keyFile, protector));
  }

  /** A store in memory with a key of its own (unit tests of planning; nothing outlives it). */
  public static inMemory(): Store {
    return new Store(openDatabase(':memory:'), randomBytes(32));
  }

  public close(): void {
    this.db.close();
  }

  public transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  // ---- config and cursors -------------------------------------------------------------------

  public readConfigJson(): string | undefined {
    const row = this.sql('SELECT json FROM config WHERE id = 1').get() as { json: string } | undefined;
    return row?.json;
  }

  public writeConfigJson(json: string): void {
    this.sql('INSERT INTO config (id, json, updated_at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at').run(json, nowIso());
  }

  public getCursor(name: string): string | undefined {
    return (this.sql('SELECT value FROM cursors WHERE name = ?').get(name) as { value: string } | undefined)?.value;
  }

  public setCursor(name: string, value: string): void {
    this.sql('INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at').run(name, value, nowIso());
  }

  public deleteCursor(name: string): void {
    this.sql('DELETE FROM cursors WHERE name = ?').run(name);
  }

  // ---- run lock -----------------------------------------------------------------------------

  /**
   * Takes the run lock. A holder that is dead (its process is gone on this host) is replaced at once.
   * A holder whose heartbeat, by the wall clock, is older than `staleAfterMs` while its process lives
   * (or that is on another host) is not replaced here: a wall clock that jumped forward looks just
   * like that. It comes back as `silent`, with the heartbeat seen, for the caller to watch
   * (takeOverRunLock). Returns the current holder when the lock is busy.
   */
  public acquireRunLock(runId: number | undefined, staleAfterMs: number, isAlive: (pid: number) => boolean): RunLockResult {
    return this.transaction(() => {
      const row = this.sql('SELECT pid, host, run_id AS runId, acquired_at AS since, heartbeat_at AS heartbeat FROM run_lock WHERE id = 1').get() as
        { pid: number; host: string; runId: number | null; since: string; heartbeat: string } | undefined;
      if (row) {
        const dead = row.host === hostname() && !isAlive(row.pid);
        if (!dead) {
          const silent = Date.now() - Date.parse(row.heartbeat) > staleAfterMs;
          const holder = { pid: row.pid, host: row.host, runId: row.runId ?? undefined, since: row.since };
          return { acquired: false as const, holder, ...(silent ? { silent: { pid: row.pid, host: row.host, heartbeat: row.heartbeat } } : {}) };
        }
      }
      this.writeRunLock(runId);
      return { acquired: true as const };
    });
  }

  /**
   * Takes over the lock of a holder whose heartbeat has not moved since `seen` (read by
   * acquireRunLock at least one heartbeat interval ago). False when the holder heartbeated meanwhile,
   * released the lock, or another process took it over first.
   */
  public takeOverRunLock(runId: number | undefined, seen: RunLockSighting): boolean {
    return this.transaction(() => {
      const row = this.sql('SELECT pid, host, heartbeat_at AS heartbeat FROM run_lock WHERE id = 1').get() as { pid: number; host: string; heartbeat: string } | undefined;
      if (!row || row.pid !== seen.pid || row.host !== seen.host || row.heartbeat !== seen.heartbeat) return false;
      this.writeRunLock(runId);
      return true;
    });
  }

  private writeRunLock(runId: number | undefined): void {
    const now = nowIso();
    this.sql('INSERT INTO run_lock (id, pid, host, run_id, acquired_at, heartbeat_at) VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, host = excluded.host, run_id = excluded.run_id, acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at')
      .run(process.pid, hostname(), runId ?? null, now, now);
  }

  public heartbeatRunLock(runId?: number): void {
    this.sql('UPDATE run_lock SET heartbeat_at = ?, run_id = COALESCE(?, run_id) WHERE id = 1 AND pid = ? AND host = ?').run(nowIso(), runId ?? null, process.pid, hostname());
  }

  public releaseRunLock(): void {
    this.sql('DELETE FROM run_lock WHERE id = 1 AND pid = ? AND host = ?').run(process.pid, hostname());
  }

  // ---- runs ---------------------------------------------------------------------------------

  public startRun(kind: RunKind, dryRun: boolean): number {
    return Number(this.sql("INSERT INTO runs (kind, dry_run, status, started_at) VALUES (?, ?, 'running', ?)").run(kind, dryRun ? 1 : 0, nowIso()).lastInsertRowid);
  }

  public finishRun(runId: number, status: RunStatus, summary: Omit<RunSummary, 'id' | 'kind' | 'dryRun' | 'status' | 'startedAt' | 'endedAt'>, message?: string): void {
    this.sql('UPDATE runs SET status = ?, ended_at = ?, summary = ?, message = ? WHERE id = ?').run(status, nowIso(), JSON.stringify(summary), message ?? null, runId);
  }

  /** Runs still marked running whose process died: they are marked failed. */
  public failAbandonedRuns(message: string): number {
    return this.sql("UPDATE runs SET status = 'failed', ended_at = ?, message = ? WHERE status = 'running'").run(nowIso(), message).changes;
  }

  public listRuns(limit: number): ReadonlyArray<RunSummary> {
    const rows = this.sql('SELECT * FROM runs ORDER BY id DESC LIMIT ?').all(limit) as Array<Record<string, unknown>>;
    return rows.map((r) => this.toRunSummary(r));
  }

  public getRun(runId: number): RunSummary | undefined {
    const row = this.sql('SELECT * FROM runs WHERE id = ?').get(runId) as Record<string, unknown> | undefined;
    return row ? this.toRunSummary(row) : undefined;
  }

  public pruneRuns(olderThanIso: string): number {
    return this.transaction(() => {
      const ids = (this.sql("SELECT id FROM runs WHERE started_at < ? AND status != 'running'").all(olderThanIso) as Array<{ id: number }>).map((r) => r.id);
      for (const id of ids) {
        this.sql('DELETE FROM object_errors WHERE run_id = ?').run(id);
        this.sql('DELETE FROM object_reports WHERE run_id = ?').run(id);
        this.sql("DELETE FROM plan_operations WHERE plan_id IN (SELECT id FROM plans WHERE run_id = ? AND status NOT IN ('pending-approval'))").run(id);
        this.sql("DELETE FROM plans WHERE run_id = ? AND status NOT IN ('pending-approval')").run(id);
        this.sql('DELETE FROM runs WHERE id = ?').run(id);
      }
      return ids.length;
    });
  }

  private toRunSummary(r: Record<string, unknown>): RunSummary {
    const summary = JSON.parse(String(r['summary'] ?? '{}')) as Partial<RunSummary>;
    return {
      imported: { ad: 0, cloud: 0 }, planned: {}, exported: {}, held: 0, errors: 0, outOfScope: 0, ...summary,
      id: Number(r['id']), kind: r['kind'] as RunKind, dryRun: r['dry_run'] === 1, status: r['status'] as RunStatus,
      startedAt: String(r['started_at']), endedAt: r['ended_at'] ? String(r['ended_at']) : undefined,
      message: r['message'] ? String(r['message']) : undefined,
    };
  }

  // ---- AD connector space -------------------------------------------------------------------

  /** Writes a page of imported entries; an entry whose content is unchanged keeps its changed_run. */
  /** Stores a page of a source's AD objects (read whole); returns how many changed. */
  public upsertAdEntries(entries: ReadonlyArray<AdEntry>, runId: number, source = PRIMARY_SOURCE): number {
    const select = this.sql('SELECT entry FROM ad_objects WHERE guid = ?');
    const upsert = this.sql(`INSERT INTO ad_objects (guid, source_anchor, dn, parent_guid, object_class, deleted, entry, seen_run, changed_run, source)
      VALUES (@guid, @anchor, @dn, @parent, @class, @deleted, @entry, @run, @run, @source)
      ON CONFLICT(guid) DO UPDATE SET source_anchor = excluded.source_anchor, dn = excluded.dn, parent_guid = excluded.parent_guid, source = excluded.source,
        object_class = excluded.object_class, deleted = excluded.deleted, entry = excluded.entry, seen_run = excluded.seen_run,
        changed_run = CASE WHEN ad_objects.entry = excluded.entry THEN ad_objects.changed_run ELSE excluded.changed_run END`);
    let changed = 0;
    for (const entry of entries) {
      const json = JSON.stringify(entry);
      const before = select.get(entry.guid) as { entry: string } | undefined;
      if (before?.entry !== json) changed += 1;
      upsert.run({ guid: entry.guid, anchor: entry.consistencyGuidBase64 ?? entry.guidBase64, dn: entry.dn, parent: entry.parentGuid ?? null,
        class: entry.objectClass, deleted: entry.deleted ? 1 : 0, entry: json, run: runId, source });
    }
    return changed;
  }

  /** Objects the next delta run plans again (their export failed, or another object was in their way). */
  public markChangedForNextRun(guids: ReadonlyArray<string>, nextRunId: number): void {
    const bump = this.sql('UPDATE ad_objects SET changed_run = ? WHERE guid = ?');
    for (const guid of guids) bump.run(nextRunId, guid);
  }

  /** After a complete full import: objects not seen by it are gone from AD. */
  public markUnseenAdObjectsDeleted(runId: number, source = PRIMARY_SOURCE): number {
    return this.sql('UPDATE ad_objects SET deleted = 1, changed_run = ? WHERE seen_run < ? AND deleted = 0 AND source = ?').run(runId, runId, source).changes;
  }

  /** Deletions a source's change stream reported: only of objects that source holds (one moved to another domain is that domain's now). */
  public markAdObjectsDeleted(guids: ReadonlyArray<string>, runId: number, source = PRIMARY_SOURCE): number {
    const stmt = this.sql('UPDATE ad_objects SET deleted = 1, changed_run = ?, seen_run = ? WHERE guid = ? AND deleted = 0 AND source = ?');
    let n = 0;
    for (const guid of guids) n += stmt.run(runId, runId, guid, source).changes;
    return n;
  }

  /** The stored entry; `deleted` reflects deletions recorded after it was imported. */
  public getAdEntry(guid: string): AdEntry | undefined {
    const row = this.sql('SELECT entry, deleted FROM ad_objects WHERE guid = ?').get(guid) as { entry: string; deleted: number } | undefined;
    return row ? { ...(JSON.parse(row.entry) as AdEntry), deleted: row.deleted === 1 } : undefined;
  }

  public findAdEntryByDn(dn: string): AdEntry | undefined {
    const row = this.sql('SELECT entry FROM ad_objects WHERE dn = ? COLLATE NOCASE AND deleted = 0').get(dn) as { entry: string } | undefined;
    return row ? (JSON.parse(row.entry) as AdEntry) : undefined;
  }

  public findAdEntryByAnchor(anchor: string): AdEntry | undefined {
    const row = this.sql('SELECT entry FROM ad_objects WHERE source_anchor = ? AND deleted = 0').get(anchor) as { entry: string } | undefined;
    return row ? (JSON.parse(row.entry) as AdEntry) : undefined;
  }

  /** Every live AD object carrying this source anchor (two when an object migrated between forests kept its ms-DS-ConsistencyGuid). */
  public liveAdEntriesByAnchor(anchor: string): ReadonlyArray<AdEntry> {
    const rows = this.sql('SELECT entry FROM ad_objects WHERE source_anchor = ? AND deleted = 0').all(anchor) as Array<{ entry: string }>;
    return rows.map((row) => JSON.parse(row.entry) as AdEntry);
  }

  /** Live AD users, groups and contacts, in pages (keyset pagination: the store can be written meanwhile). */
  public adSyncCandidates(options: { changedAfterRun?: number; pageSize?: number } = {}): Generator<ReadonlyArray<AdEntry>> {
    return this.candidatePages<AdRow, AdEntry>(adCandidatesPageSql(options.changedAfterRun !== undefined), options, (r) => JSON.parse(r.entry) as AdEntry);
  }

  /** Every live AD user, group and contact in pages, each with the id of the cloud object it is linked to (if any). */
  public adSyncCandidatesLinked(pageSize = 1000): Generator<ReadonlyArray<{ readonly entry: AdEntry; readonly linkedCloudId?: string }>> {
    return this.candidatePages<AdRow & { linkCloudId: string | null }, { entry: AdEntry; linkedCloudId?: string }>(AD_CANDIDATES_LINKED_PAGE_SQL, { pageSize },
      (r) => ({ entry: JSON.parse(r.entry) as AdEntry, ...(r.linkCloudId === null ? {} : { linkedCloudId: r.linkCloudId }) }));
  }

  /** adSyncCandidates for planning: each object with its link and (when linked) its cloud object, read in the same row. */
  public planCandidates(options: { changedAfterRun?: number; pageSize?: number } = {}): Generator<ReadonlyArray<PlanCandidate>> {
    return this.candidatePages<PlanCandidateRow, PlanCandidate>(planCandidatesPageSql(options.changedAfterRun !== undefined), options, (r) => ({
      entry: JSON.parse(r.entry) as AdEntry,
      link: r.linkAnchor === null ? undefined
        : { adGuid: r.guid, sourceAnchor: r.linkAnchor, objectType: r.linkType as SyncObjectType, cloudId: r.linkCloudId ?? undefined, state: r.linkState as LinkState, dn: r.linkDn as string },
      linkedCloud: r.cloud === null ? undefined : (JSON.parse(unpackJson(r.cloud)) as CloudObject),
    }));
  }

  private *candidatePages<R extends { guid: string }, T>(sql: string, options: { changedAfterRun?: number; pageSize?: number }, map: (row: R) => T): Generator<ReadonlyArray<T>> {
    const stmt = this.sql(sql);
    let after = '';
    for (;;) {
      const rows = stmt.all({ after, limit: options.pageSize ?? 1000, run: options.changedAfterRun ?? 0 }) as R[];
      if (rows.length === 0) return;
      after = (rows[rows.length - 1] as R).guid;
      yield rows.map(map);
    }
  }

  /** guid → parent guid for every container-like object (OUs, containers, the domain), for scope checks. */
  public containerParents(): Map<string, string | undefined> {
    const rows = this.sql("SELECT guid, parent_guid AS parent FROM ad_objects WHERE object_class IN ('organizationalUnit', 'container', 'other') AND deleted = 0").all() as Array<{ guid: string; parent: string | null }>;
    return new Map(rows.map((r) => [r.guid, r.parent ?? undefined]));
  }

  /** Users, groups and contacts read from each source (domain), by source id. */
  public adCandidateCountsBySource(): Record<string, number> {
    const rows = this.sql("SELECT source, COUNT(*) AS n FROM ad_objects WHERE object_class IN ('user', 'group', 'contact') AND deleted = 0 GROUP BY source").all() as Array<{ source: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.source, r.n]));
  }

  public countAdCandidates(): number {
    return (this.sql("SELECT COUNT(*) AS n FROM ad_objects WHERE object_class IN ('user', 'group', 'contact') AND deleted = 0").get() as { n: number }).n;
  }

  /** Whether a container (OU, container, the domain) changed or was deleted after the run: scope may have moved under the objects. */
  public containersChangedAfter(runId: number): boolean {
    return this.sql("SELECT 1 FROM ad_objects WHERE changed_run > ? AND object_class IN ('organizationalUnit', 'container', 'other') LIMIT 1").get(runId) !== undefined;
  }

  // ---- in-scope objects and their unique values (kept by the planner) ------------------------

  /** What the in-scope table was built for (a digest of the settings that decide it), or undefined while it is being rebuilt. */
  public inScopeTableBuiltFor(): string | undefined {
    return this.getCursor(IN_SCOPE_BUILT_FOR);
  }

  /**
   * A full pass rebuilds the table in place: until finishInScopeTable it counts as not built (a
   * crash in between leaves the next delta to rebuild it), rows are rewritten only where they
   * changed, and the rows of objects no longer in scope are dropped at the end (a no-change full
   * run writes nothing here).
   */
  public beginInScopeRebuild(): void {
    this.sql('DELETE FROM cursors WHERE name = ?').run(IN_SCOPE_BUILT_FOR);
  }

  /** Ends a rebuild: drops the rows of objects not in `inScope` and records what the table was built for. */
  public finishInScopeTable(builtFor: string, inScope?: ReadonlySet<string>): void {
    this.transaction(() => {
      if (inScope) {
        const drop = this.sql('DELETE FROM ad_in_scope WHERE guid = ?');
        for (const { guid } of this.sql('SELECT guid FROM ad_in_scope').all() as Array<{ guid: string }>) {
          if (!inScope.has(guid)) drop.run(guid);
        }
      }
      this.setCursor(IN_SCOPE_BUILT_FOR, builtFor);
    });
  }

  public putInScope(row: InScopeRow): void {
    this.sql(`INSERT INTO ad_in_scope (guid, dn, upn, upn_key, mail, mail_key) VALUES (@guid, @dn, @upn, @upnKey, @mail, @mailKey)
      ON CONFLICT(guid) DO UPDATE SET dn = excluded.dn, upn = excluded.upn, upn_key = excluded.upn_key, mail = excluded.mail, mail_key = excluded.mail_key
      WHERE dn IS NOT excluded.dn OR upn IS NOT excluded.upn OR mail IS NOT excluded.mail`)
      .run({ guid: row.guid, dn: row.dn, upn: row.upn ?? null, upnKey: row.upn?.toLowerCase() ?? null, mail: row.mail ?? null, mailKey: row.mail?.toLowerCase() ?? null });
  }

  public dropInScope(guid: string): void {
    this.sql('DELETE FROM ad_in_scope WHERE guid = ?').run(guid);
  }

  /** Drops the objects deleted in AD after the run. */
  public dropInScopeDeletedAfter(runId: number): void {
    this.sql('DELETE FROM ad_in_scope WHERE guid IN (SELECT guid FROM ad_objects WHERE changed_run > ? AND deleted = 1)').run(runId);
  }

  public countInScope(): number {
    return (this.sql('SELECT COUNT(*) AS n FROM ad_in_scope').get() as { n: number }).n;
  }

  public inScopeRow(guid: string): InScopeRow | undefined {
    const row = this.sql('SELECT guid, dn, upn, mail FROM ad_in_scope WHERE guid = ?').get(guid) as { guid: string; dn: string; upn: string | null; mail: string | null } | undefined;
    return row ? { guid: row.guid, dn: row.dn, upn: row.upn ?? undefined, mail: row.mail ?? undefined } : undefined;
  }

  /** The in-scope objects whose UPN (or mail) is the given value, compared as the planner compares them (lower case). */
  public inScopeSharing(attribute: 'upn' | 'mail', value: string): ReadonlyArray<{ guid: string; dn: string; value: string }> {
    const sql = attribute === 'upn' ? 'SELECT guid, dn, upn AS value FROM ad_in_scope WHERE upn_key = ?' : 'SELECT guid, dn, mail AS value FROM ad_in_scope WHERE mail_key = ?';
    return this.sql(sql).all(value.toLowerCase()) as Array<{ guid: string; dn: string; value: string }>;
  }

  /** Every in-scope object whose UPN (or mail) another in-scope object shares (compared in lower case). */
  public inScopeSharedValues(attribute: 'upn' | 'mail'): ReadonlyArray<{ guid: string; dn: string; value: string }> {
    const sql = attribute === 'upn'
      ? 'SELECT guid, dn, upn AS value FROM ad_in_scope WHERE upn_key IN (SELECT upn_key FROM ad_in_scope WHERE upn_key IS NOT NULL GROUP BY upn_key HAVING COUNT(*) > 1)'
      : 'SELECT guid, dn, mail AS value FROM ad_in_scope WHERE mail_key IN (SELECT mail_key FROM ad_in_scope WHERE mail_key IS NOT NULL GROUP BY mail_key HAVING COUNT(*) > 1)';
    return this.sql(sql).all() as Array<{ guid: string; dn: string; value: string }>;
  }

  // ---- cloud connector space ----------------------------------------------------------------

  public upsertCloudObjects(objects: ReadonlyArray<CloudObject>, runId: number): void {
    const upsert = this.sql(`INSERT INTO cloud_objects (id, object_type, managed_anchor, immutable_id, upn, mail, soft_deleted, object, seen_run, sid, synced, group_key)
      VALUES (@id, @type, @managed, @immutable, @upn, @mail, @deleted, @object, @run, @sid, @synced, @groupKey)
      ON CONFLICT(id) DO UPDATE SET object_type = excluded.object_type, managed_anchor = excluded.managed_anchor, immutable_id = excluded.immutable_id,
        upn = excluded.upn, mail = excluded.mail, soft_deleted = excluded.soft_deleted, object = excluded.object, seen_run = excluded.seen_run,
        sid = excluded.sid, synced = excluded.synced, group_key = excluded.group_key`);
    const clearAddresses = this.sql('DELETE FROM cloud_addresses WHERE cloud_id = ?');
    const addAddress = this.sql('INSERT OR IGNORE INTO cloud_addresses (cloud_id, address) VALUES (?, ?)');
    for (const o of objects) {
      upsert.run({ id: o.id, type: o.objectType, managed: o.managedAnchor ?? null, immutable: o.immutableId ?? null, upn: o.userPrincipalName ?? null,
        mail: o.mail ?? null, deleted: o.softDeleted ? 1 : 0, object: packJson(JSON.stringify(o)), run: runId, sid: o.securityIdentifier ?? null,
        synced: o.onPremisesSyncEnabled ? 1 : 0, groupKey: o.objectType === 'group' ? groupKeyOf(o.properties['displayName'], o.properties['mailNickname']) : null });
      clearAddresses.run(o.id);
      for (const address of o.proxyAddresses ?? []) addAddress.run(o.id, address.replace(/^smtp:/i, ''));
      if (o.mail) addAddress.run(o.id, o.mail);
    }
  }

  /** After a complete cloud import: objects not seen are gone from the tenant. */
  /** Forgets the cloud objects a full import did not see, except those `keep` says may only be missing from a lagging replica. */
  public removeUnseenCloudObjects(runId: number, keep: (object: CloudObject) => boolean = () => false): { readonly removed: number; readonly kept: number } {
    return this.transaction(() => {
      let kept = 0;
      let removed = 0;
      for (const row of this.sql('SELECT object FROM cloud_objects WHERE seen_run < ?').all(runId) as CloudRow[]) {
        const object = JSON.parse(unpackJson(row.object)) as CloudObject;
        if (keep(object)) {
          kept += 1;
          continue;
        }
        this.removeCloudObject(object.id);
        removed += 1;
      }
      return { removed, kept };
    });
  }

  public removeCloudObject(id: string): void {
    this.sql('DELETE FROM cloud_objects WHERE id = ?').run(id);
    this.sql('DELETE FROM cloud_addresses WHERE cloud_id = ?').run(id);
    this.sql('DELETE FROM cloud_members WHERE group_id = ? OR member_id = ?').run(id, id);
  }

  public getCloudObject(id: string): CloudObject | undefined {
    const row = this.sql('SELECT object FROM cloud_objects WHERE id = ?').get(id) as CloudRow | undefined;
    return row ? (JSON.parse(unpackJson(row.object)) as CloudObject) : undefined;
  }

  public cloudByAnchor(anchor: string): ReadonlyArray<CloudObject> {
    return (this.sql('SELECT object FROM cloud_objects WHERE managed_anchor = ? OR immutable_id = ?').all(anchor, anchor) as CloudRow[]).map((r) => JSON.parse(unpackJson(r.object)) as CloudObject);
  }

  /** Cloud objects (live or in the recycle bin) that carry this AD SID as onPremisesSecurityIdentifier. */
  public cloudBySecurityIdentifier(sid: string): ReadonlyArray<CloudObject> {
    return (this.sql('SELECT object FROM cloud_objects WHERE sid = ?').all(sid) as CloudRow[]).map((r) => JSON.parse(unpackJson(r.object)) as CloudObject);
  }

  /** Live groups synchronized by another tool with this display name and mail alias (compared as Entra does, ignoring case). */
  public syncedGroupsNamed(displayName: unknown, mailNickname: unknown): ReadonlyArray<CloudObject> {
    const key = groupKeyOf(displayName, mailNickname);
    if (key === null) return [];
    return (this.sql("SELECT object FROM cloud_objects WHERE group_key = ? AND synced = 1 AND object_type = 'group' AND soft_deleted = 0").all(key) as CloudRow[])
      .map((r) => JSON.parse(unpackJson(r.object)) as CloudObject);
  }

  /** Whether the tenant holds any live object another tool synchronizes (the create guard has work only then). */
  /** Live cloud objects another tool synchronized before (they carry an on-premises SID) and no longer does, that Directory Sync does not manage. */
  public formerlySyncedCloudObjects(pageSize = 1000): Generator<ReadonlyArray<CloudObject>> {
    return this.managedCloudObjects(pageSize, FORMERLY_SYNCED_PAGE_SQL);
  }

  public hasSyncedObjects(): boolean {
    return this.sql('SELECT 1 FROM cloud_objects WHERE synced = 1 AND soft_deleted = 0 LIMIT 1').get() !== undefined;
  }

  /** How many live cloud objects of each type another tool synchronizes. */
  public syncedCount(): Record<SyncObjectType, number> {
    const rows = this.sql('SELECT object_type AS type, COUNT(*) AS n FROM cloud_objects WHERE synced = 1 AND soft_deleted = 0 GROUP BY object_type').all() as Array<{ type: SyncObjectType; n: number }>;
    return { user: rows.find((r) => r.type === 'user')?.n ?? 0, group: rows.find((r) => r.type === 'group')?.n ?? 0 };
  }

  public cloudByUserPrincipalName(upn: string): ReadonlyArray<CloudObject> {
    return (this.sql("SELECT object FROM cloud_objects WHERE upn = ? AND object_type = 'user' AND soft_deleted = 0").all(upn) as CloudRow[]).map((r) => JSON.parse(unpackJson(r.object)) as CloudObject);
  }

  public cloudByAddress(address: string, objectType: SyncObjectType): ReadonlyArray<CloudObject> {
    return (this.sql('SELECT o.object FROM cloud_addresses a JOIN cloud_objects o ON o.id = a.cloud_id WHERE a.address = ? AND o.object_type = ? AND o.soft_deleted = 0').all(address, objectType) as CloudRow[])
      .map((r) => JSON.parse(unpackJson(r.object)) as CloudObject);
  }

  /** The id and anchor of every live managed cloud object, in pages (what the orphan check reads first: the objects themselves only for orphans). */
  public managedAnchors(pageSize = 5000): Generator<ReadonlyArray<{ readonly id: string; readonly managedAnchor: string }>> {
    return this.cloudPages<{ id: string; managedAnchor: string }, { id: string; managedAnchor: string }>(MANAGED_ANCHORS_PAGE_SQL, pageSize, (r) => r);
  }

  /** Managed cloud objects (carrying the product's anchor), in pages. */
  public managedCloudObjects(pageSize = 1000, sql = MANAGED_CLOUD_PAGE_SQL): Generator<ReadonlyArray<CloudObject>> {
    return this.cloudPages<{ id: string; object: string }, CloudObject>(sql, pageSize, (r) => JSON.parse(unpackJson(r.object)) as CloudObject);
  }

  /** Pages of cloud objects in id order, each read from where the last ended (parameters: the last id, the page size). */
  private *cloudPages<R extends { id: string }, T>(sql: string, pageSize: number, map: (row: R) => T): Generator<ReadonlyArray<T>> {
    const stmt = this.sql(sql);
    let after = '';
    for (;;) {
      const rows = stmt.all(after, pageSize) as R[];
      if (rows.length === 0) return;
      after = (rows[rows.length - 1] as R).id;
      yield rows.map(map);
    }
  }

  public managedCount(): Record<SyncObjectType, number> {
    const rows = this.sql('SELECT object_type AS type, COUNT(*) AS n FROM cloud_objects WHERE managed_anchor IS NOT NULL AND soft_deleted = 0 GROUP BY object_type').all() as Array<{ type: SyncObjectType; n: number }>;
    return { user: rows.find((r) => r.type === 'user')?.n ?? 0, group: rows.find((r) => r.type === 'group')?.n ?? 0 };
  }

  public replaceCloudMembers(groupId: string, memberIds: ReadonlyArray<string>): void {
    this.sql('DELETE FROM cloud_members WHERE group_id = ?').run(groupId);
    const insert = this.sql('INSERT OR IGNORE INTO cloud_members (group_id, member_id) VALUES (?, ?)');
    for (const id of memberIds) insert.run(groupId, id);
  }

  public addCloudMember(groupId: string, memberId: string): void {
    this.sql('INSERT OR IGNORE INTO cloud_members (group_id, member_id) VALUES (?, ?)').run(groupId, memberId);
  }

  public removeCloudMember(groupId: string, memberId: string): void {
    this.sql('DELETE FROM cloud_members WHERE group_id = ? AND member_id = ?').run(groupId, memberId);
  }

  public cloudMembers(groupId: string): Set<string> {
    return new Set((this.sql('SELECT member_id AS id FROM cloud_members WHERE group_id = ?').all(groupId) as Array<{ id: string }>).map((r) => r.id));
  }

  // ---- links --------------------------------------------------------------------------------

  public getLink(adGuid: string): Link | undefined {
    const row = this.sql('SELECT ad_guid AS adGuid, source_anchor AS sourceAnchor, object_type AS objectType, cloud_id AS cloudId, state, dn FROM links WHERE ad_guid = ?').get(adGuid) as
      (Omit<Link, 'cloudId'> & { cloudId: string | null }) | undefined;
    return row ? { ...row, cloudId: row.cloudId ?? undefined } : undefined;
  }

  public linkByCloudId(cloudId: string): Link | undefined {
    const row = this.sql('SELECT ad_guid AS adGuid FROM links WHERE cloud_id = ?').get(cloudId) as { adGuid: string } | undefined;
    return row ? this.getLink(row.adGuid) : undefined;
  }

  public linkByAnchor(anchor: string): Link | undefined {
    const row = this.sql('SELECT ad_guid AS adGuid FROM links WHERE source_anchor = ?').get(anchor) as { adGuid: string } | undefined;
    return row ? this.getLink(row.adGuid) : undefined;
  }

  public setLink(link: Link, runId: number): void {
    this.sql(`INSERT INTO links (ad_guid, source_anchor, object_type, cloud_id, state, dn, updated_run) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(ad_guid) DO UPDATE SET source_anchor = excluded.source_anchor, object_type = excluded.object_type, cloud_id = excluded.cloud_id,
        state = excluded.state, dn = excluded.dn, updated_run = excluded.updated_run`)
      .run(link.adGuid, link.sourceAnchor, link.objectType, link.cloudId ?? null, link.state, link.dn, runId);
  }

  public removeLink(adGuid: string): void {
    this.sql('DELETE FROM links WHERE ad_guid = ?').run(adGuid);
  }

  /**
   * Links whose AD object is deleted (after the run, for a delta: found through changed_run's index),
   * or, on a full run, no longer in the store at all.
   */
  public *linksOfDeletedAdObjects(changedAfterRun?: number): Generator<Link> {
    const rows = (changedAfterRun !== undefined
      ? this.sql(LINKS_OF_DELETED_AFTER_RUN_SQL).all(changedAfterRun)
      : this.sql('SELECT l.ad_guid AS adGuid FROM links l LEFT JOIN ad_objects a ON a.guid = l.ad_guid WHERE a.guid IS NULL OR a.deleted = 1').all()) as Array<{ adGuid: string }>;
    for (const row of rows) {
      const link = this.getLink(row.adGuid);
      if (link) yield link;
    }
  }

  public linkCount(): number {
    return (this.sql("SELECT COUNT(*) AS n FROM links WHERE state = 'linked'").get() as { n: number }).n;
  }

  // ---- plans --------------------------------------------------------------------------------

  public createPlan(runId: number, status: PlanStatus, reasons: ReadonlyArray<string>): number {
    return Number(this.sql('INSERT INTO plans (run_id, created_at, status, reasons) VALUES (?, ?, ?, ?)').run(runId, nowIso(), status, JSON.stringify(reasons)).lastInsertRowid);
  }

  public setPlanStatus(planId: number, status: PlanStatus, reasons?: ReadonlyArray<string>): void {
    if (reasons) this.sql('UPDATE plans SET status = ?, reasons = ? WHERE id = ?').run(status, JSON.stringify(reasons), planId);
    else this.sql('UPDATE plans SET status = ? WHERE id = ?').run(status, planId);
  }

  public getPlan(planId: number): StoredPlan | undefined {
    const row = this.sql('SELECT id, run_id AS runId, created_at AS createdAt, status, reasons FROM plans WHERE id = ?').get(planId) as
      (Omit<StoredPlan, 'reasons'> & { reasons: string }) | undefined;
    return row ? { ...row, reasons: JSON.parse(row.reasons) as string[] } : undefined;
  }

  public plansWithStatus(status: PlanStatus): ReadonlyArray<StoredPlan> {
    return (this.sql('SELECT id FROM plans WHERE status = ? ORDER BY id').all(status) as Array<{ id: number }>).map((r) => this.getPlan(r.id) as StoredPlan);
  }

  public addOperations(planId: number, operations: ReadonlyArray<PlannedOperation>, status: OperationStatus): void {
    const next = (this.sql('SELECT COALESCE(MAX(seq), 0) AS n FROM plan_operations WHERE plan_id = ?').get(planId) as { n: number }).n;
    const insert = this.sql(`INSERT INTO plan_operations (plan_id, seq, priority, kind, object_type, source_anchor, ad_guid, dn, operation, gated, status)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    operations.forEach((op, i) => {
      insert.run(planId, next + i + 1, exportPriority(op), op.kind, op.objectType, op.sourceAnchor, op.adGuid ?? null, op.dn ?? null, packOperation(op), op.gated ? 1 : 0, status);
    });
  }

  /**
   * Holds a plan's creates, and the membership and manager changes that name an object it creates,
   * for an administrator's approval (a tenant another tool synchronizes).
   */
  /**
   * Membership and manager additions whose target has no cloud object and is not created by this plan can never be
   * sent: the target is an object in error (refused, in conflict). They are set aside as skipped, each naming its
   * target and that target's error in this run, and counted apart from what the run will write (by kind).
   */
  public setAsideWaitingOnErrors(planId: number, runId: number): Record<string, number> {
    const rows = this.sql(`SELECT seq, kind, json_extract(operation, '$.member.dn') AS member_dn, json_extract(operation, '$.member.sourceAnchor') AS member_anchor
      FROM plan_operations WHERE plan_id = @plan AND status = 'planned' AND kind IN ('add-member', 'set-manager')
        AND json_extract(operation, '$.member.cloudId') IS NULL
        AND json_extract(operation, '$.member.sourceAnchor') NOT IN (SELECT source_anchor FROM plan_operations WHERE plan_id = @plan AND kind IN ('create-user', 'create-group'))`)
      .all({ plan: planId }) as Array<{ seq: number; kind: string; member_dn: string | null; member_anchor: string }>;
    const errorOf = this.sql('SELECT reason FROM object_errors WHERE run_id = ? AND dn = ? ORDER BY id LIMIT 1');
    const said = new Map<string, string>();
    const counts: Record<string, number> = {};
    const setAside = this.sql("UPDATE plan_operations SET status = 'skipped', error = ? WHERE plan_id = ? AND seq = ?");
    for (const row of rows) {
      const target = row.member_dn ?? row.member_anchor;
      let why = said.get(target);
      if (why === undefined) {
        const error = row.member_dn ? (errorOf.get(runId, row.member_dn) as { reason: string } | undefined)?.reason : undefined;
        why = `waits for ${target}, which is not in the tenant${error ? `: ${error}` : ' (see its error: dirsync errors)'}`;
        said.set(target, why);
      }
      setAside.run(why, planId, row.seq);
      counts[row.kind] = (counts[row.kind] ?? 0) + 1;
    }
    return counts;
  }

  public holdCreates(planId: number): { creates: number; dependents: number } {
    const creates = this.sql(`UPDATE plan_operations SET status = 'held', gated = 1, operation = json_set(operation, '$.gated', json('true'))
      WHERE plan_id = ? AND status = 'planned' AND kind IN ('create-user', 'create-group')`).run(planId).changes;
    if (creates === 0) return { creates, dependents: 0 };
    const dependents = this.sql(`UPDATE plan_operations SET status = 'held', gated = 1, operation = json_set(operation, '$.gated', json('true'))
      WHERE plan_id = @plan AND status = 'planned' AND kind IN ('add-member', 'remove-member', 'set-manager', 'remove-manager')
        AND (source_anchor IN (SELECT source_anchor FROM plan_operations WHERE plan_id = @plan AND status = 'held' AND kind IN ('create-user', 'create-group'))
          OR json_extract(operation, '$.member.sourceAnchor') IN (SELECT source_anchor FROM plan_operations WHERE plan_id = @plan AND status = 'held' AND kind IN ('create-user', 'create-group')))`).run({ plan: planId }).changes;
    return { creates, dependents };
  }

  /**
   * Operations of a plan in export order (priority, then plan order), in pages. Each page is read
   * from where the last ended on the (plan_id, priority, seq) index (a row-value comparison, which
   * SQLite turns into an index range): a whole export reads the plan once. The former form sorted
   * every remaining operation for each page, O(n²) (16 s for the first 20,000 of 200,000).
   */
  /** A plan's operations in export order, a page at a time; `pageSize` may depend on the priority the page starts after. */
  public *operationsToExport(planId: number, statuses: ReadonlyArray<OperationStatus>, pageSize: number | ((afterPriority: number) => number) = 200): Generator<ReadonlyArray<StoredOperation>> {
    const stmt = this.sql(exportPageSql(statuses.length));
    let priority = -1;
    let seq = 0;
    for (;;) {
      const size = typeof pageSize === 'number' ? pageSize : pageSize(priority);
      const rows = stmt.all(planId, priority, seq, ...statuses, size) as Array<StoredOperationRow & { priority: number }>;
      if (rows.length === 0) return;
      const last = rows[rows.length - 1] as { priority: number; seq: number };
      priority = last.priority;
      seq = last.seq;
      yield rows.map(storedOperation);
    }
  }

  /**
   * How many write requests exporting a plan's operations of these statuses takes: one per operation,
   * but a group's additions bound `perBind` at a time (the first ones in its create when the plan creates it;
   * pages of `pageSize` operations split a slice at each boundary) (`membersPerBindWrite`: what a bind of N costs, ⌈N/k⌉).
   */
  public expectedWriteRequests(planId: number, statuses: ReadonlyArray<OperationStatus>, perBind: number, membersPerBindWrite?: number, pageSize?: number): number {
    const placeholders = statuses.map(() => '?').join(', ');
    const others = (this.sql(`SELECT COUNT(*) AS n FROM plan_operations WHERE plan_id = ? AND status IN (${placeholders}) AND kind != 'add-member'`)
      .get(planId, ...statuses) as { n: number }).n;
    // A group created by the plan carries its first members in its create.
    const created = new Set((this.sql(`SELECT source_anchor AS anchor FROM plan_operations WHERE plan_id = ? AND status IN (${placeholders}) AND kind = 'create-group'`)
      .all(planId, ...statuses) as Array<{ anchor: string }>).map((r) => r.anchor));
    const groups = this.sql(`SELECT source_anchor AS anchor, COUNT(*) AS n FROM plan_operations WHERE plan_id = ? AND status IN (${placeholders}) AND kind = 'add-member' GROUP BY source_anchor`)
      .all(planId, ...statuses) as Array<{ anchor: string; n: number }>;
    const cost = (members: number): number => (members > 1 && membersPerBindWrite !== undefined ? Math.ceil(members / membersPerBindWrite) : 1);
    // Each page boundary that falls inside a group's additions splits one slice in two.
    let binds = pageSize ? Math.floor(groups.reduce((sum, g) => sum + g.n, 0) / pageSize) : 0;
    for (const group of groups) {
      const inCreate = created.has(group.anchor) ? Math.min(group.n, perBind) : 0;
      // The create is counted once already; what its members add to its cost, then the rest bound perBind at a time.
      if (inCreate > 0) binds += cost(inCreate) - 1;
      const n = group.n - inCreate;
      const full = Math.floor(n / perBind);
      const rest = n - full * perBind;
      binds += full * cost(perBind) + (rest > 0 ? cost(rest) : 0);
    }
    return others + binds;
  }

  /**
   * The first `limit` additions of members to each of these groups (by anchor) in a plan, of these
   * statuses, in plan order: what a group's create can carry in its body.
   */
  public firstMemberAdditions(planId: number, groupAnchors: ReadonlyArray<string>, statuses: ReadonlyArray<OperationStatus>, limit: number): Map<string, StoredOperation[]> {
    const out = new Map<string, StoredOperation[]>();
    if (groupAnchors.length === 0) return out;
    const rows = this.sql(`SELECT * FROM (SELECT plan_id AS planId, seq, status, error, ${OPERATION_COLUMNS},
        ROW_NUMBER() OVER (PARTITION BY source_anchor ORDER BY seq) AS n FROM plan_operations
        WHERE plan_id = ? AND kind = 'add-member' AND status IN (${statuses.map(() => '?').join(', ')}) AND source_anchor IN (${groupAnchors.map(() => '?').join(', ')}))
      WHERE n <= ? ORDER BY seq`).all(planId, ...statuses, ...groupAnchors, limit) as StoredOperationRow[];
    for (const row of rows) {
      const stored = storedOperation(row);
      out.set(stored.operation.sourceAnchor, [...(out.get(stored.operation.sourceAnchor) ?? []), stored]);
    }
    return out;
  }

  public listOperations(planId: number, filter: { status?: OperationStatus; gated?: boolean } = {}): ReadonlyArray<StoredOperation> {
    const clauses = ['plan_id = ?'];
    const args: unknown[] = [planId];
    if (filter.status) { clauses.push('status = ?'); args.push(filter.status); }
    if (filter.gated !== undefined) { clauses.push('gated = ?'); args.push(filter.gated ? 1 : 0); }
    const rows = this.sql(`SELECT plan_id AS planId, seq, status, error, ${OPERATION_COLUMNS} FROM plan_operations WHERE ${clauses.join(' AND ')} ORDER BY priority, seq`).all(...args) as StoredOperationRow[];
    return rows.map(storedOperation);
  }

  public setOperationStatus(planId: number, seq: number, status: OperationStatus, error?: string, operation?: PlannedOperation): void {
    if (operation) {
      this.sql('UPDATE plan_operations SET status = ?, error = ?, operation = ?, kind = ?, object_type = ?, source_anchor = ?, ad_guid = ?, dn = ? WHERE plan_id = ? AND seq = ?')
        .run(status, error ?? null, packOperation(operation), operation.kind, operation.objectType, operation.sourceAnchor, operation.adGuid ?? null, operation.dn ?? null, planId, seq);
    } else this.sql('UPDATE plan_operations SET status = ?, error = ? WHERE plan_id = ? AND seq = ?').run(status, error ?? null, planId, seq);
  }

  public setHeldOperations(planId: number, from: OperationStatus, to: OperationStatus): number {
    return this.sql('UPDATE plan_operations SET status = ? WHERE plan_id = ? AND status = ?').run(to, planId, from).changes;
  }

  public operationCounts(planId: number, statuses: ReadonlyArray<OperationStatus>): Record<string, number> {
    const placeholders = statuses.map(() => '?').join(', ');
    const rows = this.sql(`SELECT kind, COUNT(*) AS n FROM plan_operations WHERE plan_id = ? AND status IN (${placeholders}) GROUP BY kind`).all(planId, ...statuses) as Array<{ kind: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  }

  /** Every operation of the stored plans on one AD object, newest plan first (the "where is this object?" lookup). */
  public operationsOfObject(adGuid: string): ReadonlyArray<{ runId: number; status: OperationStatus; operation: PlannedOperation }> {
    const rows = this.sql(`SELECT p.run_id AS runId, o.status, ${OPERATION_COLUMNS}
      FROM plan_operations o JOIN plans p ON p.id = o.plan_id WHERE o.ad_guid = ? ORDER BY o.plan_id DESC, o.seq`).all(adGuid) as Array<OperationRow & { runId: number; status: OperationStatus }>;
    return rows.map((r) => ({ runId: r.runId, status: r.status, operation: readOperation(r) }));
  }

  /** Operations sent by an earlier run whose confirmation never arrived (the process died). */
  public unconfirmedOperations(): ReadonlyArray<StoredOperation> {
    const rows = this.sql(UNCONFIRMED_OPERATIONS_SQL).all() as StoredOperationRow[];
    return rows.map(storedOperation);
  }

  // ---- errors and reports -------------------------------------------------------------------

  public addErrors(runId: number, errors: ReadonlyArray<ObjectError>): void {
    const insert = this.sql('INSERT INTO object_errors (run_id, ad_guid, dn, object_type, attribute, value, code, reason, hint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const e of errors) insert.run(runId, e.adGuid ?? null, e.dn, e.objectType ?? null, e.attribute ?? null, e.value ?? null, e.code, e.reason, e.hint);
  }

  public listErrors(runId: number): ReadonlyArray<ObjectError> {
    const rows = this.sql('SELECT ad_guid AS adGuid, dn, object_type AS objectType, attribute, value, code, reason, hint FROM object_errors WHERE run_id = ? ORDER BY id').all(runId) as Array<Record<string, string | null>>;
    return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null)) as unknown as ObjectError);
  }

  public addReport(runId: number, entry: { dn: string; objectType: string; category: 'not-writable' | 'out-of-scope' | 'foreign-member' | MatchReportEntry['kind']; reason: string }): void {
    this.sql('INSERT INTO object_reports (run_id, dn, object_type, category, reason) VALUES (?, ?, ?, ?, ?)').run(runId, entry.dn, entry.objectType, entry.category, entry.reason);
  }

  /** The match report of a run: one row per object matched, created, in conflict or blocked (not those out of scope or not writable). */
  public listMatchReports(runId: number): ReadonlyArray<{ dn: string; objectType: string; category: MatchReportEntry['kind']; reason: string }> {
    return this.listReports(runId).filter((r): r is { dn: string; objectType: string; category: MatchReportEntry['kind']; reason: string } =>
      r.category !== 'not-writable' && r.category !== 'out-of-scope' && r.category !== 'foreign-member');
  }

  public listReports(runId: number, category?: string): ReadonlyArray<{ dn: string; objectType: string; category: string; reason: string }> {
    const sql = 'SELECT dn, object_type AS objectType, category, reason FROM object_reports WHERE run_id = ?' + (category ? ' AND category = ?' : '') + ' ORDER BY rowid';
    return this.sql(sql).all(...(category ? [runId, category] : [runId])) as Array<{ dn: string; objectType: string; category: string; reason: string }>;
  }
}

/** A group's identity as the create guard compares it: display name and mail alias, in lower case. */
export function groupKeyOf(displayName: unknown, mailNickname: unknown): string | null {
  if (typeof displayName !== 'string' || typeof mailNickname !== 'string' || displayName === '' || mailNickname === '') return null;
  return `${displayName.toLowerCase()}\n${mailNickname.toLowerCase()}`;
}
