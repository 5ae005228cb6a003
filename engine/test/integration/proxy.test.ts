/**
 * Directory Sync behind a company proxy (issue 28; docs/network.md), against a real Squid (Debian's
 * squid-openssl) asking for Basic credentials. The emulated tenant accepts connections only from Squid's
 * outgoing address (127.0.0.3): a direct connection is closed, so whatever reaches the tenant went through
 * the proxy. Sign-in (client credentials and device code), a full run and a delta through it; every way the
 * path can fail named by the connection test; a wrong proxy password fails the run with a clear error,
 * writes nothing and leaves the DirSync cookie where it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { startSquid, type Squid } from '../../../lab/proxy/squid.ts';
import { beginAdminSignIn } from '../../src/cloud/app-registration.ts';
import { testCloudConnection } from '../../src/cloud/connection-test.ts';
import { CloudNetwork } from '../../src/cloud/network.ts';
import { parseConfig } from '../../src/base/config.ts';
import { saveConfig, storeProxyPassword } from '../../src/run/session.ts';
import { adCursorKey, PRIMARY_SOURCE } from '../../src/store/keys.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, managedInTenant, startHarness, writesSince, type Harness } from '../support/engine-harness.ts';

const PROXY_USER = 'dirsync';
const PROXY_PASSWORD = 'Proxy-Pass-7!';

describe('a company proxy between Directory Sync and the cloud', () => {
  let squid: Squid;
  let sandbox: AdSandbox;
  let harness: Harness;

  const cloud = () => ({ instance: 'custom' as const, tenant: harness.tenant.connection.tenantId,
    authorityHost: harness.tenant.connection.authorityHost, graphBaseUrl: harness.tenant.connection.graphBaseUrl });
  const viaSquid = (password = PROXY_PASSWORD, url = squid.url): CloudNetwork =>
    new CloudNetwork({ proxy: { mode: 'url', url, username: PROXY_USER }, proxyPassword: password });
  /** Squid logs a tunnel when it closes: kept-alive connections close a few seconds after their last request. */
  const tunnelsAfter = async (count: number): Promise<boolean> => {
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 250))) if (tunnels().length > count) return true;
    return false;
  };
  const tunnels = (): string[] => squid.accessLog().filter((l) => l.includes(`CONNECT 127.0.0.1:${harness.tenant.port} ${PROXY_USER}`) && /TCP_TUNNEL\/200/.test(l));

  before(async () => {
    squid = await startSquid({ users: { [PROXY_USER]: PROXY_PASSWORD }, outgoingAddress: '127.0.0.3', deniedDomains: ['blocked.invalid'] });
    sandbox = await createAdSandbox(await sharedAd(), 'Test Proxy');
    const ann = await sandbox.addUser('Proxy Ann', { sAMAccountName: 'proxyann', userPrincipalName: 'proxy.ann@contoso.com', displayName: 'Proxy Ann' });
    const ben = await sandbox.addUser('Proxy Ben', { sAMAccountName: 'proxyben', userPrincipalName: 'proxy.ben@contoso.com', displayName: 'Proxy Ben', manager: ann });
    await sandbox.addGroup('Proxy Group', [ann, ben]);
    harness = await startHarness({
      tenant: { acceptFrom: ['127.0.0.3'] },
      config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] },
        network: { proxy: { mode: 'url', url: squid.url, username: PROXY_USER } } },
    });
    storeProxyPassword(harness.store, harness.config.network.proxy, PROXY_PASSWORD);
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
    await squid?.stop();
  });

  it('the tenant cannot be reached directly: only through the proxy', async () => {
    const refusedBefore = harness.tenant.refusedPeers();
    const direct = await testCloudConnection(cloud(), new CloudNetwork({ proxy: { mode: 'none' } }));
    assert.equal(direct.ok, false, 'a direct connection fails');
    assert.ok(harness.tenant.refusedPeers() > refusedBefore, 'the tenant closed the direct connection');
    const through = await testCloudConnection(cloud(), viaSquid());
    assert.ok(through.ok, JSON.stringify(through));
    assert.equal(through.route, `the proxy 127.0.0.1:${squid.port} (from the configuration)`);
  });

  it('names each way the path fails: credentials refused or missing, proxy unreachable, destination denied or unreachable', async () => {
    const wrong = await testCloudConnection(cloud(), viaSquid('not-the-password'));
    assert.ok(!wrong.ok && wrong.reason === 'proxy-auth', JSON.stringify(wrong));
    assert.match(wrong.message, new RegExp(`The proxy 127\\.0\\.0\\.1:${squid.port} \\(from the configuration\\) refused the user name and password \\(407 Proxy Authentication Required\\)\\. Check the proxy user "dirsync"`));
    assert.ok(!wrong.message.includes('not-the-password'), 'the password is never shown');

    const none = await testCloudConnection(cloud(), new CloudNetwork({ proxy: { mode: 'url', url: squid.url } }));
    assert.ok(!none.ok && none.reason === 'proxy-auth', JSON.stringify(none));
    assert.match(none.message, /asks for a user name and password \(407/);

    const closed = await startSquid();
    const closedUrl = closed.url;
    await closed.stop();
    const unreachable = await testCloudConnection(cloud(), viaSquid(PROXY_PASSWORD, closedUrl));
    assert.ok(!unreachable.ok && unreachable.reason === 'proxy-unreachable', JSON.stringify(unreachable));
    assert.match(unreachable.message, /^Cannot reach the proxy 127\.0\.0\.1:\d+ \(from the configuration\) \(ECONNREFUSED\)/);

    const denied = await testCloudConnection({ ...cloud(), authorityHost: 'https://blocked.invalid', graphBaseUrl: 'https://blocked.invalid/' }, viaSquid());
    assert.ok(!denied.ok && denied.reason === 'proxy-denied', JSON.stringify(denied));
    assert.match(denied.message, /does not allow this computer to reach blocked\.invalid:443 \(403 Forbidden\)/);

    const gone = await testCloudConnection({ ...cloud(), authorityHost: 'https://127.0.0.1:1', graphBaseUrl: 'https://127.0.0.1:1/' }, viaSquid());
    assert.ok(!gone.ok && gone.reason === 'destination-unreachable', JSON.stringify(gone));
    assert.match(gone.message, /could not reach 127\.0\.0\.1:1 \(50[234]\)/);
  });

  it('signs in with a device code through the proxy', async () => {
    const network = viaSquid();
    const pending = await beginAdminSignIn({ ...cloud(), network });
    harness.tenant.state.approveDeviceCode(pending.userCode, harness.tenant.connection.globalAdminUpn);
    const session = await pending.result;
    const organization = await session.graph.api('/organization').get() as { value: Array<{ id: string }> };
    assert.equal(organization.value[0]?.id, harness.tenant.connection.tenantId);
    await session.signOut();
    await network.close();
  });

  it('a full run and a delta run through the proxy, signed in with the application\'s client credentials', async () => {
    const before = tunnels().length;
    const full = await harness.sync('full');
    assert.equal(full.status, 'succeeded', full.message);
    assert.deepEqual(full.exported, { 'create-user': 2, 'create-group': 1, 'add-member': 2, 'set-manager': 1 }, JSON.stringify(full.exported));
    assert.equal(managedInTenant(harness.tenant, 'user').length, 2);

    await sandbox.addUser('Proxy Cy', { sAMAccountName: 'proxycy', userPrincipalName: 'proxy.cy@contoso.com', displayName: 'Proxy Cy' });
    const delta = await harness.sync('delta');
    assert.equal(delta.status, 'succeeded', delta.message);
    assert.deepEqual(delta.exported, { 'create-user': 1 });
    assert.equal(managedInTenant(harness.tenant, 'user').length, 3);
    assert.ok(await tunnelsAfter(before), `the proxy logged the tunnels to the tenant as user ${PROXY_USER}`);
  });

  it('a wrong proxy password fails the run with a clear error: nothing written, the DirSync cookie unmoved', async () => {
    await sandbox.addUser('Proxy Dee', { sAMAccountName: 'proxydee', userPrincipalName: 'proxy.dee@contoso.com', displayName: 'Proxy Dee' });
    storeProxyPassword(harness.store, harness.config.network.proxy, 'an old password');
    const cookie = harness.store.getCursor(adCursorKey(PRIMARY_SOURCE));
    const seq = lastSeq(harness.tenant);
    const refusal = new RegExp(`The proxy 127\\.0\\.0\\.1:${squid.port} \\(from the configuration\\) refused the user name and password \\(407`);
    await assert.rejects(harness.sync('delta'), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'cloud-unreachable');
      assert.match(error.message, refusal);
      assert.ok(!error.message.includes('an old password'), 'the password is never shown');
      return true;
    });
    const failed = harness.store.listRuns(1)[0];
    assert.equal(failed?.status, 'failed');
    assert.match(failed?.message ?? '', refusal, 'the run history says why');
    assert.equal(writesSince(harness.tenant, seq).length, 0, 'nothing written');
    assert.equal(harness.store.getCursor(adCursorKey(PRIMARY_SOURCE)), cookie, 'the DirSync cookie did not move');

    storeProxyPassword(harness.store, harness.config.network.proxy, PROXY_PASSWORD);
    const again = await harness.sync('delta');
    assert.equal(again.status, 'succeeded', again.message);
    assert.deepEqual(again.exported, { 'create-user': 1 }, 'the change waited for the next run');
  });

  it('the system\'s proxy, a new installation\'s default: HTTPS_PROXY with its credentials, and NO_PROXY honoured', async () => {
    const saved = harness.config;
    const names = ['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'];
    const environment = Object.fromEntries(names.map((n) => [n, process.env[n]]));
    try {
      for (const n of names) delete process.env[n];
      process.env['HTTPS_PROXY'] = `http://${PROXY_USER}:${encodeURIComponent(PROXY_PASSWORD)}@127.0.0.1:${squid.port}`;
      process.env['NO_PROXY'] = 'dc1.contoso.test,.corp.contoso.com';
      harness.config = parseConfig({ ...saved, network: { proxy: { mode: 'system' } } }, 'the proxy test');
      saveConfig(harness.store, harness.dataDir, harness.config);
      const route = await testCloudConnection(cloud(), new CloudNetwork({ proxy: { mode: 'system' } }));
      assert.ok(route.ok, JSON.stringify(route));
      assert.equal(route.route, `the proxy 127.0.0.1:${squid.port} (from the environment variable HTTPS_PROXY)`, 'the credentials in the variable are never shown');
      const before = tunnels().length;
      await sandbox.addUser('Proxy Eve', { sAMAccountName: 'proxyeve', userPrincipalName: 'proxy.eve@contoso.com', displayName: 'Proxy Eve' });
      const run = await harness.sync('delta');
      assert.equal(run.status, 'succeeded', run.message);
      assert.deepEqual(run.exported, { 'create-user': 1 });
      assert.ok(await tunnelsAfter(before), 'through the system\'s proxy, as its user');

      process.env['NO_PROXY'] = '127.0.0.1';
      const direct = await testCloudConnection(cloud(), new CloudNetwork({ proxy: { mode: 'system' } }));
      assert.equal(direct.ok, false, 'NO_PROXY sends it directly, where the tenant refuses it');
      assert.equal(direct.ok === false && direct.reason, 'unreachable');
    } finally {
      for (const n of names) {
        if (environment[n] === undefined) delete process.env[n];
        else process.env[n] = environment[n];
      }
      harness.config = saved;
      saveConfig(harness.store, harness.dataDir, saved);
    }
  });

  it('never sends the stored password to another proxy: a new proxy address needs its password typed again', async () => {
    const other = await startSquid({ users: { [PROXY_USER]: PROXY_PASSWORD }, outgoingAddress: '127.0.0.3' });
    const saved = harness.config;
    try {
      harness.config = parseConfig({ ...saved, network: { proxy: { mode: 'url', url: other.url, username: PROXY_USER } } }, 'the proxy test');
      saveConfig(harness.store, harness.dataDir, harness.config);
      await assert.rejects(harness.sync('delta'), (error: Error) => {
        assert.match(error.message, new RegExp(`The proxy 127\\.0\\.0\\.1:${other.port} \\(from the configuration\\) refused the user name and password`));
        return true;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.ok(other.accessLog().some((l) => / TCP_DENIED\/407 /.test(l)), 'the other proxy was asked, without the password');
      assert.ok(!other.accessLog().some((l) => /TCP_TUNNEL\/200/.test(l)), 'and let nothing through');
      storeProxyPassword(harness.store, harness.config.network.proxy, PROXY_PASSWORD);
      const run = await harness.sync('delta');
      assert.equal(run.status, 'succeeded', run.message);
    } finally {
      harness.config = saved;
      saveConfig(harness.store, harness.dataDir, saved);
      storeProxyPassword(harness.store, saved.network.proxy, PROXY_PASSWORD);
      await other.stop();
    }
  });
});
