/**
 * The tool that synchronized a tenant before Directory Sync, and the tenant-wide switch that ends it
 * (lab/tenant/old-sync.ts, graph-reference.md §9.2): the old server's last sync time, who may turn directory
 * synchronization off, the asynchronous conversion of synchronized objects and what it keeps. Time is the
 * tenant's clock, advanced through the lab control API, so nothing depends on the machine's speed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TenantConnection } from '../connection.ts';
import { DIRSYNC_SWITCH_PERMISSION, GRAPH_CLI_APP_ID, syncAccountOf, type TenantServer } from '../tenant/index.ts';
import type { SeedUser, TenantSeed } from '../tenant/seed.ts';
import { appToken, confidentialClient, labControl, publicClient, startTestTenant } from './support/tenant.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Graph JSON bodies, asserted field by field
type Body = any;
type Reply = { status: number; json: Body };

const SYNCED = 12;

function syncedUser(i: number): SeedUser {
  return {
    userPrincipalName: `synced${i}@contoso.com`, displayName: `Synced ${i}`,
    props: {
      mailNickname: `synced${i}`, onPremisesSyncEnabled: true, onPremisesImmutableId: Buffer.from(`anchor-${i}-0123456`).toString('base64'),
      onPremisesSecurityIdentifier: `S-1-5-21-1-2-3-${1100 + i}`, onPremisesSamAccountName: `synced${i}`, onPremisesDomainName: 'contoso.test',
    },
  };
}

function seed(): TenantSeed {
  return {
    users: [...Array.from({ length: SYNCED - 2 }, (_, i) => syncedUser(i)), syncAccountOf('entra-connect', 'SYNC01', 'contoso.onmicrosoft.com')],
    groups: [0, 1].map((i) => ({ displayName: `Synced group ${i}`, mailNickname: `syncedgroup${i}`, members: ['synced0@contoso.com'],
      props: { onPremisesSyncEnabled: true, onPremisesSecurityIdentifier: `S-1-5-21-1-2-3-${1200 + i}` } })),
    organization: { onPremisesSyncEnabled: true, onPremisesLastSyncDateTime: '2026-12-01T00:00:00Z' },
  };
}

async function call(connection: TenantConnection, token: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const response = await fetch(`${connection.graphBaseUrl}v1.0${path}`, {
    method, headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

/** A delegated token of the Global Administrator for these scopes (device code, approved through the lab). */
async function adminToken(server: TenantServer, scopes: ReadonlyArray<string>): Promise<string> {
  const c = server.connection;
  const approvals: Promise<unknown>[] = [];
  const result = await publicClient(c, GRAPH_CLI_APP_ID).acquireTokenByDeviceCode({
    scopes: scopes.map((s) => `https://graph.microsoft.com/${s}`),
    deviceCodeCallback: (response) => {
      approvals.push(labControl(c, 'POST', '/device/approve', { user_code: response.userCode, upn: c.globalAdminUpn, password: server.state.globalAdminPassword }));
    },
  });
  await Promise.all(approvals);
  assert.ok(result);
  return result.accessToken;
}

async function advance(connection: TenantConnection, seconds: number): Promise<void> {
  assert.equal((await labControl(connection, 'POST', '/clock', { advanceSeconds: seconds })).status, 200);
}

async function oldSync(connection: TenantConnection, settings?: Record<string, unknown>): Promise<Body> {
  const reply = await labControl(connection, settings ? 'PUT' : 'GET', '/old-sync', settings);
  assert.equal(reply.status, 200, JSON.stringify(reply.json));
  return reply.json;
}

describe('the old sync tool and the tenant switch', () => {
  let server: TenantServer;
  let c: TenantConnection;
  let app: string;

  before(async () => {
    server = await startTestTenant({ seed: seed() });
    c = server.connection;
    app = await appToken(c, confidentialClient(c));
  });

  after(async () => {
    await server.close();
  });

  async function org(): Promise<Body> {
    return (await call(c, app, 'GET', '/organization?$select=id,onPremisesSyncEnabled,onPremisesLastSyncDateTime')).json.value[0];
  }

  async function syncedCount(): Promise<number> {
    const users = await call(c, app, 'GET', '/users?$filter=onPremisesSyncEnabled eq true&$count=true&$top=1', undefined);
    return (users.json.value as unknown[]).length === 0 ? 0 : Number(users.json['@odata.count'] ?? NaN);
  }

  it('moves the last sync time at the end of each cycle while the old server runs, and keeps it once stopped', async () => {
    const started = await oldSync(c, { running: true, cycleMs: 60_000 });
    assert.equal(started.running, true);
    const first = Date.parse((await org()).onPremisesLastSyncDateTime);
    await advance(c, 30);
    assert.equal(Date.parse((await org()).onPremisesLastSyncDateTime), first, 'half a cycle: the last sync time stays');
    await advance(c, 35);
    const second = Date.parse((await org()).onPremisesLastSyncDateTime);
    assert.equal(second - first, 60_000, 'one cycle later it moved by one cycle');
    await oldSync(c, { running: false });
    await advance(c, 300);
    assert.equal(Date.parse((await org()).onPremisesLastSyncDateTime), second, 'stopped: it stays');
    await oldSync(c, { running: true });
  });

  it('refuses the switch to an application holding only Organization.ReadWrite.All, and to an administrator without the scope', async () => {
    const byApp = await call(c, app, 'PATCH', `/organization/${c.tenantId}`, { OnPremisesSyncEnabled: false });
    assert.equal(byApp.status, 403);
    assert.equal(byApp.json.error.code, 'Authorization_RequestDenied');
    const withoutScope = await adminToken(server, ['Organization.ReadWrite.All']);
    const byAdmin = await call(c, withoutScope, 'PATCH', `/organization/${c.tenantId}`, { OnPremisesSyncEnabled: false });
    assert.equal(byAdmin.status, 403);
    assert.equal((await org()).onPremisesSyncEnabled, true);
    // The application's own organization writes (its open extension, notification mails) stay allowed.
    assert.equal((await call(c, app, 'PATCH', `/organization/${c.tenantId}`, { technicalNotificationMails: ['it@contoso.com'] })).status, 204);
  });

  it('turns synchronization off at once for the tenant and converts its objects at the configured pace, keeping their identifiers', async () => {
    await oldSync(c, { conversionPerSecond: 3 });
    const before = await call(c, app, 'GET', '/users/synced0@contoso.com?$select=id,onPremisesImmutableId,onPremisesSecurityIdentifier');
    const refused = await call(c, app, 'PATCH', '/users/synced0@contoso.com', { jobTitle: 'Engineer' });
    assert.equal(refused.status, 400, 'a synchronized object is read-only before the switch');
    const lastSync = (await org()).onPremisesLastSyncDateTime;
    const admin = await adminToken(server, [DIRSYNC_SWITCH_PERMISSION]);
    assert.equal((await call(c, admin, 'PATCH', `/organization/${c.tenantId}`, { OnPremisesSyncEnabled: false })).status, 204);
    assert.equal((await org()).onPremisesSyncEnabled, false, 'the tenant says it at once');
    const state = await oldSync(c);
    assert.equal(state.converting, true);
    assert.equal(state.remaining, SYNCED, 'every synchronized user and group is still to convert');
    assert.equal((await call(c, admin, 'PATCH', `/organization/${c.tenantId}`, { OnPremisesSyncEnabled: true })).status, 400, 'it cannot be cancelled');

    await advance(c, 2);
    assert.equal((await oldSync(c)).remaining, SYNCED - 6, 'three objects a second');
    await advance(c, 120);
    assert.equal(Date.parse((await org()).onPremisesLastSyncDateTime), Date.parse(lastSync), 'the old server no longer synchronizes, running or not');
    const done = await oldSync(c);
    assert.equal(done.remaining, 0);
    assert.equal(done.converting, false);
    assert.equal(await syncedCount(), 0);
    const after = await call(c, app, 'GET', '/users/synced0@contoso.com?$select=id,onPremisesImmutableId,onPremisesSecurityIdentifier,onPremisesSyncEnabled');
    assert.deepEqual({ ...after.json, '@odata.context': undefined }, { ...before.json, '@odata.context': undefined, onPremisesSyncEnabled: false },
      'the same object, with its immutable id and SID, no longer synchronized');
    assert.equal((await call(c, app, 'PATCH', '/users/synced0@contoso.com', { jobTitle: 'Engineer' })).status, 204, 'writable once converted');
    const group = await call(c, app, 'GET', "/groups?$filter=displayName eq 'Synced group 0'&$select=id,onPremisesSyncEnabled,onPremisesSecurityIdentifier");
    assert.deepEqual(group.json.value.map((g: Body) => [g.onPremisesSyncEnabled, g.onPremisesSecurityIdentifier]), [[false, 'S-1-5-21-1-2-3-1200']]);
    assert.equal((await call(c, admin, 'PATCH', `/organization/${c.tenantId}`, { OnPremisesSyncEnabled: true })).status, 204,
      'turned back on after the conversion (going back to Entra Connect)');
    assert.equal((await org()).onPremisesSyncEnabled, true);
  });

  it('names the old tool by its cloud sync account', () => {
    assert.match(syncAccountOf('entra-connect', 'SYNC01', 'contoso.onmicrosoft.com').userPrincipalName, /^Sync_SYNC01_[0-9a-f]{12}@contoso\.onmicrosoft\.com$/);
    assert.equal(syncAccountOf('cloud-sync', 'SYNC01', 'contoso.onmicrosoft.com').userPrincipalName, 'ADToAADSyncServiceAccount@contoso.onmicrosoft.com');
    assert.deepEqual(syncAccountOf('dirsync', 'OLDDC', 'x.onmicrosoft.com').roles, ['Directory Synchronization Accounts']);
  });
});
