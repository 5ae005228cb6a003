import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../../../lab/connection.ts';
import { StoreError } from '../../src/errors/store-error.ts';
import { latestSchemaVersion, openDatabase, storedSchemaVersion } from '../../src/store/database.ts';
import { migrations } from '../../src/store/migrations.ts';
import { fixtureLayout, runInNetns, storeFixturesDir, unpackFixture, type StoreFixtureMeta } from '../support/store-fixture.ts';
import type { UpgradeReport } from '../support/upgrade-scenario.ts';

const scenario = join(repoRoot, 'engine', 'test', 'support', 'upgrade-scenario.ts');
const scratch = mkdtempSync(join(tmpdir(), 'dirsync-upgrade-'));
const fixtures = readdirSync(storeFixturesDir).filter((f) => /^schema-v\d+\.tar\.xz$/.test(f)).sort();
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('upgrading in place', () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('has a store fixture of every earlier schema version', () => {
    const versions = fixtures.map((f) => Number(/\d+/.exec(f)?.[0]));
    const earlier = Array.from({ length: latestSchemaVersion() - 1 }, (_, i) => i + 1);
    assert.deepEqual(versions.filter((v) => v < latestSchemaVersion()), earlier,
      'make the fixture of the current schema with `npm run fixture:store` before adding the next migration');
  });

  for (const file of fixtures) {
    // The fixture of the current schema is a store today's installations leave (schema 7: one domain, before forests).
    it(`opens the store of ${file.replace('.tar.xz', '')}, keeps everything, and the next runs write only what changed`, async () => {
      const root = join(scratch, file.replace('.tar.xz', ''));
      await unpackFixture(join(storeFixturesDir, file), root);
      const layout = fixtureLayout(root);
      const meta = JSON.parse(readFileSync(layout.metaFile, 'utf8')) as StoreFixtureMeta;
      const run = await runInNetns(`ds-upgrade-${meta.schemaVersion}-${process.pid}`, scenario, [root], { NODE_EXTRA_CA_CERTS: layout.caFile });
      assert.equal(run.code, 0, `the upgrade scenario failed:\n${run.stderr}`);
      const report = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as UpgradeReport;

      assert.equal(report.schemaBefore, meta.schemaVersion);
      assert.equal(report.schemaAfter, latestSchemaVersion());
      // Configuration, secrets (the runs below bind to AD and sign in with them), links and the change cursor survive.
      assert.ok(report.scopeKept, 'the configured scope changed in the upgrade');
      assert.ok(report.cursorKept, 'the DirSync cookie changed in the upgrade');
      assert.deepEqual(report.adObjectSources, ['primary'], 'every AD object belongs to the installation\'s one source');
      assert.equal(report.linksAfter, report.linksBefore);
      assert.equal(report.linksBefore, meta.managed.users + meta.managed.groups);
      if (meta.schemaVersion < latestSchemaVersion()) {
        // The upgrade is recorded, with a backup of the store as it was.
        assert.equal(report.upgrades.length, 1);
        assert.equal(report.upgrades[0]?.from_version, meta.schemaVersion);
        assert.equal(report.upgrades[0]?.to_version, latestSchemaVersion());
        assert.equal(report.backupSchema, meta.schemaVersion);
      } else {
        assert.equal(report.upgrades.length, 0, 'a store of the current schema was migrated');
      }

      assert.equal(report.delta.status, 'succeeded', report.delta.message);
      assert.deepEqual(report.delta.writes, [], 'the first delta run after the upgrade wrote to the tenant');
      // Schema 1 (Directory Sync 0.1) did not export managers: the fixture's two reports get theirs now,
      // each once — the changed user with its update, the other in the full run — and nothing else is written.
      const managerRefs = meta.schemaVersion === 1 ? ['PUT /v1.0/users/{id}/manager/$ref'] : [];
      assert.equal(report.deltaAfterChange.status, 'succeeded', report.deltaAfterChange.message);
      assert.deepEqual([...report.deltaAfterChange.writes].sort(), ['PATCH /v1.0/users/{id}', ...managerRefs], 'one changed user must be one update');
      assert.equal(report.full.status, 'succeeded', report.full.message);
      assert.deepEqual(report.full.writes, managerRefs, 'a full run after the upgrade found something to write: a duplicate or a lost link');
    });
  }

  it('refuses a store from a newer version with a clear message, and leaves it untouched', () => {
    const dir = mkdtempSync(join(scratch, 'newer-'));
    const file = join(dir, 'dirsync.db');
    const newer = [{ version: latestSchemaVersion() + 1, name: 'from the future', sql: 'CREATE TABLE later (id INTEGER);' }];
    openDatabase(file, { migrations: [...migrations, ...newer] }).close();
    const before = sha256(file);
    const filesBefore = readdirSync(dir).sort();
    assert.throws(() => openDatabase(file), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.match(error.message, new RegExp(`schema version ${latestSchemaVersion() + 1}, newer than this version of Directory Sync .* understands \\(${latestSchemaVersion()}\\)`));
      assert.match(error.message, /left untouched\. Install the newer version/);
      return true;
    });
    assert.equal(sha256(file), before);
    assert.deepEqual(readdirSync(dir).sort(), filesBefore, 'opening the newer store created or removed files beside it');
    assert.ok(!existsSync(join(dir, 'backups')));
    assert.equal(storedSchemaVersion(file), latestSchemaVersion() + 1);
  });
});
