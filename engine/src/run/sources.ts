/**
 * The directory sources a run imports. A source is one AD domain: its connection, the secret that
 * holds its account's password, and its scope. The store keys AD objects and change cursors by
 * source; a run imports each source in turn. Exactly one today (the configuration's `ad` and
 * `scope`); a forest's domains and other forests will be further turns of the same loop.
 */
import type { DirSyncConfig } from '../base/config.ts';
import { PRIMARY_SOURCE, SECRET_AD_PASSWORD } from '../store/keys.ts';

export type AdSource = {
  /** Stable: the store keys this source's objects and cursor by it. */
  readonly id: string;
  readonly connection: DirSyncConfig['ad'];
  /** The name of the secret that holds the password of the account the source is read as. */
  readonly passwordSecret: string;
  readonly scope: DirSyncConfig['scope'];
};

export { PRIMARY_SOURCE } from '../store/keys.ts';

export function adSourcesOf(config: DirSyncConfig): ReadonlyArray<AdSource> {
  return [{ id: PRIMARY_SOURCE, connection: config.ad, passwordSecret: SECRET_AD_PASSWORD, scope: config.scope }];
}
