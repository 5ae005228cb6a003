/**
 * "Use an existing app registration" is tried on the Microsoft Entra page, through the service's control API,
 * against the emulated tenant and the real msal-node: a good app, a wrong secret, an app lacking a permission,
 * and the stored secret of the app in use (a rerun) — each said there, not first on the Readiness page.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DIRECTORY_SYNC_GRAPH_PERMISSIONS } from '../../src/contract/permissions.ts';
import { controlClient, RemoteError } from '../../src/service/control-client.ts';
import { startService, type RunningService } from '../../src/service/daemon.ts';
import { startHarness, type Harness } from '../support/engine-harness.ts';

describe('an existing app registration, tested on the Microsoft Entra page', () => {
  const opened: Array<{ harness: Harness; service: RunningService }> = [];
  after(async () => {
    for (const { harness, service } of opened) {
      await service.stop().catch(() => undefined);
      await harness.close();
    }
  });

  async function withApp(roles: ReadonlyArray<string>) {
    const harness = await startHarness({ tenant: { seed: { app: { roles } } } });
    harness.store.close();
    const service = await startService({ dataDir: harness.dataDir, schedule: false });
    opened.push({ harness, service });
    const t = harness.tenant.connection;
    const api = controlClient({ socketPath: service.socket.socketPath ?? '' });
    const args = { instance: 'custom' as const, tenant: t.tenantId, clientId: t.clientId, authorityHost: t.authorityHost, graphBaseUrl: t.graphBaseUrl };
    return { api, args, secret: t.clientSecret, tenantName: t.tenantDisplayName };
  }

  it('signs in with a good app and says it has every permission Directory Sync needs, and the tenant it reached', async () => {
    const { api, args, secret, tenantName } = await withApp(DIRECTORY_SYNC_GRAPH_PERMISSIONS);
    const tested = await api.testExistingApp({ ...args, clientSecret: secret });
    assert.deepEqual(tested.missing, []);
    assert.deepEqual([...tested.roles].sort(), [...DIRECTORY_SYNC_GRAPH_PERMISSIONS].sort());
    assert.equal(tested.tenantDisplayName, tenantName);
    assert.equal(tested.tenantId, args.tenant);
    assert.ok(tested.verifiedDomains.includes('contoso.com'));
    // A rerun: no secret typed, the one the service stores for this same app is used — never for another app.
    assert.deepEqual((await api.testExistingApp(args)).missing, []);
    await assert.rejects(api.testExistingApp({ ...args, clientId: '00000000-0000-0000-0000-0000000000aa' }),
      (e: unknown) => e instanceof RemoteError && /Enter the client secret of the app registration to test it/.test(e.message));
  });

  it('says a wrong secret is wrong', async () => {
    const { api, args } = await withApp(DIRECTORY_SYNC_GRAPH_PERMISSIONS);
    await assert.rejects(api.testExistingApp({ ...args, clientSecret: 'not-the-secret' }), (e: unknown) => {
      assert.ok(e instanceof RemoteError, String(e));
      assert.match(e.message, /secret/i);
      assert.doesNotMatch(e.message, /not-the-secret/, 'the secret typed is never echoed');
      return true;
    });
  });

  it('names each permission the app lacks', async () => {
    const lacking = DIRECTORY_SYNC_GRAPH_PERMISSIONS.filter((p) => p !== 'RoleManagement.Read.Directory' && p !== 'Organization.ReadWrite.All');
    const { api, args, secret } = await withApp(lacking);
    const tested = await api.testExistingApp({ ...args, clientSecret: secret });
    assert.deepEqual(tested.missing, ['Organization.ReadWrite.All', 'RoleManagement.Read.Directory']);
  });
});
