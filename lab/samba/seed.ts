/**
 * Writes a declarative organisation (lab/fixtures/organisation.ts, lab/fixtures/fabrikam.ts) into a lab
 * DC over LDAPS, with certificate validation, bound as Administrator; and adds members of another forest
 * by SID (seedForeignMembers), which makes the DC create foreign security principals.
 *
 * Samba serializes writes, so more connections do not help; what helps is keeping a few requests
 * in flight on one connection so the DC never waits for the client. Passwords (unicodePwd) are
 * the slow part (~5x an add), which is why only a few fixture users have one.
 */
import { readFileSync } from 'node:fs';
import { Attribute, Change, Client } from 'ldapts';
import type { AdConnection } from '../connection.ts';
import type { ForeignMember } from '../fixtures/fabrikam.ts';
import {
  consistencyGuidBytes, userStringAttributes,
  type FixtureContact, type FixtureGroup, type FixtureOu, type FixtureUser, type Organisation,
} from '../fixtures/organisation.ts';

/** What seedDirectory writes: the OUs, users, contacts and groups of a fixture organisation (contoso's or fabrikam's). */
export type DirectoryContent = Pick<Organisation, 'ous' | 'users' | 'groups' | 'contacts'>;

export type SeedReport = {
  readonly ous: number;
  readonly users: number;
  readonly usersWithPassword: number;
  readonly groups: number;
  readonly memberships: number;
  readonly contacts: number;
  /** Managers set with a modify after the add (the manager was added later than the report). */
  readonly deferredManagers: number;
  readonly elapsedMs: number;
  readonly phasesMs: { readonly ous: number; readonly users: number; readonly contacts: number; readonly groups: number; readonly managers: number };
};

/** Requests kept in flight on the connection. Measured: 1 → ~150 adds/s, 4 → ~210 adds/s; more gains nothing. */
const defaultInFlight = 4;

function attribute(type: string, values: ReadonlyArray<string> | ReadonlyArray<Buffer>): Attribute {
  return new Attribute({ type, values: [...values] as string[] | Buffer[] });
}

function ouAttributes(ou: FixtureOu): Attribute[] {
  return [
    attribute('objectClass', ['top', 'organizationalUnit']),
    attribute('ou', [ou.name]),
    ...(ou.description ? [attribute('description', [ou.description])] : []),
  ];
}

function userAttributes(user: FixtureUser, withManager: boolean): Attribute[] {
  const attributes = [
    attribute('objectClass', ['top', 'person', 'organizationalPerson', 'user']),
    attribute('cn', [user.cn]),
    attribute('sAMAccountName', [user.sAMAccountName]),
    attribute('userPrincipalName', [user.userPrincipalName]),
    attribute('userAccountControl', [String(user.userAccountControl)]),
  ];
  for (const name of userStringAttributes) {
    const value = user[name];
    if (value !== undefined) attributes.push(attribute(name, [value]));
  }
  if (user.proxyAddresses && user.proxyAddresses.length > 0) attributes.push(attribute('proxyAddresses', user.proxyAddresses));
  if (user.consistencyGuid) attributes.push(attribute('mS-DS-ConsistencyGuid', [consistencyGuidBytes(user.consistencyGuid)]));
  if (user.password) attributes.push(attribute('unicodePwd', [Buffer.from(`"${user.password}"`, 'utf16le')]));
  if (withManager && user.manager) attributes.push(attribute('manager', [user.manager]));
  return attributes;
}

function contactAttributes(contact: FixtureContact): Attribute[] {
  const attributes = [
    attribute('objectClass', ['top', 'person', 'organizationalPerson', 'contact']),
    attribute('cn', [contact.cn]),
    attribute('displayName', [contact.displayName]),
  ];
  for (const name of ['givenName', 'sn', 'mail', 'company', 'title', 'telephoneNumber', 'description'] as const) {
    const value = contact[name];
    if (value !== undefined) attributes.push(attribute(name, [value]));
  }
  if (contact.proxyAddresses && contact.proxyAddresses.length > 0) attributes.push(attribute('proxyAddresses', contact.proxyAddresses));
  return attributes;
}

function groupAttributes(group: FixtureGroup): Attribute[] {
  const attributes = [
    attribute('objectClass', ['top', 'group']),
    attribute('cn', [group.cn]),
    attribute('sAMAccountName', [group.sAMAccountName]),
    attribute('groupType', [String(group.groupType)]),
  ];
  for (const name of ['displayName', 'description', 'mail'] as const) {
    const value = group[name];
    if (value !== undefined) attributes.push(attribute(name, [value]));
  }
  if (group.proxyAddresses && group.proxyAddresses.length > 0) attributes.push(attribute('proxyAddresses', group.proxyAddresses));
  if (group.members.length > 0) attributes.push(attribute('member', group.members));
  return attributes;
}

/** Runs `work` over `items` with at most `limit` in flight, in order of start; rejects on the first failure. */
async function forEachLimited<T>(items: ReadonlyArray<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next] as T;
      next += 1;
      try {
        await work(item);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
  if (failure !== undefined) throw failure;
}

function seedError(what: string, dn: string, error: unknown): Error {
  const message = (error as Error).message;
  const hint = /already exists|68/.test(message)
    ? 'The directory is already seeded: start a fresh lab (npm run lab) before seeding again.'
    : 'Check that the lab DC is running (npm run lab:status) and that the fixture is valid.';
  return new Error(`Seeding the lab directory failed while adding ${what} ${dn}: ${message}. ${hint}`, { cause: error });
}

/** Orders groups so every group that is a member of another is added first (the fixture already is; this makes sure). */
function groupsInDependencyOrder(groups: ReadonlyArray<FixtureGroup>): FixtureGroup[] {
  const byDn = new Map(groups.map((g) => [g.dn.toLowerCase(), g]));
  const ordered: FixtureGroup[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (group: FixtureGroup): void => {
    const key = group.dn.toLowerCase();
    if (state.get(key) === 'done') return;
    if (state.get(key) === 'visiting') throw new Error(`The fixture has a group cycle through ${group.dn}: AD allows it, but it cannot be added in one pass. Break the cycle in lab/fixtures/organisation.ts.`);
    state.set(key, 'visiting');
    for (const member of group.members) {
      const nested = byDn.get(member.toLowerCase());
      if (nested) visit(nested);
    }
    state.set(key, 'done');
    ordered.push(group);
  };
  for (const group of groups) visit(group);
  return ordered;
}

/**
 * Seeds `organisation` into the DC of `ad`: OUs (parents first), users (managers set in the add
 * when the manager already exists, else afterwards), contacts, then groups with their members
 * (nested groups first). Expects a freshly started, empty lab.
 */
export async function seedDirectory(ad: AdConnection, organisation: DirectoryContent, options: { inFlight?: number } = {}): Promise<SeedReport> {
  const started = Date.now();
  const inFlight = options.inFlight ?? defaultInFlight;
  const client = await boundClient(ad);
  try {
    const phase = { ous: 0, users: 0, contacts: 0, groups: 0, managers: 0 };

    let t = Date.now();
    const ous = [...organisation.ous].sort((a, b) => a.dn.split(',').length - b.dn.split(',').length);
    for (const ou of ous) {
      await client.add(ou.dn, ouAttributes(ou)).catch((error: unknown) => { throw seedError('OU', ou.dn, error); });
    }
    phase.ous = Date.now() - t;

    t = Date.now();
    const added = new Set<string>();
    const deferred: FixtureUser[] = [];
    await forEachLimited(organisation.users, inFlight, async (user) => {
      const withManager = user.manager !== undefined && added.has(user.manager.toLowerCase());
      if (user.manager !== undefined && !withManager) deferred.push(user);
      await client.add(user.dn, userAttributes(user, withManager)).catch((error: unknown) => { throw seedError('user', user.dn, error); });
      added.add(user.dn.toLowerCase());
    });
    phase.users = Date.now() - t;

    t = Date.now();
    for (const user of deferred) {
      const manager = user.manager as string;
      await client.modify(user.dn, new Change({ operation: 'replace', modification: attribute('manager', [manager]) }))
        .catch((error: unknown) => { throw seedError('the manager of', user.dn, error); });
    }
    phase.managers = Date.now() - t;

    t = Date.now();
    await forEachLimited(organisation.contacts, inFlight, async (contact) => {
      await client.add(contact.dn, contactAttributes(contact)).catch((error: unknown) => { throw seedError('contact', contact.dn, error); });
    });
    phase.contacts = Date.now() - t;

    t = Date.now();
    // Sequential: a group may contain a group added just before it.
    for (const group of groupsInDependencyOrder(organisation.groups)) {
      await client.add(group.dn, groupAttributes(group)).catch((error: unknown) => { throw seedError('group', group.dn, error); });
    }
    phase.groups = Date.now() - t;

    return {
      ous: organisation.ous.length,
      users: organisation.users.length,
      usersWithPassword: organisation.users.filter((u) => u.password !== undefined).length,
      groups: organisation.groups.length,
      memberships: organisation.groups.reduce((n, g) => n + g.members.length, 0),
      contacts: organisation.contacts.length,
      deferredManagers: deferred.length,
      elapsedMs: Date.now() - started,
      phasesMs: phase,
    };
  } finally {
    await client.unbind();
  }
}

/** A client bound as the DC's Administrator over LDAPS, validating its certificate. */
async function boundClient(ad: AdConnection): Promise<Client> {
  const client = new Client({
    url: ad.ldapsUrl,
    connectTimeout: 5000,
    timeout: 60_000,
    tlsOptions: { ca: [readFileSync(ad.caCertFile)], servername: ad.dcHostName },
  });
  try {
    await client.bind(ad.adminUpn, ad.adminPassword);
  } catch (error) {
    await client.unbind();
    throw new Error(`Cannot bind to the lab DC at ${ad.ldapsUrl} as ${ad.adminUpn}: ${(error as Error).message}. Is the lab running (npm run lab:status)?`, { cause: error });
  }
  return client;
}

/** The text form of a binary SID (`S-1-5-21-…`): revision, 48-bit authority (big-endian), sub-authorities (little-endian). */
export function sidToString(sid: Buffer): string {
  const count = sid.length >= 2 ? (sid[1] ?? 0) : 0;
  if (sid.length < 8 || sid.length !== 8 + 4 * count) throw new Error(`Not a binary SID (${sid.length} bytes: ${sid.toString('hex')}).`);
  const authority = sid.readUIntBE(2, 6);
  const subAuthorities = Array.from({ length: count }, (_, i) => sid.readUInt32LE(8 + 4 * i));
  return `S-${sid[0] ?? 0}-${authority}${subAuthorities.map((n) => `-${n}`).join('')}`;
}

/** What seedForeignMembers added: the member's SID in its own forest, and the foreign security principal the group now holds. */
export type ForeignMemberReport = ForeignMember & { readonly sid: string; readonly foreignSecurityPrincipalDn: string };

/**
 * Adds each foreign member to its group in the DC of `target` by SID (`member: <SID=S-1-5-21-…>`), reading the
 * SID from the member's own forest (one of `forests`, matched by DNS name). AD, and Samba (4.17, without any
 * trust between the forests), then creates `CN=<SID>,CN=ForeignSecurityPrincipals,<target base DN>` and stores
 * that as the member. Checks that it did. Run it once both directories are seeded.
 */
export async function seedForeignMembers(target: AdConnection, forests: ReadonlyArray<AdConnection>, members: ReadonlyArray<ForeignMember>): Promise<ForeignMemberReport[]> {
  const reports: ForeignMemberReport[] = [];
  if (members.length === 0) return reports;
  const client = await boundClient(target);
  try {
    for (const member of members) {
      const source = forests.find((ad) => ad.domain.toLowerCase() === member.forest.toLowerCase());
      if (!source) throw new Error(`Seeding the foreign member ${member.memberDn}: no lab forest named ${member.forest} (have ${forests.map((ad) => ad.domain).join(', ')}).`);
      const sourceClient = await boundClient(source);
      let sid: string;
      try {
        const { searchEntries } = await sourceClient.search(member.memberDn, { scope: 'base', attributes: ['objectSid'], explicitBufferAttributes: ['objectSid'] });
        const value = searchEntries[0]?.['objectSid'];
        if (!Buffer.isBuffer(value)) throw new Error(`${member.memberDn} has no objectSid in ${member.forest}: is that forest seeded?`);
        sid = sidToString(value);
      } finally {
        await sourceClient.unbind();
      }
      await client.modify(member.groupDn, new Change({ operation: 'add', modification: attribute('member', [`<SID=${sid}>`]) }))
        .catch((error: unknown) => { throw seedError(`the foreign member ${sid} (${member.memberDn}) to`, member.groupDn, error); });
      const fspDn = `CN=${sid},CN=ForeignSecurityPrincipals,${target.baseDn}`;
      const { searchEntries } = await client.search(member.groupDn, { scope: 'base', attributes: ['member'] });
      const values = [searchEntries[0]?.['member'] ?? []].flat().map(String);
      if (!values.some((dn) => dn.toLowerCase() === fspDn.toLowerCase())) {
        throw new Error(`Adding <SID=${sid}> to ${member.groupDn} did not make it a member as ${fspDn} (its members: ${values.join('; ')}). ` +
          'This Samba does not create foreign security principals the way lab/samba/README.md ("The second forest") describes.');
      }
      reports.push({ ...member, sid, foreignSecurityPrincipalDn: fspDn });
    }
  } finally {
    await client.unbind();
  }
  return reports;
}
