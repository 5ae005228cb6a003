/**
 * Groups and membership (graph-reference.md §3) through the real Graph client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { TenantServer } from '../tenant/index.ts';
import { ENGINE_APP_ROLES } from '../tenant/seed.ts';
import { STRONG_PASSWORD, appGraphClient, graphError, startTestTenant, unique } from './support/tenant.ts';

type Obj = Record<string, unknown> & { id: string };
type Page = { value: Obj[]; '@odata.nextLink'?: string };

const SYNCED_GROUP = '5b0c7d1e-2f3a-4b5c-8d6e-7f8091a2b3c4';
const MAIL_ENABLED_REFUSAL = 'The service does not currently support writes of mail-enabled groups. Please ensure that the mail-enablement property is unset and the security-enablement property is set.';
const ALREADY_MEMBER = "One or more added object references already exist for the following modified properties: 'members'.";

describe('tenant groups', () => {
  let server: TenantServer;
  let client: Client;
  let ref: (id: string) => string;
  const securityGroup = (extra: Record<string, unknown> = {}): Promise<Obj> => {
    const nick = unique('sg');
    return client.api('/groups').post({ displayName: `SG ${nick}`, mailEnabled: false, mailNickname: nick, securityEnabled: true, ...extra }) as Promise<Obj>;
  };
  const user = async (): Promise<Obj> => {
    const alias = unique('m');
    return client.api('/users').post({
      accountEnabled: true, displayName: alias, mailNickname: alias, userPrincipalName: `${alias}@contoso.com`, passwordProfile: { password: STRONG_PASSWORD },
    }) as Promise<Obj>;
  };

  before(async () => {
    // These conformance tests also read contacts and service principals: more than the engine's app needs.
    server = await startTestTenant({
      seed: { app: { roles: [...ENGINE_APP_ROLES, 'OrgContact.Read.All', 'Directory.Read.All'] }, groups: [{ id: SYNCED_GROUP, displayName: 'Synced Group', mailNickname: 'syncedgroup', props: { onPremisesSyncEnabled: true } }] },
    });
    client = appGraphClient(server.connection);
    ref = (id) => `https://graph.microsoft.com/v1.0/directoryObjects/${id}`;
  });
  after(async () => {
    await server.close();
  });

  describe('POST /groups', () => {
    it('creates a security group with the documented default properties', async () => {
      const group = await securityGroup({ description: 'test' });
      assert.equal(group['@odata.context'], `${server.connection.graphBaseUrl}v1.0/$metadata#groups/$entity`);
      assert.equal(group['mail'], null);
      assert.deepEqual(group['proxyAddresses'], []);
      assert.deepEqual(group['groupTypes'], []);
      assert.equal(group['securityEnabled'], true);
      assert.match(String(group['securityIdentifier']), /^S-1-12-1-\d+-\d+-\d+-\d+$/);
      for (const key of ['classification', 'createdDateTime', 'renewedDateTime', 'visibility', 'onPremisesSyncEnabled', 'resourceProvisioningOptions']) {
        assert.ok(key in group, key);
      }
    });

    it('validates required properties, mail-enabled writes, mailNickname and dynamic rules', async () => {
      const missing = await graphError(client.api('/groups').post({ displayName: 'x', mailEnabled: false, mailNickname: 'x' }));
      assert.equal(missing.message, "A value is required for property 'securityEnabled' of resource 'Group'.");
      for (const body of [{ mailEnabled: true, securityEnabled: true }, { mailEnabled: true, securityEnabled: false }, { mailEnabled: false, securityEnabled: false }]) {
        const error = await graphError(client.api('/groups').post({ displayName: 'DL', mailNickname: unique('dl'), groupTypes: [], ...body }));
        assert.equal(error.message, MAIL_ENABLED_REFUSAL);
      }
      const nick = await graphError(client.api('/groups').post({ displayName: 'x', mailEnabled: false, mailNickname: 'has space', securityEnabled: true }));
      assert.equal(nick.message, "Invalid value specified for property 'mailNickname' of resource 'Group'.");
      const dynamic = await graphError(client.api('/groups').post({ displayName: 'dyn', mailEnabled: false, mailNickname: unique('dyn'), securityEnabled: true, groupTypes: ['DynamicMembership'] }));
      assert.equal(dynamic.message, "A value is required for property 'membershipRule'.");
    });

    it('creates a Microsoft 365 group with a mail address and a unique mailNickname', async () => {
      const nick = unique('team');
      const team = await client.api('/groups').post({ displayName: 'Team', groupTypes: ['Unified'], mailEnabled: true, mailNickname: nick, securityEnabled: false }) as Obj;
      assert.equal(team['mail'], `${nick}@contoso.com`);
      assert.deepEqual(team['proxyAddresses'], [`SMTP:${nick}@contoso.com`, `smtp:${nick}@contoso.onmicrosoft.com`]);
      const dup = await graphError(client.api('/groups').post({ displayName: 'Team 2', groupTypes: ['Unified'], mailEnabled: true, mailNickname: nick, securityEnabled: false }));
      assert.equal(dup.message, 'Another object with the same value for property mailNickname already exists.');
      assert.deepEqual((dup.details as { code: string; target: string }[]).map((d) => [d.code, d.target]), [['ObjectConflict', 'mailNickname']]);
    });

    it('adds members@odata.bind at creation', async () => {
      const a = await user();
      const b = await user();
      const group = await securityGroup({ 'members@odata.bind': [ref(a.id), `https://graph.microsoft.com/v1.0/users/${b.id}`] });
      const members = await client.api(`/groups/${group.id}/members`).get() as Page;
      assert.deepEqual(members.value.map((m) => m.id).sort(), [a.id, b.id].sort());
      assert.ok(members.value.every((m) => m['@odata.type'] === '#microsoft.graph.user'));
    });
  });

  describe('membership', () => {
    it('adds with $ref (204), refuses an existing member (400) and a missing object (404)', async () => {
      const group = await securityGroup();
      const member = await user();
      assert.equal(await client.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(member.id) }), undefined);
      const again = await graphError(client.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(member.id) }));
      assert.equal(again.statusCode, 400);
      assert.equal(again.message, ALREADY_MEMBER);
      const missing = '11111111-2222-3333-4444-555555555555';
      const notFound = await graphError(client.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(missing) }));
      assert.equal(notFound.statusCode, 404);
      assert.equal(notFound.message, `Resource '${missing}' does not exist or one of its queried reference-property objects are not present.`);
    });

    it('removes with $ref (204); removing a non-member is a 404 naming the group', async () => {
      const group = await securityGroup();
      const member = await user();
      await client.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(member.id) });
      assert.equal(await client.api(`/groups/${group.id}/members/${member.id}/$ref`).delete(), undefined);
      const error = await graphError(client.api(`/groups/${group.id}/members/${member.id}/$ref`).delete());
      assert.equal(error.statusCode, 404);
      assert.equal(error.message, `Resource '${group.id}' does not exist or one of its queried reference-property objects are not present.`);
    });

    it('PATCH members@odata.bind adds up to 20, atomically', async () => {
      const group = await securityGroup();
      const people: Obj[] = [];
      for (let i = 0; i < 21; i += 1) people.push(await user());
      const tooMany = await graphError(client.api(`/groups/${group.id}`).patch({ 'members@odata.bind': people.map((p) => ref(p.id)) }));
      assert.equal(tooMany.statusCode, 400);
      await client.api(`/groups/${group.id}`).patch({ 'members@odata.bind': people.slice(0, 2).map((p) => ref(p.id)) });
      const atomic = await graphError(client.api(`/groups/${group.id}`).patch({ 'members@odata.bind': people.slice(1, 5).map((p) => ref(p.id)) }));
      assert.equal(atomic.message, ALREADY_MEMBER);
      const members = await client.api(`/groups/${group.id}/members`).select('id').get() as Page;
      assert.equal(members.value.length, 2, 'nothing was added by the failed PATCH');
      await client.api(`/groups/${group.id}`).patch({ 'members@odata.bind': people.slice(2, 21).map((p) => ref(p.id)) });
      const expanded = await client.api(`/groups/${group.id}`).expand('members').get() as { members: Obj[] };
      assert.equal(expanded.members.length, 20, '$expand returns at most 20 members');
      const page = await client.api(`/groups/${group.id}/members`).top(5).get() as Page;
      assert.equal(page.value.length, 5);
      assert.match(page['@odata.nextLink'] ?? '', /^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/groups\/.*\/members\?.*\$skiptoken=/);
    });

    it('enforces the allowed member types', async () => {
      const security = await securityGroup();
      const nested = await securityGroup();
      const team = await client.api('/groups').post({ displayName: 'T', groupTypes: ['Unified'], mailEnabled: true, mailNickname: unique('t'), securityEnabled: false }) as Obj;
      const contacts = await client.api('/contacts').get() as Page;
      const contact = contacts.value[0];
      assert.ok(contact);
      const sps = await client.api('/servicePrincipals').filter(`appId eq '${server.connection.clientId}'`).get() as Page;
      await client.api(`/groups/${security.id}/members/$ref`).post({ '@odata.id': ref(nested.id) });
      await client.api(`/groups/${security.id}/members/$ref`).post({ '@odata.id': ref(contact.id) });
      await client.api(`/groups/${security.id}/members/$ref`).post({ '@odata.id': ref(sps.value[0]?.id ?? '') });
      for (const [group, member] of [[team, nested], [security, team], [team, contact]] as const) {
        const error = await graphError(client.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(member.id) }));
        assert.equal(error.statusCode, 400);
        assert.equal(error.code, 'Request_BadRequest');
      }
      const members = await client.api(`/groups/${security.id}/members`).get() as Page;
      assert.deepEqual(members.value.map((m) => m['@odata.type']).sort(), ['#microsoft.graph.group', '#microsoft.graph.orgContact', '#microsoft.graph.servicePrincipal']);
    });

    it('lists transitive members and requires advanced queries for OData casts', async () => {
      const outer = await securityGroup();
      const inner = await securityGroup();
      const a = await user();
      const b = await user();
      await client.api(`/groups/${outer.id}`).patch({ 'members@odata.bind': [ref(a.id), ref(inner.id)] });
      await client.api(`/groups/${inner.id}/members/$ref`).post({ '@odata.id': ref(b.id) });
      const transitive = await client.api(`/groups/${outer.id}/transitiveMembers`).select('id').get() as Page;
      assert.deepEqual(transitive.value.map((m) => m.id).sort(), [a.id, b.id, inner.id].sort());
      const castError = await graphError(client.api(`/groups/${outer.id}/members/microsoft.graph.user`).get());
      assert.equal(castError.code, 'Request_UnsupportedQuery');
      const users = await client.api(`/groups/${outer.id}/transitiveMembers/microsoft.graph.user`).header('ConsistencyLevel', 'eventual').count(true).get() as Page & { '@odata.count': number };
      assert.equal(users['@odata.count'], 2);
    });

    it('refuses membership changes on groups synced from on-premises AD', async () => {
      const member = await user();
      const error = await graphError(client.api(`/groups/${SYNCED_GROUP}/members/$ref`).post({ '@odata.id': ref(member.id) }));
      assert.equal(error.message, 'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.');
      const patch = await graphError(client.api(`/groups/${SYNCED_GROUP}`).patch({ description: 'x' }));
      assert.equal(patch.message, error.message);
    });

    it('DELETE /groups/{id}/members/{id} without $ref deletes the member object itself', async () => {
      const group = await securityGroup();
      const member = await user();
      await client.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': ref(member.id) });
      await client.api(`/groups/${group.id}/members/${member.id}`).delete();
      const gone = await graphError(client.api(`/users/${member.id}`).get());
      assert.equal(gone.statusCode, 404);
    });
  });

  describe('PATCH and DELETE /groups', () => {
    it('merges properties and refuses to make a security group mail-enabled', async () => {
      const group = await securityGroup({ description: 'before' });
      await client.api(`/groups/${group.id}`).patch({ displayName: 'Renamed' });
      const after = await client.api(`/groups/${group.id}`).select('displayName,description').get() as Obj;
      assert.equal(after['displayName'], 'Renamed');
      assert.equal(after['description'], 'before');
      const error = await graphError(client.api(`/groups/${group.id}`).patch({ mailEnabled: true }));
      assert.equal(error.message, MAIL_ENABLED_REFUSAL);
    });

    it('hard-deletes security groups and soft-deletes Microsoft 365 groups', async () => {
      const group = await securityGroup();
      await client.api(`/groups/${group.id}`).delete();
      const notRestorable = await graphError(client.api(`/directory/deletedItems/${group.id}`).get());
      assert.equal(notRestorable.statusCode, 404);
      const team = await client.api('/groups').post({ displayName: 'T', groupTypes: ['Unified'], mailEnabled: true, mailNickname: unique('t'), securityEnabled: false }) as Obj;
      await client.api(`/groups/${team.id}`).delete();
      const deleted = await client.api(`/directory/deletedItems/${team.id}`).get() as Obj;
      assert.equal(deleted['@odata.type'], '#microsoft.graph.group');
      assert.match(String(deleted['deletedDateTime']), /Z$/);
    });
  });
});
