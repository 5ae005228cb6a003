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

/** A domain of a forest besides the one of the domain controller given, ticked to be synchronized. */
export type DomainDraft = {
  /** emea.contoso.com */
  readonly dnsName: string;
  readonly netbiosName?: string;
  readonly baseDn: string;
  /** The domain controller it is read from: the one DNS names for the domain, or one the administrator typed. */
  readonly url: string;
  readonly tlsServerName?: string;
  readonly trustedCaPem?: string;
};

/** A forest: the domain controller given (and its domain, `baseDn`), the forest's service account, and its other ticked domains. */
export type AdDraft = {
  readonly url: string;
  readonly tlsServerName?: string;
  /** The CA the administrator chose to trust after seeing its fingerprint. */
  readonly trustedCaPem?: string;
  readonly baseDn: string;
  readonly serviceAccount: ServiceAccountView;
  /** The saved configuration's domain and service account (a rerun of the wizard). */
  readonly inUse?: boolean;
  /** The forest root domain's DNS name, lower case, once the forest was read (or saved with its sources). */
  readonly forest?: string;
  /** The forest's other ticked domains (none: the forest is synchronized through the domain of the DC given alone). */
  readonly domains?: ReadonlyArray<DomainDraft>;
};

/** A forest added after the first: its name names its service account's password (`ad.password/<forest>`). */
export type ForestDraft = AdDraft & { readonly forest: string };

/** What of one domain to synchronize: nothing ticked means the whole domain. */
export type DomainScopeDraft = {
  readonly includedOuGuids: ReadonlyArray<string>;
  /** A parenthesised LDAP filter ANDed with the object-class filter, e.g. (department=Sales). */
  readonly ldapFilter?: string;
};

/**
 * What to synchronize: the first forest's first domain's OUs and filter, and (with several domains) every other
 * domain's, by its key (domainKey of its naming context). Nothing ticked in a domain means the whole domain.
 */
export type ScopeDraft = DomainScopeDraft & {
  readonly domains?: Readonly<Record<string, DomainScopeDraft>>;
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
  /** The first forest. */
  readonly ad?: AdDraft;
  /** The forests added after the first ("Add another forest"), each with its own service account. */
  readonly forests?: ReadonlyArray<ForestDraft>;
  readonly scope?: ScopeDraft;
  readonly options?: OptionsDraft;
};

/** A directory source as saved: the AD domain, how it is read, and what of it is synchronized. */
export type SavedSource = {
  readonly id: string;
  /** The forest root domain's DNS name (sources of a forest added after the first; of a domain that is not its forest's root). */
  readonly forest?: string;
  /** The stored secret with the password of the account it is read as: `ad.password`, or `ad.password/<forest>` for a forest added after the first. */
  readonly passwordSecret?: string;
  readonly ad: { readonly url: string; readonly tlsServerName?: string; readonly trustedCaPem?: string; readonly bindDn: string; readonly baseDn: string } & Readonly<Record<string, unknown>>;
  readonly scope: { readonly includedOuGuids: ReadonlyArray<string>; readonly excludedOuGuids: ReadonlyArray<string>; readonly ldapFilter?: string } & Readonly<Record<string, unknown>>;
} & Readonly<Record<string, unknown>>;

/** The parts of the saved configuration the wizard reads (the service validated the whole). */
export type SavedConfig = {
  /** Every domain synchronized: the first forest's first, then the other forests' (the wizard shows and edits them all). */
  readonly sources: ReadonlyArray<SavedSource>;
  readonly cloud: CloudInstanceSettings & { readonly tenantId: string; readonly clientId: string; readonly credential: 'certificate' | 'secret'; readonly certificatePem?: string;
    readonly trustedCaPem?: string } & Readonly<Record<string, unknown>>;
  readonly deletionThreshold: { readonly count: number; readonly percent: number };
  readonly schedule: { readonly intervalMinutes: number; readonly fullEveryHours: number };
  readonly stagingMode: boolean;
  readonly serviceAccountNames: ReadonlyArray<string>;
  readonly network?: { readonly proxy: ProxyInput } & Readonly<Record<string, unknown>>;
} & Readonly<Record<string, unknown>>;

/** The secret with the first forest's service account's password (every installation's before forests). */
export const FIRST_FOREST_SECRET = 'ad.password';

/** The secret with the password of the service account of a forest added after the first. */
export function forestPasswordSecret(forest: string): string {
  return `${FIRST_FOREST_SECRET}/${forest.toLowerCase()}`;
}

/** A naming context as a key (AD compares DNs without case and without the spaces around separators): DC=Contoso, DC=com → dc=contoso,dc=com. */
export function domainKey(baseDn: string): string {
  return baseDn.split(',').map((part) => part.trim().replace(/\s*=\s*/, '=')).join(',').toLowerCase();
}

/** A domain's DNS name from its naming context: DC=emea,DC=contoso,DC=com → emea.contoso.com. */
export function dnsNameOf(baseDn: string): string {
  return domainKey(baseDn).split(',').filter((part) => part.startsWith('dc=')).map((part) => part.slice(3)).join('.');
}

/** A forest's name: the one read from its DC or saved, else its given domain's (a forest of one domain). */
export function forestNameOf(forest: AdDraft): string {
  return (forest.forest ?? dnsNameOf(forest.baseDn)).toLowerCase();
}

/** A domain to synchronize, as the Scope page and buildConfig walk them: every forest's, the first forest's first. */
export type DraftDomain = {
  readonly key: string;
  readonly dnsName: string;
  readonly baseDn: string;
  readonly url: string;
  readonly tlsServerName?: string;
  readonly trustedCaPem?: string;
  /** The forest root domain's DNS name. */
  readonly forest: string;
  /** 0: the first forest; 1…: the forests added after it (draft.forests[forestIndex - 1]). */
  readonly forestIndex: number;
  /** The first forest's first domain: its scope is ScopeDraft's own. */
  readonly first: boolean;
  /** The forest's service account. */
  readonly account: ServiceAccountView;
};

/** Every domain of the draft, in the order of the sources buildConfig makes. */
export function draftDomains(draft: ConfigurationDraft): ReadonlyArray<DraftDomain> {
  if (!draft.ad) return [];
  return [draft.ad, ...(draft.forests ?? [])].flatMap((forest, forestIndex) => {
    const name = forestNameOf(forest);
    const given: DomainDraft = { dnsName: dnsNameOf(forest.baseDn), baseDn: forest.baseDn, url: forest.url, tlsServerName: forest.tlsServerName, trustedCaPem: forest.trustedCaPem };
    return [given, ...(forest.domains ?? [])].map((domain, index) => ({ key: domainKey(domain.baseDn), dnsName: domain.dnsName.toLowerCase(), baseDn: domain.baseDn, url: domain.url,
      tlsServerName: domain.tlsServerName, trustedCaPem: domain.trustedCaPem, forest: name, forestIndex, first: forestIndex === 0 && index === 0, account: forest.serviceAccount }));
  });
}

/** The saved source of a domain (by its naming context), if it is configured. */
function savedSourceOf(saved: SavedConfig | undefined, key: string): SavedSource | undefined {
  return saved?.sources.find((source) => domainKey(source.ad.baseDn) === key);
}

/** What of a domain the Scope page starts from: the draft's choice, else what is saved for the domain, else the whole domain. */
export function domainScope(draft: ConfigurationDraft, domain: DraftDomain): DomainScopeDraft {
  const { scope, saved } = draft;
  const chosen = domain.first ? scope && { includedOuGuids: scope.includedOuGuids, ldapFilter: scope.ldapFilter } : scope?.domains?.[domain.key];
  if (chosen) return chosen;
  // A domain is found in the saved configuration by its naming context, wherever it was (the first forest's DC may have changed).
  const savedSource = savedSourceOf(saved, domain.key);
  if (savedSource) return { includedOuGuids: savedSource.scope.includedOuGuids, ldapFilter: savedSource.scope.ldapFilter };
  // A domain not saved yet gets the filter the others have (never none where they have one).
  return { includedOuGuids: [], ldapFilter: scope?.ldapFilter ?? saved?.sources[0]?.scope.ldapFilter };
}

/** Whether the domain is in the saved configuration (a rerun). */
export function isSavedDomain(draft: ConfigurationDraft, domain: DraftDomain): boolean {
  return savedSourceOf(draft.saved, domain.key) !== undefined;
}

/** A service account known only by the DN its sources are read as (the service did not say more). */
function accountFromDn(bindDn: string, samAccountName?: string): ServiceAccountView {
  const rdn = /^CN=((?:\\.|[^,])+)/i.exec(bindDn)?.[1];
  return { dn: bindDn, samAccountName: samAccountName ?? rdn ?? bindDn, userPrincipalName: bindDn, created: false, rights: { bind: false, readDirectory: false, dirSync: false, checks: [] } };
}

/** A forest as saved: its first source is the domain of the DC given, the others its other domains. */
function forestFromSaved(sources: ReadonlyArray<SavedSource>, account: ServiceAccountView, forest: string | undefined): AdDraft {
  const [first, ...others] = sources as [SavedSource, ...SavedSource[]];
  const { ad } = first;
  return {
    url: ad.url, tlsServerName: ad.tlsServerName, trustedCaPem: ad.trustedCaPem, baseDn: ad.baseDn, serviceAccount: account, inUse: true,
    ...(forest !== undefined ? { forest: forest.toLowerCase() } : {}),
    ...(others.length > 0 ? { domains: others.map((source) => ({ dnsName: dnsNameOf(source.ad.baseDn), baseDn: source.ad.baseDn, url: source.ad.url,
      tlsServerName: source.ad.tlsServerName, trustedCaPem: source.ad.trustedCaPem })) } : {}),
  };
}

/** The saved sources by forest, in order: the first source's forest first (the sources read with its password), then each added forest's. */
function savedForests(saved: SavedConfig): ReadonlyArray<{ readonly secret: string; readonly sources: ReadonlyArray<SavedSource> }> {
  const groups = new Map<string, SavedSource[]>();
  for (const source of saved.sources) {
    const secret = source.passwordSecret ?? FIRST_FOREST_SECRET;
    groups.set(secret, [...(groups.get(secret) ?? []), source]);
  }
  return [...groups].map(([secret, sources]) => ({ secret, sources }));
}

/** The wizard's starting point on a rerun: every page shows what is configured now, every forest and domain. */
export function draftFromSaved(saved: SavedConfig, serviceAccount: ServiceAccountView | undefined, tenant?: RegisteredTenant,
  forestAccounts?: Readonly<Record<string, ServiceAccountView>>): ConfigurationDraft {
  const { cloud } = saved;
  const source = saved.sources[0] as SavedSource;
  const [firstForest, ...addedForests] = savedForests(saved);
  const firstSources = firstForest?.sources ?? [source];
  const account: ServiceAccountView = serviceAccount ?? accountFromDn(source.ad.bindDn, saved.serviceAccountNames[0]);
  const forests = addedForests.map((group): ForestDraft => {
    const first = group.sources[0] as SavedSource;
    const name = (first.forest ?? (group.secret.startsWith(`${FIRST_FOREST_SECRET}/`) ? group.secret.slice(FIRST_FOREST_SECRET.length + 1) : dnsNameOf(first.ad.baseDn))).toLowerCase();
    return { ...forestFromSaved(group.sources, forestAccounts?.[name] ?? accountFromDn(first.ad.bindDn), name), forest: name };
  });
  const others = saved.sources.filter((other) => other !== source);
  return {
    saved,
    cloud: { instance: cloud.instance, authorityHost: cloud.authorityHost, graphBaseUrl: cloud.graphBaseUrl, tenantId: cloud.tenantId, clientId: cloud.clientId,
      credential: cloud.credential, certificatePem: cloud.certificatePem, inUse: true,
      tenantDisplayName: tenant?.tenantDisplayName, verifiedDomains: tenant?.verifiedDomains ?? [], appDisplayName: tenant?.appDisplayName },
    network: { proxy: saved.network?.proxy ?? { mode: 'system' }, trustedCaPem: cloud.trustedCaPem },
    ad: forestFromSaved(firstSources, account, firstSources.find((s) => s.forest !== undefined)?.forest),
    ...(forests.length > 0 ? { forests } : {}),
    scope: { includedOuGuids: source.scope.includedOuGuids, ldapFilter: source.scope.ldapFilter,
      ...(others.length > 0 ? { domains: Object.fromEntries(others.map((other) => [domainKey(other.ad.baseDn),
        { includedOuGuids: other.scope.includedOuGuids, ldapFilter: other.scope.ldapFilter }])) } : {}) },
    options: { deletionThreshold: saved.deletionThreshold, intervalMinutes: saved.schedule.intervalMinutes, stagingMode: saved.stagingMode },
  };
}

/** A source's `forest`: set for an added forest's domains, and for a domain that is not its forest's root; kept when saved. */
function forestField(domain: DraftDomain, savedSource: SavedSource | undefined): { forest?: string } {
  const needed = domain.forestIndex > 0 || domain.forest !== domain.dnsName || savedSource?.forest !== undefined;
  return needed ? { forest: domain.forest } : savedSource && 'forest' in savedSource ? { forest: undefined } : {};
}

/** The source of a domain other than the first forest's first: its saved settings kept, its id the saved one or its DNS name. */
function otherSource(draft: ConfigurationDraft, domain: DraftDomain, usedIds: Set<string>): Record<string, unknown> {
  const { saved, scope } = draft;
  const savedSource = savedSourceOf(saved, domain.key);
  const id = savedSource && !usedIds.has(savedSource.id.toLowerCase()) ? savedSource.id : domain.dnsName;
  usedIds.add(id.toLowerCase());
  let sourceScope: Record<string, unknown> | undefined = savedSource ? savedSource.scope : saved ? { includedOuGuids: [], excludedOuGuids: [] } : undefined;
  if (scope) {
    const chosen = scope.domains?.[domain.key];
    const includedOuGuids = chosen?.includedOuGuids ?? savedSource?.scope.includedOuGuids ?? [];
    const ldapFilter = chosen ? chosen.ldapFilter : scope.ldapFilter;
    sourceScope = savedSource ? { ...savedSource.scope, includedOuGuids, ldapFilter } : { includedOuGuids, excludedOuGuids: [], ldapFilter };
  }
  return {
    ...savedSource,
    id,
    ...forestField(domain, savedSource),
    ad: { ...savedSource?.ad, url: domain.url, tlsServerName: domain.tlsServerName, trustedCaPem: domain.trustedCaPem, bindDn: domain.account.dn, baseDn: domain.baseDn },
    ...(sourceScope ? { scope: sourceScope } : {}),
    passwordSecret: domain.forestIndex === 0 ? FIRST_FOREST_SECRET : forestPasswordSecret(domain.forest),
  };
}

/**
 * The configuration for previewConfig and saveConfig (with the scope and options pages' choices, when
 * made), or undefined while incomplete: a source for every ticked domain of every forest. On a rerun, what
 * the wizard does not show (attribute flow, matching, excluded OUs, history) is kept from the saved configuration.
 */
export function buildConfig(draft: ConfigurationDraft): Readonly<Record<string, unknown>> | undefined {
  const { cloud, ad, scope, options, saved, network } = draft;
  if (!cloud || !ad) return undefined;
  const [firstDomain, ...otherDomains] = draftDomains(draft) as [DraftDomain, ...DraftDomain[]];
  // The first domain's saved source, by its naming context; an installation of one domain whose domain changed keeps its
  // source's id (as it always did), as does a first domain that replaced one no other domain of the draft is.
  const matched = savedSourceOf(saved, firstDomain.key);
  const savedFirst = saved?.sources[0];
  const replaced = savedFirst !== undefined && !otherDomains.some((domain) => domain.key === domainKey(savedFirst.ad.baseDn)) ? savedFirst : undefined;
  const savedSource = matched ?? replaced;
  const sameDomain = matched !== undefined;
  // The saved scope names OUs of the saved domain: another domain starts with the whole domain.
  let sourceScope: Record<string, unknown> | undefined = matched ? matched.scope : saved ? { includedOuGuids: [], excludedOuGuids: [] } : undefined;
  if (scope) {
    sourceScope = matched ? { ...matched.scope, includedOuGuids: scope.includedOuGuids, ldapFilter: scope.ldapFilter }
      : { includedOuGuids: scope.includedOuGuids, excludedOuGuids: [], ldapFilter: scope.ldapFilter };
  }
  const source = {
    ...(sameDomain ? savedSource : {}),
    id: savedSource?.id ?? (saved?.sources.some((other) => other.id.toLowerCase() === 'primary') ? firstDomain.dnsName : 'primary'),
    ...forestField(firstDomain, sameDomain ? savedSource : undefined),
    ad: { ...savedSource?.ad, url: ad.url, tlsServerName: ad.tlsServerName, trustedCaPem: ad.trustedCaPem, bindDn: ad.serviceAccount.dn, baseDn: ad.baseDn },
    ...(sourceScope ? { scope: sourceScope } : {}),
  };
  const usedIds = new Set([source.id.toLowerCase()]);
  const others = otherDomains.map((domain) => otherSource(draft, domain, usedIds));
  const chosen: Record<string, unknown> = {};
  if (options) {
    chosen.deletionThreshold = options.deletionThreshold;
    chosen.schedule = { fullEveryHours: 24, ...saved?.schedule, intervalMinutes: options.intervalMinutes };
    chosen.stagingMode = options.stagingMode;
  }
  return {
    ...saved,
    version: 2,
    sources: [source, ...others],
    // Settings of the same cloud the wizard does not show (a CA trusted for a custom instance) are kept.
    cloud: { ...(saved?.cloud.instance === cloud.instance ? saved.cloud : {}), instance: cloud.instance, tenantId: cloud.tenantId, clientId: cloud.clientId,
      credential: cloud.credential, certificatePem: cloud.credential === 'certificate' ? cloud.certificatePem : undefined,
      authorityHost: cloud.authorityHost, graphBaseUrl: cloud.graphBaseUrl, ...(network ? { trustedCaPem: network.trustedCaPem } : {}) },
    ...(network ? { network: { ...saved?.network, proxy: network.proxy } } : {}),
    serviceAccountNames: [...new Set([ad.serviceAccount.samAccountName, ...(sameDomain && saved ? saved.serviceAccountNames : []),
      ...(draft.forests ?? []).map((forest) => forest.serviceAccount.samAccountName)])],
    ...chosen,
  };
}
