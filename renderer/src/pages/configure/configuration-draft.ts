/**
 * What the Configuration Wizard has collected, and the configuration it makes of it: pure functions,
 * unit-tested without a browser. On a rerun the draft starts from the saved configuration.
 */
import type { CloudInstanceName, ProxyInput, RegisteredTenant, ServiceAccountView } from '../../../../engine/src/contract/control-api.ts';

/** Where the tenant lives: a national cloud, or a custom one (the lab) with its own addresses. */
export type CloudInstanceSettings = {
  readonly instance: CloudInstanceName;
  readonly authorityHost?: string;
  readonly graphBaseUrl?: string;
};

export type CloudDraft = CloudInstanceSettings & {
  readonly tenantId: string;
  readonly clientId: string;
  /** `certificate`: the app the administrator's sign-in registered; `secret`: an existing app. */
  readonly credential: 'certificate' | 'secret';
  readonly certificatePem?: string;
  readonly tenantDisplayName?: string;
  readonly verifiedDomains: ReadonlyArray<string>;
  readonly appDisplayName?: string;
  /** The saved configuration's app, whose credential the service already keeps (a rerun of the wizard). */
  readonly inUse?: boolean;
};

/** How the cloud is reached: the proxy, and the authorities trusted for cloud traffic ("Trust this certificate"). */
export type NetworkDraft = {
  readonly proxy: ProxyInput;
  readonly trustedCaPem?: string;
};

export type AdDraft = {
  readonly url: string;
  readonly tlsServerName?: string;
  /** The CA the administrator chose to trust after seeing its fingerprint. */
  readonly trustedCaPem?: string;
  readonly baseDn: string;
  readonly serviceAccount: ServiceAccountView;
  /** The saved configuration's domain and service account (a rerun of the wizard). */
  readonly inUse?: boolean;
};

/** What to synchronize: nothing ticked means the whole domain. */
export type ScopeDraft = {
  readonly includedOuGuids: ReadonlyArray<string>;
  /** A parenthesised LDAP filter ANDed with the object-class filter, e.g. (department=Sales). */
  readonly ldapFilter?: string;
};

export type OptionsDraft = {
  readonly deletionThreshold: { readonly count: number; readonly percent: number };
  readonly intervalMinutes: number;
  readonly stagingMode: boolean;
};

export const defaultOptions: OptionsDraft = { deletionThreshold: { count: 500, percent: 10 }, intervalMinutes: 30, stagingMode: false };

export type ConfigurationDraft = {
  /** The saved configuration when the wizard is rerun: what the wizard does not show is kept as it is. */
  readonly saved?: SavedConfig;
  readonly cloud?: CloudDraft;
  readonly network?: NetworkDraft;
  readonly ad?: AdDraft;
  readonly scope?: ScopeDraft;
  readonly options?: OptionsDraft;
};

/** A directory source as saved: the AD domain, how it is read, and what of it is synchronized. */
export type SavedSource = {
  readonly id: string;
  readonly ad: { readonly url: string; readonly tlsServerName?: string; readonly trustedCaPem?: string; readonly bindDn: string; readonly baseDn: string } & Readonly<Record<string, unknown>>;
  readonly scope: { readonly includedOuGuids: ReadonlyArray<string>; readonly excludedOuGuids: ReadonlyArray<string>; readonly ldapFilter?: string } & Readonly<Record<string, unknown>>;
} & Readonly<Record<string, unknown>>;

/** The parts of the saved configuration the wizard reads (the service validated the whole). */
export type SavedConfig = {
  /** Exactly one today: the wizard shows and edits it. */
  readonly sources: ReadonlyArray<SavedSource>;
  readonly cloud: CloudInstanceSettings & { readonly tenantId: string; readonly clientId: string; readonly credential: 'certificate' | 'secret'; readonly certificatePem?: string;
    readonly trustedCaPem?: string } & Readonly<Record<string, unknown>>;
  readonly deletionThreshold: { readonly count: number; readonly percent: number };
  readonly schedule: { readonly intervalMinutes: number; readonly fullEveryHours: number };
  readonly stagingMode: boolean;
  readonly serviceAccountNames: ReadonlyArray<string>;
  readonly network?: { readonly proxy: ProxyInput } & Readonly<Record<string, unknown>>;
} & Readonly<Record<string, unknown>>;

/** The wizard's starting point on a rerun: every page shows what is configured now. */
export function draftFromSaved(saved: SavedConfig, serviceAccount: ServiceAccountView | undefined, tenant?: RegisteredTenant): ConfigurationDraft {
  const { cloud } = saved;
  const source = saved.sources[0] as SavedSource;
  const { ad } = source;
  const account: ServiceAccountView = serviceAccount ?? { dn: ad.bindDn, samAccountName: saved.serviceAccountNames[0] ?? ad.bindDn, userPrincipalName: ad.bindDn,
    created: false, rights: { bind: false, readDirectory: false, dirSync: false, checks: [] } };
  return {
    saved,
    cloud: { instance: cloud.instance, authorityHost: cloud.authorityHost, graphBaseUrl: cloud.graphBaseUrl, tenantId: cloud.tenantId, clientId: cloud.clientId,
      credential: cloud.credential, certificatePem: cloud.certificatePem, inUse: true,
      tenantDisplayName: tenant?.tenantDisplayName, verifiedDomains: tenant?.verifiedDomains ?? [], appDisplayName: tenant?.appDisplayName },
    network: { proxy: saved.network?.proxy ?? { mode: 'system' }, trustedCaPem: cloud.trustedCaPem },
    ad: { url: ad.url, tlsServerName: ad.tlsServerName, trustedCaPem: ad.trustedCaPem, baseDn: ad.baseDn, serviceAccount: account, inUse: true },
    scope: { includedOuGuids: source.scope.includedOuGuids, ldapFilter: source.scope.ldapFilter },
    options: { deletionThreshold: saved.deletionThreshold, intervalMinutes: saved.schedule.intervalMinutes, stagingMode: saved.stagingMode },
  };
}

/**
 * The configuration for previewConfig and saveConfig (with the scope and options pages' choices, when
 * made), or undefined while incomplete. On a rerun, what the wizard does not show (attribute flow,
 * matching, excluded OUs, history) is kept from the saved configuration.
 */
export function buildConfig(draft: ConfigurationDraft): Readonly<Record<string, unknown>> | undefined {
  const { cloud, ad, scope, options, saved, network } = draft;
  if (!cloud || !ad) return undefined;
  const savedSource = saved?.sources[0];
  const sameDomain = savedSource !== undefined && savedSource.ad.baseDn.toLowerCase() === ad.baseDn.toLowerCase();
  // The saved scope names OUs of the saved domain: another domain starts with the whole domain.
  let sourceScope: Record<string, unknown> | undefined = sameDomain ? savedSource.scope : savedSource ? { includedOuGuids: [], excludedOuGuids: [] } : undefined;
  if (scope) {
    sourceScope = sameDomain ? { ...savedSource.scope, includedOuGuids: scope.includedOuGuids, ldapFilter: scope.ldapFilter }
      : { includedOuGuids: scope.includedOuGuids, excludedOuGuids: [], ldapFilter: scope.ldapFilter };
  }
  const source = {
    ...(sameDomain ? savedSource : {}),
    id: savedSource?.id ?? 'primary',
    ad: { ...savedSource?.ad, url: ad.url, tlsServerName: ad.tlsServerName, trustedCaPem: ad.trustedCaPem, bindDn: ad.serviceAccount.dn, baseDn: ad.baseDn },
    ...(sourceScope ? { scope: sourceScope } : {}),
  };
  const chosen: Record<string, unknown> = {};
  if (options) {
    chosen.deletionThreshold = options.deletionThreshold;
    chosen.schedule = { fullEveryHours: 24, ...saved?.schedule, intervalMinutes: options.intervalMinutes };
    chosen.stagingMode = options.stagingMode;
  }
  return {
    ...saved,
    version: 2,
    sources: [source],
    // Settings of the same cloud the wizard does not show (a CA trusted for a custom instance) are kept.
    cloud: { ...(saved?.cloud.instance === cloud.instance ? saved.cloud : {}), instance: cloud.instance, tenantId: cloud.tenantId, clientId: cloud.clientId,
      credential: cloud.credential, certificatePem: cloud.credential === 'certificate' ? cloud.certificatePem : undefined,
      authorityHost: cloud.authorityHost, graphBaseUrl: cloud.graphBaseUrl, ...(network ? { trustedCaPem: network.trustedCaPem } : {}) },
    ...(network ? { network: { ...saved?.network, proxy: network.proxy } } : {}),
    serviceAccountNames: [...new Set([ad.serviceAccount.samAccountName, ...(sameDomain && saved ? saved.serviceAccountNames : [])])],
    ...chosen,
  };
}
