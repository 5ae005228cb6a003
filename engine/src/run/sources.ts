/**
 * The directory sources a run imports. A source is one AD domain: its connection, the secret that
 * holds its account's password, and its scope (the configuration's `sources`). The store keys AD
 * objects and change cursors by source; a run imports each source in turn. Exactly one today; a
 * forest's domains and other forests will be further turns of the same loop.
 */
import type { DirSyncConfig, SourceConfig } from '../base/config.ts';

export type AdSource = {
  /** Stable: the store keys this source's objects and cursor by it. */
  readonly id: string;
  readonly connection: SourceConfig['ad'];
  /** The name of the secret that holds the password of the account the source is read as. */
  readonly passwordSecret: string;
  readonly scope: SourceConfig['scope'];
};

export { PRIMARY_SOURCE } from '../store/keys.ts';

export function adSourcesOf(config: DirSyncConfig): ReadonlyArray<AdSource> {
  return config.sources.map((source) => ({ id: source.id, connection: source.ad, passwordSecret: source.passwordSecret, scope: source.scope }));
}
