/**
 * Directory extension values are readable by any app that may read the object, whichever application defines the
 * extension property; `$select` of an extension property no application defines is ignored (the property is
 * omitted). A delegated administrator (device code sign-in) finds applications by display name and reads their
 * extension properties. (graph-reference.md §9; the unknown-extension behaviour is the emulator's choice, see the
 * README.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { TenantServer } from '../tenant/index.ts';
import { GRAPH_APP_ID } from '../tenant/tenant.ts';
import {
  appGraphClient, appToken, confidentialClient, graphClient, labControl, publicClient, startTestTenant,
} from './support/tenant.ts';

type Obj = Record<string, unknown> & { id: string };
type Page = { value: Obj[] };

const NOBODY_S_EXTENSION = `extension_${'0123456789abcdef'.repeat(2)}_sourceAnchor`;

/** The administrator's delegated token through msal-node's device code flow, approved through the lab control API. */
async function adminGraph(server: TenantServer, scopes: ReadonlyArray<string>): Promise<Client> {
  const c = server.connection;
  const approvals: Promise<unknown>[] = [];
  const result = await publicClient(c).acquireTokenByDeviceCode({
    scopes: scopes.map((s) => `https://graph.microsoft.com/${s}`),
    deviceCodeCallback: (response) => {
      approvals.push(labControl(c, 'POST', '/device/approve', { user_code: response.userCode, upn: c.globalAdminUpn, password: server.state.globalAdminPassword }));
    },
  });
  await Promise.all(approvals);
  assert.ok(result?.accessToken);
  return graphClient(c, async () => result.accessToken);
}

describe('directory extension values across applications, and applications seen by a delegated administrator', () => {
  let server: TenantServer;
  let engine: Client;
  let admin: Client;
  let other: Client;
  let otherAnchor: string;
  let engineAnchor: string;
  let engineAppObjectId: string;
  let otherAppObjectId: string;
  let userId: string;
  let groupId: string;

  before(async () => {
    server = await startTestTenant();
    const c = server.connection;
    engine = appGraphClient(c);
    admin = await adminGraph(server, ['Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All']);
    engineAppObjectId = (await engine.api(`/applications(appId='${c.clientId}')`).get() as Obj).id;
    // Another registration (think: Entra Connect's "Tenant Schema Extension App"), with its own credentials and permissions.
    const app = await engine.api('/applications').post({ displayName: 'Contoso Other Sync' }) as Obj & { appId: string };
    otherAppObjectId = app.id;
    const secret = await engine.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'test' } }) as { secretText: string };
    const sp = await engine.api('/servicePrincipals').post({ appId: app.appId }) as Obj;
    const graphSp = (await admin.api('/servicePrincipals').filter(`appId eq '${GRAPH_APP_ID}'`).get() as { value: (Obj & { appRoles: { id: string; value: string }[] })[] }).value[0];
    assert.ok(graphSp);
    for (const value of ['User.ReadWrite.All', 'Group.ReadWrite.All']) {
      const appRoleId = graphSp.appRoles.find((r) => r.value === value)?.id;
      await admin.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post({ principalId: sp.id, resourceId: graphSp.id, appRoleId });
    }
    const otherDef = await admin.api(`/applications/${app.id}/extensionProperties`).post({ name: 'sourceAnchor', dataType: 'String', targetObjects: ['User', 'Group'] }) as Obj;
    otherAnchor = String(otherDef['name']);
    const engineDef = await engine.api(`/applications/${engineAppObjectId}/extensionProperties`).post({ name: 'sourceAnchor', dataType: 'String', targetObjects: ['User', 'Group'] }) as Obj;
    engineAnchor = String(engineDef['name']);
    const otherCca = confidentialClient(c, { clientId: app.appId, clientSecret: secret.secretText });
    other = graphClient(c, () => appToken(c, otherCca));
    userId = (await engine.api('/users/megan.bowen@contoso.com').get() as Obj).id;
    groupId = ((await engine.api('/groups').filter("mailNickname eq 'cloudappadmins'").get() as Page).value[0] as Obj).id;
    await other.api(`/users/${userId}`).patch({ [otherAnchor]: 'user-anchor-1' });
    await other.api(`/groups/${groupId}`).patch({ [otherAnchor]: 'group-anchor-1' });
  });
  after(async () => {
    await server?.close();
  });

  it('two applications define extension properties with distinct names', () => {
    assert.equal(otherAnchor.toLowerCase().startsWith('extension_'), true);
    assert.notEqual(otherAnchor, engineAnchor);
    assert.equal(engineAnchor, `extension_${server.connection.clientId.replaceAll('-', '')}_sourceAnchor`);
  });

  it('an app reads the extension values another application\'s property holds, on users and groups', async () => {
    const user = await engine.api(`/users/${userId}`).select(`id,${otherAnchor},${engineAnchor}`).get() as Obj;
    assert.equal(user[otherAnchor], 'user-anchor-1');
    assert.equal(engineAnchor in user, false, 'an extension without a value on the object is omitted');
    const group = await engine.api(`/groups/${groupId}`).select(`id,${otherAnchor}`).get() as Obj;
    assert.equal(group[otherAnchor], 'group-anchor-1');
    const users = await engine.api('/users').select(`id,${otherAnchor}`).top(999).get() as Page;
    assert.deepEqual(users.value.filter((u) => otherAnchor in u).map((u) => [u.id, u[otherAnchor]]), [[userId, 'user-anchor-1']]);
    const groups = await engine.api('/groups').select(`id,${otherAnchor}`).get() as Page;
    assert.deepEqual(groups.value.filter((g) => otherAnchor in g).map((g) => [g.id, g[otherAnchor]]), [[groupId, 'group-anchor-1']]);
    const filtered = await engine.api('/users').filter(`${otherAnchor} eq 'user-anchor-1'`).select(`id,${otherAnchor}`).get() as Page;
    assert.deepEqual(filtered.value.map((u) => u.id), [userId]);
  });

  it('ignores $select of an extension property no application defines (omitted, no error)', async () => {
    const user = await engine.api(`/users/${userId}`).select(`id,displayName,${NOBODY_S_EXTENSION}`).get() as Obj;
    assert.deepEqual(Object.keys(user).filter((k) => !k.startsWith('@odata')).sort(), ['displayName', 'id']);
    const users = await engine.api('/users').select(`id,${NOBODY_S_EXTENSION},${otherAnchor}`).get() as Page;
    assert.ok(users.value.length > 1);
    assert.ok(users.value.every((u) => !(NOBODY_S_EXTENSION in u)));
    assert.ok(users.value.some((u) => u[otherAnchor] === 'user-anchor-1'));
    const group = await engine.api(`/groups/${groupId}`).select(`id,${NOBODY_S_EXTENSION}`).get() as Obj;
    assert.deepEqual(Object.keys(group).filter((k) => !k.startsWith('@odata')), ['id']);
  });

  it('a delegated administrator finds applications by display name prefix and reads their extension properties', async () => {
    const found = await admin.api('/applications').filter("startswith(displayName,'Directory Sync')").select('id,appId,displayName').get() as Page;
    assert.deepEqual(found.value.map((a) => [a.id, a['appId'], a['displayName']]), [[engineAppObjectId, server.connection.clientId, 'Directory Sync Lab']]);
    const none = await admin.api('/applications').filter("startswith(displayName,'Nothing Like This')").get() as Page;
    assert.deepEqual(none.value, []);
    const engineProps = await admin.api(`/applications/${engineAppObjectId}/extensionProperties`).get() as Page;
    assert.deepEqual(engineProps.value.map((p) => [p['name'], p['dataType'], p['targetObjects']]), [[engineAnchor, 'String', ['User', 'Group']]]);
    const otherProps = await admin.api(`/applications/${otherAppObjectId}/extensionProperties`).get() as Page;
    assert.deepEqual(otherProps.value.map((p) => p['name']), [otherAnchor]);
  });

  it('the administrator\'s token is a delegated one (/me answers with the administrator)', async () => {
    const me = await admin.api('/me').select('userPrincipalName').get() as Obj;
    assert.equal(me['userPrincipalName'], server.connection.globalAdminUpn);
  });
});
