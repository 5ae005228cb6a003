/**
 * A TLS peer's certificate chain as the wizard shows it before anything is trusted: the server's own
 * certificate, and the top of the chain it presented — what "Trust this certificate" stores. Shared by
 * the domain controller's LDAPS (ad/probe.ts) and the cloud's HTTPS (cloud/tls-chain.ts).
 */
import { X509Certificate, createHash } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';
import type { CertificateInfo } from '../contract/control-api.ts';

export function toPem(raw: Buffer): string {
  const b64 = raw.toString('base64').replace(/(.{64})/g, '$1\n').trim();
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

export function fingerprint(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex').toUpperCase().match(/.{2}/g)?.join(':') ?? '';
}

function signedBy(child: Buffer, parent: Buffer): boolean {
  const issuer = new X509Certificate(parent);
  const subject = new X509Certificate(child);
  return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}

/**
 * The top of what a server presented. OpenSSL fills in issuers from the local trust store by name: only a
 * certificate that really signed the one below it belongs to the chain.
 */
export function topOfChain(peer: DetailedPeerCertificate): DetailedPeerCertificate {
  let top: DetailedPeerCertificate = peer;
  while (top.issuerCertificate && top.issuerCertificate !== top && top.issuerCertificate.raw && signedBy(top.raw, top.issuerCertificate.raw)) top = top.issuerCertificate;
  return top;
}

/** A distinguished name on one line ("CN=…, O=…"). */
export function oneLine(name: string): string {
  return name.replace(/\n/g, ', ');
}

/** The chain a server presented, as the wizard shows it; `trusted` as the handshake judged it. */
export function certificateInfoOf(peer: DetailedPeerCertificate, trusted: boolean): CertificateInfo {
  const top = topOfChain(peer);
  const leaf = new X509Certificate(peer.raw);
  const trust = new X509Certificate(top.raw);
  return {
    subject: oneLine(leaf.subject), issuer: oneLine(leaf.issuer), validFrom: new Date(leaf.validFrom).toISOString(), validTo: new Date(leaf.validTo).toISOString(),
    fingerprintSha256: fingerprint(peer.raw), caPem: toPem(top.raw), trustSubject: oneLine(trust.subject), trustFingerprintSha256: fingerprint(top.raw),
    trustSelfSigned: trust.checkIssued(trust) && trust.verify(trust.publicKey), trusted,
  };
}

/** The common name of a distinguished name ("CN=Contoso Inspection CA, O=Contoso" → Contoso Inspection CA), else the whole name. */
export function commonName(dn: string): string {
  return /(?:^|,\s*)CN=([^,]+)/.exec(dn)?.[1] ?? dn;
}
