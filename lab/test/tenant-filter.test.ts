/**
 * The $filter engine (graph-reference.md §2.4, §3.5, §5): operators, Default vs Advanced gating
 * (ConsistencyLevel: eventual + $count=true), limits and the exact error messages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client, GraphRequest } from '@microsoft/microsoft-graph-client';
import type { TenantServer } from '../tenant/index.ts';
import { STRONG_PASSWORD, appGraphClient, graphError, startTestTenant } from './support/tenant.ts';

type Page = { value: { id: string; displayName?: string; userPrincipalName?: string }[] };

const ADVANCED_HINT = 'Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information';

describe('tenant $filter', () => {
  let server: TenantServer;
  let client: Client;
  const users = (filter: string): GraphRequest => client.api('/users').filter(filter).select('id,displayName,userPrincipalName');
  const advanced = (request: GraphRequest): GraphRequest => request.header('ConsistencyLevel', 'eventual').count(true);
  const names = (page: Page): string[] => page.value.map((u) => u.displayName ?? '').sort();

  before(async () => {
    server = await startTestTenant();
    client = appGraphClient(server.connection);
    const people = [
      ['Ada Lovelace', 'ada', { mail: 'ada@contoso.com', otherMails: ['ada@home.example'], onPremisesImmutableId: 'nofCJe0gZk6D8J4gRgrt+A==', department: 'Maths', onPremisesExtensionAttributes: { extensionAttribute1: 'engine' } }],
      ['Alan Turing', 'alan', { mail: 'alan@contoso.com', department: 'Maths', accountEnabled: false }],
      ['Grace Hopper', 'grace', { mail: 'grace@contoso.onmicrosoft.com', jobTitle: 'Admiral' }],
      ['Katherine Johnson', 'katherine', {}],
    ] as const;
    for (const [displayName, alias, extra] of people) {
      await client.api('/users').post({
        accountEnabled: true, displayName, mailNickname: alias, userPrincipalName: `${alias}@contoso.com`,
        passwordProfile: { password: STRONG_PASSWORD }, ...extra,
      });
    }
  });
  after(async () => {
    await server.close();
  });

  describe('default operators', () => {
    it('eq is case-insensitive; startsWith; in; and/or with parentheses', async () => {
      assert.deepEqual(names(await users("userPrincipalName eq 'ADA@CONTOSO.COM'").get() as Page), ['Ada Lovelace']);
      assert.deepEqual(names(await users("startsWith(displayName,'a')").get() as Page), ['Ada Lovelace', 'Alan Turing', 'Alex Wilber']);
      assert.deepEqual(names(await users("userPrincipalName in ('ada@contoso.com','grace@contoso.com','nobody@contoso.com')").get() as Page), ['Ada Lovelace', 'Grace Hopper']);
      assert.deepEqual(names(await users("(startsWith(displayName,'A') and mail eq 'alan@contoso.com') or displayName eq 'Grace Hopper'").get() as Page), ['Alan Turing', 'Grace Hopper']);
      assert.deepEqual(names(await users('accountEnabled eq false').get() as Page), ['Alan Turing', 'Cloud Backup Service']);
    });

    it('filters collections with any() lambdas (eq, startsWith) by default', async () => {
      assert.deepEqual(names(await users("proxyAddresses/any(p:p eq 'smtp:ADA@contoso.com')").get() as Page), ['Ada Lovelace']);
      assert.deepEqual(names(await users("proxyAddresses/any(p:startsWith(p,'smtp:grace'))").get() as Page), ['Grace Hopper']);
      assert.deepEqual(names(await users("otherMails/any(x:x eq 'ada@home.example')").get() as Page), ['Ada Lovelace']);
      const groups = await client.api('/groups').filter("groupTypes/any(c:c eq 'Unified')").select('displayName').get() as Page;
      assert.deepEqual(names(groups), ['Contoso Cloud Team']);
    });

    it('matches onPremisesImmutableId when + is sent percent-encoded (a raw + in a query string means a space)', async () => {
      assert.deepEqual(names(await users(`onPremisesImmutableId eq '${encodeURIComponent('nofCJe0gZk6D8J4gRgrt+A==')}'`).get() as Page), ['Ada Lovelace']);
      assert.deepEqual(names(await users("onPremisesImmutableId eq 'nofCJe0gZk6D8J4gRgrt+A=='").get() as Page), []);
      const error = await graphError(users('onPremisesImmutableId eq null').get());
      assert.equal(error.message, "Unsupported or invalid query filter clause specified for property 'onPremisesImmutableId' of resource 'User'.");
    });
  });

  describe('advanced queries', () => {
    it('endsWith, ne and not need ConsistencyLevel: eventual and $count=true', async () => {
      for (const [filter, operator] of [["endsWith(mail,'@contoso.onmicrosoft.com')", 'endsWith'], ["displayName ne 'Ada Lovelace'", 'ne'], ["not(startsWith(displayName,'A'))", 'not']] as const) {
        const error = await graphError(users(filter).get());
        assert.equal(error.statusCode, 400);
        assert.equal(error.code, 'Request_UnsupportedQuery');
        assert.equal(error.message, `Operator '${operator}' is not supported because the required parameters might be missing. ${ADVANCED_HINT}`);
        const onlyHeader = await graphError(users(filter).header('ConsistencyLevel', 'eventual').get());
        assert.equal(onlyHeader.code, 'Request_UnsupportedQuery', 'the header alone is not enough');
      }
      assert.deepEqual(names(await advanced(users("endsWith(mail,'@contoso.onmicrosoft.com')")).get() as Page), ['Grace Hopper']);
      const ne = await advanced(users("department ne 'Maths'")).get() as Page & { '@odata.count': number };
      assert.ok(!names(ne).includes('Ada Lovelace'));
      assert.equal(ne['@odata.count'], ne.value.length);
      const not = await advanced(users("not(startsWith(displayName,'A'))")).get() as Page;
      assert.ok(names(not).every((n) => !n.startsWith('A')));
      assert.deepEqual(names(await advanced(users("proxyAddresses/any(p:endsWith(p,'onmicrosoft.com'))")).get() as Page), ['Grace Hopper']);
    });

    it('gates advanced-only properties, eq null and proxyAddresses/$count', async () => {
      const ext = await graphError(users("onPremisesExtensionAttributes/extensionAttribute1 eq 'engine'").get());
      assert.equal(ext.message, "Unsupported or invalid query filter clause specified for property 'extensionAttribute1' of resource 'User'.");
      assert.deepEqual(names(await advanced(users("onPremisesExtensionAttributes/extensionAttribute1 eq 'engine'")).get() as Page), ['Ada Lovelace']);
      const dept = await graphError(users("department eq 'Maths'").get());
      assert.equal(dept.message, "Unsupported or invalid query filter clause specified for property 'department' of resource 'User'.");
      const nullDefault = await graphError(users('jobTitle eq null').get());
      assert.equal(nullDefault.code, 'Request_UnsupportedQuery');
      const withNull = await advanced(users('jobTitle eq null')).get() as Page;
      assert.ok(!names(withNull).includes('Grace Hopper'));
      const count = await advanced(users('proxyAddresses/$count eq 0')).get() as Page;
      assert.ok(names(count).includes('Katherine Johnson') && !names(count).includes('Ada Lovelace'));
    });

    it('allows $filter with $orderby only as an advanced query; $search needs the header', async () => {
      const sorted = await graphError(users("startsWith(displayName,'a')").orderby('displayName').get());
      assert.equal(sorted.message, 'Sorting not supported for current query.');
      const ok = await advanced(users("startsWith(displayName,'a')").orderby('displayName desc')).get() as Page;
      assert.deepEqual(ok.value.map((u) => u.displayName), ['Alex Wilber', 'Alan Turing', 'Ada Lovelace']);
      const search = await graphError(client.api('/users').search('"displayName:grace"').get());
      assert.equal(search.message, "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'");
      const found = await client.api('/users').search('"displayName:hop"').header('ConsistencyLevel', 'eventual').select('displayName').get() as Page;
      assert.deepEqual(names(found), ['Grace Hopper']);
    });
  });

  describe('limits and errors', () => {
    it('limits in to 15 values and eq values to 120 characters unless advanced', async () => {
      const values = Array.from({ length: 16 }, (_, i) => `'u${i}@contoso.com'`).join(',');
      const tooMany = await graphError(users(`userPrincipalName in (${values})`).get());
      assert.equal(tooMany.code, 'Request_UnsupportedQuery');
      assert.match(tooMany.message, /limited to 15 expressions/);
      await advanced(users(`userPrincipalName in (${values})`)).get();
      const fifteen = Array.from({ length: 15 }, (_, i) => `'u${i}@contoso.com'`).join(',');
      await users(`userPrincipalName in (${fifteen})`).get();
      const long = await graphError(users(`displayName eq '${'x'.repeat(121)}'`).get());
      assert.match(long.message, /maximum length of 120 characters/);
      await users(`displayName eq '${'x'.repeat(120)}'`).get();
    });

    it('names unsupported properties and bad literals', async () => {
      const created = await graphError(client.api('/groups').filter("createdDateTime ge 2020-01-01T00:00:00Z").get());
      assert.equal(created.message, "Unsupported or invalid query filter clause specified for property 'createdDateTime' of resource 'Group'.");
      const unknown = await graphError(users("favouriteColour eq 'blue'").get());
      assert.equal(unknown.message, "Unsupported or invalid query filter clause specified for property 'favouriteColour' of resource 'User'.");
      const types = await graphError(users("accountEnabled eq 'true'").get());
      assert.equal(types.message, "A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'.");
      const syntax = await graphError(users("displayName eq 'unterminated").get());
      assert.equal(syntax.statusCode, 400);
      assert.match(syntax.message, /^Invalid filter clause: Syntax error/);
    });
  });
});
