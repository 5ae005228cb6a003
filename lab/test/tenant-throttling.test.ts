/**
 * Throttling (graph-reference.md §8): resource units per request, write quotas, 429 with Retry-After and
 * the x-ms-throttle-* headers, the §8.2 body, inner 429s in $batch, and time scaling.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ResponseType, type Client } from '@microsoft/microsoft-graph-client';
import type { TenantServer } from '../tenant/index.ts';
import { STRONG_PASSWORD, appGraphClient, appToken, startTestTenant, unique } from './support/tenant.ts';

function newUser(): Record<string, unknown> {
  const alias = unique('t');
  return { accountEnabled: true, displayName: alias, mailNickname: alias, userPrincipalName: `${alias}@contoso.com`, passwordProfile: { password: STRONG_PASSWORD } };
}

describe('tenant throttling', () => {
  let server: TenantServer;
  let client: Client;
  let token: string;
  const raw = (method: string, path: string, body?: unknown): Promise<Response> => fetch(`${server.connection.graphBaseUrl}v1.0${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

  before(async () => {
    // 3 writes per 150 s and 40 RU per 10 s, with time running 60x faster: a 2.5 s write window.
    server = await startTestTenant({ timeScale: 60, budgets: { appTenantWrites: 3, appTenantResourceUnits: 40 } });
    client = appGraphClient(server.connection);
    token = await appToken(server.connection);
  });
  after(async () => {
    await server.close();
  });

  it('sends x-ms-resource-unit with the documented costs and modifiers', async () => {
    server.state.setBudgets({ appTenantResourceUnits: 10_000 });
    const ru = async (path: string): Promise<string | null> => {
      const response = await client.api(path).responseType(ResponseType.RAW).get() as Response;
      return response.headers.get('x-ms-resource-unit');
    };
    const group = await client.api('/groups').top(1).select('id').get() as { value: { id: string }[] };
    assert.equal(await ru('/users'), '2');
    assert.equal(await ru('/users?$select=id'), '1');
    assert.equal(await ru('/users?$top=5&$select=id'), '1');
    assert.equal(await ru('/organization'), '1');
    assert.equal(await ru(`/groups/${group.value[0]?.id}/members`), '3');
    assert.equal(await ru(`/groups/${group.value[0]?.id}/transitiveMembers`), '5');
    assert.equal(await ru('/groups?$expand=members'), '2');
    assert.equal(await ru('/applications'), '2');
    server.state.setBudgets({ appTenantResourceUnits: 40 });
  });

  it('answers 429 with Retry-After, scope and information headers and the §8.2 body when the write quota is spent', async () => {
    server.state.setBudgets({ appTenantWrites: 3 });
    const statuses: number[] = [];
    const percentages: (string | null)[] = [];
    let throttled: Response | undefined;
    for (let i = 0; i < 4; i += 1) {
      const response = await raw('POST', '/users', newUser());
      statuses.push(response.status);
      percentages.push(response.headers.get('x-ms-throttle-limit-percentage'));
      if (response.status === 429) throttled = response;
      else await response.arrayBuffer();
    }
    assert.deepEqual(statuses, [201, 201, 201, 429]);
    assert.deepEqual(percentages.slice(0, 3), [null, null, '1.0'], 'the percentage header appears above 80 % of a limit');
    assert.ok(throttled);
    const retryAfter = throttled.headers.get('retry-after');
    assert.match(retryAfter ?? '', /^\d+$/);
    assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 3);
    assert.equal(throttled.headers.get('x-ms-throttle-scope'), `Tenant_Application/Write/${server.connection.clientId}/${server.connection.tenantId}`);
    assert.equal(throttled.headers.get('x-ms-throttle-information'), 'WriteLimitExceeded');
    const body = await throttled.json() as { error: { code: string; message: string; innerError: Record<string, string> } };
    assert.equal(body.error.code, 'TooManyRequests');
    assert.equal(body.error.message, 'Please retry again later.');
    assert.equal(body.error.innerError['code'], '429');
    assert.equal(body.error.innerError['status'], '429');
    assert.equal(body.error.innerError['message'], 'Please retry after');
    assert.ok(body.error.innerError['request-id']);

    await new Promise((r) => setTimeout(r, Number(retryAfter) * 1000));
    const retried = await raw('POST', '/users', newUser());
    assert.equal(retried.status, 201, 'a client that honours Retry-After succeeds');
  });

  it('lets the Graph SDK RetryHandler recover from 429 by honouring Retry-After', async () => {
    server.state.setBudgets({ appTenantWrites: 2 });
    server.state.clearRequestLog();
    for (let i = 0; i < 3; i += 1) await client.api('/users').post(newUser());
    const writes = server.state.requestLog().filter((e) => e.method === 'POST' && e.path.startsWith('/v1.0/users'));
    assert.ok(writes.some((e) => e.status === 429 && e.throttled), 'one write was throttled');
    assert.equal(writes.filter((e) => e.status === 201).length, 3);
    assert.ok(writes.every((e) => e.isWrite));
  });

  it('limits resource units per application+tenant', async () => {
    server.state.setBudgets({ appTenantResourceUnits: 10 });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 6; i += 1) {
      last = await raw('GET', '/users');
      statuses.push(last.status);
      if (i < 5) await last.arrayBuffer();
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    assert.equal(last?.headers.get('x-ms-throttle-information'), 'ResourceUnitLimitExceeded');
    assert.equal(last?.headers.get('x-ms-throttle-scope'), `Tenant_Application/ReadWrite/${server.connection.clientId}/${server.connection.tenantId}`);
    server.state.setBudgets({ appTenantResourceUnits: 40 });
  });

  it('applies the tenant-wide write quota', async () => {
    server.state.setBudgets({ appTenantWrites: 100, tenantWrites: 1 });
    assert.equal((await raw('POST', '/users', newUser())).status, 201);
    const second = await raw('POST', '/users', newUser());
    assert.equal(second.status, 429);
    assert.equal(second.headers.get('x-ms-throttle-scope'), `Tenant/Write/${server.connection.clientId}/${server.connection.tenantId}`);
    server.state.setBudgets({ tenantWrites: 18_000, appTenantWrites: 3 });
  });

  it('charges a members@odata.bind one write as §8.1 documents, and ⌈N/3⌉ when the budget says a bind costs per member', async () => {
    server.state.setBudgets({ appTenantWrites: 1000 });
    const group = async (): Promise<string> => {
      const alias = unique('g');
      const response = await raw('POST', '/groups', { displayName: alias, mailNickname: alias, mailEnabled: false, securityEnabled: true });
      return ((await response.json()) as { id: string }).id;
    };
    const [documented, observed] = [await group(), await group()];
    const members: string[] = [];
    for (let i = 0; i < 40; i += 1) members.push(((await (await raw('POST', '/users', newUser())).json()) as { id: string }).id);
    const bind = async (groupId: string, ids: string[]): Promise<number> => {
      const response = await raw('PATCH', `/groups/${groupId}`, { 'members@odata.bind': ids.map((id) => `https://graph.microsoft.com/v1.0/directoryObjects/${id}`) });
      await response.arrayBuffer();
      return response.status;
    };
    server.state.setBudgets({ appTenantWrites: 2 });
    assert.deepEqual([await bind(documented, members.slice(0, 20)), await bind(documented, members.slice(20, 40)), (await raw('POST', '/users', newUser())).status], [204, 204, 429],
      'two binds of 20 spend a budget of two writes');
    server.state.setBudgets({ appTenantWrites: 7, membersPerBindWrite: 3 });
    assert.deepEqual([await bind(observed, members.slice(0, 20)), (await raw('POST', '/users', newUser())).status], [204, 429], 'a bind of 20 costs 7 writes');
    server.state.setBudgets({ appTenantWrites: 3, membersPerBindWrite: undefined });
  });

  it('evaluates $batch items individually: inner 429 with Retry-After, outer 200', async () => {
    server.state.setBudgets({ appTenantWrites: 3 });
    const requests = Array.from({ length: 5 }, (_, i) => ({
      id: String(i + 1), method: 'POST', url: '/users', headers: { 'Content-Type': 'application/json' }, body: newUser(),
    }));
    const response = await raw('POST', '/$batch', { requests });
    assert.equal(response.status, 200);
    const body = await response.json() as { responses: { id: string; status: number; headers: Record<string, string> }[] };
    const statuses = body.responses.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 201, 201, 429, 429]);
    for (const r of body.responses.filter((x) => x.status === 429)) assert.match(r.headers['Retry-After'] ?? '', /^\d+$/);
  });
});
