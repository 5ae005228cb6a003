/**
 * What the Configuration Wizard shows before the administrator trusts a domain controller's LDAPS
 * certificate, against real TLS servers: the fingerprint of the DC's certificate, and — when the DC
 * sends its chain — the subject and fingerprint of the issuing authority that "trust" stores. What is
 * stored is exactly what was shown, and it is what the next connection trusts.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:tls';
import { ensureLabCa, issueServerCertificate, type LabCa, type ServerCertificate } from '../../../../lab/tenant/ca.ts';
import { fetchCertificate } from '../../../src/ad/probe.ts';

const fingerprintOf = (pem: string): string => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex').toUpperCase().match(/.{2}/g)?.join(':') ?? '';

function listen(cert: string, key: string): Promise<{ server: Server; url: string }> {
  const server = createServer({ cert, key }, (socket) => socket.end());
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `ldaps://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

describe('the LDAPS certificate shown and the one trusted', () => {
  let ca: LabCa;
  let otherCa: LabCa;
  let leaf: ServerCertificate;
  const servers: Server[] = [];

  before(async () => {
    // Authorities of their own: not the lab CA that NODE_EXTRA_CA_CERTS may already trust.
    ca = await ensureLabCa(join(mkdtempSync(join(tmpdir(), 'dirsync-ca-')), 'ca'));
    otherCa = await ensureLabCa(join(mkdtempSync(join(tmpdir(), 'dirsync-ca-')), 'ca'));
    leaf = await issueServerCertificate(ca);
  });
  after(() => {
    for (const server of servers) server.close();
  });

  it('shows the DC certificate and the authority it sends, and trusting that authority trusts the DC', async () => {
    const { server, url } = await listen(`${leaf.certPem.trim()}\n${ca.certPem.trim()}\n`, leaf.keyPem);
    servers.push(server);
    const shown = await fetchCertificate(url, undefined, undefined);
    assert.equal(shown.trusted, false, 'an unknown authority is not trusted');
    assert.equal(shown.fingerprintSha256, fingerprintOf(leaf.certPem), 'the fingerprint shown is the DC certificate\'s');
    assert.equal(shown.trustFingerprintSha256, fingerprintOf(ca.certPem), 'the authority to trust is shown with its own fingerprint');
    assert.match(shown.trustSubject, /Directory Sync Lab CA/);
    assert.equal(fingerprintOf(shown.caPem), shown.trustFingerprintSha256, 'what "trust" stores is exactly what was shown');
    const again = await fetchCertificate(url, undefined, shown.caPem);
    assert.equal(again.trusted, true, 'the stored authority is what the next connection trusts');
    const elsewhere = await fetchCertificate(url, undefined, otherCa.certPem);
    assert.equal(elsewhere.trusted, false, 'another authority does not make it trusted');
  });

  it('pins the DC certificate itself when the DC sends no chain, and a pin does not trust another certificate', async () => {
    const { server, url } = await listen(leaf.certPem, leaf.keyPem);
    servers.push(server);
    const shown = await fetchCertificate(url, undefined, undefined);
    assert.equal(shown.trusted, false);
    assert.equal(shown.fingerprintSha256, fingerprintOf(leaf.certPem));
    assert.equal(shown.trustFingerprintSha256, shown.fingerprintSha256, 'what is trusted is the certificate shown');
    assert.equal(fingerprintOf(shown.caPem), shown.fingerprintSha256);
    assert.equal((await fetchCertificate(url, undefined, shown.caPem)).trusted, true);
    // An authority with the issuer's very name but another key, already trusted here, is not taken for the issuer.
    const lookalike = await fetchCertificate(url, undefined, otherCa.certPem);
    assert.equal(lookalike.trusted, false);
    assert.equal(lookalike.trustFingerprintSha256, shown.fingerprintSha256, 'only a certificate that signed the DC\'s belongs to its chain');

    const sibling = await issueServerCertificate(ca);
    const { server: other, url: otherUrl } = await listen(sibling.certPem, sibling.keyPem);
    servers.push(other);
    assert.equal((await fetchCertificate(otherUrl, undefined, shown.caPem)).trusted, false, 'a pin trusts exactly one certificate, not its issuer\'s others');
  });
});
