/**
 * An engine wired to the shared lab's Samba DC and to a fresh in-process emulated tenant, with its
 * own store in a temporary directory: each test file gets a tenant of its own.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdConnection } from '../../../lab/connection.ts';
import { startTenantServer, type RequestLogEntry, type TenantOptions, type TenantServer } from '../../../lab/tenant/index.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import type { RunKind, RunSummary } from '../../src/contract/model.ts';
import { parseConfig, type DirSyncConfig, type SourceConfig } from '../../src/base/config.ts';
import { approvePlan } from '../../src/run/approval.ts';
import { openStore, saveConfig, sessionFor, SECRET_AD_PASSWORD, SECRET_CLIENT_SECRET } from '../../src/run/session.ts';
import { runSync, type EngineSession } from '../../src/run/run.ts';
import type { Store } from '../../src/store/store.ts';
import { forestPasswordSecret } from '../../src/store/keys.ts';

export type HarnessOptions = {
  readonly scopeOuGuids?: ReadonlyArray<string>;
  /** Settings besides the connections; `scope` is the one directory source's (the harness writes a version 1 configuration, as older installations did). */
  readonly config?: Partial<Omit<DirSyncConfig, 'sources' | 'cloud' | 'version'>> & { readonly scope?: SourceConfig['scope'] };
  readonly tenant?: TenantOptions;
  /** Reuse a tenant (e.g. a fresh install against a populated tenant). */
  readonly existingTenant?: TenantServer;
  /** Read AD as this account (e.g. an MSOL_ service account) instead of the lab's Administrator. */
  readonly adAccount?: { readonly bindDn: string; readonly password: string };
  /**
   * A second forest (the lab's fabrikam.test), read as its Administrator: the configuration then has two sources, the
   * first forest's as always ("primary") and this one's (id = its domain, its password under its own secret).
   */
  readonly secondForest?: { readonly ad: AdConnection; readonly scopeOuGuids?: ReadonlyArray<string> };
  /** The forest that keeps a UPN or mail both forests use (configuration `preferredForest`). */
  readonly preferredForest?: string;
};

export type Harness = {
  readonly ad: AdConnection;
  readonly tenant: TenantServer;
  readonly dataDir: string;
  store: Store;
  config: DirSyncConfig;
  session(): EngineSession;
  sync(kind: RunKind, dryRun?: boolean): Promise<RunSummary>;
  approve(planId: number): Promise<RunSummary>;
  /** A new engine (empty store) against the same AD and tenant: a fresh installation. */
  reinstall(): Harness;
  close(): Promise<void>;
};

export const TIME_SCALE = 60;

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const ad = await sharedAd();
  const tenant = options.existingTenant ?? await startTenantServer({ timeScale: TIME_SCALE, ...options.tenant });
  return build(ad, tenant, options, options.existingTenant === undefined);
}

function build(ad: AdConnection, tenant: TenantServer, options: HarnessOptions, ownsTenant: boolean): Harness {
  const dataDir = mkdtempSync(join(tmpdir(), 'dirsync-engine-'));
  const store = openStore(dataDir);
  const t = tenant.connection;
  const cloud = { instance: 'custom', tenantId: t.tenantId, clientId: t.clientId, credential: 'secret', authorityHost: t.authorityHost, graphBaseUrl: t.graphBaseUrl };
  const first = { url: ad.ldapsUrl, bindDn: options.adAccount?.bindDn ?? ad.adminBindDn, baseDn: ad.baseDn, trustedCaPem: readFileSync(ad.caCertFile, 'utf8') };
  const { scope: firstScope, ...settings } = options.config ?? {};
  const scope = firstScope ?? { includedOuGuids: options.scopeOuGuids ?? [], excludedOuGuids: [] };
  const second = options.secondForest;
  const config = parseConfig(second === undefined
    ? { version: 1, ad: first, cloud, scope, ...settings }
    : { version: 2, cloud, ...settings, ...(options.preferredForest !== undefined ? { preferredForest: options.preferredForest } : {}), sources: [
      { id: 'primary', ad: first, scope },
      { id: second.ad.domain, forest: second.ad.domain, passwordSecret: forestPasswordSecret(second.ad.domain), scope: { includedOuGuids: second.scopeOuGuids ?? [], excludedOuGuids: [] },
        ad: { url: second.ad.ldapsUrl, bindDn: second.ad.adminBindDn, baseDn: second.ad.baseDn, trustedCaPem: readFileSync(second.ad.caCertFile, 'utf8'), tlsServerName: second.ad.dcHostName } },
    ] }, 'the test harness');
  saveConfig(store, dataDir, config);
  store.secrets.set(SECRET_AD_PASSWORD, options.adAccount?.password ?? ad.adminPassword);
  if (second) store.secrets.set(forestPasswordSecret(second.ad.domain), second.ad.adminPassword);
  store.secrets.set(SECRET_CLIENT_SECRET, t.clientSecret);
  const writeBudget = { writes: 3000, windowSeconds: 150 / (options.tenant?.timeScale ?? TIME_SCALE) };
  const harness: Harness = {
    ad, tenant, dataDir, store, config,
    session: () => sessionFor(harness.store, harness.config, { writeBudget }),
    sync: (kind, dryRun = false) => runSync(harness.session(), { kind, dryRun }),
    approve: (planId) => approvePlan(harness.session(), planId),
    reinstall: () => build(ad, tenant, { ...options, existingTenant: tenant }, false),
    async close() {
      harness.store.close();
      if (ownsTenant) await tenant.close();
    },
  };
  return harness;
}

/** Graph writes the tenant received after a request-log position (each $batch item counts, the envelope does not). */
export function writesSince(tenant: TenantServer, seq: number): ReadonlyArray<RequestLogEntry> {
  return tenant.state.requestLog(seq).filter((r) => r.isWrite && !/\/\$batch/.test(r.path));
}

export function lastSeq(tenant: TenantServer): number {
  const log = tenant.state.requestLog();
  return log.length > 0 ? (log[log.length - 1] as RequestLogEntry).seq : 0;
}

/** The tenant's objects of a type that carry this lab app's source anchor: the ones Directory Sync manages. */
export function managedInTenant(tenant: TenantServer, type: 'user' | 'group' | 'deletedItems'): Array<Record<string, unknown>> {
  const anchor = `extension_${tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`;
  const objects = (tenant.state.dump() as { objects: Record<string, Array<Record<string, unknown>>> }).objects[type] ?? [];
  return objects.filter((o) => typeof o[anchor] === 'string');
}

/**
 * Waits until a lagging tenant's replicas have every write made so far (docs/eventual-consistency.md): a check
 * that a next run finds nothing to do is about what was written, not about what a replica has not seen yet.
 */
export async function untilReplicated(tenant: TenantServer, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (tenant.state.pendingReplication().changes.length > 0) {
    if (Date.now() > deadline) throw new Error(`the tenant had not replicated every write after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
