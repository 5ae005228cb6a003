import {
  Accordion, AccordionHeader, AccordionItem, AccordionPanel, Body1, Button, Caption1, Field, Input, Link, MessageBar, MessageBarBody,
  MessageBarTitle, Radio, RadioGroup, Spinner, Subtitle2, Text, makeStyles, tokens,
} from '@fluentui/react-components';
import { useEffect, useRef, useState } from 'react';
import type { CloudInstanceName, CloudRegistrationView, CloudSignInPrompt } from '../../../../engine/src/contract/control-api.ts';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { WizardFrame } from '../../components/wizard-frame.tsx';
import { asControlError, call, type ControlError } from '../../lib/engine-client.ts';
import { ConfigureStep, configureSteps } from './configure-steps.ts';
import { useConfigurationWizardState, type CloudDraft, type CloudInstanceSettings } from './wizard-state.tsx';

const useStyles = makeStyles({
  code: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase500, fontWeight: tokens.fontWeightSemibold, letterSpacing: '2px' },
});

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT = /^[0-9a-f-]{36}$|^[a-z0-9.-]+\.[a-z]+$/i;

type Choice = 'sign-in' | 'existing-app';

function instanceSettings(instance: CloudInstanceName, authorityHost: string, graphBaseUrl: string): CloudInstanceSettings {
  return instance === 'custom' ? { instance, authorityHost: authorityHost.trim(), graphBaseUrl: graphBaseUrl.trim() } : { instance };
}

function registrationDraft(settings: CloudInstanceSettings, registration: CloudRegistrationView): CloudDraft {
  return { ...settings, tenantId: registration.tenantId, clientId: registration.appId, credential: 'certificate', certificatePem: registration.certificatePem,
    tenantDisplayName: registration.tenantDisplayName, verifiedDomains: registration.verifiedDomains, appDisplayName: registration.displayName };
}

type Notice = { readonly intent: 'info' | 'warning'; readonly text: string };

function registrationNotices(registration: CloudRegistrationView): Notice[] {
  const revoked: Notice[] = registration.revokedPermissions.length === 0 ? [] : [{ intent: 'info', text:
    `Consent for ${registration.revokedPermissions.join(', ')} was revoked: Directory Sync no longer needs ` +
    `${registration.revokedPermissions.length === 1 ? 'that permission' : 'those permissions'} and keeps only ${registration.permissions.join(', ')}.` }];
  const synchronized: Notice[] = registration.tenantSynchronized === undefined ? [] : [{ intent: 'warning', text:
    `This tenant is synchronized by another tool (Entra Connect, Cloud Sync or DirSync)` +
    `${registration.tenantSynchronized.lastSyncDateTime ? `, last on ${registration.tenantSynchronized.lastSyncDateTime}` : ''}. ` +
    'Directory Sync never writes the users and groups it synchronizes nor creates them again, and creates nothing new until you approve it.' }];
  const earlier: Notice[] = registration.earlierRegistrations.length === 0 ? [] : [{ intent: 'info', text:
    `Earlier Directory Sync registrations found: ${registration.earlierRegistrations.map((r) => `${r.displayName} (${r.appId})`).join(', ')}. ` +
    'The users and groups they synchronized are adopted by this registration, never created again.' }];
  return [...synchronized, ...earlier, ...revoked, ...registration.warnings.map((text): Notice => ({ intent: 'warning', text }))];
}

/** Configuration Wizard — Microsoft Entra ID: a Global Administrator's sign-in registers the app, or an existing app is used. */
export function EntraPage(props: { readonly onBack: () => void; readonly onNext: () => void }) {
  const styles = useStyles();
  const layout = usePageLayoutStyles();
  const { draft, setCloud } = useConfigurationWizardState();
  const [choice, setChoice] = useState<Choice>(draft.cloud?.credential === 'secret' ? 'existing-app' : 'sign-in');
  const [instance, setInstance] = useState<CloudInstanceName>(draft.cloud?.instance ?? 'global');
  const [authorityHost, setAuthorityHost] = useState(draft.cloud?.authorityHost ?? '');
  const [graphBaseUrl, setGraphBaseUrl] = useState(draft.cloud?.graphBaseUrl ?? '');
  const [tenant, setTenant] = useState(draft.cloud?.credential === 'secret' ? draft.cloud.tenantId : '');
  const [clientId, setClientId] = useState(draft.cloud?.credential === 'secret' ? draft.cloud.clientId : '');
  const [clientSecret, setClientSecret] = useState('');
  const [prompt, setPrompt] = useState<CloudSignInPrompt | undefined>();
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
  const existingAppValid = TENANT.test(tenant.trim()) && GUID.test(clientId.trim()) && (clientSecret !== '' || keepsStoredSecret);

  async function signIn(): Promise<void> {
    const settings = instanceSettings(instance, authorityHost, graphBaseUrl);
    setBusy(true);
    setError(undefined);
    setCloud(undefined);
    setNotices([]);
    let signInId: string | undefined;
    try {
      const started = await call('beginCloudSignIn', { ...settings, tenant: tenant.trim() || undefined });
      signInId = started.signInId;
      pendingSignIn.current = signInId;
      setPrompt(started);
      const registration = await call('completeCloudSignIn', { signInId });
      if (pendingSignIn.current === signInId) {
        setCloud(registrationDraft(settings, registration));
        setNotices(registrationNotices(registration));
      }
    } catch (caught) {
      const failure = asControlError(caught);
      // A sign-in the administrator cancelled ends with an error that is no news to them.
      if (signInId === undefined || pendingSignIn.current === signInId) setError(failure);
    } finally {
      if (signInId === undefined || pendingSignIn.current === signInId) {
        pendingSignIn.current = undefined;
        setPrompt(undefined);
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
    if (choice === 'existing-app') {
      setCloud({ ...instanceSettings(instance, authorityHost, graphBaseUrl), tenantId: tenant.trim(), clientId: clientId.trim(), credential: 'secret', verifiedDomains: [],
        inUse: keepsStoredSecret && clientSecret === '' }, { clientSecret: clientSecret === '' ? undefined : clientSecret });
    }
    props.onNext();
  }

  const ready = choice === 'sign-in' ? registered !== undefined : existingAppValid && !customIncomplete;

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

        <Accordion collapsible defaultOpenItems={instance === 'global' ? [] : ['advanced']}>
          <AccordionItem value="advanced">
            <AccordionHeader>Advanced: cloud instance</AccordionHeader>
            <AccordionPanel>
              <div className={layout.stack}>
                <Field label="Cloud instance">
                  <RadioGroup value={instance} layout="horizontal" disabled={busy} onChange={(_event, data) => setInstance(data.value as CloudInstanceName)}>
                    <Radio value="global" label="Global" />
                    <Radio value="usgov" label="US Government" />
                    <Radio value="china" label="China (21Vianet)" />
                    <Radio value="custom" label="Custom" />
                  </RadioGroup>
                </Field>
                {instance === 'custom' && (
                  <>
                    <Field label="Authority host" required hint="For example https://login.example.com">
                      <Input value={authorityHost} disabled={busy} onChange={(_event, data) => setAuthorityHost(data.value)} />
                    </Field>
                    <Field label="Microsoft Graph address" required hint="For example https://graph.example.com/">
                      <Input value={graphBaseUrl} disabled={busy} onChange={(_event, data) => setGraphBaseUrl(data.value)} />
                    </Field>
                  </>
                )}
                {choice === 'sign-in' && (
                  <Field label="Tenant (optional)" hint="The tenant id or its initial domain, when the administrator belongs to several tenants">
                    <Input value={tenant} disabled={busy} onChange={(_event, data) => setTenant(data.value)} />
                  </Field>
                )}
              </div>
            </AccordionPanel>
          </AccordionItem>
        </Accordion>

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
            {prompt && (
              <MessageBar intent="info" layout="multiline" data-testid="sign-in-prompt">
                <MessageBarBody>
                  <MessageBarTitle>Sign in as a Global Administrator</MessageBarTitle>
                  <div className={layout.stack}>
                    <Text>
                      Open <Link href={prompt.verificationUri} target="_blank" rel="noreferrer" data-testid="verification-uri">{prompt.verificationUri}</Link> in
                      a browser and enter this code:
                    </Text>
                    <div className={layout.row}>
                      <Text className={styles.code} data-testid="user-code">{prompt.userCode}</Text>
                      <Button size="small" onClick={() => void copyCode(prompt.userCode)}>Copy code</Button>
                      <Text role="status">{copied}</Text>
                    </div>
                    <div className={layout.row}>
                      <Spinner size="tiny" label="Waiting for you to sign in…" />
                      <Button size="small" onClick={() => void cancelSignIn()}>Cancel sign-in</Button>
                    </div>
                    <Caption1>The code expires at {new Date(prompt.expiresAt).toLocaleTimeString()}.</Caption1>
                  </div>
                </MessageBarBody>
              </MessageBar>
            )}
            <ErrorBar error={error} title="The sign-in did not succeed" />
            {registered && !busy && (
              <section aria-label="Connected tenant" data-testid="tenant-summary" className={layout.stack}>
                <MessageBar intent="success">
                  <MessageBarBody>
                    {registered.inUse ? 'Directory Sync uses this app registration now. Keep it, or sign in again to register it anew.' : 'Directory Sync is registered in your tenant.'}
                  </MessageBarBody>
                </MessageBar>
                <Subtitle2 as="h2">Tenant</Subtitle2>
                <dl className={layout.summary}>
                  <dt className={layout.term}>Tenant name</dt><dd className={layout.detail} data-testid="tenant-name">{registered.tenantDisplayName ?? registered.tenantId}</dd>
                  <dt className={layout.term}>Tenant id</dt><dd className={layout.detail}>{registered.tenantId}</dd>
                  <dt className={layout.term}>Verified domains</dt>
                  <dd className={layout.detail}>
                    {registered.verifiedDomains.length === 0 ? <Text>Shown after a sign-in</Text> : (
                      <ul data-testid="verified-domains" style={{ margin: 0, paddingLeft: '16px' }}>
                        {registered.verifiedDomains.map((domain) => <li key={domain}>{domain}</li>)}
                      </ul>
                    )}
                  </dd>
                  <dt className={layout.term}>App registration</dt><dd className={layout.detail} data-testid="app-name">{registered.appDisplayName ?? registered.clientId}</dd>
                  <dt className={layout.term}>Application (client) id</dt><dd className={layout.detail}>{registered.clientId}</dd>
                </dl>
                {notices.map((notice) => (
                  <MessageBar key={notice.text} intent={notice.intent} data-testid="registration-notice">
                    <MessageBarBody>{notice.text}</MessageBarBody>
                  </MessageBar>
                ))}
              </section>
            )}
          </>
        ) : (
          <>
            <Body1 as="p">
              Give the app registration Directory Sync should use. It needs the application permissions User.ReadWrite.All,
              Group.ReadWrite.All and Organization.Read.All, with administrator consent. The client secret is handed to the
              service once, when you finish the wizard, and never shown again.
            </Body1>
            <Field label="Tenant id" required validationMessage={tenant !== '' && !TENANT.test(tenant.trim()) ? 'Enter the tenant id (a GUID) or its initial domain.' : undefined}>
              <Input value={tenant} onChange={(_event, data) => setTenant(data.value)} />
            </Field>
            <Field label="Application (client) id" required validationMessage={clientId !== '' && !GUID.test(clientId.trim()) ? 'Enter the application (client) id, a GUID.' : undefined}>
              <Input value={clientId} onChange={(_event, data) => setClientId(data.value)} />
            </Field>
            <Field label="Client secret" required={!keepsStoredSecret} hint={keepsStoredSecret ? 'Leave it empty to keep the secret the service already stores.' : undefined}>
              <Input type="password" value={clientSecret} onChange={(_event, data) => setClientSecret(data.value)} />
            </Field>
          </>
        )}
      </div>
    </WizardFrame>
  );
}
