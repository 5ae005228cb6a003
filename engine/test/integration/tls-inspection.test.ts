/**
 * A proxy that inspects TLS (issue 28; docs/network.md): a real Squid with ssl-bump re-signs every
 * certificate with a company CA this test makes, which nothing on the machine trusts. The tenant accepts
 * only Squid's outgoing address. Before trust: the run fails naming the authority ("issued by 'Contoso
 * Inspection CA', which this computer does not trust"), never a library code, and writes nothing; the
 * connection test shows the chain's authority with its fingerprint. After "Trust this certificate" (the
 * configuration's trusted authorities), a full run goes through — and Squid saw the requests in clear.
 * The system's store (a bundle as update-ca-certificates writes it) is trusted too.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createInspectionCa, type InspectionCa } from '../../../lab/proxy/inspection-ca.ts';
import { startSquid, type Squid } from '../../../lab/proxy/squid.ts';
import { defaultCaDir } from '../../../lab/tenant/ca.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { parseConfig } from '../../src/base/config.ts';
import { testCloudConnection } from '../../src/cloud/connection-test.ts';
import { CloudNetwork } from '../../src/cloud/network.ts';
import { saveConfig } from '../../src/run/session.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, managedInTenant, startHarness, writesSince, type Harness } from '../support/engine-harness.ts';

describe('a proxy that inspects TLS with a company CA', () => {
  let ca: InspectionCa;
  let squid: Squid;
  let sandbox: AdSandbox;
  let harness: Harness;

  const cloud = () => ({ instance: 'custom' as const, authorityHost: harness.tenant.connection.authorityHost, graphBaseUrl: harness.tenant.connection.graphBaseUrl });
  const untrusted = /The certificate of 127\.0\.0\.1 is issued by 'Contoso Inspection CA', which this computer does not trust \(SELF_SIGNED_CERT_IN_CHAIN\)\./;

  before(async () => {
    ca = await createInspectionCa('Contoso Inspection CA');
    squid = await startSquid({ outgoingAddress: '127.0.0.3', bump: { caCertPem: ca.certPem, caKeyPem: ca.keyPem, upstreamCaFile: join(defaultCaDir(), 'ca.pem') } });
    sandbox = await createAdSandbox(await sharedAd(), 'Test TLS Inspection');
    const eve = await sandbox.addUser('Inspect Eve', { sAMAccountName: 'inspecteve', userPrincipalName: 'inspect.eve@contoso.com', displayName: 'Inspect Eve' });
    await sandbox.addGroup('Inspect Group', [eve]);
    harness = await startHarness({
      tenant: { acceptFrom: ['127.0.0.3'] },
      config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] }, network: { proxy: { mode: 'url', url: squid.url } } },
    });
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
    await squid?.stop();
  });

  it('before trust: the run fails naming the authority, and writes nothing', async () => {
    const seq = lastSeq(harness.tenant);
    await assert.rejects(harness.sync('full'), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'cloud-unreachable');
      assert.match(error.message, untrusted);
      assert.doesNotMatch(error.message, /endpoints_resolution_error|UNABLE_TO|fetch failed/i, 'no raw library code as the cause');
      return true;
    });
    assert.equal(writesSince(harness.tenant, seq).length, 0, 'nothing written');
    assert.equal(managedInTenant(harness.tenant, 'user').length, 0);
  });

  it('the connection test shows the chain\'s authority and its SHA-256 fingerprint, to trust it', async () => {
    const test = await testCloudConnection(cloud(), new CloudNetwork({ proxy: { mode: 'url', url: squid.url } }));
    assert.ok(!test.ok && test.reason === 'tls-untrusted', JSON.stringify(test));
    assert.match(test.message, untrusted);
    assert.match(test.message, /The proxy 127\.0\.0\.1:\d+ \(from the configuration\) may inspect TLS/);
    const authority = new X509Certificate(ca.certPem);
    assert.equal(test.certificate?.trustSubject, 'CN=Contoso Inspection CA, O=Contoso');
    assert.equal(test.certificate?.trustFingerprintSha256, authority.fingerprint256, 'the fingerprint of the company CA itself');
    assert.equal(new X509Certificate(test.certificate?.caPem ?? '').fingerprint256, authority.fingerprint256, 'what "Trust this certificate" stores is that CA');
    assert.equal(test.certificate?.issuer, 'CN=Contoso Inspection CA, O=Contoso', 'the tenant\'s certificate as re-signed by the proxy');
  });

  it('trusted from the system\'s certificate store (a bundle as update-ca-certificates writes it)', async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'dirsync-os-store-')), 'ca-certificates.crt');
    writeFileSync(store, ca.certPem);
    const test = await testCloudConnection(cloud(), new CloudNetwork({ proxy: { mode: 'url', url: squid.url }, osCaBundles: [store] }));
    assert.ok(test.ok, JSON.stringify(test));
  });

  it('after "Trust this certificate": a full run through the inspecting proxy', async () => {
    const test = await testCloudConnection(cloud(), new CloudNetwork({ proxy: { mode: 'url', url: squid.url } }));
    assert.ok(!test.ok && test.certificate);
    harness.config = parseConfig({ ...harness.config, cloud: { ...harness.config.cloud, trustedCaPem: test.certificate.caPem } }, 'the TLS inspection test');
    saveConfig(harness.store, harness.dataDir, harness.config);
    const run = await harness.sync('full');
    assert.equal(run.status, 'succeeded', run.message);
    assert.deepEqual(run.exported, { 'create-user': 1, 'create-group': 1, 'add-member': 1 }, JSON.stringify(run.exported));
    assert.equal(managedInTenant(harness.tenant, 'user').length, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const inClear = squid.accessLog().filter((l) => l.includes(`https://127.0.0.1:${harness.tenant.port}/v1.0/`));
    assert.ok(inClear.length > 0, 'Squid saw the Graph requests in clear: the traffic was inspected');
  });
});
