/**
 * Users (graph-reference.md §2) through the real Graph client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PageIterator, type Client } from '@microsoft/microsoft-graph-client';
import type { TenantServer } from '../tenant/index.ts';
import { STRONG_PASSWORD, appGraphClient, graphError, startTestTenant, unique } from './support/tenant.ts';

type User = Record<string, unknown> & { id: string };

const SYNCED_ID = '7a1e0a57-1d2b-4c3d-9e4f-5a6b7c8d9e0f';

function newUser(alias: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    accountEnabled: true, displayName: `User ${alias}`, mailNickname: alias, userPrincipalName: `${alias}@contoso.com`,
    passwordProfile: { forceChangePasswordNextSignIn: false, password: STRONG_PASSWORD }, ...extra,
  };
}

describe('tenant users', () => {
  let server: TenantServer;
  let client: Client;
  before(async () => {
    server = await startTestTenant({
      seed: {
        users: [{
          id: SYNCED_ID, userPrincipalName: 'synced.user@contoso.com', displayName: 'Synced User',
          props: { onPremisesSyncEnabled: true, onPremisesImmutableId: 'c3luY2VkLXVzZXItYW5jaG9y', mail: 'synced.user@contoso.com' },
        }],
      },
    });
    client = appGraphClient(server.connection);
  });
  after(async () => {
    await server.close();
  });

  describe('POST /users', () => {
    it('creates a user and returns 201 with the default property set only', async () => {
      const alias = unique('new');
      const created = await client.api('/users').post(newUser(alias, { jobTitle: 'Engineer', department: 'R&D' })) as User;
      assert.equal(created['@odata.context'], `${server.connection.graphBaseUrl}v1.0/$metadata#users/$entity`);
      assert.deepEqual(Object.keys(created).filter((k) => !k.startsWith('@')).sort(),
        ['businessPhones', 'displayName', 'givenName', 'id', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName']);
      assert.match(created.id, /^[0-9a-f-]{36}$/);
      assert.equal(created['jobTitle'], 'Engineer');
      assert.equal(created['mail'], null);
      assert.equal(created['department'], undefined, 'department is returned only on $select');
    });

    it('requires accountEnabled, displayName, mailNickname, passwordProfile and userPrincipalName', async () => {
      for (const property of ['accountEnabled', 'displayName', 'mailNickname', 'passwordProfile', 'userPrincipalName']) {
        const body = newUser(unique('req'));
        delete body[property];
        const error = await graphError(client.api('/users').post(body));
        assert.equal(error.statusCode, 400);
        assert.equal(error.code, 'Request_BadRequest');
        assert.equal(error.message, `A value is required for property '${property}' of resource 'User'.`);
      }
    });

    it('enforces the UPN character set, shape and lengths', async () => {
      for (const upn of ['bad name@contoso.com', 'dots.before.@contoso.com', 'a@b@contoso.com', 'éclair@contoso.com', `${'x'.repeat(65)}@contoso.com`]) {
        const error = await graphError(client.api('/users').post(newUser('upncheck', { userPrincipalName: upn })));
        assert.equal(error.statusCode, 400, upn);
        assert.equal(error.message, 'Property userPrincipalName is invalid.', upn);
        assert.deepEqual(error.details, [{ code: 'InvalidCharacter', message: 'Property userPrincipalName is invalid.', target: 'userPrincipalName', blockedWord: '', prefix: '', suffix: '' }]);
      }
      const ok = await client.api('/users').post(newUser('ok', { userPrincipalName: `o'k.-_!#^~${unique('u')}@contoso.com` })) as User;
      assert.ok(ok.id);
    });

    it('requires the UPN domain to be a verified domain', async () => {
      const error = await graphError(client.api('/users').post(newUser('dom', { userPrincipalName: 'dom@fabrikam.com' })));
      assert.equal(error.statusCode, 400);
      assert.equal(error.message, 'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.');
    });

    it('enforces password complexity unless DisableStrongPassword', async () => {
      for (const password of ['short1!', 'alllowercase1', 'NoDigitsOrSymbols', 'Unicode-Pässw0rd']) {
        const error = await graphError(client.api('/users').post(newUser(unique('pw'), { passwordProfile: { password } })));
        assert.equal(error.message, 'The specified password does not comply with password complexity requirements. Please provide a different password.', password);
      }
      const weak = await client.api('/users').post(newUser(unique('weak'), { passwordPolicies: 'DisableStrongPassword', passwordProfile: { password: 'weakpass' } })) as User;
      assert.ok(weak.id);
    });

    it('rejects a duplicate UPN (case-insensitive) with ObjectConflict details', async () => {
      const alias = unique('dup');
      await client.api('/users').post(newUser(alias));
      const error = await graphError(client.api('/users').post(newUser(alias.toUpperCase(), { userPrincipalName: `${alias.toUpperCase()}@CONTOSO.COM` })));
      assert.equal(error.statusCode, 400);
      assert.equal(error.message, 'Another object with the same value for property userPrincipalName already exists.');
      assert.deepEqual(error.details, [{ code: 'ObjectConflict', message: error.message, target: 'userPrincipalName', blockedWord: '', prefix: '', suffix: '' }]);
    });

    it('keeps proxy addresses unique across users, groups and contacts', async () => {
      for (const mail of ['megan.bowen@contoso.com', 'CLOUDTEAM@contoso.com', 'partners@fabrikam.example']) {
        const error = await graphError(client.api('/users').post(newUser(unique('px'), { mail })));
        assert.equal(error.message, 'Another object with the same value for property proxyAddresses already exists.', mail);
      }
      const error = await graphError(client.api('/users').post(newUser(unique('px'), { proxyAddresses: ['SMTP:x@contoso.com'] })));
      assert.equal(error.message, "Property 'proxyAddresses' is read-only and cannot be set.");
    });

    it('validates onPremisesImmutableId: no $ or _, unique (with the conflicting object), required on federated domains', async () => {
      for (const bad of ['abc$def', 'abc_def']) {
        const error = await graphError(client.api('/users').post(newUser(unique('im'), { onPremisesImmutableId: bad })));
        assert.equal(error.message, "Invalid value specified for property 'onPremisesImmutableId' of resource 'User'.");
      }
      const anchor = Buffer.from(unique('anchor')).toString('base64');
      const first = await client.api('/users').post(newUser(unique('im'), { onPremisesImmutableId: anchor })) as User;
      const dup = await graphError(client.api('/users').post(newUser(unique('im'), { onPremisesImmutableId: anchor })));
      assert.equal(dup.message, 'Another object with the same value for property onPremisesImmutableId already exists.');
      assert.deepEqual((dup.details as { code: string; target: string }[]).map((d) => [d.code, d.target]),
        [['ObjectConflict', 'onPremisesImmutableId'], ['ConflictingObjects', `User_${first.id}`]]);

      const federated = await graphError(client.api('/users').post(newUser('fed', { userPrincipalName: `${unique('fed')}@fed.contoso.com` })));
      assert.equal(federated.message, 'SourceAnchor is a required property for creation of a federated user.');
      const ok = await client.api('/users').post(newUser('fed', { userPrincipalName: `${unique('fed')}@fed.contoso.com`, onPremisesImmutableId: Buffer.from(unique('f')).toString('base64') })) as User;
      assert.ok(ok.id);
    });

    it('rejects unknown properties and unregistered directory extensions', async () => {
      const unknown = await graphError(client.api('/users').post(newUser(unique('u'), { favouriteColour: 'blue' })));
      assert.equal(unknown.message, "Property 'favouriteColour' does not exist as a declared property or extension property.");
      const ext = await graphError(client.api('/users').post(newUser(unique('u'), { extension_0123456789abcdef0123456789abcdef_nope: 'x' })));
      assert.equal(ext.message, "Property 'extension_0123456789abcdef0123456789abcdef_nope' does not exist as a declared property or extension property.");
    });
  });

  describe('GET /users', () => {
    it('gets one user by id or by UPN, with $select-only properties', async () => {
      const alias = unique('get');
      const created = await client.api('/users').post(newUser(alias, { onPremisesImmutableId: Buffer.from(alias).toString('base64') })) as User;
      const byUpn = await client.api(`/users/${alias}@contoso.com`).get() as User;
      assert.equal(byUpn.id, created.id);
      assert.equal(byUpn['accountEnabled'], undefined);
      const selected = await client.api(`/users/${created.id}`).select('id,accountEnabled,onPremisesImmutableId,mailNickname,createdDateTime,onPremisesSyncEnabled').get() as User;
      assert.equal(selected['@odata.context'], `${server.connection.graphBaseUrl}v1.0/$metadata#users(id,accountEnabled,onPremisesImmutableId,mailNickname,createdDateTime,onPremisesSyncEnabled)/$entity`);
      assert.equal(selected['accountEnabled'], true);
      assert.equal(selected['onPremisesImmutableId'], Buffer.from(alias).toString('base64'));
      assert.equal(selected['mailNickname'], alias);
      assert.equal(selected['onPremisesSyncEnabled'], null);
      assert.match(String(selected['createdDateTime']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(selected['displayName'], undefined);
      const key = await client.api(`/users('${alias}@contoso.com')`).select('id').get() as User;
      assert.equal(key.id, created.id);
    });

    it('answers 404 Request_ResourceNotFound for an unknown user', async () => {
      const error = await graphError(client.api('/users/00000000-1111-2222-3333-444444444444').get());
      assert.equal(error.statusCode, 404);
      assert.equal(error.code, 'Request_ResourceNotFound');
      assert.equal(error.message, "Resource '00000000-1111-2222-3333-444444444444' does not exist or one of its queried reference-property objects are not present.");
    });

    it('pages with absolute https nextLinks that the PageIterator follows; @odata.count only on the first page', async () => {
      for (let i = 0; i < 5; i += 1) await client.api('/users').post(newUser(unique('page')));
      const first = await client.api('/users').top(3).select('id,displayName').header('ConsistencyLevel', 'eventual').count(true).get() as { value: User[]; '@odata.nextLink': string; '@odata.count': number };
      assert.equal(first.value.length, 3);
      assert.ok(first['@odata.count'] >= 8);
      assert.match(first['@odata.nextLink'], new RegExp(`^${server.connection.graphBaseUrl.replace(/[.]/g, '\\.')}v1\\.0/users\\?.*\\$skiptoken=`));
      const second = await client.api(first['@odata.nextLink']).header('ConsistencyLevel', 'eventual').get() as { value: User[]; '@odata.count'?: number };
      assert.equal(second['@odata.count'], undefined);
      assert.equal(second.value.length, 3);
      assert.notDeepEqual(second.value.map((u) => u.id), first.value.map((u) => u.id));
      const ids: string[] = [];
      const response = await client.api('/users').top(2).select('id').get() as { value: User[] };
      const iterator = new PageIterator(client, response, (u: User) => {
        ids.push(u.id);
        return true;
      });
      await iterator.iterate();
      assert.equal(ids.length, first['@odata.count']);
      assert.equal(new Set(ids).size, ids.length);
    });

    it('enforces $top 1..999 and rejects $skip', async () => {
      const top = await graphError(client.api('/users').top(1000).get());
      assert.equal(top.code, 'Request_UnsupportedQuery');
      assert.equal(top.message, "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.");
      const zero = await graphError(client.api('/users').top(0).get());
      assert.equal(zero.message, "Invalid page size specified: '0'. Must be between 1 and 999 inclusive.");
      const skip = await graphError(client.api('/users').skip(2).get());
      assert.equal(skip.message, "'$skip' is not supported by the service.");
    });

    it('serves /users/$count as text/plain only with ConsistencyLevel: eventual', async () => {
      const error = await graphError(client.api('/users/$count').get());
      assert.equal(error.statusCode, 400);
      assert.equal(error.message, '$count is not currently supported.');
      const count = await client.api('/users/$count').header('ConsistencyLevel', 'eventual').get() as string;
      assert.match(String(count), /^\d+$/);
      const filtered = await client.api('/users/$count').header('ConsistencyLevel', 'eventual').filter("startsWith(displayName,'Megan')").get() as string;
      assert.equal(String(filtered), '1');
    });

    it('orders by displayName (default) and answers 501 for single-user-only properties on the collection', async () => {
      const ordered = await client.api('/users').orderby('displayName desc').select('displayName').top(999).get() as { value: { displayName: string }[] };
      const names = ordered.value.map((u) => u.displayName.toLowerCase());
      assert.deepEqual(names, [...names].sort().reverse());
      const error = await graphError(client.api('/users').select('skills').get());
      assert.equal(error.statusCode, 501);
      assert.equal(error.code, 'NotImplemented');
    });
  });

  describe('PATCH /users', () => {
    it('merges: only the given properties change, null clears, displayName cannot be cleared', async () => {
      const created = await client.api('/users').post(newUser(unique('patch'), { jobTitle: 'Engineer', department: 'R&D', city: 'Oslo' })) as User;
      const result = await client.api(`/users/${created.id}`).patch({ jobTitle: 'Lead', city: null });
      assert.equal(result, undefined, '204 resolves to undefined');
      const after = await client.api(`/users/${created.id}`).select('jobTitle,department,city,displayName').get() as User;
      assert.equal(after['jobTitle'], 'Lead');
      assert.equal(after['department'], 'R&D');
      assert.equal(after['city'], null);
      const error = await graphError(client.api(`/users/${created.id}`).patch({ displayName: null }));
      assert.equal(error.message, "Invalid value specified for property 'displayName' of resource 'User'.");
    });

    it('merges onPremisesExtensionAttributes per attribute', async () => {
      const created = await client.api('/users').post(newUser(unique('ea'), { onPremisesExtensionAttributes: { extensionAttribute1: 'one', extensionAttribute2: 'two' } })) as User;
      await client.api(`/users/${created.id}`).patch({ onPremisesExtensionAttributes: { extensionAttribute2: null, extensionAttribute3: 'three' } });
      const after = await client.api(`/users/${created.id}`).select('onPremisesExtensionAttributes').get() as { onPremisesExtensionAttributes: Record<string, string | null> };
      assert.equal(after.onPremisesExtensionAttributes['extensionAttribute1'], 'one');
      assert.equal(after.onPremisesExtensionAttributes['extensionAttribute2'], null);
      assert.equal(after.onPremisesExtensionAttributes['extensionAttribute3'], 'three');
      assert.equal(Object.keys(after.onPremisesExtensionAttributes).length, 15);
    });

    it('recalculates proxyAddresses when mail changes and detects UPN conflicts on rename', async () => {
      const alias = unique('mail');
      const created = await client.api('/users').post(newUser(alias, { mail: `${alias}@contoso.com` })) as User;
      await client.api(`/users/${created.id}`).patch({ mail: `${alias}.new@contoso.com` });
      const after = await client.api(`/users/${created.id}`).select('mail,proxyAddresses').get() as { mail: string; proxyAddresses: string[] };
      assert.equal(after.mail, `${alias}.new@contoso.com`);
      assert.deepEqual(after.proxyAddresses, [`SMTP:${alias}.new@contoso.com`, `smtp:${alias}@contoso.com`]);
      const rename = await graphError(client.api(`/users/${created.id}`).patch({ userPrincipalName: 'megan.bowen@contoso.com' }));
      assert.equal(rename.message, 'Another object with the same value for property userPrincipalName already exists.');
    });

    it('refuses writes to objects synced from on-premises AD', async () => {
      const patch = await graphError(client.api(`/users/${SYNCED_ID}`).patch({ jobTitle: 'x' }));
      assert.equal(patch.statusCode, 400);
      assert.equal(patch.message, 'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.');
      const del = await graphError(client.api(`/users/${SYNCED_ID}`).delete());
      assert.equal(del.message, patch.message);
      await client.api(`/users/${SYNCED_ID}`).patch({ usageLocation: 'NO' });
    });
  });

  describe('DELETE /users', () => {
    it('soft-deletes (204) and releases the UPN', async () => {
      const alias = unique('del');
      const created = await client.api('/users').post(newUser(alias)) as User;
      assert.equal(await client.api(`/users/${created.id}`).delete(), undefined);
      const gone = await graphError(client.api(`/users/${created.id}`).get());
      assert.equal(gone.statusCode, 404);
      const again = await client.api('/users').post(newUser(alias)) as User;
      assert.notEqual(again.id, created.id);
    });

    it('does not let an app-only caller delete or modify an administrator', async () => {
      const admin = await client.api(`/users/${server.connection.globalAdminUpn}`).get() as User;
      const error = await graphError(client.api(`/users/${admin.id}`).delete());
      assert.equal(error.statusCode, 403);
      assert.equal(error.code, 'Authorization_RequestDenied');
      const patch = await graphError(client.api(`/users/${admin.id}`).patch({ jobTitle: 'x' }));
      assert.equal(patch.statusCode, 403);
    });
  });

  describe('manager', () => {
    it('sets, reads, expands, replaces and removes a manager through manager/$ref', async () => {
      const boss = await client.api('/users').post(newUser(unique('boss'))) as User;
      const other = await client.api('/users').post(newUser(unique('other'))) as User;
      const report = await client.api('/users').post(newUser(unique('report'))) as User;
      const none = await graphError(client.api(`/users/${report.id}/manager`).get());
      assert.equal(none.statusCode, 404);
      assert.equal(none.code, 'Request_ResourceNotFound');

      const ref = (id: string) => ({ '@odata.id': `${server.connection.graphBaseUrl}v1.0/directoryObjects/${id}` });
      assert.equal(await client.api(`/users/${report.id}/manager/$ref`).put(ref(boss.id)), undefined);
      const manager = await client.api(`/users/${report.id}/manager`).get() as User;
      assert.equal(manager.id, boss.id);
      assert.equal(manager['@odata.type'], '#microsoft.graph.user');
      const expanded = await client.api(`/users/${report.id}`).select('id').expand('manager($select=id)').get() as User & { manager?: { id: string } };
      assert.equal(expanded.manager?.id, boss.id);
      const listed = await client.api('/users').select('id').expand('manager($select=id)').top(999).get() as { value: Array<User & { manager?: { id: string } }> };
      assert.equal(listed.value.find((u) => u.id === report.id)?.manager?.id, boss.id);
      assert.equal(listed.value.find((u) => u.id === boss.id)?.manager, undefined, 'a user without a manager has no manager property');

      await client.api(`/users/${report.id}/manager/$ref`).put(ref(other.id));
      assert.equal((await client.api(`/users/${report.id}/manager`).get() as User).id, other.id);
      assert.equal(await client.api(`/users/${report.id}/manager/$ref`).delete(), undefined);
      assert.equal((await graphError(client.api(`/users/${report.id}/manager`).get())).statusCode, 404);
      assert.equal((await graphError(client.api(`/users/${report.id}/manager/$ref`).delete())).statusCode, 404, 'removing a manager that is not there');
    });

    it('refuses an unknown manager, oneself, and a group; a deleted manager reads as none', async () => {
      const user = await client.api('/users').post(newUser(unique('mgr'))) as User;
      const ref = (id: string) => ({ '@odata.id': `${server.connection.graphBaseUrl}v1.0/directoryObjects/${id}` });
      assert.equal((await graphError(client.api(`/users/${user.id}/manager/$ref`).put(ref('00000000-0000-4000-8000-00000000dead')))).statusCode, 404);
      assert.equal((await graphError(client.api(`/users/${user.id}/manager/$ref`).put(ref(user.id)))).statusCode, 400);
      const group = await client.api('/groups').post({ displayName: unique('g'), mailEnabled: false, mailNickname: unique('g'), securityEnabled: true }) as User;
      assert.equal((await graphError(client.api(`/users/${user.id}/manager/$ref`).put(ref(group.id)))).statusCode, 400);
      const boss = await client.api('/users').post(newUser(unique('gone'))) as User;
      await client.api(`/users/${user.id}/manager/$ref`).put(ref(boss.id));
      await client.api(`/users/${boss.id}`).delete();
      assert.equal((await graphError(client.api(`/users/${user.id}/manager`).get())).statusCode, 404);
    });
  });
});
