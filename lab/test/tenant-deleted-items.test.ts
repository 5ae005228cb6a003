/**
 * The recycle bin (graph-reference.md §2.7, §3.4): cast required, get, restore (200), permanent delete,
 * 30-day retention on the emulator clock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { TenantServer } from '../tenant/index.ts';
import { STRONG_PASSWORD, appGraphClient, graphError, labControl, startTestTenant, unique } from './support/tenant.ts';

type Obj = Record<string, unknown> & { id: string };

describe('tenant deleted items', () => {
  let server: TenantServer;
  let client: Client;
  const createUser = async (alias = unique('d')): Promise<Obj> => client.api('/users').post({
    accountEnabled: true, displayName: `Deleted ${alias}`, mailNickname: alias, userPrincipalName: `${alias}@contoso.com`, passwordProfile: { password: STRONG_PASSWORD },
  }) as Promise<Obj>;

  before(async () => {
    server = await startTestTenant();
    client = appGraphClient(server.connection);
  });
  after(async () => {
    await server.close();
  });

  it('requires the OData cast to list deleted items', async () => {
    const error = await graphError(client.api('/directory/deletedItems').get());
    assert.equal(error.statusCode, 400);
    assert.equal(error.code, 'Request_BadRequest');
    assert.match(error.message, /without a type is not supported/);
  });

  it('lists and gets soft-deleted users with deletedDateTime and the mangled UPN', async () => {
    const alias = unique('list');
    const user = await createUser(alias);
    await client.api(`/users/${user.id}`).delete();
    const list = await client.api('/directory/deletedItems/microsoft.graph.user').select('id,displayName,userPrincipalName,deletedDateTime').get() as { value: Obj[]; '@odata.context': string };
    assert.match(list['@odata.context'], /\$metadata#directory\/deletedItems\/microsoft\.graph\.user/);
    const entry = list.value.find((u) => u.id === user.id);
    assert.ok(entry);
    assert.equal(entry['@odata.type'], '#microsoft.graph.user');
    assert.equal(entry['userPrincipalName'], `${user.id.replaceAll('-', '')}${alias}@contoso.com`);
    assert.match(String(entry['deletedDateTime']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const one = await client.api(`/directory/deletedItems/${user.id}`).get() as Obj;
    assert.equal(one.id, user.id);
    assert.equal(one['@odata.type'], '#microsoft.graph.user');
    const filtered = await client.api('/directory/deletedItems/microsoft.graph.user').filter(`startsWith(displayName,'Deleted ${alias}')`).get() as { value: Obj[] };
    assert.deepEqual(filtered.value.map((u) => u.id), [user.id]);
  });

  it('restores a user (200) with the same id, UPN and group memberships', async () => {
    const alias = unique('restore');
    const user = await createUser(alias);
    const group = await client.api('/groups').post({ displayName: 'G', mailEnabled: false, mailNickname: unique('g'), securityEnabled: true, 'members@odata.bind': [`https://graph.microsoft.com/v1.0/directoryObjects/${user.id}`] }) as Obj;
    await client.api(`/users/${user.id}`).delete();
    const during = await client.api(`/groups/${group.id}/members`).get() as { value: Obj[] };
    assert.equal(during.value.length, 0, 'a soft-deleted user is not listed as a member');
    const restored = await client.api(`/directory/deletedItems/${user.id}/restore`).post(undefined) as Obj;
    assert.equal(restored.id, user.id);
    assert.equal(restored['@odata.type'], '#microsoft.graph.user');
    assert.equal(restored['userPrincipalName'], `${alias}@contoso.com`);
    const back = await client.api(`/users/${alias}@contoso.com`).get() as Obj;
    assert.equal(back.id, user.id);
    const members = await client.api(`/groups/${group.id}/members`).get() as { value: Obj[] };
    assert.deepEqual(members.value.map((m) => m.id), [user.id]);
  });

  it('refuses a restore whose UPN was taken meanwhile', async () => {
    const alias = unique('taken');
    const user = await createUser(alias);
    await client.api(`/users/${user.id}`).delete();
    await createUser(alias);
    const error = await graphError(client.api(`/directory/deletedItems/${user.id}/restore`).post(undefined));
    assert.equal(error.statusCode, 400);
    assert.equal(error.message, 'Another object with the same value for property userPrincipalName already exists.');
  });

  it('permanently deletes (204) and purges after 30 days on the emulator clock', async () => {
    const a = await createUser();
    const b = await createUser();
    await client.api(`/users/${a.id}`).delete();
    await client.api(`/users/${b.id}`).delete();
    assert.equal(await client.api(`/directory/deletedItems/${a.id}`).delete(), undefined);
    assert.equal((await graphError(client.api(`/directory/deletedItems/${a.id}`).get())).statusCode, 404);
    await client.api(`/directory/deletedItems/${b.id}`).get();
    const clock = await labControl(server.connection, 'POST', '/clock', { advanceSeconds: 31 * 24 * 3600 });
    assert.equal(clock.status, 200);
    // A month on, the token msal cached is long expired at the tenant: sign in anew.
    client = appGraphClient(server.connection);
    const purged = await graphError(client.api(`/directory/deletedItems/${b.id}`).get());
    assert.equal(purged.statusCode, 404);
  });

  it('restores a Microsoft 365 group', async () => {
    const team = await client.api('/groups').post({ displayName: 'Team', groupTypes: ['Unified'], mailEnabled: true, mailNickname: unique('team'), securityEnabled: false }) as Obj;
    await client.api(`/groups/${team.id}`).delete();
    const groups = await client.api('/directory/deletedItems/microsoft.graph.group').get() as { value: Obj[] };
    assert.ok(groups.value.some((g) => g.id === team.id));
    await client.api(`/directory/deletedItems/${team.id}/restore`).post(undefined);
    const back = await client.api(`/groups/${team.id}`).get() as Obj;
    assert.equal(back['deletedDateTime'], null);
  });
});
