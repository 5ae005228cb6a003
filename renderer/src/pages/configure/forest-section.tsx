import { Body1, Button, Field, Input, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Subtitle1, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import { useState } from 'react';
import type { AdConnectionTest, ForestView } from '../../../../engine/src/contract/control-api.ts';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { asControlError, call, ControlError } from '../../lib/engine-client.ts';
import { dnsNameOf, domainKey, type AdDraft, type DomainDraft } from './configuration-draft.ts';
import { AccountCreation, AccountDetails, ConfiguredDomains, ForestDomains, isGivenDomain, UntrustedCertificate, type ForestDomain } from './forest-parts.tsx';
import type { AdAdminCredentials } from './wizard-state.tsx';

type Busy = 'testing' | 'creating' | undefined;

const useStyles = makeStyles({
  added: { borderTop: `1px solid ${tokens.colorNeutralStroke2}`, paddingTop: '16px', marginTop: '8px' },
});


export type ForestSectionProps = {
  /** 0: the first forest (its account's password is the one every installation had); 1…: a forest added after it. */
  readonly index: number;
  /** What is configured for this forest: its service account made (or in use, on a rerun); undefined until then. */
  readonly value: AdDraft | undefined;
  /** A new value, or undefined when what was tested changed (its account no longer fits); with the administrator typed. */
  readonly onChange: (value: AdDraft | undefined, admin?: AdAdminCredentials) => void;
  /** The other sections' forests: the same forest is not configured twice. */
  readonly otherForests: ReadonlyArray<string>;
  /** Whether the section is testing or creating (the page holds Back and Next meanwhile). */
  readonly onBusy: (busy: boolean) => void;
  /** Shown with several forests. */
  readonly heading?: string;
  /** A forest added after the first can be taken away before saving. */
  readonly onRemove?: () => void;
};

/**
 * One forest on the Active Directory page: a domain controller and an enterprise administrator (typed once, used
 * to create the service account, never stored), the LDAPS certificate to trust, the forest's domains to tick (read
 * from the DC once the connection works), then the forest's MSOL_ service account with its rights on each ticked
 * domain. The first forest and each one added after it are a section of their own.
 */
export function ForestSection(props: ForestSectionProps) {
  const layout = usePageLayoutStyles();
  const styles = useStyles();
  const { value, index } = props;
  const [url, setUrl] = useState(value?.url ?? '');
  const [adminUser, setAdminUser] = useState('');
  const [password, setPassword] = useState('');
  const [test, setTest] = useState<AdConnectionTest | undefined>();
  const [forest, setForest] = useState<ForestView | undefined>();
  const [discoveryError, setDiscoveryError] = useState<ControlError | undefined>();
  const [unticked, setUnticked] = useState<ReadonlySet<string>>(new Set());
  const [typedUrls, setTypedUrls] = useState<Readonly<Record<string, string>>>({});
  const [trustedCaPem, setTrustedCaPem] = useState<string | undefined>(value?.trustedCaPem);
  const [busy, setBusyState] = useState<Busy>();
  const [error, setError] = useState<ControlError | undefined>();
  const [accountExists, setAccountExists] = useState<ControlError | undefined>();
  const [reuseExisting, setReuseExisting] = useState(false);

  const connected = test?.ok === true ? test : undefined;
  const untrusted = test?.ok === false && test.code === 'ad-certificate' ? test.certificate : undefined;
  const canTest = /^ldaps?:\/\/\S+$/i.test(url.trim()) && adminUser.trim() !== '' && password !== '' && busy === undefined;
  // An added forest is named by its root domain (its account's password is kept under that name); a forest not read is its domain's own.
  const forestName = forest?.name.toLowerCase() ?? (connected ? dnsNameOf(connected.baseDn) : undefined);
  const duplicate = forestName !== undefined && props.otherForests.includes(forestName);
  const headingLevel = props.heading ? 'h3' : 'h2';
  const otherDomains: ReadonlyArray<DomainDraft> = forest && connected ? forest.domains
    .filter((domain) => !isGivenDomain(domain, connected.baseDn) && !unticked.has(domainKey(domain.baseDn)))
    .map((domain) => ({ dnsName: domain.dnsName.toLowerCase(), netbiosName: domain.netbiosName, baseDn: domain.baseDn,
      url: (domain.dcUrl ?? typedUrls[domainKey(domain.baseDn)] ?? '').trim(), trustedCaPem })) : [];
  const missingUrl = otherDomains.find((domain) => !/^ldaps?:\/\/\S+$/i.test(domain.url));

  function setBusy(next: Busy): void {
    setBusyState(next);
    props.onBusy(next !== undefined);
  }

  /** Any change to what was tested makes the test (and the account made with it) stale. */
  function edited(): void {
    setTest(undefined);
    setForest(undefined);
    setDiscoveryError(undefined);
    setError(undefined);
    setAccountExists(undefined);
  }

  async function testConnection(): Promise<void> {
    setBusy('testing');
    edited();
    try {
      const input = { url: url.trim(), bindDn: adminUser.trim(), password, trustedCaPem };
      const result = await call('testAdConnection', input);
      if (result.ok) {
        // The forest's domains, each with the DC it would be read from; a forest that cannot be read is synchronized through this domain alone.
        try {
          const found = await call('discoverForest', input);
          setForest(found);
          // Testing again keeps the domains the account was made for ticked; a first test ticks them all.
          const configured = new Set((value?.domains ?? []).map((domain) => domainKey(domain.baseDn)));
          setUnticked(new Set(value ? found.domains.map((domain) => domainKey(domain.baseDn)).filter((key) => !configured.has(key)) : []));
        } catch (caught) {
          setDiscoveryError(asControlError(caught));
        }
      }
      setTest(result);
      if (!result.ok && result.code !== 'ad-certificate') setError(new ControlError('AdConnectionTest', result.code, result.message));
    } catch (caught) {
      setError(asControlError(caught));
    } finally {
      setBusy(undefined);
    }
  }

  async function createAccount(): Promise<void> {
    if (!connected || duplicate || missingUrl) return;
    setBusy('creating');
    setError(undefined);
    try {
      const created = await call('createServiceAccount', { url: url.trim(), trustedCaPem, adminBindDn: adminUser.trim(), adminPassword: password,
        baseDn: connected.baseDn, reuseExisting, ...(index > 0 && forestName ? { forest: forestName } : {}),
        ...(otherDomains.length > 0 ? { otherDomains: otherDomains.map((domain) => ({ url: domain.url, trustedCaPem: domain.trustedCaPem, baseDn: domain.baseDn })) } : {}) });
      setAccountExists(undefined);
      props.onChange({ url: url.trim(), trustedCaPem, baseDn: connected.baseDn, serviceAccount: created, ...(forest || index > 0 ? { forest: forestName } : {}),
        ...(otherDomains.length > 0 ? { domains: otherDomains } : {}) }, { bindDn: adminUser.trim(), password });
    } catch (caught) {
      const failure = asControlError(caught);
      if (failure.code === 'service-account-exists') setAccountExists(failure);
      else setError(failure);
    } finally {
      setBusy(undefined);
    }
  }

  /** Another set of domains needs the account's rights on them: it is created (or reused) again. */
  function tick(domain: ForestDomain, ticked: boolean): void {
    const key = domainKey(domain.baseDn);
    setUnticked((previous) => new Set(ticked ? [...previous].filter((k) => k !== key) : [...previous, key]));
    if (value) props.onChange(undefined);
  }
  // A DC typed for a domain: the account's rights were granted through the one before, so the account is made again.
  function typeUrl(domain: ForestDomain, typed: string): void {
    setTypedUrls((previous) => ({ ...previous, [domainKey(domain.baseDn)]: typed }));
    if (value) props.onChange(undefined);
  }

  return (
    <section aria-label={props.heading ?? 'Forest'} data-testid="forest-section" data-forest={value?.forest ?? forestName}
      className={mergeClasses(layout.stack, index > 0 && styles.added)}>
      {props.heading && (
        <div className={layout.row}>
          <Subtitle1 as="h2">{props.heading}</Subtitle1>
          {props.onRemove && <Button appearance="subtle" disabled={busy !== undefined} onClick={props.onRemove}>Remove this forest</Button>}
        </div>
      )}
      {index > 0 && !value && <Body1 as="p">Another forest: a domain controller of it and its own Enterprise Administrator. It gets its own service account.</Body1>}
      <Field label="Domain controller" required hint="For example ldaps://dc1.contoso.com:636">
        <Input value={url} disabled={busy !== undefined} placeholder="ldaps://" onChange={(_event, data) => { setUrl(data.value); setTrustedCaPem(undefined); props.onChange(undefined); edited(); }} />
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
        <UntrustedCertificate message={test.message} certificate={untrusted} trusted={trustedCaPem === untrusted.caPem} disabled={busy !== undefined}
          onTrust={(trust) => setTrustedCaPem(trust ? untrusted.caPem : undefined)} />
      )}
      {!connected && <ErrorBar error={error} title="Directory Sync cannot use this domain controller" />}
      {!connected && value && <ConfiguredDomains value={value} headingLevel={headingLevel} />}

      {connected && (
        <section aria-label="Connection" className={layout.stack}>
          <MessageBar intent="success" data-testid="connection-ok">
            <MessageBarBody>Connected to {connected.baseDn}. The certificate is trusted.</MessageBarBody>
          </MessageBar>
          {discoveryError && (
            <MessageBar intent="warning" layout="multiline" data-testid="forest-discovery-failed">
              <MessageBarBody>
                <MessageBarTitle>The forest&apos;s other domains could not be read</MessageBarTitle>
                {discoveryError.message} Only {dnsNameOf(connected.baseDn)} is synchronized.
              </MessageBarBody>
            </MessageBar>
          )}
          {duplicate && (
            <MessageBar intent="error" data-testid="forest-duplicate">
              <MessageBarBody>The forest {forestName} is configured already on this page: give a domain controller of another forest.</MessageBarBody>
            </MessageBar>
          )}
          {forest && (
            <ForestDomains forest={forest} givenBaseDn={connected.baseDn} unticked={unticked} typedUrls={typedUrls} disabled={busy !== undefined} headingLevel={headingLevel}
              onTick={tick} onUrl={typeUrl} />
          )}
          <AccountCreation headingLevel={headingLevel} severalDomains={otherDomains.length > 0} accountExists={accountExists} reuseExisting={reuseExisting}
            onReuse={setReuseExisting} error={error} missingUrlOf={value ? undefined : missingUrl?.dnsName} showCreate={!value} busy={busy}
            canCreate={busy === undefined && (accountExists === undefined || reuseExisting) && !duplicate && missingUrl === undefined} onCreate={() => void createAccount()} />
        </section>
      )}

      {value && <AccountDetails value={value} first={index === 0} />}
    </section>
  );
}
