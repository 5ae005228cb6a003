/**
 * What the Configuration Wizard has collected so far, shared by its pages: the non-secret parts of
 * the configuration the last page hands to saveConfig. Secrets the administrator types for a
 * bring-your-own app stay in memory here (never in storage) until that one saveConfig call.
 */
import { Spinner } from '@fluentui/react-components';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { CloudAndAdSecrets } from '../../../../engine/src/contract/control-api.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { asControlError, call, type ControlError } from '../../lib/engine-client.ts';
import {
  draftFromSaved, type AdDraft, type CloudDraft, type ConfigurationDraft, type ForestDraft, type NetworkDraft, type OptionsDraft, type SavedConfig, type ScopeDraft,
} from './configuration-draft.ts';

export {
  buildConfig, defaultOptions, type AdDraft, type CloudDraft, type CloudInstanceSettings, type ConfigurationDraft, type ForestDraft, type NetworkDraft, type OptionsDraft, type ScopeDraft,
} from './configuration-draft.ts';

/** The enterprise administrator typed on the Active Directory page: kept in memory for the wizard's lifetime only, never stored. */
export type AdAdminCredentials = { readonly bindDn: string; readonly password: string };

export type ConfigurationWizardState = {
  readonly draft: ConfigurationDraft;
  setCloud(cloud: CloudDraft | undefined, secrets?: Pick<CloudAndAdSecrets, 'clientSecret'>): void;
  /** How the cloud is reached; a proxy password typed is kept in memory for saveConfig. */
  setNetwork(network: NetworkDraft, proxyPassword: string | undefined): void;
  /** Also keeps the administrator's credentials in memory (the Scope page reads the OUs with them). */
  setAd(ad: AdDraft | undefined, admin?: AdAdminCredentials): void;
  /** The forests added after the first, each with its service account (their administrators are never kept: each forest's OUs are read as its account). */
  setForests(forests: ReadonlyArray<ForestDraft>): void;
  setScope(scope: ScopeDraft | undefined): void;
  setOptions(options: OptionsDraft | undefined): void;
  /** The enterprise administrator's credentials, while the wizard is open; never in storage. */
  adminCredentials(): AdAdminCredentials | undefined;
  /** The secrets to send with saveConfig, once. */
  pendingSecrets(): CloudAndAdSecrets;
};

const WizardStateContext = createContext<ConfigurationWizardState | undefined>(undefined);

/** Opens the wizard with the current configuration, when there is one (a rerun). */
export function ConfigurationWizardStateProvider(props: { readonly children: ReactNode }) {
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<ControlError | undefined>();
  const [draft, setDraft] = useState<ConfigurationDraft>({});
  useEffect(() => {
    let cancelled = false;
    call('getConfig', {}).then((current) => {
      if (cancelled) return;
      if (current.config) setDraft(draftFromSaved(current.config as SavedConfig, current.serviceAccount, current.tenant, current.forestAccounts));
      setLoaded(true);
    }, (caught: unknown) => {
      if (!cancelled) setError(asControlError(caught));
    });
    return () => { cancelled = true; };
  }, []);
  const secrets = useRef<CloudAndAdSecrets>({});
  const setCloud = useCallback((cloud: CloudDraft | undefined, cloudSecrets?: Pick<CloudAndAdSecrets, 'clientSecret'>) => {
    secrets.current = { ...secrets.current, clientSecret: cloud?.credential === 'secret' ? cloudSecrets?.clientSecret : undefined };
    setDraft((previous) => ({ ...previous, cloud }));
  }, []);
  const setNetwork = useCallback((network: NetworkDraft, proxyPassword: string | undefined) => {
    secrets.current = { ...secrets.current, proxyPassword: network.proxy.mode === 'url' && network.proxy.username ? proxyPassword || undefined : undefined };
    setDraft((previous) => ({ ...previous, network }));
  }, []);
  const admin = useRef<AdAdminCredentials | undefined>(undefined);
  const setAd = useCallback((ad: AdDraft | undefined, adminCredentials?: AdAdminCredentials) => {
    admin.current = ad ? adminCredentials : undefined;
    // Another domain means other OUs: the scope chosen for the previous one no longer applies.
    setDraft((previous) => ({ ...previous, ad, scope: ad && previous.ad?.baseDn === ad.baseDn ? previous.scope : undefined }));
  }, []);
  const setForests = useCallback((forests: ReadonlyArray<ForestDraft>) => setDraft((previous) => ({ ...previous, forests })), []);
  const setScope = useCallback((scope: ScopeDraft | undefined) => setDraft((previous) => ({ ...previous, scope })), []);
  const setOptions = useCallback((options: OptionsDraft | undefined) => setDraft((previous) => ({ ...previous, options })), []);
  const adminCredentials = useCallback(() => admin.current, []);
  const pendingSecrets = useCallback(() => secrets.current, []);
  const value = useMemo(() => ({ draft, setCloud, setNetwork, setAd, setForests, setScope, setOptions, adminCredentials, pendingSecrets }),
    [draft, setCloud, setNetwork, setAd, setForests, setScope, setOptions, adminCredentials, pendingSecrets]);
  if (error) return <ErrorBar error={error} title="The current configuration could not be read" />;
  if (!loaded) return <Spinner label="Reading the current configuration…" />;
  return <WizardStateContext.Provider value={value}>{props.children}</WizardStateContext.Provider>;
}

export function useConfigurationWizardState(): ConfigurationWizardState {
  const state = useContext(WizardStateContext);
  if (!state) throw new Error('useConfigurationWizardState outside ConfigurationWizardStateProvider');
  return state;
}

