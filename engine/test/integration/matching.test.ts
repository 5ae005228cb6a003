import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generate } from 'selfsigned';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { SECRET_CERTIFICATE_KEY, SECRET_CERTIFICATE_THUMBPRINT, cloudConnectorFor } from '../../src/run/session.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { startHarness, type Harness } from '../support/engine-harness.ts';

type CloudUser = { id: string; userPrincipalName?: string; onPremisesImmutableId?: string; [k: string]: unknown };

describe('matching and cloud credentials', () => {
  let sandbox: AdSandbox;
  let harness: Harness;

  const users = (): CloudUser[] => ((harness.tenant.state.dump() as { objects: Record<string, CloudUser[]> }).objects['user'] ?? []);

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Matching');
    await sandbox.addUser('Sam Soft', { sAMAccountName: 'samsoft', userPrincipalName: 'sam.soft@contoso.com', displayName: 'Sam Soft', title: 'Marketing Manager' });
    await sandbox.addUser('Lab Admin Twin', { sAMAccountName: 'admintwin', userPrincipalName: 'admin@contoso.onmicrosoft.com', displayName: 'Lab Admin Twin' });
    await sandbox.addUser('Plain Pat', { sAMAccountName: 'plainpat', userPrincipalName: 'plain.pat@contoso.com', displayName: 'Plain Pat' });
    harness = await startHarness({ config: {
      scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] },
      matching: { softMatchUpn: true, softMatchMail: false },
    } });
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('soft-matches a cloud-only user by UPN, never an administrator, and says so in the match report', async () => {
    const graph = cloudConnectorFor(harness.store, harness.config).graph;
    await graph.api('/users').post({ accountEnabled: true, displayName: 'Sam Soft (cloud)', mailNickname: 'samsoft', userPrincipalName: 'sam.soft@contoso.com',
      passwordProfile: { password: 'Cloud-Only-Passw0rd!', forceChangePasswordNextSignIn: true } });
    const megan = users().find((u) => u.userPrincipalName === 'sam.soft@contoso.com');
    assert.ok(megan, 'a cloud-only user with the same UPN exists');
    const preview = await harness.sync('full', true);
    assert.equal(preview.matchReport?.['soft-match-upn'], 1);
    assert.equal(preview.matchReport?.['blocked'], 1);
    assert.equal(preview.matchReport?.['create'], 1);
    const blocked = harness.store.listReports(preview.id, 'blocked');
    assert.match(blocked[0]?.reason ?? '', /administrator role/);

    const run = await harness.sync('full');
    assert.equal(run.exported['create-user'], 1, 'only Plain Pat is created');
    assert.equal(run.exported['update-user'], 1, 'the cloud-only user is taken over');
    const after = users().find((u) => u.id === megan.id);
    assert.equal(typeof after?.onPremisesImmutableId, 'string', 'the soft-matched user now carries the source anchor');
    assert.equal(after?.['jobTitle'], 'Marketing Manager');
    const admin = users().find((u) => u.userPrincipalName === 'admin@contoso.onmicrosoft.com');
    assert.equal(admin?.onPremisesImmutableId, undefined, 'the administrator is untouched');
    const errors = harness.store.listErrors(run.id);
    assert.equal(errors.find((e) => e.code === 'match-blocked')?.dn, `CN=Lab Admin Twin,${sandbox.ouDn}`);
  });

  it('signs in with a certificate credential as well as a secret', async () => {
    const pems = await generate([{ name: 'commonName', value: 'Directory Sync test' }], { keySize: 2048, algorithm: 'sha256' });
    const der = new X509Certificate(pems.cert).raw;
    const graph = cloudConnectorFor(harness.store, harness.config).graph;
    const app = await graph.api(`/applications(appId='${harness.tenant.connection.clientId}')`).select(['id']).get() as { id: string };
    await graph.api(`/applications/${app.id}`).patch({ keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify', key: der.toString('base64') }] });

    harness.store.secrets.set(SECRET_CERTIFICATE_KEY, pems.private);
    harness.store.secrets.set(SECRET_CERTIFICATE_THUMBPRINT, createHash('sha256').update(der).digest('hex'));
    harness.config = { ...harness.config, cloud: { ...harness.config.cloud, credential: 'certificate', certificatePem: pems.cert } };
    const seq = harness.tenant.state.requestLog().length;
    const run = await harness.sync('full');
    assert.equal(run.status, 'completed-with-errors', run.message);
    const tokenRequests = harness.tenant.state.requestLog().slice(seq).filter((r) => /oauth2\/v2\.0\/token/.test(r.path));
    assert.ok(tokenRequests.length > 0 && tokenRequests.every((r) => r.status === 200));
  });
});
