/**
 * Eventual consistency mode of the emulated tenant (lab/tenant/README.md, "Eventual consistency"), and the
 * group `uniqueName` alternate key with upsert. Most lags here are tens of seconds of tenant clock, made
 * visible by advancing the clock, so nothing depends on the speed of the machine; one test waits in real time.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfidentialClientApplication, ServerError } from '@azure/msal-node';
import { generate } from 'selfsigned';
import type { TenantConnection } from '../connection.ts';
import {
  ENGINE_APP_ROLES, NOT_VALID_REFERENCE_UPDATE, REFERENCED_OBJECT_MISSING, consistencyFromEnv, resourceNotFoundMessage, startTenantDaemon,
  startTenantServer, stopTenantDaemon, type ConsistencyOptions, type TenantServer,
} from '../tenant/index.ts';
import {
  GRAPH_SCOPE, STRONG_PASSWORD, appToken, assertLabCaTrusted, confidentialClient, labControl, msalAuth, startTestTenant, unique,
} from './support/tenant.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Graph JSON bodies, asserted field by field
type Body = any;
type Reply = { status: number; json: Body; text: string; headers: Headers };

const LAG: ConsistencyOptions = { lagMs: { min: 20_000, max: 40_000 }, seed: 42 };
/** Tenant-clock seconds after which every change made with LAG is visible. */
const SETTLE_SECONDS = 41;
const ROLES = [...ENGINE_APP_ROLES, 'AppRoleAssignment.ReadWrite.All', 'Directory.Read.All'];
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/** Raw Graph requests (exact statuses and bodies) with a fresh client-credentials token each time. */
function graphCaller(connection: TenantConnection): (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Reply> {
  const cca = confidentialClient(connection);
  return async (method, path, body, headers = {}) => {
    const token = await appToken(connection, cca);
    const response = await fetch(`${connection.graphBaseUrl}v1.0${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let json: Body;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      json = undefined;
    }
    return { status: response.status, json, text, headers: response.headers };
  };
}

function userBody(alias: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { accountEnabled: true, displayName: alias, mailNickname: alias, userPrincipalName: `${alias}@contoso.com`, passwordProfile: { password: STRONG_PASSWORD }, ...extra };
}

function groupBody(alias: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { displayName: `G ${alias}`, mailEnabled: false, mailNickname: alias, securityEnabled: true, ...extra };
}

const ref = (id: string): string => `https://graph.microsoft.com/v1.0/directoryObjects/${id}`;
const ids = (reply: Reply): string[] => (reply.json.value as { id: string }[]).map((o) => o.id);

function assertNotFound(reply: Reply, id: string): void {
  assert.equal(reply.status, 404, reply.text);
  assert.equal(reply.json.error.code, 'Request_ResourceNotFound');
  assert.equal(reply.json.error.message, resourceNotFoundMessage(id));
}

function assertBadRequest(reply: Reply, message: string): void {
  assert.equal(reply.status, 400, reply.text);
  assert.equal(reply.json.error.code, 'Request_BadRequest');
  assert.equal(reply.json.error.message, message);
}

/** Follows a delta round to its deltaLink. */
async function deltaRound(call: ReturnType<typeof graphCaller>, graphBaseUrl: string, url: string): Promise<{ items: Body[]; deltaLink: string }> {
  const items: Body[] = [];
  let next = url;
  for (;;) {
    const page = await call('GET', next.replace(`${graphBaseUrl}v1.0`, ''));
    assert.equal(page.status, 200, page.text);
    items.push(...page.json.value);
    if (page.json['@odata.nextLink']) {
      next = page.json['@odata.nextLink'];
      continue;
    }
    return { items, deltaLink: page.json['@odata.deltaLink'] };
  }
}

describe('tenant eventual consistency', () => {
  let server: TenantServer;
  let call: ReturnType<typeof graphCaller>;
  const settle = (): void => server.state.advanceClock(SETTLE_SECONDS);
  const createUser = async (extra: Record<string, unknown> = {}): Promise<Body> => {
    const reply = await call('POST', '/users', userBody(unique('ec'), extra));
    assert.equal(reply.status, 201, reply.text);
    return reply.json;
  };
  const createGroup = async (extra: Record<string, unknown> = {}): Promise<Body> => {
    const reply = await call('POST', '/groups', groupBody(unique('ecg'), extra));
    assert.equal(reply.status, 201, reply.text);
    return reply.json;
  };
  /** A user and a group every replica has. */
  const visibleUserAndGroup = async (): Promise<{ user: Body; group: Body }> => {
    const user = await createUser({ jobTitle: 'Old title' });
    const group = await createGroup();
    settle();
    return { user, group };
  };

  before(async () => {
    server = await startTestTenant({ consistency: LAG, seed: { app: { roles: ROLES } } });
    call = graphCaller(server.connection);
  });
  after(async () => {
    await server.close();
  });
  /** New settings once everything written so far has replicated (the longest lag used here is 100 s). */
  const reconfigure = (options: ConsistencyOptions): void => {
    server.state.advanceClock(101);
    assert.deepEqual(server.state.pendingReplication().changes, []);
    server.state.setConsistency(options);
  };

  it('hides a created object from other requests until its lag has passed: GET, lists, $filter, $count, delta', async () => {
    const count = async (): Promise<number> => Number((await call('GET', '/users/$count', undefined, { ConsistencyLevel: 'eventual' })).text);
    const before = await count();
    const alias = unique('new');
    const created = await call('POST', '/users', userBody(alias));
    assert.equal(created.status, 201);
    assert.equal(created.json.userPrincipalName, `${alias}@contoso.com`, 'the write itself answers with the new object');
    const id = created.json.id as string;

    assertNotFound(await call('GET', `/users/${id}`), id);
    assertNotFound(await call('GET', `/users/${alias}@contoso.com`), `${alias}@contoso.com`);
    assert.deepEqual(ids(await call('GET', `/users?$filter=userPrincipalName eq '${alias}@contoso.com'`)), []);
    assert.ok(!ids(await call('GET', '/users?$top=999&$select=id')).includes(id));
    assert.equal(await count(), before);
    const advanced = await call('GET', `/users?$count=true&$filter=startsWith(userPrincipalName,'${alias}')`, undefined, { ConsistencyLevel: 'eventual' });
    assert.equal(advanced.json['@odata.count'], 0);
    const delta = await deltaRound(call, server.connection.graphBaseUrl, '/users/delta?$select=displayName');
    assert.ok(!delta.items.some((u) => u.id === id));
    assert.ok(server.state.pendingReplication().changes.some((c) => c.objectId === id));

    settle();
    assert.equal((await call('GET', `/users/${id}`)).status, 200);
    assert.deepEqual(ids(await call('GET', `/users?$filter=userPrincipalName eq '${alias}@contoso.com'`)), [id]);
    assert.ok(ids(await call('GET', '/users?$top=999&$select=id')).includes(id));
    assert.equal(await count(), before + 1);
    assert.ok((await deltaRound(call, server.connection.graphBaseUrl, '/users/delta?$select=displayName')).items.some((u) => u.id === id));
    assert.deepEqual(server.state.pendingReplication().changes, []);
  });

  it('shows the previous value of a changed property (directory extension properties too) until the change replicates', async () => {
    const app = await call('GET', `/applications(appId='${server.connection.clientId}')`);
    const ext = await call('POST', `/applications/${app.json.id}/extensionProperties`, { name: 'costCenter', dataType: 'String', targetObjects: ['User'] });
    assert.equal(ext.status, 201, ext.text);
    const extName = ext.json.name as string;
    const { user } = await visibleUserAndGroup();
    const patched = await call('PATCH', `/users/${user.id}`, { jobTitle: 'New title', [extName]: 'CC-1' });
    assert.equal(patched.status, 204, patched.text);

    const stale = await call('GET', `/users/${user.id}?$select=jobTitle,${extName}`);
    assert.equal(stale.json.jobTitle, 'Old title');
    assert.ok(!(extName in stale.json));
    assert.deepEqual(ids(await call('GET', `/users?$filter=jobTitle eq 'New title'`)), []);
    assert.deepEqual(ids(await call('GET', `/users?$filter=jobTitle eq 'Old title' and id eq '${user.id}'`)), [user.id]);
    // A second write to the same object applies to the primary (on top of the first), not to the replica's copy.
    assert.equal((await call('PATCH', `/users/${user.id}`, { department: 'Ops' })).status, 204);
    assert.equal((await call('GET', `/users/${user.id}?$select=department`)).json.department, null);

    settle();
    const fresh = await call('GET', `/users/${user.id}?$select=jobTitle,department,${extName}`);
    assert.equal(fresh.json.jobTitle, 'New title');
    assert.equal(fresh.json.department, 'Ops');
    assert.equal(fresh.json[extName], 'CC-1');
    assert.deepEqual(ids(await call('GET', `/users?$filter=jobTitle eq 'New title'`)), [user.id]);
  });

  it('lists an added member only after the add replicates, and a removed one until the removal does', async () => {
    const { user, group } = await visibleUserAndGroup();
    const added = await call('POST', `/groups/${group.id}/members/$ref`, { '@odata.id': ref(user.id) });
    assert.equal(added.status, 204, added.text);
    assert.ok(!ids(await call('GET', `/groups/${group.id}/members`)).includes(user.id));
    assert.ok(!ids(await call('GET', `/users/${user.id}/memberOf`)).includes(group.id));
    const again = await call('POST', `/groups/${group.id}/members/$ref`, { '@odata.id': ref(user.id) });
    assertBadRequest(again, "One or more added object references already exist for the following modified properties: 'members'.");

    settle();
    assert.deepEqual(ids(await call('GET', `/groups/${group.id}/members`)), [user.id]);
    assert.deepEqual(ids(await call('GET', `/users/${user.id}/memberOf`)), [group.id]);
    const removed = await call('DELETE', `/groups/${group.id}/members/${user.id}/$ref`);
    assert.equal(removed.status, 204, removed.text);
    assert.deepEqual(ids(await call('GET', `/groups/${group.id}/members`)), [user.id]);
    assert.deepEqual(ids(await call('GET', `/users/${user.id}/memberOf`)), [group.id]);
    const expanded = await call('GET', `/groups/${group.id}?$expand=members($select=id)`);
    assert.deepEqual(expanded.json.members.map((m: Body) => m.id), [user.id]);

    settle();
    assert.deepEqual(ids(await call('GET', `/groups/${group.id}/members`)), []);
    assert.deepEqual(ids(await call('GET', `/users/${user.id}/memberOf`)), []);
  });

  it('still serves a deleted object (soft or hard) until the deletion replicates', async () => {
    const { user, group } = await visibleUserAndGroup();
    assert.equal((await call('DELETE', `/users/${user.id}`)).status, 204);
    assert.equal((await call('DELETE', `/groups/${group.id}`)).status, 204);
    assert.equal((await call('GET', `/users/${user.id}`)).json.id, user.id);
    assert.equal((await call('GET', `/groups/${group.id}`)).json.id, group.id);
    assert.ok(ids(await call('GET', '/users?$top=999&$select=id')).includes(user.id));
    assert.ok(!ids(await call('GET', '/directory/deletedItems/microsoft.graph.user')).includes(user.id));
    assertNotFound(await call('DELETE', `/users/${user.id}`), user.id);
    assertNotFound(await call('POST', `/directory/deletedItems/${user.id}/restore`), user.id);

    settle();
    assertNotFound(await call('GET', `/users/${user.id}`), user.id);
    assertNotFound(await call('GET', `/groups/${group.id}`), group.id);
    assert.ok(ids(await call('GET', '/directory/deletedItems/microsoft.graph.user')).includes(user.id));
    const restored = await call('POST', `/directory/deletedItems/${user.id}/restore`);
    assert.equal(restored.status, 200, restored.text);
    assert.ok(ids(await call('GET', '/directory/deletedItems/microsoft.graph.user')).includes(user.id), 'the restore has not replicated yet');
    settle();
    assert.equal((await call('GET', `/users/${user.id}`)).status, 200);
  });

  it('answers 404 to writes addressed to an object the replica does not have yet', async () => {
    const { user: visible } = await visibleUserAndGroup();
    const fresh = await createUser();
    const freshGroup = await createGroup();
    assertNotFound(await call('PATCH', `/users/${fresh.id}`, { jobTitle: 'x' }), fresh.id);
    assertNotFound(await call('PATCH', `/users/${fresh.userPrincipalName}`, { jobTitle: 'x' }), fresh.userPrincipalName);
    assertNotFound(await call('PUT', `/users/${fresh.id}/manager/$ref`, { '@odata.id': ref(visible.id) }), fresh.id);
    assertNotFound(await call('DELETE', `/users/${fresh.id}/manager/$ref`), fresh.id);
    assertNotFound(await call('PATCH', `/groups/${freshGroup.id}`, { description: 'x' }), freshGroup.id);
    assertNotFound(await call('POST', `/groups/${freshGroup.id}/members/$ref`, { '@odata.id': ref(visible.id) }), freshGroup.id);
    assertNotFound(await call('DELETE', `/groups/${freshGroup.id}/members/${visible.id}/$ref`), freshGroup.id);
    assertNotFound(await call('DELETE', `/groups/${freshGroup.id}`), freshGroup.id);
    assertNotFound(await call('DELETE', `/users/${fresh.id}`), fresh.id);

    settle();
    assert.equal((await call('PATCH', `/users/${fresh.id}`, { jobTitle: 'x' })).status, 204);
    assert.equal((await call('PUT', `/users/${fresh.id}/manager/$ref`, { '@odata.id': ref(visible.id) })).status, 204);
    assert.equal((await call('POST', `/groups/${freshGroup.id}/members/$ref`, { '@odata.id': ref(visible.id) })).status, 204);
  });

  it('refuses references to objects the replica does not have yet, each as Graph documents it', async () => {
    const { user: visible, group } = await visibleUserAndGroup();
    const fresh = await createUser();
    assertNotFound(await call('POST', `/groups/${group.id}/members/$ref`, { '@odata.id': ref(fresh.id) }), fresh.id);
    assertBadRequest(await call('PUT', `/users/${visible.id}/manager/$ref`, { '@odata.id': ref(fresh.id) }), NOT_VALID_REFERENCE_UPDATE);
    assertBadRequest(await call('POST', '/groups', groupBody(unique('bind'), { 'members@odata.bind': [ref(fresh.id)] })), REFERENCED_OBJECT_MISSING);
    assertBadRequest(await call('POST', '/groups', groupBody(unique('bind'), { 'owners@odata.bind': [ref(fresh.id)] })), REFERENCED_OBJECT_MISSING);
    assertBadRequest(await call('PATCH', `/groups/${group.id}`, { 'members@odata.bind': [ref(fresh.id)] }), REFERENCED_OBJECT_MISSING);
    assertBadRequest(await call('PATCH', `/groups/${group.id}`, { 'owners@odata.bind': [ref(fresh.id)] }), REFERENCED_OBJECT_MISSING);
    const missing = '00000000-0000-0000-0000-0000000000aa';
    assertNotFound(await call('PATCH', `/groups/${group.id}`, { 'members@odata.bind': [ref(missing)] }), missing);
    assertNotFound(await call('PUT', `/users/${visible.id}/manager/$ref`, { '@odata.id': ref(missing) }), missing);

    settle();
    assert.equal((await call('PUT', `/users/${visible.id}/manager/$ref`, { '@odata.id': ref(fresh.id) })).status, 204);
    assert.equal((await call('PATCH', `/groups/${group.id}`, { 'members@odata.bind': [ref(fresh.id)] })).status, 204);
    assert.equal((await call('POST', '/groups', groupBody(unique('bind'), { 'owners@odata.bind': [ref(fresh.id)] }))).status, 201);
    assert.equal((await call('GET', `/users/${visible.id}/manager`)).status, 404, 'the manager change has not replicated yet');
    settle();
    assert.equal((await call('GET', `/users/${visible.id}/manager`)).json.id, fresh.id);
  });

  it('checks uniqueness on the primary: a second create conflicts while the first is still invisible', async () => {
    const alias = unique('dup');
    assert.equal((await call('POST', '/users', userBody(alias))).status, 201);
    const second = await call('POST', '/users', userBody(`${alias}x`, { userPrincipalName: `${alias}@contoso.com` }));
    assertBadRequest(second, 'Another object with the same value for property userPrincipalName already exists.');
    const name = unique('un');
    assert.equal((await call('POST', '/groups', groupBody(unique('ug'), { uniqueName: name }))).status, 201);
    const dup = await call('POST', '/groups', groupBody(unique('ug'), { uniqueName: name }));
    assertBadRequest(dup, 'Another object with the same value for property uniqueName already exists.');
    assertNotFound(await call('GET', `/groups(uniqueName='${name}')`), name);
    settle();
  });

  it('delta: a round on a replica never moves its token past a change it could not deliver', async () => {
    const graphBase = server.connection.graphBaseUrl;
    const { user: early } = await visibleUserAndGroup();
    const { user: late } = await visibleUserAndGroup();
    const start = await deltaRound(call, graphBase, '/users/delta?$select=displayName,jobTitle');

    // A change that replicates quickly, then one that takes long: the first is delivered, the second later.
    reconfigure({ lagMs: { min: 1_000, max: 1_000 }, seed: 5 });
    assert.equal((await call('PATCH', `/users/${early.id}`, { jobTitle: 'fast' })).status, 204);
    server.state.setConsistency({ lagMs: { min: 100_000, max: 100_000 }, seed: 5 });
    const slow = await createUser();
    assert.deepEqual(server.state.pendingReplication().changes.map((c) => c.lagMs), [1_000, 100_000], 'changing the settings keeps the pending lags');
    server.state.advanceClock(2);
    const first = await deltaRound(call, graphBase, start.deltaLink);
    assert.deepEqual(first.items.map((u) => [u.id, u.jobTitle]), [[early.id, 'fast']]);
    server.state.advanceClock(100);
    const second = await deltaRound(call, graphBase, first.deltaLink);
    assert.deepEqual(second.items.map((u) => u.id), [slow.id]);

    // A slow change written before a fast one holds the fast one back: nothing is skipped either way.
    server.state.setConsistency({ lagMs: { min: 100_000, max: 100_000 }, seed: 5 });
    assert.equal((await call('PATCH', `/users/${early.id}`, { jobTitle: 'slow' })).status, 204);
    server.state.setConsistency({ lagMs: { min: 1_000, max: 1_000 }, seed: 5 });
    assert.equal((await call('PATCH', `/users/${late.id}`, { jobTitle: 'quick' })).status, 204);
    server.state.advanceClock(2);
    assert.equal((await call('GET', `/users/${late.id}?$select=jobTitle`)).json.jobTitle, 'quick');
    const held = await deltaRound(call, graphBase, second.deltaLink);
    assert.deepEqual(held.items, []);
    server.state.advanceClock(100);
    const both = await deltaRound(call, graphBase, held.deltaLink);
    assert.deepEqual(both.items.map((u) => [u.id, u.jobTitle]).sort(), [[early.id, 'slow'], [late.id, 'quick']].sort());
    const latest = await deltaRound(call, graphBase, both.deltaLink);
    assert.deepEqual(latest.items, []);
    reconfigure(LAG);
  });

  it('is reproducible: the same seed gives the same lags and the same replica choices', async () => {
    const run = async (seed: number): Promise<{ lags: number[]; statuses: number[] }> => {
      reconfigure({ lagMs: { min: 1_000, max: 90_000 }, seed, staleReadRatio: 0.5 });
      const user = await createUser();
      await call('PATCH', `/users/${user.id}`, { jobTitle: 'a' });
      await createGroup();
      const statuses: number[] = [];
      for (let i = 0; i < 16; i += 1) statuses.push((await call('GET', `/users/${user.id}`)).status);
      return { lags: server.state.pendingReplication().changes.map((c) => c.lagMs), statuses };
    };
    const a = await run(1234);
    const b = await run(1234);
    const c = await run(999);
    assert.deepEqual(b, a);
    assert.equal(a.lags.length, 3);
    assert.ok(a.lags.every((l) => l >= 1_000 && l <= 90_000));
    assert.notDeepEqual(c.lags, a.lags);
    assert.ok(a.statuses.includes(200) && a.statuses.includes(404), `a ratio of 0.5 serves some requests from the primary: ${a.statuses.join(',')}`);
    reconfigure(LAG);
  });

  it('with staleReadRatio 0 every request is served by the primary: strongly consistent', async () => {
    reconfigure({ ...LAG, staleReadRatio: 0 });
    const user = await createUser();
    assert.equal((await call('GET', `/users/${user.id}`)).status, 200);
    assert.equal((await call('PATCH', `/users/${user.id}`, { jobTitle: 'now' })).status, 204);
    assert.equal((await call('GET', `/users/${user.id}?$select=jobTitle`)).json.jobTitle, 'now');
    assert.ok(server.state.pendingReplication().changes.some((c) => c.objectId === user.id), 'the changes still replicate with their lags');
    reconfigure(LAG);
  });

  it('upserts on the primary: a group created a moment ago is updated (204), not created again', async () => {
    const name = unique('ups');
    const headers = { Prefer: 'create-if-missing' };
    const created = await call('PATCH', `/groups(uniqueName='${name}')`, groupBody(unique('upg')), headers);
    assert.equal(created.status, 201, created.text);
    const updated = await call('PATCH', `/groups(uniqueName='${name}')`, { description: 'second' }, headers);
    assert.equal(updated.status, 204, updated.text);
    assertNotFound(await call('GET', `/groups(uniqueName='${name}')`), name);
    assertNotFound(await call('PATCH', `/groups(uniqueName='${name}')`, { description: 'no prefer' }), name);
    settle();
    const read = await call('GET', `/groups(uniqueName='${name}')?$select=id,description,uniqueName`);
    assert.deepEqual(read.json, { '@odata.context': read.json['@odata.context'], id: created.json.id, description: 'second', uniqueName: name });
  });

  it('turning the mode off makes everything visible at once', async () => {
    const user = await createUser();
    assert.equal((await call('GET', `/users/${user.id}`)).status, 404);
    assert.equal((await labControl(server.connection, 'DELETE', '/consistency')).status, 204);
    assert.equal((await call('GET', `/users/${user.id}`)).status, 200);
    assert.deepEqual((await labControl(server.connection, 'GET', '/consistency')).json, { enabled: false });
    const on = await labControl(server.connection, 'PUT', '/consistency', LAG);
    assert.equal(on.status, 200);
    assert.deepEqual(on.json, { enabled: true, lagMs: LAG.lagMs, seed: 42, staleReadRatio: 1 });
    const next = await createUser();
    assert.equal((await call('GET', `/users/${next.id}`)).status, 404);
    settle();
  });
});

describe('tenant eventual consistency: tokens', () => {
  let server: TenantServer;
  let call: ReturnType<typeof graphCaller>;
  const TOKEN_LAG_S = 60;
  /** Graph writes replicate at once here; only the token endpoint lags. */
  const SETTINGS: ConsistencyOptions = { lagMs: { min: 0, max: 0 }, tokenLagMs: { min: TOKEN_LAG_S * 1000, max: TOKEN_LAG_S * 1000 } };

  before(async () => {
    server = await startTestTenant({ consistency: SETTINGS, seed: { app: { roles: ROLES } } });
    call = graphCaller(server.connection);
  });
  after(async () => {
    await server.close();
  });

  const tokenRequest = async (clientId: string, clientSecret: string): Promise<{ status: number; json: Body }> => {
    const response = await fetch(server.connection.tokenEndpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: GRAPH_SCOPE }).toString(),
    });
    return { status: response.status, json: await response.json() };
  };
  const aadsts = (reply: { json: Body }): number => (reply.json.error_codes as number[])[0] ?? 0;
  const roles = (token: string): string[] => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')).roles ?? [];
  const pass = (): void => server.state.advanceClock(TOKEN_LAG_S + 1);

  it('a new application, service principal, secret and app role assignment reach the token endpoint only after their lag', async () => {
    const app = await call('POST', '/applications', { displayName: unique('Lagging app ') });
    assert.equal(app.status, 201, app.text);
    const secret = await call('POST', `/applications/${app.json.id}/addPassword`, { passwordCredential: { displayName: 's1' } });
    const appId = app.json.appId as string;
    const unknown = await tokenRequest(appId, secret.json.secretText);
    assert.equal(unknown.status, 400);
    assert.equal(aadsts(unknown), 700016);
    assert.match(unknown.json.error_description, new RegExp(`^AADSTS700016: Application with identifier '${appId}' was not found in the directory`));
    pass();
    const sp = await call('POST', '/servicePrincipals', { appId });
    assert.equal(sp.status, 201, sp.text);
    assert.equal(aadsts(await tokenRequest(appId, secret.json.secretText)), 7000229);
    pass();
    const noRoles = await tokenRequest(appId, secret.json.secretText);
    assert.equal(noRoles.status, 200);
    assert.deepEqual(roles(noRoles.json.access_token), []);

    const graphSp = await call('GET', `/servicePrincipals?$filter=appId eq '${GRAPH_APP_ID}'`);
    const graph = graphSp.json.value[0] as { id: string; appRoles: { id: string; value: string }[] };
    const roleId = (value: string): string => graph.appRoles.find((r) => r.value === value)?.id ?? '';
    const grant = async (value: string): Promise<string> => {
      const reply = await call('POST', `/servicePrincipals/${graph.id}/appRoleAssignedTo`, { principalId: sp.json.id, resourceId: graph.id, appRoleId: roleId(value) });
      assert.equal(reply.status, 201, reply.text);
      return reply.json.id;
    };
    const asApp = async (path: string): Promise<Reply> => {
      const token = (await tokenRequest(appId, secret.json.secretText)).json.access_token as string;
      const response = await fetch(`${server.connection.graphBaseUrl}v1.0${path}`, { headers: { Authorization: `Bearer ${token}` } });
      const text = await response.text();
      return { status: response.status, json: JSON.parse(text), text, headers: response.headers };
    };
    await grant('User.Read.All');
    assert.deepEqual(roles((await tokenRequest(appId, secret.json.secretText)).json.access_token), []);
    pass();
    assert.deepEqual(roles((await tokenRequest(appId, secret.json.secretText)).json.access_token), ['User.Read.All']);
    assert.equal((await asApp('/users')).status, 200);

    const groupRead = await grant('Group.Read.All');
    const denied = await asApp('/groups');
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error.code, 'Authorization_RequestDenied');
    assert.equal(denied.json.error.message, 'Insufficient privileges to complete the operation.');
    pass();
    assert.equal((await asApp('/groups')).status, 200);
    const revoked = await call('DELETE', `/servicePrincipals/${graph.id}/appRoleAssignedTo/${groupRead}`);
    assert.equal(revoked.status, 204);
    assert.equal((await asApp('/groups')).status, 200, 'tokens keep a removed role until the removal reaches the token endpoint');
    pass();
    assert.equal((await asApp('/groups')).status, 403);

    const second = await call('POST', `/applications/${app.json.id}/addPassword`, { passwordCredential: { displayName: 's2' } });
    const refused = await tokenRequest(appId, second.json.secretText);
    assert.equal(refused.status, 401);
    assert.equal(aadsts(refused), 7000215);
    assert.equal((await tokenRequest(appId, secret.json.secretText)).status, 200, 'the older secret still works');
    pass();
    assert.equal((await tokenRequest(appId, second.json.secretText)).status, 200);
    assert.deepEqual(server.state.pendingReplication().tokens, []);
  });

  it('a new certificate credential is refused until its lag has passed', async () => {
    const c = server.connection;
    const pems = await generate([{ name: 'commonName', value: 'dirsync-lag-cert' }], { keySize: 2048, algorithm: 'sha256' });
    const der = new X509Certificate(pems.cert).raw;
    const app = await call('GET', `/applications(appId='${c.clientId}')?$select=id`);
    const patched = await call('PATCH', `/applications/${app.json.id}`, { keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify', key: der.toString('base64') }] });
    assert.equal(patched.status, 204, patched.text);
    const client = (): ConfidentialClientApplication => new ConfidentialClientApplication({
      auth: { clientId: c.clientId, clientCertificate: { thumbprintSha256: createHash('sha256').update(der).digest('hex'), privateKey: pems.private }, ...msalAuth(c) },
    });
    const error = await client().acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE], skipCache: true }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof ServerError, String(error));
    assert.match(error.errorMessage.replace(/^.*?Description: /s, ''), /^AADSTS700027: /);
    assert.ok(server.state.pendingReplication().tokens.some((t) => t.key.startsWith('key:')));
    pass();
    assert.ok((await client().acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE], skipCache: true }))?.accessToken);
  });
});

describe('tenant eventual consistency: real time', () => {
  it('makes a change visible once its lag has passed on the tenant clock, without advancing it', async () => {
    const server = await startTestTenant({ consistency: { lagMs: { min: 1_500, max: 2_000 }, seed: 3 } });
    try {
      const call = graphCaller(server.connection);
      const started = Date.now();
      const created = await call('POST', '/users', userBody(unique('rt')));
      assert.equal(created.status, 201);
      assert.equal((await call('GET', `/users/${created.json.id}`)).status, 404);
      let status = 404;
      while (status === 404 && Date.now() - started < 5_000) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await call('GET', `/users/${created.json.id}`)).status;
      }
      const elapsed = Date.now() - started;
      assert.equal(status, 200);
      assert.ok(elapsed >= 1_500, `visible after ${elapsed} ms, before the minimum lag`);
    } finally {
      await server.close();
    }
  });
});

describe('tenant eventual consistency: off by default, settings and their validation', () => {
  let server: TenantServer;
  let call: ReturnType<typeof graphCaller>;
  before(async () => {
    server = await startTestTenant();
    call = graphCaller(server.connection);
  });
  after(async () => {
    await server.close();
  });

  it('is off unless configured: every write is visible to the next request', async () => {
    assert.deepEqual(server.state.consistency(), { enabled: false });
    assert.equal(server.state.tenant.store.replication, undefined);
    assert.deepEqual((await labControl(server.connection, 'GET', '/consistency')).json, { enabled: false });
    const created = await call('POST', '/users', userBody(unique('off')));
    assert.equal((await call('GET', `/users/${created.json.id}`)).status, 200);
    const group = await call('POST', '/groups', groupBody(unique('offg'), { 'members@odata.bind': [ref(created.json.id)] }));
    assert.equal(group.status, 201, group.text);
    assert.deepEqual(ids(await call('GET', `/groups/${group.json.id}/members`)), [created.json.id]);
    assert.deepEqual(server.state.pendingReplication(), { changes: [], tokens: [] });
  });

  it('validates PUT /_lab/consistency with a clear 400', async () => {
    const c = server.connection;
    const put = (body: unknown): Promise<{ status: number; json: Body }> => labControl(c, 'PUT', '/consistency', body);
    const cases: [unknown, string][] = [
      [{}, 'lagMs is required: { "min": <ms>, "max": <ms> } (or { "enabled": false } to turn the mode off).'],
      [[], 'Body must be a JSON object.'],
      [{ lagMs: { min: 5, max: 1 } }, 'lagMs must be { "min": <ms>, "max": <ms> } with 0 <= min <= max <= 3600000.'],
      [{ lagMs: '200-400' }, 'lagMs must be { "min": <ms>, "max": <ms> } with 0 <= min <= max <= 3600000.'],
      [{ lagMs: { min: -1, max: 1 } }, 'lagMs must be { "min": <ms>, "max": <ms> } with 0 <= min <= max <= 3600000.'],
      [{ lagMs: { min: 0, max: 3_600_001 } }, 'lagMs must be { "min": <ms>, "max": <ms> } with 0 <= min <= max <= 3600000.'],
      [{ lagMs: { min: 0, max: 1, mean: 1 } }, 'lagMs must be { "min": <ms>, "max": <ms> } with 0 <= min <= max <= 3600000.'],
      [{ lagMs: { min: 0, max: 1 }, staleReadRatio: 1.5 }, 'staleReadRatio must be a number from 0 to 1.'],
      [{ lagMs: { min: 0, max: 1 }, seed: 1.5 }, 'seed must be an integer.'],
      [{ lagMs: { min: 0, max: 1 }, tokenLagMs: { min: 2 } }, 'tokenLagMs must be { "min": <ms>, "max": <ms> } with 0 <= min <= max <= 3600000.'],
      [{ lagMs: { min: 0, max: 1 }, lag: 3 }, "Unknown property 'lag'. Allowed: enabled, lagMs, seed, staleReadRatio, tokenLagMs."],
      [{ enabled: 'no' }, 'enabled must be true or false.'],
    ];
    for (const [body, message] of cases) {
      const reply = await put(body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.deepEqual(reply.json, { error: { code: 'BadRequest', message } }, JSON.stringify(body));
    }
    const raw = await fetch(`${c.labControlUrl}/consistency`, { method: 'PUT', headers: { Authorization: `Bearer ${c.labControlKey}` }, body: '{' });
    assert.equal(raw.status, 400);
    assert.equal((await fetch(`${c.labControlUrl}/consistency`)).status, 401);
    assert.deepEqual(server.state.consistency(), { enabled: false }, 'a refused PUT changes nothing');

    const on = await put({ lagMs: { min: 10, max: 20 }, staleReadRatio: 0.25, seed: 7, tokenLagMs: { min: 1, max: 2 } });
    assert.equal(on.status, 200);
    const expected = { enabled: true, lagMs: { min: 10, max: 20 }, seed: 7, staleReadRatio: 0.25, tokenLagMs: { min: 1, max: 2 } };
    assert.deepEqual(on.json, expected);
    assert.deepEqual((await labControl(c, 'GET', '/consistency')).json, expected);
    assert.deepEqual(server.state.consistency(), expected);
    const off = await put({ enabled: false });
    assert.deepEqual([off.status, off.json], [200, { enabled: false }]);
    assert.equal(server.state.tenant.store.replication, undefined);

    assert.throws(() => server.state.setConsistency({ lagMs: { min: 3, max: 2 } }), /^Error: Invalid consistency settings: lagMs must be/);
    await assert.rejects(startTenantServer({ consistency: { lagMs: { min: 0, max: 1 }, staleReadRatio: -1 } }), /staleReadRatio must be a number from 0 to 1/);
  });

  it('reads the daemon settings from DIRSYNC_LAB_LAG_MS (and DIRSYNC_LAB_TOKEN_LAG_MS, DIRSYNC_LAB_LAG_SEED)', () => {
    assert.equal(consistencyFromEnv({}), undefined);
    assert.deepEqual(consistencyFromEnv({ DIRSYNC_LAB_LAG_MS: '200-400' }), { lagMs: { min: 200, max: 400 } });
    assert.deepEqual(consistencyFromEnv({ DIRSYNC_LAB_LAG_MS: ' 300 ', DIRSYNC_LAB_TOKEN_LAG_MS: '1000-2000', DIRSYNC_LAB_LAG_SEED: '9' }),
      { lagMs: { min: 300, max: 300 }, tokenLagMs: { min: 1000, max: 2000 }, seed: 9 });
    assert.throws(() => consistencyFromEnv({ DIRSYNC_LAB_LAG_MS: '400-200' }), /^Error: DIRSYNC_LAB_LAG_MS must be <min>-<max> in milliseconds \(0 <= min <= max <= 3600000\), e\.g\. 200-400\. Got '400-200'\.$/);
    assert.throws(() => consistencyFromEnv({ DIRSYNC_LAB_LAG_MS: 'fast' }), /DIRSYNC_LAB_LAG_MS must be <min>-<max> in milliseconds/);
    assert.throws(() => consistencyFromEnv({ DIRSYNC_LAB_LAG_MS: '1', DIRSYNC_LAB_LAG_SEED: 'x' }), /DIRSYNC_LAB_LAG_SEED must be a non-negative integer/);
  });

  it('the lab daemon starts in the mode with DIRSYNC_LAB_LAG_MS', async () => {
    assertLabCaTrusted();
    const labDir = mkdtempSync(join(tmpdir(), 'dirsync-tenant-lag-'));
    const previous = process.env['DIRSYNC_LAB_LAG_MS'];
    process.env['DIRSYNC_LAB_LAG_MS'] = '250-500';
    try {
      const connection = await startTenantDaemon({ labDir });
      const state = await labControl(connection, 'GET', '/consistency');
      assert.deepEqual(state.json, { enabled: true, lagMs: { min: 250, max: 500 }, seed: 1, staleReadRatio: 1 });
    } finally {
      if (previous === undefined) delete process.env['DIRSYNC_LAB_LAG_MS'];
      else process.env['DIRSYNC_LAB_LAG_MS'] = previous;
      await stopTenantDaemon({ labDir });
      rmSync(labDir, { recursive: true, force: true });
    }
  });
});

describe('group uniqueName and upsert', () => {
  let server: TenantServer;
  let call: ReturnType<typeof graphCaller>;
  before(async () => {
    server = await startTestTenant();
    call = graphCaller(server.connection);
  });
  after(async () => {
    await server.close();
  });

  it('is set on create, $select-only, unique, filterable and immutable', async () => {
    const name = unique('ops-');
    const created = await call('POST', '/groups', groupBody(unique('un'), { uniqueName: name }));
    assert.equal(created.status, 201, created.text);
    assert.ok(!('uniqueName' in created.json), 'not in the default property set');
    const selected = await call('GET', `/groups/${created.json.id}?$select=id,uniqueName`);
    assert.equal(selected.json.uniqueName, name);
    const plain = await call('POST', '/groups', groupBody(unique('un')));
    assert.equal((await call('GET', `/groups/${plain.json.id}?$select=uniqueName`)).json.uniqueName, null);

    const dup = await call('POST', '/groups', groupBody(unique('un'), { uniqueName: name.toUpperCase() }));
    assertBadRequest(dup, 'Another object with the same value for property uniqueName already exists.');
    assert.deepEqual(dup.json.error.details.map((d: Body) => [d.code, d.target, d.message]),
      [['ObjectConflict', 'uniqueName', 'Another object with the same value for property uniqueName already exists.']]);
    for (const bad of ['', 'x'.repeat(257), 42]) {
      assertBadRequest(await call('POST', '/groups', groupBody(unique('un'), { uniqueName: bad })), "Invalid value specified for property 'uniqueName' of resource 'Group'.");
    }

    assert.deepEqual(ids(await call('GET', `/groups?$filter=uniqueName eq '${name}'`)), [created.json.id]);
    assert.deepEqual(ids(await call('GET', `/groups?$filter=uniqueName eq '${name}x'`)), []);
    assertBadRequest(await call('PATCH', `/groups/${created.json.id}`, { uniqueName: `${name}-renamed` }), "Property 'uniqueName' is read-only and cannot be set.");
    assertBadRequest(await call('PATCH', `/groups/${plain.json.id}`, { uniqueName: unique('late') }), "Property 'uniqueName' is read-only and cannot be set.");
    assertBadRequest(await call('PATCH', `/groups/${plain.json.id}`, { uniqueName: '' }), "Property 'uniqueName' is read-only and cannot be set.");
    assert.equal((await call('PATCH', `/groups/${created.json.id}`, { uniqueName: name, description: 'same name is fine' })).status, 204);
  });

  it('addresses a group by its alternate key: GET, PATCH, DELETE /groups(uniqueName=\'…\')', async () => {
    const name = unique("o'key-");
    const created = await call('POST', '/groups', groupBody(unique('ak'), { uniqueName: name }));
    const key = `/groups(uniqueName='${encodeURIComponent(name.replaceAll("'", "''"))}')`;
    assert.equal((await call('GET', key)).json.id, created.json.id);
    assert.equal((await call('GET', `/groups/(uniqueName='${encodeURIComponent(name.replaceAll("'", "''"))}')`)).json.id, created.json.id);
    assert.equal((await call('PATCH', key, { description: 'by key' })).status, 204);
    assert.equal((await call('GET', `${key}?$select=description`)).json.description, 'by key');
    assert.equal((await call('GET', `${key}/members`)).status, 200);
    assert.equal((await call('DELETE', key)).status, 204);
    assertNotFound(await call('GET', key), name);
    const missing = unique('nothing-');
    assertNotFound(await call('GET', `/groups(uniqueName='${missing}')`), missing);
  });

  it('upserts with Prefer: create-if-missing: 201 with the group, then 204; without the header a missing group is 404', async () => {
    const name = unique('ups-');
    const key = `/groups(uniqueName='${name}')`;
    assertNotFound(await call('PATCH', key, groupBody(unique('u'))), name);
    const created = await call('PATCH', key, groupBody(unique('u'), { description: 'first' }), { Prefer: 'create-if-missing' });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.description, 'first');
    assert.equal(created.json['@odata.context'], `${server.connection.graphBaseUrl}v1.0/$metadata#groups/$entity`);
    assert.match(created.headers.get('location') ?? '', new RegExp(`/directoryObjects/${created.json.id}/`));
    const updated = await call('PATCH', key, { description: 'second', uniqueName: name }, { Prefer: 'create-if-missing' });
    assert.equal(updated.status, 204, updated.text);
    assert.equal(updated.text, '');
    const read = await call('GET', `${key}?$select=id,description,uniqueName`);
    assert.deepEqual([read.json.id, read.json.description, read.json.uniqueName], [created.json.id, 'second', name]);

    const invalid = await call('PATCH', `/groups(uniqueName='${unique('ups-')}')`, { displayName: 'x', mailEnabled: false, mailNickname: unique('x') }, { Prefer: 'create-if-missing' });
    assertBadRequest(invalid, "A value is required for property 'securityEnabled' of resource 'Group'.");
    const mismatch = await call('PATCH', `/groups(uniqueName='${unique('ups-')}')`, groupBody(unique('u'), { uniqueName: 'another' }), { Prefer: 'create-if-missing' });
    assertBadRequest(mismatch, 'The uniqueName in the request body does not match the uniqueName of the request URL.');
  });

  it('upserts inside $batch (per-item Prefer header)', async () => {
    const name = unique('batch-');
    const item = (id: string, body: Record<string, unknown>, dependsOn?: string[]): Record<string, unknown> => ({
      id, method: 'PATCH', url: `/groups(uniqueName='${name}')`, headers: { 'Content-Type': 'application/json', Prefer: 'create-if-missing' }, body,
      ...(dependsOn ? { dependsOn } : {}),
    });
    const batch = await call('POST', '/$batch', { requests: [item('1', groupBody(unique('b'))), item('2', { description: 'from item 2' }, ['1'])] });
    assert.equal(batch.status, 200, batch.text);
    const byId = new Map((batch.json.responses as Body[]).map((r) => [r.id, r]));
    assert.equal(byId.get('1').status, 201);
    assert.equal(byId.get('2').status, 204);
    const again = await call('POST', '/$batch', { requests: [item('a', { description: 'again' })] });
    assert.equal(again.json.responses[0].status, 204);
    const read = await call('GET', `/groups(uniqueName='${name}')?$select=id,description`);
    assert.deepEqual([read.json.id, read.json.description], [byId.get('1').body.id, 'again']);
  });
});
