/**
 * The shared lab tenant "synchronized by Entra Connect" from the shared lab's AD (lab/tenant/connect-seed.ts):
 * what Graph shows after `resetTenantToEntraConnect()`, checked against Samba's own database read with
 * `ldbsearch` (GUIDs and SIDs formatted by Samba, not by the seed's converters). The tenant is reset to its
 * default seed afterwards, also when a test fails.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { AdConnection, TenantConnection } from '../connection.ts';
import { buildOrganisation } from '../fixtures/organisation.ts';
import { scopeDnOf, sidToString } from '../tenant/connect-seed.ts';
import { DEFAULT_TENANT_ID, deterministicGuid, type TenantSeed } from '../tenant/seed.ts';
import { ldbSearch, ldbValue, ldbValues, type LdbEntry } from './support/samba-ldb.ts';
import { resetTenantToDefault, resetTenantToEntraConnect, sharedAd, sharedTenant } from './support/shared-lab.ts';
import { appGraphClient, assertLabCaTrusted, graphError } from './support/tenant.ts';

type Obj = Record<string, unknown> & { id: string };
type Page = { value: Obj[]; '@odata.nextLink'?: string };

const SYNCED_MESSAGE = 'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.';
const USER_SELECT = 'id,userPrincipalName,displayName,accountEnabled,onPremisesSyncEnabled,onPremisesImmutableId,onPremisesSecurityIdentifier,' +
  'onPremisesSamAccountName,onPremisesDomainName,onPremisesDistinguishedName,onPremisesUserPrincipalName';
const GROUP_SELECT = 'id,displayName,mailNickname,mailEnabled,securityEnabled,groupTypes,onPremisesSyncEnabled,onPremisesSecurityIdentifier,' +
  'onPremisesSamAccountName,onPremisesDomainName';

/** Samba's GUID text → the 16 bytes in objectGUID order (Data1-3 little-endian) → base64: Entra Connect's immutable id. */
function immutableIdOfGuidText(text: string): string {
  const hex = text.replaceAll('-', '');
  const swapped = [6, 4, 2, 0, 10, 8, 14, 12].map((i) => hex.slice(i, i + 2)).join('') + hex.slice(16);
  return Buffer.from(swapped, 'hex').toString('base64');
}

async function listAll(client: Client, path: string): Promise<Obj[]> {
  const out: Obj[] = [];
  let page = await client.api(path).get() as Page;
  for (;;) {
    out.push(...page.value);
    const next = page['@odata.nextLink'];
    if (next === undefined) return out;
    page = await client.api(next).get() as Page;
  }
}

/** What the default sync rules keep (the lab has no MSOL_/AAD_ accounts; the rule is applied anyway). */
function synchronized(entry: LdbEntry): boolean {
  const sam = ldbValue(entry, 'sAMAccountName') ?? '';
  return ldbValue(entry, 'isCriticalSystemObject') !== 'TRUE' && sam !== '' && !/^(MSOL_|AAD_)/i.test(sam);
}

/** Cloud objects by their onPremisesDistinguishedName (lower case). */
function byOnPremisesDn(objects: ReadonlyArray<Obj>): Map<string, Obj> {
  return new Map(objects.map((o) => [String(o['onPremisesDistinguishedName']).toLowerCase(), o]));
}

describe('tenant synchronized by Entra Connect from the lab AD', () => {
  const organisation = buildOrganisation();
  let ad: AdConnection;
  let tenant: TenantConnection;
  let client: Client;
  let seed: TenantSeed;
  let adUsers: LdbEntry[];
  let adGroups: LdbEntry[];
  let cloudUsers: Obj[];

  before(async () => {
    assertLabCaTrusted();
    ad = await sharedAd();
    tenant = sharedTenant();
    const scope = scopeDnOf(ad);
    const common = ['objectGUID', 'objectSid', 'sAMAccountName', 'isCriticalSystemObject', 'displayName', 'cn'];
    adUsers = (await ldbSearch(scope, '(&(objectClass=user)(!(objectClass=computer)))', [...common, 'userPrincipalName', 'userAccountControl'])).filter(synchronized);
    adGroups = (await ldbSearch(scope, '(objectClass=group)', [...common, 'groupType', 'member']))
      .filter((g) => synchronized(g) && (Number(ldbValue(g, 'groupType')) & 0x80000000) !== 0);
    seed = await resetTenantToEntraConnect({ ad, tenant });
    client = appGraphClient(tenant);
    cloudUsers = await listAll(client, `/users?$select=${USER_SELECT}&$top=999`);
  });

  after(async () => {
    if (!tenant) return;
    await resetTenantToDefault(tenant);
    const org = await appGraphClient(tenant).api('/organization').get() as { value: Obj[] };
    assert.equal(org.value[0]?.['onPremisesSyncEnabled'], null, 'the tenant is back to its default seed');
  });

  it('converts binary SIDs: revision, count, 48-bit big-endian authority, little-endian sub-authorities', () => {
    const administrators = Buffer.from('01020000000000052000000020020000', 'hex');
    assert.equal(sidToString(administrators), 'S-1-5-32-544');
    const domainUser = Buffer.from('010500000000000515000000' + '00a3bbbd' + '2347d04f' + '1b0ad53a' + 'b90b0000', 'hex');
    assert.equal(sidToString(domainUser), 'S-1-5-21-3183190784-1339049763-987040283-3001');
    assert.throws(() => sidToString(Buffer.from('0105000000000005', 'hex')), /sub-authorities/);
  });

  it('holds every in-scope AD user with the immutable id (objectGUID), SID and names AD has', () => {
    assert.ok(adUsers.length > 1800, `the lab AD has its ~1,860 users in OU=Contoso (got ${adUsers.length})`);
    assert.equal(seed.users?.length, adUsers.length + 1, 'every AD user, and the old tool\'s cloud sync account');
    const synced = byOnPremisesDn(cloudUsers.filter((u) => u['onPremisesSyncEnabled'] === true));
    assert.equal(synced.size, adUsers.length, 'one synced cloud user per AD user');
    for (const entry of adUsers) {
      const user = synced.get(entry.dn.toLowerCase());
      assert.ok(user, `${entry.dn} is synchronized`);
      assert.equal(user['onPremisesImmutableId'], immutableIdOfGuidText(ldbValue(entry, 'objectGUID') ?? ''), `${entry.dn}: immutable id`);
      assert.equal(user['onPremisesSecurityIdentifier'], ldbValue(entry, 'objectSid'), `${entry.dn}: SID`);
      assert.equal(user['onPremisesSamAccountName'], ldbValue(entry, 'sAMAccountName'));
      assert.equal(user['onPremisesDomainName'], ad.domain);
      assert.equal(user['onPremisesUserPrincipalName'], ldbValue(entry, 'userPrincipalName') ?? null);
      assert.equal(user['accountEnabled'], (Number(ldbValue(entry, 'userAccountControl')) & 2) === 0, `${entry.dn}: accountEnabled`);
      assert.equal(user['displayName'], ldbValue(entry, 'displayName') ?? ldbValue(entry, 'cn'));
    }
    const cloudOnly = cloudUsers.filter((u) => u['onPremisesSyncEnabled'] !== true).map((u) => String(u['userPrincipalName'])).sort();
    const syncAccount = cloudOnly.filter((upn) => upn.startsWith('Sync_'));
    assert.deepEqual(cloudOnly.filter((upn) => !upn.startsWith('Sync_')), ['admin@contoso.onmicrosoft.com', 'svc.backup@contoso.onmicrosoft.com'],
      'the administrator and the cloud-only samples stay');
    assert.equal(syncAccount.length, 1);
    assert.match(syncAccount[0] ?? '', /^Sync_SYNC01_[0-9a-f]{12}@contoso\.onmicrosoft\.com$/, 'beside Entra Connect\'s cloud sync account');
  });

  it('keeps AD UPNs in verified domains and gives the others <sAMAccountName>@<initial domain>', () => {
    const byOnPremDn = byOnPremisesDn(cloudUsers);
    let kept = 0;
    let replaced = 0;
    for (const entry of adUsers) {
      const adUpn = ldbValue(entry, 'userPrincipalName') ?? '';
      const cloud = byOnPremDn.get(entry.dn.toLowerCase());
      if (/^[a-z0-9.'-]{1,64}@contoso\.com$/i.test(adUpn)) {
        assert.equal(cloud?.['userPrincipalName'], adUpn);
        kept += 1;
      } else if (!adUpn.endsWith('@contoso.com')) {
        assert.equal(cloud?.['userPrincipalName'], `${ldbValue(entry, 'sAMAccountName')}@contoso.onmicrosoft.com`, `${entry.dn} (${adUpn})`);
        replaced += 1;
      }
    }
    assert.ok(kept > 1800 && replaced >= 2, `kept ${kept}, replaced ${replaced}`);
    const leeGu = byOnPremDn.get(organisation.notable.nonRoutableSuffixUser.toLowerCase());
    assert.equal(leeGu?.['userPrincipalName'], 'lgu@contoso.onmicrosoft.com');
    assert.equal(leeGu?.['onPremisesUserPrincipalName'], 'lee.gu@contoso.test');
  });

  it('takes over the cloud-only sample user an AD user has the UPN of (soft match), keeping its id and memberships', async () => {
    const megan = await client.api('/users/megan.bowen@contoso.com').select('id,onPremisesSyncEnabled,onPremisesImmutableId').get() as Obj;
    assert.equal(megan['onPremisesSyncEnabled'], true);
    assert.equal(megan.id, deterministicGuid(DEFAULT_TENANT_ID, 'user', 'megan.bowen@contoso.com'), 'the id of the default seed\'s Megan Bowen');
    const cloudTeam = await client.api('/groups').filter("mailNickname eq 'cloudteam'").select('id,onPremisesSyncEnabled').get() as Page;
    const team = cloudTeam.value[0];
    assert.ok(team);
    assert.equal(team['onPremisesSyncEnabled'], null, 'the Microsoft 365 sample group stays cloud-only');
    const members = await client.api(`/groups/${team.id}/members`).select('id').get() as Page;
    assert.ok(members.value.some((m) => m.id === megan.id));
  });

  it('holds every in-scope security group with its SID, names and AD\'s direct memberships', async () => {
    assert.ok(adGroups.length >= 20, `the lab AD has its security groups (got ${adGroups.length})`);
    const cloudGroups = (await listAll(client, `/groups?$select=${GROUP_SELECT}&$top=999`)).filter((g) => g['onPremisesSyncEnabled'] === true);
    assert.equal(cloudGroups.length, adGroups.length);
    assert.equal(seed.groups?.length, adGroups.length);
    const bySid = new Map(cloudGroups.map((g) => [String(g['onPremisesSecurityIdentifier']), g]));
    const sidOfDn = new Map([...adUsers, ...adGroups].map((e) => [e.dn.toLowerCase(), ldbValue(e, 'objectSid') ?? '']));
    let memberships = 0;
    for (const entry of adGroups) {
      const group = bySid.get(ldbValue(entry, 'objectSid') ?? '');
      assert.ok(group, `${entry.dn} is synchronized with its SID`);
      assert.equal(group['onPremisesSamAccountName'], ldbValue(entry, 'sAMAccountName'));
      assert.equal(group['onPremisesDomainName'], ad.domain);
      assert.equal(group['displayName'], ldbValue(entry, 'displayName') ?? ldbValue(entry, 'cn'));
      assert.equal(group['securityEnabled'], true);
      assert.deepEqual(group['groupTypes'], []);
      assert.doesNotMatch(String(group['mailNickname']), /[@()\\[\]";:.<>, ]/);
      const expected = ldbValues(entry, 'member').map((dn) => sidOfDn.get(dn.toLowerCase())).filter((sid): sid is string => sid !== undefined).sort();
      const actual = (await listAll(client, `/groups/${group.id}/members?$select=id,onPremisesSecurityIdentifier&$top=999`))
        .map((m) => String(m['onPremisesSecurityIdentifier'])).sort();
      assert.deepEqual(actual, expected, `${entry.dn}: members`);
      memberships += actual.length;
    }
    assert.ok(memberships > 1650, `the large group and the nested groups are there (${memberships} memberships)`);
    const nested = organisation.notable.nestedGroups.map((dn) => sidOfDn.get(dn.toLowerCase()));
    assert.ok(nested.every((sid) => sid !== undefined), 'the nested groups are in scope');
  });

  it('marks the organization as synchronized', async () => {
    const org = (await client.api('/organization').get() as { value: Obj[] }).value[0];
    assert.ok(org);
    assert.equal(org['onPremisesSyncEnabled'], true);
    const last = Date.parse(String(org['onPremisesLastSyncDateTime']));
    assert.ok(Math.abs(Date.now() - last) < 10 * 60_000, `onPremisesLastSyncDateTime is the seed's sync time (${String(org['onPremisesLastSyncDateTime'])})`);
  });

  it('finds users and groups by onPremisesSecurityIdentifier (a default $filter) and returns the on-premises properties on $select', async () => {
    const large = adGroups.find((g) => g.dn.toLowerCase() === organisation.notable.largeGroup.toLowerCase());
    const sid = large && ldbValue(large, 'objectSid');
    assert.ok(sid);
    const groups = await client.api('/groups').filter(`onPremisesSecurityIdentifier eq '${sid}'`)
      .select('id,onPremisesSecurityIdentifier,onPremisesSyncEnabled,onPremisesSamAccountName').get() as Page;
    assert.equal(groups.value.length, 1);
    assert.deepEqual({ ...groups.value[0], id: undefined }, {
      id: undefined, onPremisesSecurityIdentifier: sid, onPremisesSyncEnabled: true, onPremisesSamAccountName: ldbValue(large, 'sAMAccountName'),
    });
    const ceo = adUsers.find((u) => u.dn.toLowerCase() === organisation.notable.ceo.toLowerCase());
    const ceoSid = ceo && ldbValue(ceo, 'objectSid');
    assert.ok(ceoSid);
    const users = await client.api('/users').filter(`onPremisesSecurityIdentifier eq '${ceoSid}'`)
      .select('onPremisesSecurityIdentifier,onPremisesSyncEnabled,onPremisesSamAccountName').get() as Page;
    assert.deepEqual(users.value, [{ onPremisesSecurityIdentifier: ceoSid, onPremisesSyncEnabled: true, onPremisesSamAccountName: ldbValue(ceo, 'sAMAccountName') }]);
    const none = await client.api('/groups').filter("onPremisesSecurityIdentifier eq 'S-1-5-21-1-2-3-4'").get() as Page;
    assert.deepEqual(none.value, []);
  });

  it('refuses writes to synced groups and users: PATCH and members/$ref', async () => {
    const group = (await client.api('/groups').filter("onPremisesSamAccountName eq 'GG-Sales'").header('ConsistencyLevel', 'eventual').query({ $count: 'true' }).get() as Page).value[0];
    assert.ok(group);
    const patch = await graphError(client.api(`/groups/${group.id}`).patch({ description: 'changed in the cloud' }));
    assert.equal(patch.statusCode, 400);
    assert.equal(patch.code, 'Request_BadRequest');
    assert.equal(patch.message, SYNCED_MESSAGE);
    const cloudOnly = (await client.api('/users/svc.backup@contoso.onmicrosoft.com').get()) as Obj;
    const add = await graphError(client.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': `${tenant.graphBaseUrl}v1.0/directoryObjects/${cloudOnly.id}` }));
    assert.equal(add.statusCode, 400);
    assert.equal(add.message, SYNCED_MESSAGE);
    const user = cloudUsers.find((u) => u['onPremisesSyncEnabled'] === true);
    assert.ok(user);
    const userPatch = await graphError(client.api(`/users/${user.id}`).patch({ jobTitle: 'changed in the cloud' }));
    assert.equal(userPatch.statusCode, 400);
    assert.equal(userPatch.message, SYNCED_MESSAGE);
  });
});
