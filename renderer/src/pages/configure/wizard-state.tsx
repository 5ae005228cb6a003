/**
 * What the Configuration Wizard has collected so far, shared by its pages: the non-secret parts of
 * the configuration the last page hands to saveConfig. Secrets the administrator types for a
 * bring-your-own app stay in memory here (never in storage) until that one saveConfig call.
 */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import type { CloudAndAdSecrets, CloudInstanceName, ServiceAccountView } from '../../../../engine/src/contract/control-api.ts';

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
};

export type AdDraft = {
  readonly url: string;
  readonly tlsServerName?: string;
  /** The CA the administrator chose to trust after seeing its fingerprint. */
  readonly trustedCaPem?: string;
  readonly baseDn: string;
  readonly serviceAccount: ServiceAccountView;
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

/** The enterprise administrator typed on the Active Directory page: kept in memory for the wizard's lifetime only, never stored. */
export type AdAdminCredentials = { readonly bindDn: string; readonly password: string };

export type ConfigurationDraft = {
  readonly cloud?: CloudDraft;
  readonly ad?: AdDraft;
  readonly scope?: ScopeDraft;
  readonly options?: OptionsDraft;
};

export type ConfigurationWizardState = {
  readonly draft: ConfigurationDraft;
  setCloud(cloud: CloudDraft | undefined, secrets?: Pick<CloudAndAdSecrets, 'clientSecret'>): void;
  /** Also keeps the administrator's credentials in memory (the Scope page reads the OUs with them). */
  setAd(ad: AdDraft | undefined, admin?: AdAdminCredentials): void;
  setScope(scope: ScopeDraft | undefined): void;
  setOptions(options: OptionsDraft | undefined): void;
  /** The enterprise administrator's credentials, while the wizard is open; never in storage. */
  adminCredentials(): AdAdminCredentials | undefined;
  /** The secrets to send with saveConfig, once. */
  pendingSecrets(): CloudAndAdSecrets;
};

const WizardStateContext = createContext<ConfigurationWizardState | undefined>(undefined);

export function ConfigurationWizardStateProvider(props: { readonly children: ReactNode }) {
  const [draft, setDraft] = useState<ConfigurationDraft>({});
  const secrets = useRef<CloudAndAdSecrets>({});
  const setCloud = useCallback((cloud: CloudDraft | undefined, cloudSecrets?: Pick<CloudAndAdSecrets, 'clientSecret'>) => {
    secrets.current = { ...secrets.current, clientSecret: cloud?.credential === 'secret' ? cloudSecrets?.clientSecret : undefined };
    setDraft((previous) => ({ ...previous, cloud }));
  }, []);
  const admin = useRef<AdAdminCredentials | undefined>(undefined);
  const setAd = useCallback((ad: AdDraft | undefined, adminCredentials?: AdAdminCredentials) => {
    admin.current = ad ? adminCredentials : undefined;
    // Another domain means other OUs: the scope chosen for the previous one no longer applies.
    setDraft((previous) => ({ ...previous, ad, scope: ad && previous.ad?.baseDn === ad.baseDn ? previous.scope : undefined }));
  }, []);
  const setScope = useCallback((scope: ScopeDraft | undefined) => setDraft((previous) => ({ ...previous, scope })), []);
  const setOptions = useCallback((options: OptionsDraft | undefined) => setDraft((previous) => ({ ...previous, options })), []);
  const adminCredentials = useCallback(() => admin.current, []);
  const pendingSecrets = useCallback(() => secrets.current, []);
  const value = useMemo(() => ({ draft, setCloud, setAd, setScope, setOptions, adminCredentials, pendingSecrets }),
    [draft, setCloud, setAd, setScope, setOptions, adminCredentials, pendingSecrets]);
  return <WizardStateContext.Provider value={value}>{props.children}</WizardStateContext.Provider>;
}

export function useConfigurationWizardState(): ConfigurationWizardState {
  const state = useContext(WizardStateContext);
  if (!state) throw new Error('useConfigurationWizardState outside ConfigurationWizardStateProvider');
  return state;
}

/** The configuration for saveConfig (with the scope and options pages' choices, when made), or undefined while incomplete. */
export function buildConfig(draft: ConfigurationDraft, rest: Readonly<Record<string, unknown>> = {}): Readonly<Record<string, unknown>> | undefined {
  const { cloud, ad, scope, options } = draft;
  if (!cloud || !ad) return undefined;
  const chosen: Record<string, unknown> = {};
  if (scope) chosen.scope = { includedOuGuids: scope.includedOuGuids, excludedOuGuids: [], ldapFilter: scope.ldapFilter };
  if (options) {
    chosen.deletionThreshold = options.deletionThreshold;
    chosen.schedule = { intervalMinutes: options.intervalMinutes, fullEveryHours: 24 };
    chosen.stagingMode = options.stagingMode;
  }
  return {
    version: 1,
    ad: { url: ad.url, tlsServerName: ad.tlsServerName, trustedCaPem: ad.trustedCaPem, bindDn: ad.serviceAccount.dn, baseDn: ad.baseDn },
    cloud: { instance: cloud.instance, tenantId: cloud.tenantId, clientId: cloud.clientId, credential: cloud.credential, certificatePem: cloud.certificatePem,
      authorityHost: cloud.authorityHost, graphBaseUrl: cloud.graphBaseUrl },
    serviceAccountNames: [ad.serviceAccount.samAccountName],
    ...chosen,
    ...rest,
  };
}
