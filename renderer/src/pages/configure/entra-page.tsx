import { Body1, Button, Field, Radio, RadioGroup, Spinner } from '@fluentui/react-components';
import { useEffect, useRef, useState } from 'react';
import type { CloudInstanceName, CloudRegistrationView, CloudSignInPrompt, ExistingAppTest } from '../../../../engine/src/contract/control-api.ts';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { WizardFrame } from '../../components/wizard-frame.tsx';
import { asControlError, call, type ControlError } from '../../lib/engine-client.ts';
import { ConfigureStep, configureSteps } from './configure-steps.ts';
import { CloudInstanceFields, DeviceCodePrompt, TenantSummary, type Notice } from './entra-parts.tsx';
import { ExistingAppFields } from './existing-app-fields.tsx';
import { NetworkFields, useCloudNetwork } from './network-fields.tsx';
import { useConfigurationWizardState, type CloudDraft, type CloudInstanceSettings } from './wizard-state.tsx';



type Choice = 'sign-in' | 'existing-app';

function instanceSettings(instance: CloudInstanceName, authorityHost: string, graphBaseUrl: string): CloudInstanceSettings {
  return instance === 'custom' ? { instance, authorityHost: authorityHost.trim(), graphBaseUrl: graphBaseUrl.trim() } : { instance };
}

function registrationDraft(settings: CloudInstanceSettings, registration: CloudRegistrationView): CloudDraft {
  return { ...settings, tenantId: registration.tenantId, clientId: registration.appId, credential: 'certificate', certificatePem: registration.certificatePem,
    tenantDisplayName: registration.tenantDisplayName, verifiedDomains: registration.verifiedDomains, appDisplayName: registration.displayName };
}


function registrationNotices(registration: CloudRegistrationView): Notice[] {
  const revoked: Notice[] = registration.revokedPermissions.length === 0 ? [] : [{ intent: 'info', text:
    `Consent for ${registration.revokedPermissions.join(', ')} was revoked: Directory Sync no longer needs ` +
    `${registration.revokedPermissions.length === 1 ? 'that permission' : 'those permissions'} and keeps only ${registration.permissions.join(', ')}.` }];
  const other = registration.tenantSynchronized;
  const synchronized: Notice[] = other === undefined ? [] : [{ intent: 'warning', text:
    `This tenant is synchronized by another tool${other.tool ? `: ${other.tool}` : ' (Entra Connect, Cloud Sync or DirSync)'}` +
    `${other.objects ? `, ${other.objects.user} users and ${other.objects.group} groups` : ''}` +
    `${other.lastSyncDateTime ? `, last on ${other.lastSyncDateTime}` : ''}${other.stillRunning === true ? ' (it still runs)' : other.stillRunning === false ? ' (it has stopped)' : ''}. ` +
    'Directory Sync never writes the users and groups it synchronizes nor creates them again, and creates nothing new until you approve it. ' +
    'To take over from it, finish this wizard, then open the Takeover page from the Operations view.' }];
  const earlier: Notice[] = registration.earlierRegistrations.length === 0 ? [] : [{ intent: 'info', text:
    `Earlier Directory Sync registrations found: ${registration.earlierRegistrations.map((r) => `${r.displayName} (${r.appId})`).join(', ')}. ` +
    'The users and groups they synchronized are adopted by this registration, never created again.' }];
  return [...synchronized, ...earlier, ...revoked, ...registration.warnings.map((text): Notice => ({ intent: 'warning', text }))];
}

/** Configuration Wizard — Microsoft Entra ID: a Global Administrator's sign-in registers the app, or an existing app is used. */
export function EntraPage(props: { readonly onBack: () => void; readonly onNext: () => void }) {
  const layout = usePageLayoutStyles();
  const { draft, setCloud, setNetwork } = useConfigurationWizardState();
  const network = useCloudNetwork(draft.network);
  const [choice, setChoice] = useState<Choice>(draft.cloud?.credential === 'secret' ? 'existing-app' : 'sign-in');
  const [instance, setInstance] = useState<CloudInstanceName>(draft.cloud?.instance ?? 'global');
  const [authorityHost, setAuthorityHost] = useState(draft.cloud?.authorityHost ?? '');
  const [graphBaseUrl, setGraphBaseUrl] = useState(draft.cloud?.graphBaseUrl ?? '');
  const [tenant, setTenant] = useState(draft.cloud?.credential === 'secret' ? draft.cloud.tenantId : '');
  const [clientId, setClientId] = useState(draft.cloud?.credential === 'secret' ? draft.cloud.clientId : '');
  const [clientSecret, setClientSecret] = useState('');
  const [appTest, setAppTest] = useState<ExistingAppTest | undefined>();
  const [prompt, setPrompt] = useState<CloudSignInPrompt | undefined>();
  const [progress, setProgress] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ControlError | undefined>();
  const [copied, setCopied] = useState<string | undefined>();
  // What the last registration changed or could not do, in the administrator's words (not kept in the draft).
  const [notices, setNotices] = useState<ReadonlyArray<Notice>>([]);
  const pendingSignIn = useRef<string | undefined>(undefined);

  // Leaving the page abandons a sign-in that is still waiting.
  useEffect(() => () => {
    const signInId = pendingSignIn.current;
    pendingSignIn.current = undefined;
    if (signInId) void call('cancelCloudSignIn', { signInId }).catch(asControlError);
  }, []);

  const registered = draft.cloud?.credential === 'certificate' ? draft.cloud : undefined;
  const customIncomplete = instance === 'custom' && (authorityHost.trim() === '' || graphBaseUrl.trim() === '');
  // On a rerun the stored secret of the app in use is kept unless a new one is typed.
  const keepsStoredSecret = draft.cloud?.inUse === true && draft.cloud.credential === 'secret' && draft.cloud.tenantId === tenant.trim() && draft.cloud.clientId === clientId.trim();
  // The app must have passed "Test the app" for what is typed now (the fields reset the test when they change).
  const existingAppValid = appTest !== undefined && appTest.missing.length === 0;

  async function signIn(): Promise<void> {
    const settings = instanceSettings(instance, authorityHost, graphBaseUrl);
    setBusy(true);
    setError(undefined);
    setCloud(undefined);
    setNotices([]);
    let signInId: string | undefined;
    try {
      const started = await call('beginCloudSignIn', { ...settings, tenant: tenant.trim() || undefined, network: network.input() });
      signInId = started.signInId;
      pendingSignIn.current = signInId;
      setPrompt(started);
      const id = signInId;
      // The registration and its replication can take a while after the sign-in: say where it stands.
      const poll = window.setInterval(() => {
        void call('cloudSignInProgress', { signInId: id }).then((p) => { if (pendingSignIn.current === id) setProgress(p.message); }).catch(() => undefined);
      }, 1000);
      const registration = await call('completeCloudSignIn', { signInId }).finally(() => window.clearInterval(poll));
      if (pendingSignIn.current === signInId) {
        setCloud(registrationDraft(settings, registration));
        setNotices(registrationNotices(registration));
      }
    } catch (caught) {
      const failure = asControlError(caught);
      // A sign-in the administrator cancelled ends with an error that is no news to them.
      if (signInId === undefined || pendingSignIn.current === signInId) setError(failure);
      // The cloud could not be reached: the network section tests the path and shows what to change (or a chain to trust).
      if (failure.code === 'cloud-unreachable') void network.run({ ...settings, tenant: tenant.trim() || undefined });
    } finally {
      if (signInId === undefined || pendingSignIn.current === signInId) {
        pendingSignIn.current = undefined;
        setPrompt(undefined);
        setProgress(undefined);
        setBusy(false);
      }
    }
  }

  async function cancelSignIn(): Promise<void> {
    const signInId = pendingSignIn.current;
    pendingSignIn.current = undefined;
    setPrompt(undefined);
    setBusy(false);
    if (signInId) await call('cancelCloudSignIn', { signInId }).catch((caught: unknown) => setError(asControlError(caught)));
  }

  async function copyCode(code: string): Promise<void> {
    try {
      await window.navigator.clipboard.writeText(code);
      setCopied('Code copied.');
    } catch {
      setCopied('Could not copy: select the code and copy it.');
    }
  }

  function next(): void {
    setNetwork(network.draft(), network.password);
    if (choice === 'existing-app') {
      setCloud({ ...instanceSettings(instance, authorityHost, graphBaseUrl), tenantId: appTest?.tenantId ?? tenant.trim(), clientId: clientId.trim(), credential: 'secret',
        verifiedDomains: appTest?.verifiedDomains ?? [], tenantDisplayName: appTest?.tenantDisplayName || undefined,
        inUse: keepsStoredSecret && clientSecret === '' }, { clientSecret: clientSecret === '' ? undefined : clientSecret });
    }
    props.onNext();
  }

  // A proxy chosen must be named before going on (the configuration would refuse it at the end).
  const networkIncomplete = network.mode === 'url' && network.url.trim() === '';
  const ready = (choice === 'sign-in' ? registered !== undefined : existingAppValid && !customIncomplete) && !networkIncomplete;

  return (
    <WizardFrame title="Connect to Microsoft Entra ID" steps={configureSteps} currentStep={ConfigureStep.Entra}
      onBack={busy ? undefined : props.onBack} onNext={ready && !busy ? next : undefined} nextDisabled={!ready || busy}>
      <div className={layout.stack}>
        <Field label="How should Directory Sync connect to your tenant?">
          <RadioGroup value={choice} disabled={busy} onChange={(_event, data) => { setChoice(data.value as Choice); setError(undefined); }}>
            <Radio value="sign-in" label="Sign in as a Global Administrator: Directory Sync creates its own app registration" />
            <Radio value="existing-app" label="Use an existing app registration" />
          </RadioGroup>
        </Field>

        <CloudInstanceFields instance={instance} authorityHost={authorityHost} graphBaseUrl={graphBaseUrl} tenant={choice === 'sign-in' ? tenant : undefined} busy={busy}
          onInstance={setInstance} onAuthorityHost={setAuthorityHost} onGraphBaseUrl={setGraphBaseUrl} onTenant={setTenant} />
        <NetworkFields network={network} disabled={busy || customIncomplete}
          cloud={{ ...instanceSettings(instance, authorityHost, graphBaseUrl), tenant: tenant.trim() || undefined }} />

        {choice === 'sign-in' ? (
          <>
            <Body1 as="p">
              Sign in with a Global Administrator account. Directory Sync creates the app registration “Directory Sync” for this server,
              with a certificate credential and the least permissions it needs. The administrator&apos;s sign-in is not kept.
            </Body1>
            <div className={layout.row}>
              <Button appearance={registered ? 'secondary' : 'primary'} disabled={busy || customIncomplete} onClick={() => void signIn()}>
                {registered ? 'Sign in again' : 'Sign in'}
              </Button>
              {busy && !prompt && <Spinner size="tiny" label="Starting the sign-in…" />}
            </div>
            {prompt && <DeviceCodePrompt prompt={prompt} progress={progress} copied={copied} onCopy={(code) => void copyCode(code)} onCancel={() => void cancelSignIn()} />}
            <ErrorBar error={error} title="The sign-in did not succeed" />
            {registered && !busy && <TenantSummary registered={registered} notices={notices} />}
          </>
        ) : (
          <>
            <ExistingAppFields inputs={{ tenant, clientId, clientSecret }} keepsStoredSecret={keepsStoredSecret} disabled={busy || customIncomplete}
              cloud={instanceSettings(instance, authorityHost, graphBaseUrl)} network={network.input()} tested={appTest} onTested={setAppTest}
              onInputs={(inputs) => { setTenant(inputs.tenant); setClientId(inputs.clientId); setClientSecret(inputs.clientSecret); }} />
          </>
        )}
      </div>
    </WizardFrame>
  );
}
