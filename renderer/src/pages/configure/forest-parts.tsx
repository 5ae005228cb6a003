/**
 * The parts a forest on the Active Directory page is made of: the untrusted certificate, the forest's
 * domains to tick, the domains a configured forest synchronizes, and the service account with the rights
 * it was granted on each domain.
 */
import {
  Body1, Button, Checkbox, Field, Input, MessageBar, MessageBarBody, MessageBarTitle, PresenceBadge, Spinner, Subtitle2, Text, makeStyles, tokens,
} from '@fluentui/react-components';
import type { CertificateInfo, ForestView, RightsReport } from '../../../../engine/src/contract/control-api.ts';
import { CertificateDetails } from '../../components/certificate-details.tsx';
import { ErrorBar } from '../../components/error-bar.tsx';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import type { ControlError } from '../../lib/engine-client.ts';
import { dnsNameOf, domainKey, type AdDraft } from './configuration-draft.ts';

const useStyles = makeStyles({
  checks: { listStyle: 'none', padding: 0, margin: 0, display: 'flex', flexDirection: 'column', gap: '8px' },
  check: { display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '2px 8px', alignItems: 'center' },
  checkDetail: { gridColumn: '2', color: tokens.colorNeutralForeground2 },
  domains: { listStyle: 'none', padding: 0, margin: 0, display: 'flex', flexDirection: 'column', gap: '4px' },
  domain: { display: 'flex', flexDirection: 'column', gap: '2px' },
  domainDetail: { paddingLeft: '32px', color: tokens.colorNeutralForeground2 },
  domainUrl: { paddingLeft: '32px', maxWidth: '480px' },
});

/** The DC's certificate is not trusted: its details and fingerprints, and the choice to trust it. */
export function UntrustedCertificate(props: {
  readonly message: string; readonly certificate: CertificateInfo; readonly trusted: boolean; readonly disabled: boolean; readonly onTrust: (trust: boolean) => void;
}) {
  const layout = usePageLayoutStyles();
  const { certificate } = props;
  const pinned = certificate.trustFingerprintSha256 === certificate.fingerprintSha256;
  return (
    <MessageBar intent="warning" layout="multiline" data-testid="untrusted-certificate">
      <MessageBarBody>
        <MessageBarTitle>The domain controller&apos;s certificate is not trusted</MessageBarTitle>
        <div className={layout.stack}>
          <Text>{props.message} Compare the fingerprint{pinned ? '' : 's'} with the one{pinned ? '' : 's'} your PKI administrator gives you before you trust it.</Text>
          <CertificateDetails certificate={certificate} />
          <Checkbox label={pinned ? 'Trust this certificate' : 'Trust the issuing authority (every certificate it issues)'} checked={props.trusted} disabled={props.disabled}
            onChange={(_event, data) => props.onTrust(data.checked === true)} />
          <Text>Then test the connection again.</Text>
        </div>
      </MessageBarBody>
    </MessageBar>
  );
}

export type ForestDomain = ForestView['domains'][number];

/** Whether a domain of the forest is the one of the domain controller given (always synchronized: the service account is made there). */
export function isGivenDomain(domain: ForestDomain, givenBaseDn: string): boolean {
  return domain.dcFoundBy === 'given' || domainKey(domain.baseDn) === domainKey(givenBaseDn);
}

/** How a domain's DC was found, in words. */
function dcText(domain: ForestDomain): string {
  if (domain.dcFoundBy === 'given') return `Read from ${domain.dcUrl ?? 'the domain controller given'} (the domain controller given above)`;
  if (domain.dcFoundBy === 'dns') return `Read from ${domain.dcUrl ?? '?'} (found by DNS)`;
  return 'No domain controller found by DNS: type the address of one';
}

/**
 * The forest's domains, each ticked by default with the DC it will be read from; the given DC's domain is ticked and
 * cannot be unticked. A domain whose DC DNS does not name gets a field to type one.
 */
export function ForestDomains(props: {
  readonly forest: ForestView; readonly givenBaseDn: string; readonly unticked: ReadonlySet<string>; readonly typedUrls: Readonly<Record<string, string>>;
  readonly disabled: boolean; readonly onTick: (domain: ForestDomain, ticked: boolean) => void; readonly onUrl: (domain: ForestDomain, url: string) => void;
  readonly headingLevel: 'h2' | 'h3';
}) {
  const styles = useStyles();
  const layout = usePageLayoutStyles();
  const { forest } = props;
  return (
    <section aria-label={`Domains of the forest ${forest.name}`} data-testid="forest-domains" data-forest={forest.name} className={layout.stack}>
      <Subtitle2 as={props.headingLevel}>Domains of the forest {forest.name}</Subtitle2>
      <Text>Tick the domains to synchronize. Each is read from a domain controller of its own; the service account gets its rights on every ticked domain.</Text>
      <ul className={styles.domains}>
        {forest.domains.map((domain) => {
          const key = domainKey(domain.baseDn);
          const given = isGivenDomain(domain, props.givenBaseDn);
          const ticked = given || !props.unticked.has(key);
          return (
            <li key={key} className={styles.domain} data-testid="forest-domain" data-dns-name={domain.dnsName} data-found-by={domain.dcFoundBy} data-ticked={ticked}>
              <Checkbox label={`${domain.dnsName} (${domain.netbiosName})${domain.forestRoot ? ', the forest root' : ''}`} checked={ticked} disabled={given || props.disabled}
                onChange={(_event, data) => props.onTick(domain, data.checked === true)} />
              <Text className={styles.domainDetail}>{given ? `${dcText(domain)}; always synchronized: the service account is made in this domain` : dcText(domain)}</Text>
              {domain.dcFoundBy === 'none' && ticked && (
                <Field className={styles.domainUrl} label={`LDAPS address of a DC of ${domain.dnsName}`} required hint={`For example ldaps://dc1.${domain.dnsName}:636`}>
                  <Input value={props.typedUrls[key] ?? ''} disabled={props.disabled} placeholder="ldaps://" onChange={(_event, data) => props.onUrl(domain, data.value)} />
                </Field>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** The domains a forest synchronizes now (a rerun, before the connection is tested again). */
export function ConfiguredDomains(props: { readonly value: AdDraft; readonly headingLevel: 'h2' | 'h3' }) {
  const styles = useStyles();
  const layout = usePageLayoutStyles();
  const { value } = props;
  const domains = [{ dnsName: dnsNameOf(value.baseDn), url: value.url }, ...(value.domains ?? [])];
  return (
    <section aria-label="Domains synchronized" data-testid="forest-domains" data-forest={value.forest ?? dnsNameOf(value.baseDn)} className={layout.stack}>
      <Subtitle2 as={props.headingLevel}>Domains synchronized</Subtitle2>
      <ul className={styles.domains}>
        {domains.map((domain) => (
          <li key={domain.dnsName} data-testid="forest-domain" data-dns-name={domain.dnsName} data-ticked="true">
            <Text weight="semibold">{domain.dnsName}</Text> <Text>— read from {domain.url}</Text>
          </li>
        ))}
      </ul>
    </section>
  );
}

function RightsChecks(props: { readonly rights: RightsReport; readonly testId: string }) {
  const styles = useStyles();
  return (
    <ul className={styles.checks} data-testid={props.testId}>
      {props.rights.checks.map((check) => (
        <li key={check.name} className={styles.check} data-ok={check.ok}>
          <PresenceBadge status={check.ok ? 'available' : 'blocked'} aria-hidden />
          <Text weight="semibold">{check.name}: {check.ok ? 'passed' : 'failed'}</Text>
          <Text className={styles.checkDetail}>{check.detail}</Text>
        </li>
      ))}
    </ul>
  );
}

/** The forest's service account: who it is, whether it was made or reused, and the rights it has on each domain. */
export function AccountDetails(props: { readonly value: AdDraft; readonly first: boolean }) {
  const layout = usePageLayoutStyles();
  const { value } = props;
  const account = value.serviceAccount;
  const domainRights = account.domainRights ?? [];
  return (
    <section aria-label="Service account" data-testid="service-account" className={layout.stack}>
      <dl className={layout.summary}>
        <dt className={layout.term}>Account</dt><dd className={layout.detail} data-testid="account-dn">{account.dn}</dd>
        <dt className={layout.term}>Sign-in name</dt><dd className={layout.detail}>{account.userPrincipalName}</dd>
        <dt className={layout.term}>Status</dt>
        <dd className={layout.detail} data-testid="account-status">
          {value.inUse ? `In use with ${value.url}: to change it, enter an Enterprise Administrator above and test the connection` : account.created ? 'Created' : 'Reused; its password was reset'}
        </dd>
      </dl>
      <Subtitle2 as="h3">Rights self-test</Subtitle2>
      {account.rights.checks.length === 0 && <Text>{props.first ? 'Not tested yet: the Configure page tests it.' : 'Not tested yet.'}</Text>}
      {domainRights.length > 0 && <Text weight="semibold">On {dnsNameOf(value.baseDn)}</Text>}
      <RightsChecks rights={account.rights} testId="rights-checks" />
      {domainRights.map((domain) => (
        <div key={domain.baseDn} className={layout.stack} data-testid="domain-rights" data-base-dn={domain.baseDn}>
          <Text weight="semibold">On {dnsNameOf(domain.baseDn)}</Text>
          <RightsChecks rights={domain.rights} testId="domain-rights-checks" />
        </div>
      ))}
    </section>
  );
}

/** Creating the forest's service account: what it is, an existing one to reuse, and the button. */
export function AccountCreation(props: {
  readonly headingLevel: 'h2' | 'h3'; readonly severalDomains: boolean; readonly accountExists: ControlError | undefined; readonly reuseExisting: boolean;
  readonly onReuse: (reuse: boolean) => void; readonly error: ControlError | undefined; readonly missingUrlOf: string | undefined; readonly showCreate: boolean;
  readonly busy: 'testing' | 'creating' | undefined; readonly canCreate: boolean; readonly onCreate: () => void;
}) {
  const layout = usePageLayoutStyles();
  const { accountExists } = props;
  return (
    <>
      <Subtitle2 as={props.headingLevel}>Service account</Subtitle2>
      <Body1 as="p">
        Directory Sync reads Active Directory as its own account, MSOL_…, in CN=Users. It is granted only
        &apos;Replicating Directory Changes&apos; on {props.severalDomains ? 'each ticked domain' : 'the domain'}, and its password is kept by the service.
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
        <Checkbox label="Reuse the existing account (its password is reset)" checked={props.reuseExisting} disabled={props.busy !== undefined}
          onChange={(_event, data) => props.onReuse(data.checked === true)} />
      )}
      <ErrorBar error={props.error} title="The service account could not be created" />
      {props.missingUrlOf && <Text>Type the address of a domain controller of {props.missingUrlOf}, or untick it.</Text>}
      {props.showCreate && (
        <div className={layout.row}>
          <Button appearance="primary" disabled={!props.canCreate} onClick={props.onCreate}>Create the service account</Button>
          {props.busy === 'creating' && <Spinner size="tiny" label="Creating the service account and checking its rights…" />}
        </div>
      )}
    </>
  );
}
