/**
 * The directory sources a run imports. A source is one AD domain: its connection, the secret that
 * holds its account's password, its scope, and the forest it belongs to (the configuration's
 * `sources`). The store keys AD objects and change cursors by source; a run imports each source in
 * turn, and a source that cannot be read fails only its own part of the run (docs/forests.md).
 */
import type { DomainStatus } from '../contract/control-api.ts';
import type { RunSummary } from '../contract/model.ts';
import { AdConnector } from '../ad/connector.ts';
import { adCursorKey } from '../store/keys.ts';
import type { Store } from '../store/store.ts';
import { domainNameOf, forestOf, sourceOfDn, type DirSyncConfig, type SourceConfig } from '../base/config.ts';

export type AdSource = {
  /** Stable: the store keys this source's objects and cursor by it. */
  readonly id: string;
  /** The domain's DNS name (emea.contoso.com), from its naming context. */
  readonly domain: string;
  /** The forest's root domain DNS name (contoso.com). */
  readonly forest: string;
  readonly connection: SourceConfig['ad'];
  /** The name of the secret that holds the password of the account the source is read as. */
  readonly passwordSecret: string;
  readonly scope: SourceConfig['scope'];
};

export { PRIMARY_SOURCE } from '../store/keys.ts';

export function adSourcesOf(config: DirSyncConfig): ReadonlyArray<AdSource> {
  return config.sources.map((source) => ({
    id: source.id, domain: domainNameOf(source.ad.baseDn), forest: forestOf(source), connection: source.ad, passwordSecret: source.passwordSecret, scope: source.scope,
  }));
}

/** The source (domain) an AD object belongs to, by its DN; the first source when none holds it. */
export function sourceForDn(sources: ReadonlyArray<AdSource>, dn: string): AdSource {
  return sourceOfDn(sources.map((source) => ({ source, ad: source.connection })), dn)?.source ?? (sources[0] as AdSource);
}

/** Whether the configuration names more than one domain (surfaces then say which domain each object is in). */
export function severalSources(config: DirSyncConfig): boolean {
  return config.sources.length > 1;
}

/** Every configured domain as status shows it: forest, change tracking, objects read, and the last run's failure to read it. */
export function domainStatuses(store: Store, config: DirSyncConfig, lastRun: RunSummary | undefined): ReadonlyArray<DomainStatus> {
  const counts = store.adCandidateCountsBySource();
  return adSourcesOf(config).map((source) => {
    const cursor = store.getCursor(adCursorKey(source.id));
    const lastError = lastRun?.sources?.find((s) => s.id === source.id)?.error;
    return { id: source.id, domain: source.domain, forest: source.forest, url: source.connection.url,
      changeTracking: cursor ? AdConnector.cursorMode(cursor) : 'none', objects: counts[source.id] ?? 0, ...(lastError !== undefined ? { lastError } : {}) };
  });
}
