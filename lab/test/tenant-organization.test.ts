/**
 * Organization, open and directory extensions, applications, service principals, directory roles and
 * org contacts (graph-reference.md §4, §9).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { TenantServer } from '../tenant/index.ts';
import { ENGINE_APP_ROLES } from '../tenant/seed.ts';
import { STRONG_PASSWORD, appGraphClient, graphClient, graphError, labControl, publicClient, startTestTenant, unique } from './support/tenant.ts';

type Obj = Record<string, unknown> & { id: string };

describe('tenant organization, extensions and applications', () => {
  let server: TenantServer;
  let client: Client;
  let orgId: string;
  let appObjectId: string;
  let anchorName: string;
  before(async () => {
    // These conformance tests also read contacts: more than the engine's app needs.
    server = await startTestTenant({ seed: { app: { roles: [...ENGINE_APP_ROLES, 'OrgContact.Read.All', 'Directory.Read.All'] } } });
    client = appGraphClient(server.connection);
    orgId = server.connection.tenantId;
    const app = await client.api(`/applications(appId='${server.connection.clientId}')`).get() as Obj;
    appObjectId = app.id;
  });
  after(async () => {
    await server.close();
  });

  describe('organization', () => {
    it('lists exactly one organization with verified domains and sync state', async () => {
      const list = await client.api('/organization').get() as { value: Obj[] };
      assert.equal(list.value.length, 1);
      const org = list.value[0];
      assert.ok(org);
      assert.equal(org.id, orgId);
      assert.equal(org['displayName'], 'Contoso Lab');
      assert.equal(org['onPremisesSyncEnabled'], null);
      assert.equal(org['onPremisesLastSyncDateTime'], null);
      const domains = org['verifiedDomains'] as { name: string; type: string; isDefault: boolean; isInitial: boolean; capabilities: string }[];
      assert.deepEqual(domains.map((d) => [d.name, d.type, d.isDefault, d.isInitial]), [
        ['contoso.onmicrosoft.com', 'Managed', false, true], ['contoso.com', 'Managed', true, false], ['fed.contoso.com', 'Federated', false, false],
      ]);
      assert.deepEqual(server.connection.verifiedDomains, ['contoso.onmicrosoft.com', 'contoso.com', 'fed.contoso.com']);
    });

    it('keeps open extensions on the organization: create, read, replace the bag, expand, limits, delete', async () => {
      const name = 'com.contoso.dirsync.lease';
      const created = await client.api(`/organization/${orgId}/extensions`).post({
        '@odata.type': 'microsoft.graph.openTypeExtension', extensionName: name, serverId: 'srv-a', generation: 1,
      }) as Obj;
      assert.equal(created.id, name);
      assert.equal(created['extensionName'], name);
      assert.equal(created['@odata.type'], '#microsoft.graph.openTypeExtension');
      assert.equal(created['serverId'], 'srv-a');
      const dup = await graphError(client.api(`/organization/${orgId}/extensions`).post({ '@odata.type': 'microsoft.graph.openTypeExtension', extensionName: name }));
      assert.equal(dup.statusCode, 409);
      await client.api(`/organization/${orgId}/extensions/${name}`).patch({ serverId: 'srv-b' });
      const read = await client.api(`/organization/${orgId}/extensions/${name}`).get() as Obj;
      assert.equal(read['serverId'], 'srv-b');
      assert.equal(read['generation'], undefined, 'PATCH replaces the whole property bag');
      const expanded = await client.api('/organization').expand('extensions').get() as { value: { extensions: Obj[] }[] };
      assert.deepEqual(expanded.value[0]?.extensions.map((e) => e.id), [name]);
      await client.api(`/organization/${orgId}/extensions`).post({ '@odata.type': 'microsoft.graph.openTypeExtension', extensionName: 'com.contoso.second' });
      const third = await graphError(client.api(`/organization/${orgId}/extensions`).post({ '@odata.type': 'microsoft.graph.openTypeExtension', extensionName: 'com.contoso.third' }));
      assert.equal(third.statusCode, 400, 'two open extensions per creator app per object');
      const big = await graphError(client.api(`/organization/${orgId}/extensions/${name}`).patch({ blob: 'x'.repeat(2100) }));
      assert.equal(big.statusCode, 400, 'open extensions hold at most 2 KB');
      await client.api(`/organization/${orgId}/extensions/com.contoso.second`).delete();
      await client.api(`/organization/${orgId}/extensions/${name}`).delete();
      assert.equal((await graphError(client.api(`/organization/${orgId}/extensions/${name}`).get())).statusCode, 404);
    });
  });

  describe('directory extensions', () => {
    it('registers extension_{appId}_{name} on the application and lists it', async () => {
      const def = await client.api(`/applications/${appObjectId}/extensionProperties`).post({ name: 'sourceAnchor', dataType: 'String', targetObjects: ['User', 'Group', 'Organization'] }) as Obj;
      anchorName = `extension_${server.connection.clientId.replaceAll('-', '')}_sourceAnchor`;
      assert.equal(def['name'], anchorName);
      assert.deepEqual(def['targetObjects'], ['User', 'Group', 'Organization']);
      const list = await client.api(`/applications/${appObjectId}/extensionProperties`).get() as { value: Obj[] };
      assert.ok(list.value.some((d) => d['name'] === anchorName));
      const available = await client.api('/directoryObjects/getAvailableExtensionProperties').post({}) as { value: Obj[] };
      assert.ok(available.value.some((d) => d['name'] === anchorName));
      const dup = await graphError(client.api(`/applications/${appObjectId}/extensionProperties`).post({ name: 'sourceAnchor', dataType: 'String', targetObjects: ['User'] }));
      assert.equal(dup.statusCode, 400);
    });

    it('stores, selects and filters extension values on groups, users and the organization', async () => {
      const value = Buffer.from(unique('anchor')).toString('base64url');
      const group = await client.api('/groups').post({ displayName: 'Anchored', mailEnabled: false, mailNickname: unique('a'), securityEnabled: true, [anchorName]: value }) as Obj;
      assert.equal(group[anchorName], undefined, 'extension values are returned only on $select');
      const selected = await client.api(`/groups/${group.id}`).select(`id,${anchorName}`).get() as Obj;
      assert.equal(selected[anchorName], value);
      const found = await client.api('/groups').filter(`${anchorName} eq '${value}'`).select('id').get() as { value: Obj[] };
      assert.deepEqual(found.value.map((g) => g.id), [group.id]);
      const sw = await graphError(client.api('/groups').filter(`startsWith(${anchorName},'x')`).get());
      assert.equal(sw.code, 'Request_UnsupportedQuery');
      const wrongType = await graphError(client.api(`/groups/${group.id}`).patch({ [anchorName]: 42 }));
      assert.equal(wrongType.statusCode, 400);
      await client.api(`/groups/${group.id}`).patch({ [anchorName]: null });
      const cleared = await client.api(`/groups/${group.id}`).select(`id,${anchorName}`).get() as Obj;
      assert.equal(cleared[anchorName], undefined);

      const alias = unique('ext');
      const user = await client.api('/users').post({
        accountEnabled: true, displayName: alias, mailNickname: alias, userPrincipalName: `${alias}@contoso.com`, passwordProfile: { password: STRONG_PASSWORD }, [anchorName]: 'u-1',
      }) as Obj;
      const u = await client.api(`/users/${user.id}`).select(`id,${anchorName}`).get() as Obj;
      assert.equal(u[anchorName], 'u-1');

      await client.api(`/organization/${orgId}`).patch({ [anchorName]: 'srv-a' });
      const org = await client.api(`/organization/${orgId}`).select(`id,${anchorName}`).get() as Obj;
      assert.equal(org[anchorName], 'srv-a');
      const readOnly = await graphError(client.api(`/organization/${orgId}`).patch({ displayName: 'x' }));
      assert.equal(readOnly.statusCode, 400);
    });
  });

  describe('applications, service principals and roles', () => {
    it('creates, reads and updates applications it owns (Application.ReadWrite.OwnedBy)', async () => {
      const app = await client.api('/applications').post({ displayName: 'Owned app' }) as Obj;
      assert.match(String(app['appId']), /^[0-9a-f-]{36}$/);
      const byAppId = await client.api(`/applications(appId='${String(app['appId'])}')`).get() as Obj;
      assert.equal(byAppId.id, app.id);
      await client.api(`/applications/${app.id}`).patch({ displayName: 'Owned app (renamed)' });
      const owners = await client.api(`/applications/${app.id}/owners`).get() as { value: Obj[] };
      assert.equal(owners.value[0]?.['@odata.type'], '#microsoft.graph.servicePrincipal');
      const password = await client.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'ci' } }) as Obj;
      assert.ok(String(password['secretText']).length >= 30);
      const listed = await client.api('/applications').select('id,displayName').get() as { value: Obj[] };
      assert.ok(listed.value.some((a) => a.id === app.id));
      const secretWrite = await graphError(client.api(`/applications/${app.id}`).patch({ passwordCredentials: [] }));
      assert.equal(secretWrite.statusCode, 400);
    });

    it('refuses to manage applications the caller does not own', async () => {
      const c = server.connection;
      const pca = publicClient(c);
      const approvals: Promise<unknown>[] = [];
      const result = await pca.acquireTokenByDeviceCode({
        scopes: ['https://graph.microsoft.com/Application.ReadWrite.All'],
        deviceCodeCallback: (r) => {
          approvals.push(labControl(c, 'POST', '/device/approve', { user_code: r.userCode, upn: c.globalAdminUpn }));
        },
      });
      await Promise.all(approvals);
      const admin = graphClient(c, async () => result?.accessToken ?? '');
      const foreign = await admin.api('/applications').post({ displayName: 'Admin-owned app' }) as Obj;
      const error = await graphError(client.api(`/applications/${foreign.id}`).patch({ displayName: 'hijack' }));
      assert.equal(error.statusCode, 403);
      assert.equal(error.code, 'Authorization_RequestDenied');

      // An administrator makes the app's service principal an owner (POST owners/$ref), then removes it.
      const sp = await admin.api(`/servicePrincipals(appId='${c.clientId}')`).select('id').get() as Obj;
      const ref = { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${sp.id}` };
      await admin.api(`/applications/${foreign.id}/owners/$ref`).post(ref);
      const owners = await admin.api(`/applications/${foreign.id}/owners`).get() as { value: Obj[] };
      assert.ok(owners.value.some((o) => o.id === sp.id && o['@odata.type'] === '#microsoft.graph.servicePrincipal'));
      await client.api(`/applications/${foreign.id}`).patch({ displayName: 'Admin-owned app, co-owned' });
      const twice = await graphError(admin.api(`/applications/${foreign.id}/owners/$ref`).post(ref));
      assert.equal(twice.statusCode, 400);
      assert.match(twice.message, /already exist for the following modified properties: 'owners'/);
      await admin.api(`/applications/${foreign.id}/owners/${sp.id}/$ref`).delete();
      const gone = await graphError(admin.api(`/applications/${foreign.id}/owners/${sp.id}/$ref`).delete());
      assert.equal(gone.statusCode, 404);
      assert.equal((await graphError(client.api(`/applications/${foreign.id}`).patch({ displayName: 'hijack' }))).statusCode, 403, 'no longer an owner');
    });

    it('finds administrators through directoryRoles and roleManagement', async () => {
      const admin = await client.api(`/users/${server.connection.globalAdminUpn}`).get() as Obj;
      const roles = await client.api('/directoryRoles').expand('members').get() as { value: (Obj & { members: Obj[] })[] };
      const global = roles.value.find((r) => r['roleTemplateId'] === '62e90394-69f5-4237-9190-012177145e10');
      assert.equal(global?.['displayName'], 'Global Administrator');
      assert.deepEqual(global?.members.map((m) => m.id), [admin.id]);
      const members = await client.api(`/directoryRoles/${global?.id}/members`).get() as { value: Obj[] };
      assert.equal(members.value[0]?.['@odata.type'], '#microsoft.graph.user');
      const assignments = await client.api('/roleManagement/directory/roleAssignments').filter(`principalId eq '${admin.id}'`).get() as { value: Obj[] };
      assert.deepEqual(assignments.value.map((a) => a['roleDefinitionId']), ['62e90394-69f5-4237-9190-012177145e10']);
      const memberOf = await client.api(`/users/${admin.id}/memberOf`).get() as { value: Obj[] };
      assert.ok(memberOf.value.some((o) => o['@odata.type'] === '#microsoft.graph.directoryRole'));
    });

    it('serves org contacts read-only', async () => {
      const contacts = await client.api('/contacts').get() as { value: Obj[] };
      assert.ok(contacts.value.length >= 1);
      const one = await client.api(`/contacts/${contacts.value[0]?.id}`).get() as Obj;
      assert.equal(one['mail'], 'partners@fabrikam.example');
      const post = await graphError(client.api('/contacts').post({ displayName: 'x' }));
      assert.equal(post.statusCode, 405);
      assert.equal(post.message, 'Specified HTTP method is not allowed for the request target.');
      const patch = await graphError(client.api(`/contacts/${one.id}`).patch({ displayName: 'x' }));
      assert.equal(patch.statusCode, 405);
    });
  });
});
