/**
 * Forward-only numbered migrations. Never edit a released migration: add the next number.
 * The schema version is SQLite's user_version.
 */
export type Migration = { readonly version: number; readonly name: string; readonly sql: string };

export const migrations: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: 'connector spaces, links, cursors, runs, plans, errors, secrets',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE config (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE secrets (name TEXT PRIMARY KEY, iv BLOB NOT NULL, tag BLOB NOT NULL, ciphertext BLOB NOT NULL, updated_at TEXT NOT NULL);

      CREATE TABLE ad_objects (
        guid TEXT PRIMARY KEY,
        source_anchor TEXT NOT NULL,
        dn TEXT NOT NULL,
        parent_guid TEXT,
        object_class TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        entry TEXT NOT NULL,
        seen_run INTEGER NOT NULL,
        changed_run INTEGER NOT NULL
      );
      CREATE INDEX ad_objects_anchor ON ad_objects (source_anchor);
      CREATE INDEX ad_objects_class ON ad_objects (object_class, deleted);
      CREATE INDEX ad_objects_changed ON ad_objects (changed_run);
      CREATE INDEX ad_objects_dn ON ad_objects (dn COLLATE NOCASE);

      CREATE TABLE cloud_objects (
        id TEXT PRIMARY KEY,
        object_type TEXT NOT NULL,
        managed_anchor TEXT,
        immutable_id TEXT,
        upn TEXT COLLATE NOCASE,
        mail TEXT COLLATE NOCASE,
        soft_deleted INTEGER NOT NULL DEFAULT 0,
        object TEXT NOT NULL,
        seen_run INTEGER NOT NULL
      );
      CREATE INDEX cloud_objects_managed ON cloud_objects (managed_anchor);
      CREATE INDEX cloud_objects_immutable ON cloud_objects (immutable_id);
      CREATE INDEX cloud_objects_upn ON cloud_objects (upn);
      CREATE INDEX cloud_objects_mail ON cloud_objects (mail);
      CREATE TABLE cloud_addresses (cloud_id TEXT NOT NULL, address TEXT NOT NULL COLLATE NOCASE, PRIMARY KEY (cloud_id, address)) WITHOUT ROWID;
      CREATE INDEX cloud_addresses_address ON cloud_addresses (address);
      CREATE TABLE cloud_members (group_id TEXT NOT NULL, member_id TEXT NOT NULL, PRIMARY KEY (group_id, member_id)) WITHOUT ROWID;

      CREATE TABLE links (
        ad_guid TEXT PRIMARY KEY,
        source_anchor TEXT NOT NULL,
        object_type TEXT NOT NULL,
        cloud_id TEXT,
        state TEXT NOT NULL CHECK (state IN ('pending-create', 'linked')),
        dn TEXT NOT NULL,
        updated_run INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX links_cloud ON links (cloud_id) WHERE cloud_id IS NOT NULL;
      CREATE INDEX links_anchor ON links (source_anchor);

      CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);

      CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        dry_run INTEGER NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        summary TEXT NOT NULL DEFAULT '{}',
        message TEXT
      );
      CREATE TABLE run_lock (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL, run_id INTEGER, acquired_at TEXT NOT NULL, heartbeat_at TEXT NOT NULL);

      CREATE TABLE plans (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL,
        reasons TEXT NOT NULL DEFAULT '[]'
      );
      CREATE TABLE plan_operations (
        plan_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        priority INTEGER NOT NULL,
        kind TEXT NOT NULL,
        object_type TEXT NOT NULL,
        source_anchor TEXT NOT NULL,
        ad_guid TEXT,
        dn TEXT,
        operation TEXT NOT NULL,
        gated INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,
        error TEXT,
        PRIMARY KEY (plan_id, seq)
      );
      CREATE INDEX plan_operations_status ON plan_operations (plan_id, status, priority);

      CREATE TABLE object_errors (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL,
        ad_guid TEXT,
        dn TEXT NOT NULL,
        object_type TEXT,
        attribute TEXT,
        value TEXT,
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        hint TEXT NOT NULL
      );
      CREATE INDEX object_errors_run ON object_errors (run_id);
      CREATE TABLE object_reports (run_id INTEGER NOT NULL, dn TEXT NOT NULL, object_type TEXT NOT NULL, category TEXT NOT NULL, reason TEXT NOT NULL);
      CREATE INDEX object_reports_run ON object_reports (run_id, category);
    `,
  },
  {
    version: 2,
    name: 'store upgrades: each schema change, the version that made it and the backup taken before it',
    sql: `
      CREATE TABLE store_upgrades (
        id INTEGER PRIMARY KEY,
        from_version INTEGER NOT NULL,
        to_version INTEGER NOT NULL,
        product_version TEXT NOT NULL,
        upgraded_at TEXT NOT NULL,
        backup_file TEXT
      );
    `,
  },
  {
    version: 3,
    name: 'plan operations indexed in export order, so each page of an export is read from where the last ended',
    sql: `
      CREATE INDEX plan_operations_order ON plan_operations (plan_id, priority, seq);
    `,
  },
  {
    version: 4,
    name: 'the in-scope objects and their unique values, kept by each plan, so a delta plan reads only what changed',
    sql: `
      CREATE TABLE ad_in_scope (
        guid TEXT PRIMARY KEY,
        dn TEXT NOT NULL,
        upn TEXT,
        upn_key TEXT,
        mail TEXT,
        mail_key TEXT
      ) WITHOUT ROWID;
      CREATE INDEX ad_in_scope_upn ON ad_in_scope (upn_key) WHERE upn_key IS NOT NULL;
      CREATE INDEX ad_in_scope_mail ON ad_in_scope (mail_key) WHERE mail_key IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'operations sent and not yet confirmed, indexed: each run looks for them first',
    sql: `
      CREATE INDEX plan_operations_sent ON plan_operations (plan_id, seq) WHERE status = 'sent';
    `,
  },
  {
    version: 6,
    name: 'cloud objects keep the SID another tool synchronized them with, whether one does, and a synchronized group\'s name and alias',
    sql: `
      ALTER TABLE cloud_objects ADD COLUMN sid TEXT;
      ALTER TABLE cloud_objects ADD COLUMN synced INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE cloud_objects ADD COLUMN group_key TEXT;
      CREATE INDEX cloud_objects_sid ON cloud_objects (sid) WHERE sid IS NOT NULL;
      CREATE INDEX cloud_objects_synced_group ON cloud_objects (group_key) WHERE synced = 1;
    `,
  },
  {
    version: 7,
    name: 'directory sources: every AD object and change cursor belongs to a source (the one of an existing installation is "primary")',
    sql: `
      ALTER TABLE ad_objects ADD COLUMN source TEXT NOT NULL DEFAULT 'primary';
      UPDATE cursors SET name = 'ad.changes/primary' WHERE name = 'ad.changes';
    `,
  },
];
