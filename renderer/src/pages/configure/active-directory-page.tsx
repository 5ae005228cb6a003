import {
  Body1, Button, Checkbox, Field, Input, MessageBar, MessageBarBody, MessageBarTitle, PresenceBadge, Spinner, Subtitle2, Text, makeStyles, tokens,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { AdConnectionTest } from '../../../../engine/src/contract/control-api.ts';
import { CertificateDetails } from '../../components/certificate-details.tsx';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { WizardFrame } from '../../components/wizard-frame.tsx';
import { asControlError, call, ControlError } from '../../lib/engine-client.ts';
import { ConfigureStep, configureSteps } from './configure-steps.ts';
import { useConfigurationWizardState } from './wizard-state.tsx';

const useStyles = makeStyles({
  checks: { listStyle: 'none', padding: 0, margin: 0, display: 'flex', flexDirection: 'column', gap: '8px' },
  check: { display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '2px 8px', alignItems: 'center' },
  checkDetail: { gridColumn: '2', color: tokens.colorNeutralForeground2 },
});

type Busy = 'testing' | 'creating' | undefined;

/**
 * Configuration Wizard — Active Directory: the domain controller and an enterprise administrator, the
 * LDAPS certificate to trust, then the MSOL_ service account and its rights self-test.
 */
export function ActiveDirectoryPage(props: { readonly onBack: () => void; readonly onNext?: () => void }) {
  const styles = useStyles();
  const layout = usePageLayoutStyles();
  const { draft, setAd } = useConfigurationWizardState();
  const [url, setUrl] = useState(draft.ad?.url ?? '');
  const [adminUser, setAdminUser] = useState('');
  const [password, setPassword] = useState('');
  const [test, setTest] = useState<AdConnectionTest | undefined>();
  const [trustedCaPem, setTrustedCaPem] = useState<string | undefined>(draft.ad?.trustedCaPem);
  const [busy, setBusy] = useState<Busy>();
  const [error, setError] = useState<ControlError | undefined>();
  const [accountExists, setAccountExists] = useState<ControlError | undefined>();
  const [reuseExisting, setReuseExisting] = useState(false);

  const account = draft.ad?.serviceAccount;
  const connected = test?.ok === true ? test : undefined;
  const untrusted = test?.ok === false && test.code === 'ad-certificate' ? test.certificate : undefined;
  const canTest = /^ldaps?:\/\/\S+$/i.test(url.trim()) && adminUser.trim() !== '' && password !== '' && busy === undefined;

  /** Any change to what was tested makes the test (and the account made with it) stale. */
  function edited(): void {
    setTest(undefined);
    setError(undefined);
    setAccountExists(undefined);
  }

  async function testConnection(): Promise<void> {
    setBusy('testing');
    setError(undefined);
    setAccountExists(undefined);
    setTest(undefined);
    try {
      const result = await call('testAdConnection', { url: url.trim(), bindDn: adminUser.trim(), password, trustedCaPem });
      setTest(result);
      if (!result.ok && result.code !== 'ad-certificate') setError(new ControlError('AdConnectionTest', result.code, result.message));
    } catch (caught) {
      setError(asControlError(caught));
    } finally {
      setBusy(undefined);
    }
  }

  async function createAccount(): Promise<void> {
    if (!connected) return;
    setBusy('creating');
    setError(undefined);
    try {
      const created = await call('createServiceAccount', { url: url.trim(), trustedCaPem, adminBindDn: adminUser.trim(), adminPassword: password,
        baseDn: connected.baseDn, reuseExisting });
      setAccountExists(undefined);
      setAd({ url: url.trim(), trustedCaPem, baseDn: connected.baseDn, serviceAccount: created }, { bindDn: adminUser.trim(), password });
    } catch (caught) {
      const failure = asControlError(caught);
      if (failure.code === 'service-account-exists') setAccountExists(failure);
      else setError(failure);
    } finally {
      setBusy(undefined);
    }
  }

  const ready = account !== undefined && busy === undefined && props.onNext !== undefined;

  return (
    <WizardFrame title="Connect to Active Directory" steps={configureSteps} currentStep={ConfigureStep.ActiveDirectory}
      onBack={busy ? undefined : props.onBack} onNext={ready ? props.onNext : undefined} nextDisabled={!ready}>
      <div className={layout.stack}>
        <Body1 as="p">
          Give a domain controller of the forest and an Enterprise Administrator. Directory Sync uses these credentials once, to create
          its own service account; they are not stored.
        </Body1>
        <Field label="Domain controller" required hint="For example ldaps://dc1.contoso.com:636">
          <Input value={url} disabled={busy !== undefined} placeholder="ldaps://" onChange={(_event, data) => { setUrl(data.value); setTrustedCaPem(undefined); setAd(undefined); edited(); }} />
        </Field>
        <Field label="Enterprise administrator" required hint="administrator@contoso.com, or the distinguished name">
          <Input value={adminUser} disabled={busy !== undefined} onChange={(_event, data) => { setAdminUser(data.value); edited(); }} />
        </Field>
        <Field label="Password" required>
          <Input type="password" value={password} disabled={busy !== undefined} onChange={(_event, data) => { setPassword(data.value); edited(); }} />
        </Field>
        <div className={layout.row}>
          <Button appearance={connected ? 'secondary' : 'primary'} disabled={!canTest} onClick={() => void testConnection()}>Test connection</Button>
          {busy === 'testing' && <Spinner size="tiny" label="Connecting to the domain controller…" />}
        </div>

        {untrusted && test?.ok === false && (
          <MessageBar intent="warning" layout="multiline" data-testid="untrusted-certificate">
            <MessageBarBody>
              <MessageBarTitle>The domain controller&apos;s certificate is not trusted</MessageBarTitle>
              <div className={layout.stack}>
                <Text>{test.message} Compare the fingerprint{untrusted.trustFingerprintSha256 === untrusted.fingerprintSha256 ? '' : 's'} with
                  the one{untrusted.trustFingerprintSha256 === untrusted.fingerprintSha256 ? '' : 's'} your PKI administrator gives you before you trust it.</Text>
                <CertificateDetails certificate={untrusted} />
                <Checkbox label={untrusted.trustFingerprintSha256 === untrusted.fingerprintSha256 ? 'Trust this certificate'
                  : 'Trust the issuing authority (every certificate it issues)'} checked={trustedCaPem === untrusted.caPem} disabled={busy !== undefined}
                  onChange={(_event, data) => setTrustedCaPem(data.checked === true ? untrusted.caPem : undefined)} />
                <Text>Then test the connection again.</Text>
              </div>
            </MessageBarBody>
          </MessageBar>
        )}
        {!connected && <ErrorBar error={error} title="Directory Sync cannot use this domain controller" />}

        {connected && (
          <section aria-label="Connection" className={layout.stack}>
            <MessageBar intent="success" data-testid="connection-ok">
              <MessageBarBody>Connected to {connected.baseDn}. The certificate is trusted.</MessageBarBody>
            </MessageBar>
            <Subtitle2 as="h2">Service account</Subtitle2>
            <Body1 as="p">
              Directory Sync reads Active Directory as its own account, MSOL_…, in CN=Users. It is granted only
              &apos;Replicating Directory Changes&apos; on the domain, and its password is kept by the service.
            </Body1>
            {accountExists && (
              <MessageBar intent="warning" layout="multiline" data-testid="account-exists">
                <MessageBarBody>
                  <MessageBarTitle>A service account already exists</MessageBarTitle>
                  {accountExists.message}
                </MessageBarBody>
              </MessageBar>
            )}
            {accountExists && (
              <Checkbox label="Reuse the existing account (its password is reset)" checked={reuseExisting} disabled={busy !== undefined}
                onChange={(_event, data) => setReuseExisting(data.checked === true)} />
            )}
            <ErrorBar error={error} title="The service account could not be created" />
            {!account && (
              <div className={layout.row}>
                <Button appearance="primary" disabled={busy !== undefined || (accountExists !== undefined && !reuseExisting)} onClick={() => void createAccount()}>
                  Create the service account
                </Button>
                {busy === 'creating' && <Spinner size="tiny" label="Creating the service account and checking its rights…" />}
              </div>
            )}
          </section>
        )}

        {account && (
          <section aria-label="Service account" data-testid="service-account" className={layout.stack}>
            <dl className={layout.summary}>
              <dt className={layout.term}>Account</dt><dd className={layout.detail} data-testid="account-dn">{account.dn}</dd>
              <dt className={layout.term}>Sign-in name</dt><dd className={layout.detail}>{account.userPrincipalName}</dd>
              <dt className={layout.term}>Status</dt>
              <dd className={layout.detail} data-testid="account-status">
                {draft.ad?.inUse ? `In use with ${draft.ad.url}: to change it, enter an Enterprise Administrator above and test the connection` : account.created ? 'Created' : 'Reused; its password was reset'}
              </dd>
            </dl>
            <Subtitle2 as="h3">Rights self-test</Subtitle2>
            {account.rights.checks.length === 0 && <Text>Not tested yet: the Configure page tests it.</Text>}
            <ul className={styles.checks} data-testid="rights-checks">
              {account.rights.checks.map((check) => (
                <li key={check.name} className={styles.check} data-ok={check.ok}>
                  <PresenceBadge status={check.ok ? 'available' : 'blocked'} aria-hidden />
                  <Text weight="semibold">{check.name}: {check.ok ? 'passed' : 'failed'}</Text>
                  <Text className={styles.checkDetail}>{check.detail}</Text>
                </li>
              ))}
            </ul>
          </section>
        )}
      </div>
    </WizardFrame>
  );
}
