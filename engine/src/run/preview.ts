/**
 * Configuration previews (the Configuration Wizard's Readiness page): a full dry run of a candidate
 * configuration on a snapshot of the state store, so that neither the tenant nor this server's own
 * state changes until the administrator saves. The snapshot keeps the links of earlier runs, so the
 * report says "matched" for objects already synchronized.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PreviewCategory, PreviewObject } from '../contract/control-api.ts';
import { nowIso } from '../store/database.ts';
import { OPERATION_COLUMNS, readOperation, Store, type OperationRow } from '../store/store.ts';

const PREVIEW_FILE = /^preview-[0-9a-f-]{36}\.db(-wal|-shm)?$/;

export function previewFile(dataDir: string, previewId: string): string {
  return join(dataDir, `preview-${previewId}.db`);
}

/** A consistent copy of the store (VACUUM INTO reads one snapshot, even while a run writes). */
export function openPreviewStore(store: Store, file: string, keyFile: string): Store {
  removePreviewFiles(file);
  store.db.prepare('VACUUM INTO ?').run(file);
  const copy = Store.open(file, keyFile);
  // The copy may hold the lock of a run in progress in the real store: it is not the copy's.
  copy.db.prepare('DELETE FROM run_lock').run();
  // Its run ids must not repeat the real store's next ones (logs and progress events name runs by id):
  // a marker row a billion ids on moves the copy's next id there.
  copy.db.prepare(`INSERT INTO runs (id, kind, dry_run, status, started_at, ended_at, message)
    SELECT coalesce(max(id), 0) + 1000000000, 'full', 1, 'failed', ?, ?, 'marker: configuration previews number their runs from here' FROM runs`).run(nowIso(), nowIso());
  return copy;
}

export function removePreviewFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
}

/** Previews left behind by a service that stopped abruptly. */
export function removeStalePreviews(dataDir: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(dataDir);
  } catch {
    return;
  }
  for (const name of names) if (PREVIEW_FILE.test(name)) rmSync(join(dataDir, name), { force: true });
}

const REPORT_CATEGORIES: Readonly<Partial<Record<PreviewCategory, ReadonlyArray<string>>>> = {
  create: ['create'],
  matched: ['linked', 'hard-match', 'soft-match-upn', 'soft-match-mail'],
  conflict: ['conflict'],
  blocked: ['blocked'],
  'out-of-scope': ['out-of-scope', 'not-writable', 'foreign-member'],
};

const MATCH_DETAIL: Readonly<Record<string, string>> = {
  linked: 'already synchronized', 'hard-match': 'hard match (source anchor)', 'soft-match-upn': 'soft match (userPrincipalName)',
  'soft-match-mail': 'soft match (mail)', 'not-writable': 'not writable through Microsoft Graph', 'foreign-member': 'a member from another forest',
};

/** Invalid objects are those with validation errors; conflicts and blocked matches are counted on their own. */
const INVALID_WHERE = "run_id = ? AND code NOT LIKE 'match-%'";
const DELETE_WHERE = "plan_id = ? AND kind IN ('delete-user', 'delete-group')";

function placeholders(values: ReadonlyArray<string>): string {
  return values.map(() => '?').join(', ');
}

const CATEGORIES: ReadonlyArray<PreviewCategory> = ['create', 'matched', 'conflict', 'blocked', 'out-of-scope', 'invalid', 'delete'];

/** How many objects of the preview fall in one category. */
function categoryCount(store: Store, runId: number, planId: number | undefined, category: PreviewCategory): number {
  const count = (sql: string, ...args: unknown[]): number => (store.db.prepare(sql).get(...args) as { n: number }).n;
  if (category === 'invalid') return count(`SELECT count(DISTINCT dn) AS n FROM object_errors WHERE ${INVALID_WHERE}`, runId);
  if (category === 'delete') return planId === undefined ? 0 : count(`SELECT count(*) AS n FROM plan_operations WHERE ${DELETE_WHERE}`, planId);
  const kinds = REPORT_CATEGORIES[category] ?? [];
  return count(`SELECT count(*) AS n FROM object_reports WHERE run_id = ? AND category IN (${placeholders(kinds)})`, runId, ...kinds);
}

export function previewCounts(store: Store, runId: number, planId: number | undefined): Record<PreviewCategory, number> {
  return Object.fromEntries(CATEGORIES.map((category) => [category, categoryCount(store, runId, planId, category)])) as Record<PreviewCategory, number>;
}

export function listPreviewObjects(store: Store, runId: number, planId: number | undefined, category: PreviewCategory,
  page: { readonly offset: number; readonly limit: number }): { total: number; objects: PreviewObject[] } {
  const total = categoryCount(store, runId, planId, category);
  if (category === 'invalid') {
    const rows = store.db.prepare(`SELECT dn, object_type AS objectType, group_concat(attribute, ', ') AS detail, group_concat(reason, ' ') AS reason, max(hint) AS hint
      FROM object_errors WHERE ${INVALID_WHERE} GROUP BY dn ORDER BY min(id) LIMIT ? OFFSET ?`).all(runId, page.limit, page.offset) as PreviewRow[];
    return { total, objects: rows.map(withoutNulls) };
  }
  if (category === 'delete') {
    if (planId === undefined) return { total, objects: [] };
    const rows = store.db.prepare(`SELECT status, ${OPERATION_COLUMNS} FROM plan_operations WHERE ${DELETE_WHERE} ORDER BY seq LIMIT ? OFFSET ?`)
      .all(planId, page.limit, page.offset) as Array<OperationRow & { status: string }>;
    return {
      total,
      objects: rows.map((row) => {
        const op = readOperation(row);
        return { dn: op.dn ?? op.displayName ?? op.cloudId ?? op.sourceAnchor, objectType: op.objectType, reason: op.reason ?? '',
          detail: row.status === 'held' ? 'held by the deletion threshold until approved' : 'deleted by the first run' };
      }),
    };
  }
  const kinds = REPORT_CATEGORIES[category] ?? [];
  const rows = store.db.prepare(`SELECT dn, object_type AS objectType, category AS detail, reason FROM object_reports
    WHERE run_id = ? AND category IN (${placeholders(kinds)}) ORDER BY rowid LIMIT ? OFFSET ?`).all(runId, ...kinds, page.limit, page.offset) as PreviewRow[];
  return { total, objects: rows.map((row) => withoutNulls({ ...row, detail: MATCH_DETAIL[row.detail ?? ''] ?? null })) };
}

type PreviewRow = { dn: string; objectType: string; reason: string; detail: string | null; hint?: string | null };

function withoutNulls(row: PreviewRow): PreviewObject {
  return { dn: row.dn, objectType: row.objectType, reason: row.reason, ...(row.detail ? { detail: row.detail } : {}), ...(row.hint ? { hint: row.hint } : {}) };
}
