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

export type ConfigurationDraft = {
  readonly cloud?: CloudDraft;
  readonly ad?: AdDraft;
};

export type ConfigurationWizardState = {
  readonly draft: ConfigurationDraft;
  setCloud(cloud: CloudDraft | undefined, secrets?: Pick<CloudAndAdSecrets, 'clientSecret'>): void;
  setAd(ad: AdDraft | undefined): void;
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
  const setAd = useCallback((ad: AdDraft | undefined) => setDraft((previous) => ({ ...previous, ad })), []);
  const pendingSecrets = useCallback(() => secrets.current, []);
  const value = useMemo(() => ({ draft, setCloud, setAd, pendingSecrets }), [draft, setCloud, setAd, pendingSecrets]);
  return <WizardStateContext.Provider value={value}>{props.children}</WizardStateContext.Provider>;
}

export function useConfigurationWizardState(): ConfigurationWizardState {
  const state = useContext(WizardStateContext);
  if (!state) throw new Error('useConfigurationWizardState outside ConfigurationWizardStateProvider');
  return state;
}

/** The configuration for saveConfig (scope and options come from later pages), or undefined while incomplete. */
export function buildConfig(draft: ConfigurationDraft, rest: Readonly<Record<string, unknown>> = {}): Readonly<Record<string, unknown>> | undefined {
  const { cloud, ad } = draft;
  if (!cloud || !ad) return undefined;
  return {
    version: 1,
    ad: { url: ad.url, tlsServerName: ad.tlsServerName, trustedCaPem: ad.trustedCaPem, bindDn: ad.serviceAccount.dn, baseDn: ad.baseDn },
    cloud: { instance: cloud.instance, tenantId: cloud.tenantId, clientId: cloud.clientId, credential: cloud.credential, certificatePem: cloud.certificatePem,
      authorityHost: cloud.authorityHost, graphBaseUrl: cloud.graphBaseUrl },
    serviceAccountNames: [ad.serviceAccount.samAccountName],
    ...rest,
  };
}
