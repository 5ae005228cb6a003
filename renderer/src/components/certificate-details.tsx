import { makeStyles, tokens } from '@fluentui/react-components';
import type { CertificateInfo } from '../../../engine/src/contract/control-api.ts';
import { usePageLayoutStyles } from './page-layout.ts';

const useStyles = makeStyles({
  fingerprint: { fontFamily: tokens.fontFamilyMonospace, overflowWrap: 'anywhere' },
});

/** A server's certificate and the authority at the top of the chain it presented, with their SHA-256 fingerprints: compared before trusting. */
export function CertificateDetails(props: { readonly certificate: CertificateInfo }) {
  const styles = useStyles();
  const layout = usePageLayoutStyles();
  const c = props.certificate;
  return (
    <dl className={layout.summary} data-testid="certificate">
      <dt className={layout.term}>Subject</dt><dd className={layout.detail}>{c.subject}</dd>
      <dt className={layout.term}>Issuer</dt><dd className={layout.detail}>{c.issuer}</dd>
      <dt className={layout.term}>Valid</dt><dd className={layout.detail}>{new Date(c.validFrom).toLocaleString()} to {new Date(c.validTo).toLocaleString()}</dd>
      <dt className={layout.term}>SHA-256 fingerprint</dt><dd className={`${layout.detail} ${styles.fingerprint}`} data-testid="fingerprint">{c.fingerprintSha256}</dd>
      {c.trustFingerprintSha256 !== c.fingerprintSha256 && (
        <>
          <dt className={layout.term}>Issuing authority</dt><dd className={layout.detail} data-testid="trust-subject">{c.trustSubject}</dd>
          <dt className={layout.term}>Its SHA-256 fingerprint</dt>
          <dd className={`${layout.detail} ${styles.fingerprint}`} data-testid="trust-fingerprint">{c.trustFingerprintSha256}</dd>
        </>
      )}
    </dl>
  );
}
