/**
 * JSON batching (graph-reference.md §7), with the Graph SDK's BatchRequestContent where it can express
 * the case and raw bodies where the SDK itself refuses (more than 20 requests, duplicate ids).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BatchRequestContent, BatchResponseContent, type Client } from '@microsoft/microsoft-graph-client';
import type { TenantServer } from '../tenant/index.ts';
import { STRONG_PASSWORD, appGraphClient, graphError, startTestTenant, unique } from './support/tenant.ts';

type InnerResponse = { id: string; status: number; headers: Record<string, string>; body: Record<string, unknown> & { error?: { code: string; message: string; innerError: Record<string, string> } } };
type BatchBody = { responses: InnerResponse[] };

function newUser(alias: string): Record<string, unknown> {
  return { accountEnabled: true, displayName: alias, mailNickname: alias, userPrincipalName: `${alias}@contoso.com`, passwordProfile: { password: STRONG_PASSWORD } };
}

describe('tenant $batch', () => {
  let server: TenantServer;
  let client: Client;
  before(async () => {
    server = await startTestTenant();
    client = appGraphClient(server.connection);
  });
  after(async () => {
    await server.close();
  });

  it('runs the SDK BatchRequestContent: outer 200, inner statuses and bodies, responses not in request order', async () => {
    const base = `${server.connection.graphBaseUrl}v1.0`;
    const alias = unique('batch');
    const content = new BatchRequestContent([
      { id: '1', request: new Request(`${base}/users?$select=id,displayName`, { method: 'GET' }) },
      { id: '2', request: new Request(`${base}/users`, { method: 'POST', body: JSON.stringify(newUser(alias)), headers: { 'Content-Type': 'application/json' } }) },
      { id: '3', request: new Request(`${base}/organization`, { method: 'GET' }) },
      { id: '4', request: new Request(`${base}/users/nobody@contoso.com`, { method: 'GET' }) },
    ]);
    const raw = await client.api('/$batch').post(await content.getContent()) as BatchBody;
    assert.notDeepEqual(raw.responses.map((r) => r.id), ['1', '2', '3', '4'], 'responses come back shuffled');
    const parsed = new BatchResponseContent(raw);
    assert.equal(parsed.getResponseById('1')?.status, 200);
    const created = parsed.getResponseById('2');
    assert.equal(created?.status, 201);
    assert.equal((await created?.json() as { userPrincipalName: string }).userPrincipalName, `${alias}@contoso.com`);
    assert.equal(parsed.getResponseById('3')?.status, 200);
    const missing = raw.responses.find((r) => r.id === '4');
    assert.equal(missing?.status, 404);
    assert.equal(missing?.body.error?.code, 'Request_ResourceNotFound');
    assert.ok(missing?.body.error?.innerError['request-id']);
    assert.match(missing?.headers['Content-Type'] ?? '', /application\/json/);
    const log = server.state.requestLog().filter((e) => e.batchParent !== undefined);
    assert.ok(log.length >= 4 && log.every((e) => e.appId === server.connection.clientId));
  });

  it('rejects malformed batches with an outer 400', async () => {
    const get = (id: string): Record<string, unknown> => ({ id, method: 'GET', url: '/organization' });
    const tooMany = await graphError(client.api('/$batch').post({ requests: Array.from({ length: 21 }, (_, i) => get(String(i))) }));
    assert.equal(tooMany.statusCode, 400);
    assert.equal(tooMany.message, 'Number of requests inside batch exceeds the limit.');
    const dup = await graphError(client.api('/$batch').post({ requests: [get('a'), get('A')] }));
    assert.equal(dup.statusCode, 400);
    assert.match(dup.message, /duplicate request id/);
    const absolute = await graphError(client.api('/$batch').post({ requests: [{ id: '1', method: 'GET', url: 'https://graph.microsoft.com/v1.0/users' }] }));
    assert.equal(absolute.statusCode, 400);
    const noType = await graphError(client.api('/$batch').post({ requests: [{ id: '1', method: 'POST', url: '/users', body: newUser(unique('x')) }] }));
    assert.equal(noType.message, 'Write request id : 1 does not contain Content-Type header or body.');
    const twenty = await client.api('/$batch').post({ requests: Array.from({ length: 20 }, (_, i) => get(String(i))) }) as BatchBody;
    assert.equal(twenty.responses.length, 20);
  });

  it('fails dependents of a failed request with 424', async () => {
    const batch = await client.api('/$batch').post({
      requests: [
        { id: '1', method: 'POST', url: '/users', headers: { 'Content-Type': 'application/json' }, body: { displayName: 'incomplete' } },
        { id: '2', method: 'GET', url: '/organization', dependsOn: ['1'] },
        { id: '3', method: 'GET', url: 'users?$top=1', dependsOn: ['2'] },
        { id: '4', method: 'GET', url: '/organization' },
      ],
    }) as BatchBody;
    const status = Object.fromEntries(batch.responses.map((r) => [r.id, r.status]));
    assert.deepEqual(status, { 1: 400, 2: 424, 3: 424, 4: 200 });
  });

  it('takes ConsistencyLevel from the inner request headers', async () => {
    const url = "/users?$filter=endsWith(userPrincipalName,'@contoso.onmicrosoft.com')&$count=true&$select=id";
    const batch = await client.api('/$batch').post({
      requests: [
        { id: 'advanced', method: 'GET', url, headers: { ConsistencyLevel: 'eventual' } },
        { id: 'plain', method: 'GET', url },
      ],
    }) as BatchBody;
    const advanced = batch.responses.find((r) => r.id === 'advanced');
    const plain = batch.responses.find((r) => r.id === 'plain');
    assert.equal(advanced?.status, 200);
    assert.ok(typeof advanced?.body['@odata.count'] === 'number');
    assert.equal(plain?.status, 400);
    assert.equal(plain?.body.error?.code, 'Request_UnsupportedQuery');
  });
});
