/**
 * A tenant "synchronized by Entra Connect" from the lab's AD: every user and security group of the synchronized
 * OU (OU=Contoso by default) as a cloud object with `onPremisesSyncEnabled: true` and the on-premises identifiers
 * Entra Connect writes (immutable id, SID, sAMAccountName, domain, DN, on-premises UPN), group memberships as in AD,
 * and the organization marked as directory-synchronized. The default app, administrator and cloud-only samples
 * stay (a sample user whose UPN an AD user has is taken over, as Connect's soft match would).
 *
 * The rules follow the default sync rules (ad-reference.md §5.3, §6): critical system objects, computers,
 * `MSOL_`/`AAD_`/`SUPPORT_388945a0`/`CAS_{…}` accounts, conflict (CNF) objects and written-back objects are not
 * synchronized; distribution groups are left out here (only security groups). A UPN Entra cannot take (none,
 * unverified suffix, bad characters, > 64 characters before the @) becomes `<mailNickname>@<initial domain>`
 * (the mailNickname falls back to sAMAccountName); duplicate UPNs and proxy addresses are resolved as duplicate
 * attribute resiliency does, with an `onPremisesProvisioningErrors` entry.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client, type Entry } from 'ldapts';
import type { AdConnection } from '../connection.ts';
import type { JsonObject } from './model.ts';
import { defaultSeed, deterministicGuid, type SeedDomain, type SeedGroup, type SeedUser, type TenantSeed } from './seed.ts';
import { isWellFormedUpn } from './validation.ts';

export type EntraConnectSeedOptions = {
  /** The synchronized OU: a DN relative to the base DN (`OU=Contoso`, the default) or a full DN under it. */
  readonly baseOu?: string;
  /**
   * Where immutable ids come from: `objectGUID` (default; the classic source anchor) or `mS-DS-ConsistencyGuid`
   * (the current Connect default: the consistency GUID when set, else objectGUID).
   */
  readonly sourceAnchor?: 'objectGUID' | 'mS-DS-ConsistencyGuid';
  /** Verified domains besides the initial one (default: those of `defaultSeed()`, which the lab's AD UPNs use). */
  readonly domains?: ReadonlyArray<SeedDomain>;
  /** The end of the last Connect sync cycle (default: now). */
  readonly lastSyncDateTime?: Date;
  /**
   * Which tool synchronized the tenant, told by its cloud sync account (a user holding Directory
   * Synchronization Accounts): `entra-connect` (default; `Sync_<server>_<hex>`), `cloud-sync`
   * (`ADToAADSyncServiceAccount`) or `dirsync` (the old tool: also `Sync_<server>_<hex>`, anchors from objectGUID).
   */
  readonly tool?: OldSyncTool;
  /** The old server's computer name, in Connect's and DirSync's sync account (default `SYNC01`). */
  readonly serverName?: string;
  /** Synchronized users whose AD object is gone (deleted while the old tool was not running): default 0. */
  readonly orphans?: number;
  /**
   * Users whose cloud attributes drifted from AD (the old tool's rules flowed them differently): every n-th
   * synchronized user gets another jobTitle and department. Default 0 (none).
   */
  readonly driftEvery?: number;
};

export type OldSyncTool = 'entra-connect' | 'cloud-sync' | 'dirsync';

/** What drifted users hold in the cloud instead of AD's values. */
export const DRIFTED = { jobTitle: 'Title from the old sync rules', department: 'Department from the old sync rules' } as const;

type AdUser = {
  readonly dn: string;
  readonly cn: string;
  readonly sam: string;
  readonly upn: string | undefined;
  readonly mailNickname: string | undefined;
  readonly mail: string | undefined;
  readonly proxyAddresses: ReadonlyArray<string>;
  readonly userAccountControl: number;
  readonly anchor: Buffer;
  readonly sid: string;
  readonly managerDn: string | undefined;
  readonly attributes: Readonly<Record<string, string | undefined>>;
};

type AdGroup = {
  readonly dn: string;
  readonly cn: string;
  readonly sam: string;
  readonly displayName: string | undefined;
  readonly description: string | undefined;
  readonly mailNickname: string | undefined;
  readonly mail: string | undefined;
  readonly proxyAddresses: ReadonlyArray<string>;
  readonly anchor: Buffer;
  readonly sid: string;
  readonly members: ReadonlyArray<string>;
};

/** AD attribute → Graph user property, flowed with `Trim` by the default rules (ad-reference.md §6.1). */
const USER_STRING_FLOWS: ReadonlyArray<readonly [string, string]> = [
  ['givenName', 'givenName'], ['sn', 'surname'], ['title', 'jobTitle'], ['department', 'department'], ['company', 'companyName'],
  ['physicalDeliveryOfficeName', 'officeLocation'], ['streetAddress', 'streetAddress'], ['l', 'city'], ['st', 'state'],
  ['postalCode', 'postalCode'], ['co', 'country'], ['mobile', 'mobilePhone'], ['facsimileTelephoneNumber', 'faxNumber'],
  ['employeeID', 'employeeId'], ['c', 'usageLocation'],
];

const BINARY_ATTRIBUTES = ['objectGUID', 'objectSid', 'mS-DS-ConsistencyGuid'];
const COMMON_ATTRIBUTES = ['cn', 'sAMAccountName', 'isCriticalSystemObject', 'adminDescription', 'mailNickname', 'mail',
  'proxyAddresses', 'displayName', ...BINARY_ATTRIBUTES];
const USER_ATTRIBUTES = [...COMMON_ATTRIBUTES, 'userPrincipalName', 'userAccountControl', 'telephoneNumber', 'manager',
  ...USER_STRING_FLOWS.map(([ad]) => ad)];
const GROUP_ATTRIBUTES = [...COMMON_ATTRIBUTES, 'groupType', 'description', 'member'];

/** The string form (`S-1-5-21-…`) of a binary SID: revision, sub-authority count, 48-bit big-endian authority, LE sub-authorities. */
export function sidToString(sid: Buffer): string {
  if (sid.length < 8) throw new Error(`A SID has at least 8 bytes, got ${sid.length}`);
  const revision = sid.readUInt8(0);
  const count = sid.readUInt8(1);
  if (sid.length !== 8 + 4 * count) throw new Error(`A SID with ${count} sub-authorities has ${8 + 4 * count} bytes, got ${sid.length}`);
  const authority = sid.readUIntBE(2, 6);
  const subAuthorities = Array.from({ length: count }, (_, i) => sid.readUInt32LE(8 + 4 * i));
  return ['S', revision, authority, ...subAuthorities].join('-');
}

/** The DNS domain of a base DN: `DC=contoso,DC=test` → `contoso.test`. */
export function dnsDomainOf(baseDn: string): string {
  return baseDn.split(',').map((rdn) => rdn.trim()).filter((rdn) => /^dc=/i.test(rdn)).map((rdn) => rdn.slice(3)).join('.').toLowerCase();
}

/** A group mailNickname from an AD name: ASCII only, without the characters Graph forbids (`@ ( ) \ [ ] " ; : . < > , space`), ≤ 64. */
export function groupMailNickname(name: string): string {
  const ascii = name.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  return ascii.replace(/[^\x21-\x7e]|[@()\\[\]";:.<>,]/g, '').slice(0, 64);
}

function first(entry: Entry, name: string): string | undefined {
  const value = entry[name];
  const one = Array.isArray(value) ? value[0] : value;
  if (one === undefined) return undefined;
  const text = (Buffer.isBuffer(one) ? one.toString('utf8') : one).trim();
  return text === '' ? undefined : text;
}

function all(entry: Entry, name: string): string[] {
  const value = entry[name];
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v).trim()).filter((v) => v !== '');
}

function binary(entry: Entry, name: string): Buffer | undefined {
  const value = entry[name];
  const one = Array.isArray(value) ? value[0] : value;
  return Buffer.isBuffer(one) && one.length > 0 ? one : undefined;
}

/** What the default sync rules leave out (cloudFiltered and the Join rules' scope, ad-reference.md §5.3). */
function filteredOut(entry: Entry, kind: 'user' | 'group'): boolean {
  const sam = first(entry, 'sAMAccountName');
  const nickname = first(entry, 'mailNickname') ?? '';
  if (first(entry, 'isCriticalSystemObject') !== undefined || sam === undefined) return true;
  if ((first(entry, 'adminDescription') ?? '').startsWith(kind === 'user' ? 'User_' : 'Group_')) return true;
  if (entry.dn.includes('\\0ACNF:')) return true;
  if (kind === 'group') return sam === 'MSOL_AD_Sync_RichCoexistence';
  return sam === 'SUPPORT_388945a0' || /^(MSOL_|AAD_)/i.test(sam) || sam.toLowerCase() === 'krbtgt' || nickname.startsWith('SystemMailbox{')
    || (sam.startsWith('CAS_') && sam.includes('}')) || (nickname.startsWith('CAS_') && nickname.includes('}'));
}

function anchorOf(entry: Entry, sourceAnchor: EntraConnectSeedOptions['sourceAnchor']): Buffer {
  const guid = binary(entry, 'objectGUID');
  if (!guid) throw new Error(`${entry.dn} has no objectGUID`);
  return (sourceAnchor === 'mS-DS-ConsistencyGuid' ? binary(entry, 'mS-DS-ConsistencyGuid') : undefined) ?? guid;
}

function sidOf(entry: Entry): string {
  const sid = binary(entry, 'objectSid');
  if (!sid) throw new Error(`${entry.dn} has no objectSid`);
  return sidToString(sid);
}

function toUser(entry: Entry, sourceAnchor: EntraConnectSeedOptions['sourceAnchor']): AdUser {
  return {
    dn: entry.dn, cn: first(entry, 'cn') ?? '', sam: first(entry, 'sAMAccountName') ?? '', upn: first(entry, 'userPrincipalName'),
    mailNickname: first(entry, 'mailNickname'), mail: first(entry, 'mail'), proxyAddresses: all(entry, 'proxyAddresses'),
    userAccountControl: Number(first(entry, 'userAccountControl') ?? 0), anchor: anchorOf(entry, sourceAnchor), sid: sidOf(entry), managerDn: first(entry, 'manager'),
    attributes: Object.fromEntries(['displayName', 'telephoneNumber', ...USER_STRING_FLOWS.map(([ad]) => ad)].map((a) => [a, first(entry, a)])),
  };
}

function toGroup(entry: Entry, sourceAnchor: EntraConnectSeedOptions['sourceAnchor']): AdGroup {
  return {
    dn: entry.dn, cn: first(entry, 'cn') ?? '', sam: first(entry, 'sAMAccountName') ?? '', displayName: first(entry, 'displayName'),
    description: first(entry, 'description'), mailNickname: first(entry, 'mailNickname'), mail: first(entry, 'mail'),
    proxyAddresses: all(entry, 'proxyAddresses'), anchor: anchorOf(entry, sourceAnchor), sid: sidOf(entry), members: all(entry, 'member'),
  };
}

function isSecurityGroup(entry: Entry): boolean {
  return (Number(first(entry, 'groupType') ?? 0) & 0x80000000) !== 0;
}

/** The synchronized OU's DN: `OU=Contoso` → `OU=Contoso,<baseDn>`; a DN already ending in the base DN is kept. */
export function scopeDnOf(ad: AdConnection, baseOu = 'OU=Contoso'): string {
  return baseOu.toLowerCase().endsWith(ad.baseDn.toLowerCase()) ? baseOu : `${baseOu},${ad.baseDn}`;
}

async function readScope(ad: AdConnection, scopeDn: string, sourceAnchor: EntraConnectSeedOptions['sourceAnchor']): Promise<{ users: AdUser[]; groups: AdGroup[] }> {
  const client = new Client({
    url: ad.ldapsUrl, connectTimeout: 5000, timeout: 60_000,
    tlsOptions: { ca: [readFileSync(ad.caCertFile)], servername: ad.dcHostName },
  });
  try {
    await client.bind(ad.adminUpn, ad.adminPassword);
    const search = async (filter: string, attributes: string[]): Promise<Entry[]> =>
      (await client.search(scopeDn, { scope: 'sub', filter, attributes, explicitBufferAttributes: BINARY_ATTRIBUTES, paged: { pageSize: 500 } })).searchEntries;
    const users = (await search('(&(objectClass=user)(!(objectClass=computer)))', USER_ATTRIBUTES)).filter((e) => !filteredOut(e, 'user'));
    const groups = (await search('(objectClass=group)', GROUP_ATTRIBUTES)).filter((e) => isSecurityGroup(e) && !filteredOut(e, 'group'));
    return { users: users.map((e) => toUser(e, sourceAnchor)).sort(inTreeOrder), groups: groups.map((e) => toGroup(e, sourceAnchor)).sort(inTreeOrder) };
  } finally {
    await client.unbind();
  }
}

/**
 * Objects in the order a sync of the tree meets them (parent containers first, then by name), not the order the DC
 * returns them: which of two AD objects with the same address gets it in the cloud must not change when the lab's
 * domain is provisioned again with new GUIDs.
 */
function inTreeOrder(a: { readonly dn: string }, b: { readonly dn: string }): number {
  const path = (dn: string): string => dn.toLowerCase().split(/(?<!\\),/).reverse().join('\u0000');
  const x = path(a.dn);
  const y = path(b.dn);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The values Entra keeps unique (UPNs, proxy addresses), claimed in sync order, and what duplicate attribute resiliency quarantined. */
class Claims {
  private readonly upns = new Set<string>();
  private readonly addresses = new Set<string>();
  private quarantined = 0;

  constructor(private readonly initialDomain: string) {}

  claimUpn(upn: string): void {
    this.upns.add(upn.toLowerCase());
  }

  claimAddress(address: string): void {
    this.addresses.add(address.replace(/^smtp:/i, '').toLowerCase());
  }

  /** The UPN itself, or `<prefix>+NNNN@<initial domain>` when another object holds it. */
  upn(wanted: string): { upn: string; conflict: boolean } {
    if (!this.upns.has(wanted.toLowerCase())) {
      this.claimUpn(wanted);
      return { upn: wanted, conflict: false };
    }
    const prefix = (wanted.split('@')[0] ?? '').slice(0, 59);
    let upn: string;
    do {
      this.quarantined += 1;
      upn = `${prefix}+${String(1000 + this.quarantined)}@${this.initialDomain}`;
    } while (this.upns.has(upn.toLowerCase()));
    this.claimUpn(upn);
    return { upn, conflict: true };
  }

  /** Splits proxy addresses into the ones this object gets and the ones another object already holds. */
  addressesFor(addresses: ReadonlyArray<string>): { kept: string[]; conflicts: string[] } {
    const kept: string[] = [];
    const conflicts: string[] = [];
    const own = new Set<string>();
    for (const address of addresses) {
      const key = address.replace(/^smtp:/i, '').toLowerCase();
      if (own.has(key)) continue;
      own.add(key);
      if (this.addresses.has(key)) conflicts.push(address);
      else kept.push(address);
    }
    for (const address of kept) this.claimAddress(address);
    return { kept, conflicts };
  }
}

type SeedContext = {
  readonly domainName: string;
  readonly netbiosName: string;
  readonly initialDomain: string;
  readonly verified: ReadonlySet<string>;
  readonly syncedAt: string;
  readonly claims: Claims;
};

function provisioningError(ctx: SeedContext, property: string, value: string): JsonObject {
  return { category: 'PropertyConflict', occurredDateTime: ctx.syncedAt, propertyCausingError: property, value };
}

/** The UPN Entra takes from AD: the AD one when it is well formed in a verified domain, else `<mailNickname>@<initial domain>`. */
function wantedUpn(ctx: SeedContext, user: AdUser, mailNickname: string): string {
  const upn = user.upn;
  if (upn !== undefined && isWellFormedUpn(upn) && ctx.verified.has((upn.split('@')[1] ?? '').toLowerCase())) return upn;
  const local = mailNickname.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9'.\-_!#^~]/g, '').replace(/\.+$/, '').slice(0, 64);
  return `${local === '' ? 'user' : local}@${ctx.initialDomain}`;
}

/** Proxy addresses as the default rules flow them: AD proxyAddresses, else `SMTP:<mail>`. */
function wantedAddresses(mail: string | undefined, proxyAddresses: ReadonlyArray<string>): string[] {
  if (proxyAddresses.length > 0) return [...proxyAddresses];
  return mail === undefined ? [] : [`SMTP:${mail}`];
}

function mailProps(ctx: SeedContext, mail: string | undefined, proxyAddresses: ReadonlyArray<string>): { props: JsonObject; errors: JsonObject[] } {
  const { kept, conflicts } = ctx.claims.addressesFor(wantedAddresses(mail, proxyAddresses));
  const errors = conflicts.map((a) => provisioningError(ctx, 'ProxyAddresses', a));
  const mailKept = mail !== undefined && kept.some((a) => a.replace(/^smtp:/i, '').toLowerCase() === mail.toLowerCase());
  return { props: { proxyAddresses: kept, ...(mailKept ? { mail } : {}) }, errors };
}

function onPremisesProps(ctx: SeedContext, obj: { sam: string; sid: string }): JsonObject {
  return {
    onPremisesSyncEnabled: true, onPremisesLastSyncDateTime: ctx.syncedAt, onPremisesSecurityIdentifier: obj.sid,
    onPremisesSamAccountName: obj.sam, onPremisesDomainName: ctx.domainName,
  };
}

function seedUser(ctx: SeedContext, user: AdUser): SeedUser {
  const mailNickname = user.mailNickname ?? user.sam;
  const { upn, conflict } = ctx.claims.upn(wantedUpn(ctx, user, mailNickname));
  const mail = mailProps(ctx, user.mail, user.proxyAddresses);
  const flows = Object.fromEntries(USER_STRING_FLOWS.flatMap(([ad, graph]) => {
    const value = user.attributes[ad];
    return value === undefined ? [] : [[graph, value]];
  }));
  const phone = user.attributes['telephoneNumber'];
  return {
    userPrincipalName: upn,
    displayName: user.attributes['displayName'] ?? user.cn,
    props: {
      ...flows,
      ...(phone !== undefined ? { businessPhones: [phone] } : {}),
      mailNickname,
      accountEnabled: (user.userAccountControl & 2) === 0,
      ...mail.props,
      ...onPremisesProps(ctx, user),
      onPremisesImmutableId: user.anchor.toString('base64'),
      onPremisesDistinguishedName: user.dn,
      onPremisesUserPrincipalName: user.upn ?? null,
      onPremisesProvisioningErrors: [...(conflict ? [provisioningError(ctx, 'UserPrincipalName', user.upn ?? upn)] : []), ...mail.errors],
    },
  };
}

function seedGroup(ctx: SeedContext, group: AdGroup, members: string[]): SeedGroup {
  const mail = mailProps(ctx, group.mail, group.proxyAddresses);
  const mailEnabled = typeof mail.props['mail'] === 'string';
  return {
    id: deterministicGuid('entra-connect', 'group', group.anchor.toString('hex')),
    displayName: group.displayName ?? group.cn,
    mailNickname: groupMailNickname(group.mailNickname ?? group.sam),
    kind: 'security',
    members,
    props: {
      description: group.description?.slice(0, 448) ?? null,
      mailEnabled,
      ...mail.props,
      ...onPremisesProps(ctx, group),
      onPremisesNetBiosName: ctx.netbiosName,
      onPremisesProvisioningErrors: mail.errors,
    },
  };
}

/** Claims the UPNs and addresses of the objects the seed keeps besides the synchronized ones (admin, samples not taken over). */
function claimCloudObjects(claims: Claims, base: TenantSeed, syncedUpns: ReadonlySet<string>): void {
  claims.claimUpn(base.globalAdmin?.userPrincipalName ?? `admin@${base.initialDomain ?? ''}`);
  for (const user of base.users ?? []) {
    if (syncedUpns.has(user.userPrincipalName.toLowerCase())) continue;
    claims.claimUpn(user.userPrincipalName);
    if (typeof user.props?.['mail'] === 'string') claims.claimAddress(user.props['mail']);
  }
  for (const contact of base.contacts ?? []) claims.claimAddress(contact.mail);
  const defaultDomain = base.domains?.find((d) => d.isDefault)?.name ?? base.initialDomain ?? '';
  for (const group of base.groups ?? []) if (group.kind === 'm365') claims.claimAddress(`${group.mailNickname}@${defaultDomain}`);
}

/** Resolves each group's AD `member` DNs to the seeded users (by UPN) and groups (by id); the rest is left out. */
function resolveMembers(groups: ReadonlyArray<AdGroup>, userRefs: ReadonlyMap<string, string>, groupIds: ReadonlyMap<string, string>): string[][] {
  return groups.map((g) => g.members.flatMap((dn) => {
    const key = dn.toLowerCase();
    const ref = userRefs.get(key) ?? groupIds.get(key);
    return ref === undefined ? [] : [ref];
  }));
}

/** The cloud account the old tool signs in with (its UPN names the tool and, for Connect and DirSync, the server). */
export function syncAccountOf(tool: OldSyncTool, serverName: string, initialDomain: string): SeedUser {
  const hex = createHash('sha256').update(`${tool}|${serverName}`).digest('hex').slice(0, 12);
  const local = tool === 'cloud-sync' ? 'ADToAADSyncServiceAccount' : `Sync_${serverName}_${hex}`;
  return {
    userPrincipalName: `${local}@${initialDomain}`, displayName: 'On-Premises Directory Synchronization Service Account',
    roles: ['Directory Synchronization Accounts'], props: { mailNickname: local },
  };
}

/** Synchronized users whose AD object no longer exists: anchors no AD object has, DNs under the synchronized OU. */
function orphanUsers(ctx: SeedContext, count: number, scopeDn: string): SeedUser[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `Former Employee ${String(i + 1).padStart(2, '0')}`;
    const sam = `former.employee${String(i + 1).padStart(2, '0')}`;
    const anchor = createHash('sha256').update(`orphan|${i}`).digest().subarray(0, 16);
    const upn = `${sam}@${ctx.initialDomain}`;
    ctx.claims.claimUpn(upn);
    return {
      userPrincipalName: upn, displayName: name,
      props: {
        mailNickname: sam, accountEnabled: true, ...onPremisesProps(ctx, { sam, sid: `S-1-5-21-1111111111-2222222222-3333333333-${9000 + i}` }),
        onPremisesImmutableId: anchor.toString('base64'), onPremisesDistinguishedName: `CN=${name},${scopeDn}`, onPremisesUserPrincipalName: upn,
        onPremisesProvisioningErrors: [],
      },
    };
  });
}

function drift(user: SeedUser, index: number, every: number): SeedUser {
  if (every <= 0 || index % every !== 0) return user;
  return { ...user, props: { ...user.props, ...DRIFTED } };
}

/** A seed in which the tenant is synchronized by Entra Connect from the lab's AD (see the module comment). */
export async function entraConnectSeed(ad: AdConnection, options: EntraConnectSeedOptions = {}): Promise<TenantSeed> {
  const base = defaultSeed();
  const domains = options.domains ?? base.domains ?? [];
  const initialDomain = base.initialDomain ?? 'contoso.onmicrosoft.com';
  const syncedAt = (options.lastSyncDateTime ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const tool = options.tool ?? 'entra-connect';
  const sourceAnchor = tool === 'dirsync' ? 'objectGUID' : options.sourceAnchor;
  const { users, groups } = await readScope(ad, scopeDnOf(ad, options.baseOu), sourceAnchor);
  const ctx: SeedContext = {
    domainName: dnsDomainOf(ad.baseDn), netbiosName: ad.netbiosName, initialDomain, syncedAt, claims: new Claims(initialDomain),
    verified: new Set([initialDomain, ...domains.map((d) => d.name)].map((d) => d.toLowerCase())),
  };
  const syncedUpns = new Set(users.flatMap((u) => (u.upn === undefined ? [] : [u.upn.toLowerCase()])));
  claimCloudObjects(ctx.claims, { ...base, domains }, syncedUpns);
  const syncAccount = syncAccountOf(tool, options.serverName ?? 'SYNC01', initialDomain);
  ctx.claims.claimUpn(syncAccount.userPrincipalName);
  const seededUsers = users.map((u) => seedUser(ctx, u));
  const userRefs = new Map(users.map((u, i) => [u.dn.toLowerCase(), seededUsers[i]?.userPrincipalName ?? '']));
  // Managers flow as Entra Connect's rules flow them: the manager's synchronized user, when there is one.
  const withManagers = seededUsers.map((u, i) => {
    const manager = users[i]?.managerDn === undefined ? undefined : userRefs.get(users[i]?.managerDn?.toLowerCase() ?? '');
    return manager === undefined ? u : { ...u, manager };
  });
  const groupIds = new Map(groups.map((g) => [g.dn.toLowerCase(), deterministicGuid('entra-connect', 'group', g.anchor.toString('hex'))]));
  const members = resolveMembers(groups, userRefs, groupIds);
  return {
    ...base,
    domains,
    includeSampleObjects: true,
    organization: { onPremisesSyncEnabled: true, onPremisesLastSyncDateTime: syncedAt },
    users: [...withManagers.map((u, i) => drift(u, i, options.driftEvery ?? 0)), ...orphanUsers(ctx, options.orphans ?? 0, scopeDnOf(ad, options.baseOu)), syncAccount],
    groups: groups.map((g, i) => seedGroup(ctx, g, members[i] ?? [])),
    contacts: [],
  };
}
