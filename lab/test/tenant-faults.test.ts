/**
 * Fault injection and the lab control API: 429 / 500 / 503 / latency / dropped connections, before or
 * after processing, ratios, $batch items; request log.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { RequestLogEntry, TenantServer } from '../tenant/index.ts';
import { GRAPH_SCOPE, STRONG_PASSWORD, appGraphClient, confidentialClient, graphError, labControl, startTestTenant, unique } from './support/tenant.ts';

describe('tenant faults and lab control', () => {
  let server: TenantServer;
  let client: Client;
  before(async () => {
    server = await startTestTenant({ faultSeed: 7 });
    client = appGraphClient(server.connection);
    await client.api('/organization').get();
  });
  beforeEach(async () => {
    await labControl(server.connection, 'DELETE', '/faults');
    await labControl(server.connection, 'DELETE', '/requests');
  });
  after(async () => {
    await server.close();
  });

  it('requires the lab control key', async () => {
    const response = await fetch(`${server.connection.labControlUrl}/state`);
    assert.equal(response.status, 401);
    const health = await fetch(`${server.connection.labControlUrl}/health`);
    assert.equal(health.status, 200);
  });

  it('injects a 500 for a count of requests on a path prefix', async () => {
    const added = await labControl(server.connection, 'POST', '/faults', { mode: '500', count: 1, pathPrefix: '/v1.0/organization' });
    assert.equal(added.status, 201);
    const error = await graphError(client.api('/organization').get());
    assert.equal(error.statusCode, 500);
    await client.api('/users').top(1).get();
    await client.api('/organization').get();
    const log = (await labControl(server.connection, 'GET', '/requests')).json as { value: RequestLogEntry[] };
    assert.deepEqual(log.value.map((e) => [e.method, e.path.split('?')[0], e.status, e.fault ?? null]), [
      ['GET', '/v1.0/organization', 500, '500'], ['GET', '/v1.0/users', 200, null], ['GET', '/v1.0/organization', 200, null],
    ]);
    assert.ok(log.value.slice(1).every((e) => e.appId === server.connection.clientId && e.isWrite === false));
  });

  it('lets the Graph SDK retry injected 503s and 429s that carry Retry-After', async () => {
    await labControl(server.connection, 'POST', '/faults', { mode: '503', count: 1, retryAfterSeconds: 1, pathPrefix: '/v1.0/organization' });
    await labControl(server.connection, 'POST', '/faults', { mode: '429', count: 1, retryAfterSeconds: 1, pathPrefix: '/v1.0/organization' });
    const started = Date.now();
    await client.api('/organization').get();
    assert.ok(Date.now() - started >= 1900, 'two Retry-After waits of 1 s');
    const statuses = server.state.requestLog().map((e) => e.status);
    assert.deepEqual(statuses, [503, 429, 200]);
  });

  it('adds latency', async () => {
    await labControl(server.connection, 'POST', '/faults', { mode: 'latency', latencyMs: 300, count: 1 });
    const started = Date.now();
    await client.api('/organization').get();
    assert.ok(Date.now() - started >= 290);
  });

  it('drops the connection without a response, before or after processing', async () => {
    await labControl(server.connection, 'POST', '/faults', { mode: 'drop', count: 1, pathPrefix: '/v1.0/organization' });
    await assert.rejects(client.api('/organization').get());
    const alias = unique('lost');
    await labControl(server.connection, 'POST', '/faults', { mode: 'drop', count: 1, when: 'after', methods: ['POST'], pathPrefix: '/v1.0/users' });
    await assert.rejects(client.api('/users').post({
      accountEnabled: true, displayName: alias, mailNickname: alias, userPrincipalName: `${alias}@contoso.com`, passwordProfile: { password: STRONG_PASSWORD },
    }));
    const created = await client.api(`/users/${alias}@contoso.com`).get() as { id: string };
    assert.ok(created.id, 'the create was applied although its response was lost');
  });

  it('hits a ratio of requests reproducibly', async () => {
    await labControl(server.connection, 'POST', '/faults', { mode: '500', ratio: 0.5, pathPrefix: '/v1.0/users' });
    let failures = 0;
    for (let i = 0; i < 20; i += 1) {
      try {
        await client.api('/users').top(1).select('id').get();
      } catch (error) {
        failures += 1;
        assert.equal((error as { statusCode?: number }).statusCode, 500);
      }
    }
    assert.ok(failures > 2 && failures < 18, `about half of the requests fail (got ${failures})`);
  });

  it('applies to $batch items when asked', async () => {
    await labControl(server.connection, 'POST', '/faults', { mode: '429', count: 1, includeBatchItems: true, retryAfterSeconds: 2, pathPrefix: '/v1.0/organization' });
    const batch = await client.api('/$batch').post({ requests: [{ id: '1', method: 'GET', url: '/organization' }, { id: '2', method: 'GET', url: '/organization' }] }) as {
      responses: { id: string; status: number; headers: Record<string, string> }[];
    };
    const statuses = batch.responses.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 429]);
    assert.equal(batch.responses.find((r) => r.status === 429)?.headers['Retry-After'], '2');
    const items = server.state.requestLog().filter((e) => e.batchParent);
    assert.equal(items.length, 2);
    const outer = server.state.requestLog().find((e) => e.path.startsWith('/v1.0/$batch'));
    assert.equal(items[0]?.batchParent, outer?.requestId);
  });

  it('faults the token endpoint too (msal surfaces the 503 and throttles that request locally)', async () => {
    await labControl(server.connection, 'POST', '/faults', { mode: '503', count: 1, pathPrefix: `/${server.connection.tenantId}/oauth2` });
    const cca = confidentialClient(server.connection);
    await assert.rejects(cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE], skipCache: true }), (error: { status?: number; errorCode?: string }) => {
      assert.equal(error.status, 503);
      assert.equal(error.errorCode, 'temporarily_unavailable');
      return true;
    });
    await assert.rejects(cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE], skipCache: true }));
    assert.equal(server.state.requestLog().filter((e) => e.path.includes('/oauth2/v2.0/token')).length, 1, 'msal refused the retry locally');
    const fresh = await confidentialClient(server.connection).acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE], skipCache: true });
    assert.ok(fresh?.accessToken, 'a new client application (empty msal throttle cache) gets a token');
    const token = server.state.requestLog().filter((e) => e.path.includes('/oauth2/v2.0/token')).map((e) => e.status);
    assert.deepEqual(token, [503, 200]);
  });

  it('dumps and resets the state', async () => {
    const alias = unique('reset');
    await client.api('/users').post({
      accountEnabled: true, displayName: alias, mailNickname: alias, userPrincipalName: `${alias}@contoso.com`, passwordProfile: { password: STRONG_PASSWORD },
    });
    const dump = (await labControl(server.connection, 'GET', '/state')).json as { objects: { user: { userPrincipalName: string }[] } };
    assert.ok(dump.objects.user.some((u) => u.userPrincipalName === `${alias}@contoso.com`));
    assert.equal((await labControl(server.connection, 'POST', '/reset', {})).status, 204);
    assert.equal((await graphError(client.api(`/users/${alias}@contoso.com`).get())).statusCode, 404);
    await client.api('/organization').get();
  });
});
