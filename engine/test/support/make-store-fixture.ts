/**
 * Makes the store fixture of the current schema version: `npm run fixture:store` (as root).
 *
 * In a network namespace of its own it starts a lab DC and an emulated tenant, adds a small
 * organisation (an OU with users, a manager, a disabled account, nested groups), and lets this
 * version of the engine synchronize it as an installation would: configuration, secrets, a full
 * run, then a delta run after a change, so the store holds links, a DirSync cookie and history.
 * Then it stops everything and packs the data directory, the DC snapshot, the tenant's state and
 * the lab CA into engine/test/fixtures/stores/schema-v<N>.tar.xz. Run it once per schema version,
 * with the code of that version, before the next migration is added; never edit a fixture.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultLabDir, repoRoot } from '../../../lab/connection.ts';
import { startSambaDc, stopSambaDc } from '../../../lab/samba/index.ts';
import { ensureLabCa, startTenantServer } from '../../../lab/tenant/index.ts';
import { parseConfig } from '../../src/base/config.ts';
import { openStore, saveConfig, sessionFor, SECRET_AD_PASSWORD, SECRET_CLIENT_SECRET } from '../../src/run/session.ts';
import { runSync } from '../../src/run/run.ts';
import { migrations } from '../../src/store/migrations.ts';
import { createAdSandbox } from './ad-sandbox.ts';
import { FIXTURE_OU, FIXTURE_TIME_SCALE, fixtureLayout, packFixture, runInNetns, storeFixtureArchive, type StoreFixtureMeta } from './store-fixture.ts';

function currentSchemaVersion(): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

async function inside(root: string): Promise<void> {
  const layout = fixtureLayout(root);
  const sharedTemplate = join(defaultLabDir(), 'samba-template');
  const ad = await startSambaDc({ labDir: layout.labDir, ...(existsSync(sharedTemplate) ? { templateDir: sharedTemplate } : {}) });
  const sandbox = await createAdSandbox(ad, FIXTURE_OU);
  const user = (cn: string, sam: string, extra: Record<string, string> = {}) => sandbox.addUser(cn, {
    sAMAccountName: sam, userPrincipalName: `${sam}@contoso.com`, displayName: cn, givenName: cn.split(' ')[0] ?? cn, sn: 'Fixture', ...extra,
  });
  const ada = await user('Ada Fixture', 'ada.fixture', { title: 'Director', mail: 'ada.fixture@contoso.com' });
  const ben = await user('Ben Fixture', 'ben.fixture', { title: 'Engineer', manager: ada });
  const cy = await user('Cy Fixture', 'cy.fixture', { title: 'Engineer', manager: ada, department: 'R&D' });
  const dee = await user('Dee Fixture', 'dee.fixture', { userAccountControl: '546' });
  const eve = await user("Eve O'Fixture", 'eve.ofixture', { telephoneNumber: '+44 20 7946 0000' });
  const team = await sandbox.addGroup('Fixture Team', [ben, cy]);
  await sandbox.addGroup('Fixture All', [team, ada, dee, eve]);
  const scopeOuGuid = await sandbox.guidOf(sandbox.ouDn);

  await ensureLabCa(layout.caDir);
  const tenant = await startTenantServer({ persistFile: layout.tenantState, certDir: layout.caDir, timeScale: FIXTURE_TIME_SCALE });
  const t = tenant.connection;
  const store = openStore(layout.dataDir);
  const config = parseConfig({
    version: 1,
    ad: { url: ad.ldapsUrl, bindDn: ad.adminBindDn, baseDn: ad.baseDn, trustedCaPem: readFileSync(ad.caCertFile, 'utf8') },
    cloud: { instance: 'custom', tenantId: t.tenantId, clientId: t.clientId, credential: 'secret', authorityHost: t.authorityHost, graphBaseUrl: t.graphBaseUrl },
    scope: { includedOuGuids: [scopeOuGuid], excludedOuGuids: [] },
  }, 'the store fixture');
  saveConfig(store, layout.dataDir, config);
  store.secrets.set(SECRET_AD_PASSWORD, ad.adminPassword);
  store.secrets.set(SECRET_CLIENT_SECRET, t.clientSecret);
  const session = sessionFor(store, config, { writeBudget: { writes: 3000, windowSeconds: 150 / FIXTURE_TIME_SCALE } });
  const full = await runSync(session, { kind: 'full', dryRun: false });
  if (full.status !== 'succeeded') throw new Error(`the fixture's full run ended ${full.status}: ${full.message ?? ''}`);

  await sandbox.replace(eve, 'title', ['Analyst']);
  await sandbox.client.unbind(); // not sandbox.close(): that deletes the OU, which the fixture keeps
  const delta = await runSync(session, { kind: 'delta', dryRun: false });
  if (delta.status !== 'succeeded') throw new Error(`the fixture's delta run ended ${delta.status}: ${delta.message ?? ''}`);

  const anchor = `extension_${t.clientId.replace(/-/g, '')}_sourceAnchor`;
  const objects = (tenant.state.dump() as { objects: Record<string, Array<Record<string, unknown>>> }).objects;
  const managedUsers = (objects['user'] ?? []).filter((u) => typeof u[anchor] === 'string');
  const managedGroups = (objects['group'] ?? []).filter((g) => typeof g[anchor] === 'string');
  const members = managedGroups.reduce((sum, g) => sum + (Array.isArray(g['members']) ? g['members'].length : 0), 0);
  store.close();
  await tenant.close();
  await stopSambaDc({ labDir: layout.labDir });

  renameSync(join(layout.labDir, 'samba'), layout.dcSnapshot);
  rmSync(join(layout.dcSnapshot, 'log'), { recursive: true, force: true });
  rmSync(join(layout.dataDir, 'logs'), { recursive: true, force: true });
  const meta: StoreFixtureMeta = {
    schemaVersion: currentSchemaVersion(),
    productVersion: (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version,
    commit: gitDescribe(),
    madeAt: new Date().toISOString(),
    scopeOuDn: sandbox.ouDn,
    managed: { users: managedUsers.length, groups: managedGroups.length, members },
    sampleUserDn: ben,
  };
  writeFileSync(layout.metaFile, JSON.stringify(meta, null, 2) + '\n');
  console.log(JSON.stringify(meta));
}

function gitDescribe(): string {
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
  return dirty ? `${head} (with uncommitted changes)` : head;
}

async function outside(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'dirsync-store-fixture-'));
  try {
    const layout = fixtureLayout(root);
    await ensureLabCa(layout.caDir);
    const run = await runInNetns(`ds-fixture-${process.pid}`, new URL(import.meta.url).pathname, ['--inside', root],
      { NODE_EXTRA_CA_CERTS: layout.caFile });
    if (run.code !== 0) throw new Error(`making the fixture failed (exit ${run.code}):\n${run.stderr}`);
    const meta = JSON.parse(readFileSync(layout.metaFile, 'utf8')) as StoreFixtureMeta;
    const archive = storeFixtureArchive(meta.schemaVersion);
    await packFixture(root, archive);
    console.log(`Wrote ${archive} (schema ${meta.schemaVersion}, ${meta.managed.users} users, ${meta.managed.groups} groups, ${meta.managed.members} memberships).`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const [flag, root] = process.argv.slice(2);
if (flag === '--inside' && root !== undefined) await inside(root);
else await outside();
