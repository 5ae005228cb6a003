/**
 * The upgrade of one installation, run inside a network namespace by upgrade.test.ts:
 *
 *   node --import tsx engine/test/support/upgrade-scenario.ts <unpacked fixture>
 *
 * Starts the fixture's DC (its snapshot) and tenant (its saved state, on its own port), opens the
 * fixture's data directory with this version of the engine — which migrates the store forward —
 * and runs what the service would run next: a delta run, a delta run after one change in AD, and a
 * full run. Prints one JSON line with what it saw, for the test to judge.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { Attribute, Change } from 'ldapts';
import { startSambaDc, stopSambaDc } from '../../../lab/samba/index.ts';
import { startTenantServer, type TenantServer } from '../../../lab/tenant/index.ts';
import type { RunSummary } from '../../src/contract/model.ts';
import { storeFiles } from '../../src/base/config.ts';
import { openStore, requireConfig, sessionFor } from '../../src/run/session.ts';
import { runSync } from '../../src/run/run.ts';
import { adCursorKey, PRIMARY_SOURCE } from '../../src/store/keys.ts';

/** Where the DirSync cookie was kept before the store keyed it by source (schema 7). */
const CURSOR_BEFORE_SOURCES = 'ad.changes';
import { schemaVersion, storedSchemaVersion } from '../../src/store/database.ts';
import { adminLdap } from './ad-sandbox.ts';
import { lastSeq, writesSince } from './engine-harness.ts';
import { FIXTURE_TIME_SCALE, fixtureLayout, type StoreFixtureMeta } from './store-fixture.ts';
import { parseConfig, primarySource } from '../../src/base/config.ts';

export type UpgradeRun = { readonly status: RunSummary['status']; readonly message?: string; readonly writes: ReadonlyArray<string> };

export type UpgradeReport = {
  readonly schemaBefore: number;
  readonly schemaAfter: number;
  readonly linksBefore: number;
  readonly linksAfter: number;
  readonly cursorKept: boolean;
  /** The sources the upgraded store's AD objects belong to (every one to the installation's one source). */
  readonly adObjectSources: ReadonlyArray<string>;
  readonly scopeKept: boolean;
  readonly upgrades: ReadonlyArray<{ from_version: number; to_version: number; product_version: string; backup_file: string | null }>;
  readonly backupSchema?: number;
  readonly delta: UpgradeRun;
  readonly deltaAfterChange: UpgradeRun;
  readonly full: UpgradeRun;
};

function describeWrites(tenant: TenantServer, seq: number): string[] {
  return writesSince(tenant, seq).map((w) => `${w.method} ${w.path.replace(/[0-9a-f-]{36}/g, '{id}')}`);
}

const root = process.argv[2];
if (root === undefined) throw new Error('usage: upgrade-scenario.ts <unpacked fixture>');
const layout = fixtureLayout(root);
const meta = JSON.parse(readFileSync(layout.metaFile, 'utf8')) as StoreFixtureMeta;

const ad = await startSambaDc({ labDir: layout.labDir, templateDir: layout.dcSnapshot, fromSnapshot: true });
const tenant = await startTenantServer({ persistFile: layout.tenantState, certDir: layout.caDir, timeScale: FIXTURE_TIME_SCALE });
try {
  const files = storeFiles(layout.dataDir);
  const schemaBefore = storedSchemaVersion(files.store);
  const raw = new Database(files.store, { readonly: true });
  const rawBefore = {
    links: (raw.prepare('SELECT count(*) AS n FROM links').get() as { n: number }).n,
    cursor: (raw.prepare('SELECT value FROM cursors WHERE name IN (?, ?)').get(CURSOR_BEFORE_SOURCES, adCursorKey(PRIMARY_SOURCE)) as { value: string } | undefined)?.value,
    config: (raw.prepare('SELECT json FROM config WHERE id = 1').get() as { json: string }).json,
  };
  raw.close();

  const store = openStore(layout.dataDir);
  const config = requireConfig(store);
  const session = sessionFor(store, config, { writeBudget: { writes: 3000, windowSeconds: 150 / FIXTURE_TIME_SCALE } });
  const run = async (kind: 'delta' | 'full'): Promise<UpgradeRun> => {
    const seq = lastSeq(tenant);
    const summary = await runSync(session, { kind, dryRun: false });
    return { status: summary.status, ...(summary.message ? { message: summary.message } : {}), writes: describeWrites(tenant, seq) };
  };

  const linksAfter = (store.db.prepare('SELECT count(*) AS n FROM links').get() as { n: number }).n;
  const cursorKept = rawBefore.cursor !== undefined && store.getCursor(adCursorKey(PRIMARY_SOURCE)) === rawBefore.cursor;
  const adObjectSources = (store.db.prepare('SELECT DISTINCT source FROM ad_objects').all() as Array<{ source: string }>).map((r) => r.source);
  const scopeKept = JSON.stringify(primarySource(parseConfig(JSON.parse(rawBefore.config), 'the store before the upgrade')).scope) === JSON.stringify(primarySource(config).scope);
  const upgrades = store.db.prepare('SELECT from_version, to_version, product_version, backup_file FROM store_upgrades ORDER BY id').all() as UpgradeReport['upgrades'];
  const backup = upgrades[0]?.backup_file;

  const delta = await run('delta');
  const client = await adminLdap(ad);
  await client.modify(meta.sampleUserDn, new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['Engineer after the upgrade'] }) }));
  await client.unbind();
  const deltaAfterChange = await run('delta');
  const full = await run('full');

  const report: UpgradeReport = {
    schemaBefore, schemaAfter: schemaVersion(store.db), linksBefore: rawBefore.links, linksAfter, cursorKept, scopeKept, upgrades, adObjectSources,
    ...(backup ? { backupSchema: storedSchemaVersion(backup) } : {}),
    delta, deltaAfterChange, full,
  };
  store.close();
  console.log(JSON.stringify(report));
} finally {
  await tenant.close();
  await stopSambaDc({ labDir: layout.labDir });
}
