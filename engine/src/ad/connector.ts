/**
 * The AD connector (ldapts over LDAPS): bind, paged full import, DirSync delta import with tombstones,
 * ranged retrieval of large member lists, and the uSNChanged fallback when the account lacks the right
 * to use DirSync. It turns LDAP entries into AdEntry values; it keeps no state of its own.
 */
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Client, EqualityFilter, InsufficientAccessError, OrFilter, type Entry } from 'ldapts';
import type { AdObjectClass } from '../contract/model.ts';
import { AdInsufficientRightsError, mapLdapError } from '../errors/ad-errors.ts';
import type { AdEntry } from '../sync/ad-entry.ts';
import { readAhead } from '../sync/read-ahead.ts';
import { NO_SEARCH_TIME_LIMIT } from './search-limits.ts';
import { DIRSYNC_INCREMENTAL_VALUES, DirSyncControl, ExtendedDnControl, showDeletedControl } from './controls.ts';
import { guidBufferToString, guidStringToBuffer, parseExtendedDn } from './guid.ts';
import { sidToString } from './security-descriptor.ts';
import { frameLdapMessages } from './message-framing.ts';

export type AdConnectorOptions = {
  readonly url: string;
  readonly bindDn: string;
  readonly password: string;
  readonly baseDn: string;
  /** PEM of an explicitly trusted CA (else the system's trust store). */
  readonly trustedCaPem?: string;
  readonly tlsServerName?: string;
  readonly pageSize?: number;
  /** Extra filter ANDed to the object filter (scope). */
  readonly ldapFilter?: string;
  readonly timeoutMs?: number;
};

const BINARY = ['objectGUID', 'mS-DS-ConsistencyGuid', 'objectSid', 'parentGUID'];

/** What the engine reads of each object (the attribute flow's sources and what scoping needs). */
export const IMPORTED_ATTRIBUTES: ReadonlyArray<string> = [
  'objectGUID', 'objectClass', 'objectSid', 'name', 'parentGUID', 'isDeleted', 'isCriticalSystemObject', 'sAMAccountName',
  'userPrincipalName', 'userAccountControl', 'displayName', 'cn', 'givenName', 'sn', 'initials', 'mail', 'mailNickname',
  'proxyAddresses', 'title', 'department', 'company', 'employeeID', 'physicalDeliveryOfficeName', 'streetAddress', 'l',
  'st', 'postalCode', 'co', 'c', 'telephoneNumber', 'mobile', 'facsimileTelephoneNumber', 'preferredLanguage',
  'description', 'manager', 'member', 'groupType', 'msExchRecipientTypeDetails', 'mS-DS-ConsistencyGuid', 'uSNChanged',
  ...Array.from({ length: 15 }, (_, i) => `extensionAttribute${i + 1}`),
];

const OBJECT_CLASSES = ['user', 'group', 'contact', 'organizationalUnit', 'container', 'domainDNS'];
export const OBJECT_FILTER = `(|${OBJECT_CLASSES.map((c) => `(objectClass=${c})`).join('')})`;
const OBJECT_CLASS_SET = new Set(OBJECT_CLASSES.map((c) => c.toLowerCase()));

/**
 * Whether an entry (read whole) is of a class OBJECT_FILTER selects. A delta asks DirSync for every
 * change, `(objectClass=*)`, and keeps these: Samba evaluates the OR of classes through its class
 * indexes, over every object, on each call (2.8 s vs 0.65 s at 100,000 users with nothing changed).
 */
export function matchesObjectFilter(raw: Entry): boolean {
  return asStrings(raw['objectClass']).some((c) => OBJECT_CLASS_SET.has(c.toLowerCase()));
}

/** Not stored as attributes: carried by AdEntry fields. */
const STRUCTURAL = new Set(['objectguid', 'objectclass', 'parentguid', 'member', 'manager', 'ms-ds-consistencyguid', 'isdeleted', 'dn', 'name', 'objectsid']);

export function classify(objectClasses: ReadonlyArray<string>): AdObjectClass {
  const classes = new Set(objectClasses.map((c) => c.toLowerCase()));
  if (classes.has('computer')) return 'computer';
  if (classes.has('user') || classes.has('inetorgperson')) return 'user';
  if (classes.has('group')) return 'group';
  if (classes.has('contact')) return 'contact';
  if (classes.has('organizationalunit')) return 'organizationalUnit';
  if (classes.has('container')) return 'container';
  return 'other';
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function asStrings(value: unknown): string[] {
  return asList(value).map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : String(v)));
}

function asBuffer(value: unknown): Buffer | undefined {
  const v = asList(value)[0];
  if (Buffer.isBuffer(v)) return v;
  return undefined;
}

export type RangedReader = (dn: string, attribute: string, from: number) => Promise<{ values: string[]; done: boolean; next: number }>;

/** objectSid in its string form; undefined when absent or malformed (the object is then matched without it). */
function sidOf(raw: Buffer | undefined): string | undefined {
  if (!raw || raw.length < 8) return undefined;
  try {
    return sidToString(raw);
  } catch {
    return undefined;
  }
}

/** A group's members as they are read, range by range: each value is reduced to its GUID (and, in CN=ForeignSecurityPrincipals, its SID) at once. */
class MemberList {
  public readonly guids: string[] = [];
  public readonly foreign: Array<{ sid: string; dn: string }> = [];

  public add(values: ReadonlyArray<string>): void {
    for (const value of values) {
      const { guid, dn } = parseExtendedDn(value);
      if (guid !== undefined) this.guids.push(guid);
      // Members in CN=ForeignSecurityPrincipals of the domain: accounts of another forest (or well-known SIDs), named by SID.
      const match = FOREIGN_MEMBER.exec(dn);
      if (match) this.foreign.push({ sid: match[1] as string, dn });
    }
  }
}

const FOREIGN_MEMBER = /^CN=(S-1-[0-9-]+),CN=ForeignSecurityPrincipals,/i;

/**
 * Turns an ldapts entry (read with the Extended DN control) into an AdEntry; follows ranged member lists, keeping of each
 * member only its GUID (a group of 100,000 members is 100,000 extended DNs of ~150 characters as read).
 */
export async function toAdEntry(entry: Entry, readRange: RangedReader): Promise<AdEntry | undefined> {
  const raw = asBuffer(entry['objectGUID']);
  if (!raw) return undefined;
  const { dn } = parseExtendedDn(entry.dn);
  const objectClass = classify(asStrings(entry['objectClass']));
  const attributes: Record<string, string[]> = {};
  const members = new MemberList();
  let rangedFrom: { attribute: string; next: number } | undefined;
  for (const [name, value] of Object.entries(entry)) {
    const lower = name.toLowerCase();
    if (lower.startsWith('member;range=')) {
      const m = /^member;range=(\d+)-(\d+|\*)$/i.exec(name);
      members.add(asStrings(value));
      if (m && m[2] !== '*') rangedFrom = { attribute: 'member', next: Number(m[2]) + 1 };
      continue;
    }
    if (lower === 'member') {
      members.add(asStrings(value));
      continue;
    }
    if (STRUCTURAL.has(lower)) continue;
    const values = asStrings(value).filter((v) => v.length > 0);
    if (values.length > 0) attributes[lower] = values;
  }
  let rangeCursor = objectClass === 'group' ? rangedFrom : undefined;
  while (rangeCursor) {
    const page = await readRange(dn, rangeCursor.attribute, rangeCursor.next);
    members.add(page.values);
    rangeCursor = page.done ? undefined : { attribute: rangeCursor.attribute, next: page.next };
  }
  const parent = asBuffer(entry['parentGUID']);
  const consistency = asBuffer(entry['mS-DS-ConsistencyGuid']);
  const managerGuid = asStrings(entry['manager']).map((v) => parseExtendedDn(v).guid).find((g) => g !== undefined);
  const deleted = asStrings(entry['isDeleted'])[0]?.toUpperCase() === 'TRUE';
  const sid = sidOf(asBuffer(entry['objectSid']));
  const foreignMembers = objectClass === 'group' ? members.foreign : [];
  return {
    guid: guidBufferToString(raw),
    guidBase64: raw.toString('base64'),
    consistencyGuidBase64: consistency && consistency.length > 0 ? consistency.toString('base64') : undefined,
    dn,
    parentGuid: parent && parent.length === 16 ? guidBufferToString(parent) : undefined,
    objectClass,
    ...(sid !== undefined ? { sid } : {}),
    deleted,
    attributes,
    memberGuids: objectClass === 'group' ? members.guids : undefined,
    // Only when there are any: the entry of a group without them is stored as it always was.
    ...(foreignMembers.length > 0 ? { foreignMembers } : {}),
    managerGuid,
  };
}

/**
 * A trusted certificate that is not a CA (the DC sent no chain, and the administrator chose to trust
 * this very certificate) is pinned: the connection is accepted only if the DC presents exactly it.
 */
function pinnedLeaf(pem: string): string | undefined {
  const certificate = new X509Certificate(pem);
  return certificate.ca ? undefined : certificate.fingerprint256;
}

/**
 * ldapts opens LDAPS as `createSecureConnection(port, host, tlsOptions)`. Every connection is framed
 * into whole LDAP messages (message-framing.ts); a pinned one also checks the DC's certificate.
 */
function secureConnection(fingerprint256: string | undefined): typeof tlsConnect {
  return ((port: number, host: string, options: ConnectionOptions) => {
    const socket = tlsConnect(port, host, fingerprint256 ? { ...options, rejectUnauthorized: false } : options);
    if (fingerprint256) {
      socket.prependOnceListener('secureConnect', () => {
        if (socket.getPeerCertificate().fingerprint256 !== fingerprint256) {
          socket.destroy(Object.assign(new Error('the domain controller presented a certificate other than the one trusted'), { code: 'ERR_TLS_CERT_PIN_MISMATCH' }));
        }
      });
    }
    return frameLdapMessages(socket);
  }) as unknown as typeof tlsConnect;
}

export type DeltaBatch = {
  /** Current state of every object that changed (re-read, so attribute values are complete). */
  readonly changed: ReadonlyArray<AdEntry>;
  /** objectGUIDs of objects deleted in AD (tombstones). */
  readonly deletedGuids: ReadonlyArray<string>;
  /** The position after this batch: store it in the same transaction as the batch. */
  readonly cursor: string;
};

export type DeltaMode = 'dirsync' | 'usn';

/** A cursor: which DC and where in its change stream. */
type Cursor = { readonly mode: DeltaMode; readonly url: string; readonly cookie?: string; readonly usn?: number };

export class AdConnector {
  private constructor(private readonly client: Client, private readonly options: AdConnectorOptions) {}

  public static async connect(options: AdConnectorOptions): Promise<AdConnector> {
    const pinned = options.trustedCaPem ? pinnedLeaf(options.trustedCaPem) : undefined;
    const client = new Client({
      url: options.url,
      timeout: options.timeoutMs ?? 120_000,
      connectTimeout: 10_000,
      tlsOptions: {
        ca: options.trustedCaPem && !pinned ? [options.trustedCaPem] : undefined,
        servername: options.tlsServerName,
        minVersion: 'TLSv1.2',
      },
      createSecureConnection: secureConnection(pinned),
    });
    try {
      await client.bind(options.bindDn, options.password);
    } catch (error) {
      await client.unbind().catch(() => undefined);
      throw mapLdapError(error, { url: options.url, bindDn: options.bindDn, operation: 'bind' });
    }
    return new AdConnector(client, options);
  }

  public async close(): Promise<void> {
    await this.client.unbind().catch(() => undefined);
  }

  private objectFilter(): string {
    return this.options.ldapFilter ? `(&${OBJECT_FILTER}${this.options.ldapFilter})` : OBJECT_FILTER;
  }

  private readonly readRange: RangedReader = async (dn, attribute, from) => {
    const wanted = `${attribute};range=${from}-*`;
    const { searchEntries } = await this.client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: [wanted] }, [new ExtendedDnControl()]);
    const entry = searchEntries[0];
    if (!entry) return { values: [], done: true, next: from };
    const key = Object.keys(entry).find((k) => k.toLowerCase().startsWith(`${attribute.toLowerCase()};range=`));
    if (!key) return { values: [], done: true, next: from };
    const m = /;range=(\d+)-(\d+|\*)$/i.exec(key);
    const values = asStrings(entry[key]);
    return { values, done: !m || m[2] === '*', next: m && m[2] !== '*' ? Number(m[2]) + 1 : from };
  };

  /**
   * Full import: every object under the domain, page by page (memory stays flat: the page being
   * stored and the one read ahead). Tombstones are skipped.
   */
  public async *fullImport(): AsyncGenerator<ReadonlyArray<AdEntry>> {
    const pages = this.client.searchPaginated(this.options.baseDn, {
      ...NO_SEARCH_TIME_LIMIT, scope: 'sub', filter: this.objectFilter(), attributes: [...IMPORTED_ATTRIBUTES], explicitBufferAttributes: BINARY,
      paged: { pageSize: this.options.pageSize ?? 1000 },
    }, [new ExtendedDnControl()]);
    try {
      for await (const page of readAhead(pages)) {
        const entries: AdEntry[] = [];
        for (const raw of page.searchEntries) {
          const entry = await toAdEntry(raw, this.readRange);
          if (entry && !entry.deleted && entry.objectClass !== 'computer') entries.push(entry);
        }
        yield entries;
      }
    } catch (error) {
      throw mapLdapError(error, { url: this.options.url, bindDn: this.options.bindDn, operation: 'read the directory' });
    }
  }

  /** Re-reads objects by GUID (current state, complete attribute values). */
  public async readByGuids(guids: ReadonlyArray<string>, keep: (raw: Entry) => boolean = () => true): Promise<ReadonlyArray<AdEntry>> {
    const out: AdEntry[] = [];
    for (let i = 0; i < guids.length; i += 100) {
      const chunk = guids.slice(i, i + 100);
      // Binary values go in as Buffers: ldapts re-encodes escaped filter strings as UTF-8, which breaks bytes ≥ 0x80.
      const filter = new OrFilter({ filters: chunk.map((guid) => new EqualityFilter({ attribute: 'objectGUID', value: guidStringToBuffer(guid) })) });
      try {
        const { searchEntries } = await this.client.search(this.options.baseDn, {
          ...NO_SEARCH_TIME_LIMIT, scope: 'sub', filter, attributes: [...IMPORTED_ATTRIBUTES], explicitBufferAttributes: BINARY,
        }, [new ExtendedDnControl()]);
        for (const raw of searchEntries) {
          const entry = keep(raw) ? await toAdEntry(raw, this.readRange) : undefined;
          if (entry) out.push(entry);
        }
      } catch (error) {
        throw mapLdapError(error, { url: this.options.url, bindDn: this.options.bindDn, operation: 're-read changed objects' });
      }
    }
    return out;
  }

  private async dirSync(cookie: Buffer, filter: string): Promise<{ entries: Entry[]; control: DirSyncControl }> {
    const control = new DirSyncControl({ flags: DIRSYNC_INCREMENTAL_VALUES, cookie });
    const { searchEntries } = await this.client.search(this.options.baseDn, {
      ...NO_SEARCH_TIME_LIMIT, scope: 'sub', filter, attributes: ['objectGUID', 'isDeleted', 'name', ...IMPORTED_ATTRIBUTES.filter((a) => a !== 'objectGUID' && a !== 'parentGUID')],
      explicitBufferAttributes: BINARY,
    }, [control]);
    return { entries: searchEntries, control };
  }

  /**
   * The change-stream position "now", taken before a full import so that the next delta sees every
   * change made during it. DirSync when the account may use it, else the DC's highestCommittedUSN.
   */
  public async currentCursor(): Promise<string> {
    try {
      // A filter no object matches: DirSync answers with a cookie for "now" and no entries.
      const { control } = await this.dirSync(Buffer.alloc(0), '(&(objectClass=user)(objectClass=organizationalUnit))');
      return JSON.stringify({ mode: 'dirsync', url: this.options.url, cookie: control.cookie.toString('base64') } satisfies Cursor);
    } catch (error) {
      if (!(error instanceof InsufficientAccessError) && (error as { code?: unknown }).code !== 50) {
        throw mapLdapError(error, { url: this.options.url, bindDn: this.options.bindDn, operation: 'start a DirSync change stream' });
      }
      return JSON.stringify({ mode: 'usn', url: this.options.url, usn: await this.highestCommittedUsn() } satisfies Cursor);
    }
  }

  public static cursorMode(cursor: string): DeltaMode {
    return (JSON.parse(cursor) as Cursor).mode;
  }

  private async highestCommittedUsn(): Promise<number> {
    const { searchEntries } = await this.client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['highestCommittedUSN'] });
    return Number(searchEntries[0]?.['highestCommittedUSN'] ?? 0);
  }

  /** Delta import from a cursor; yields batches whose cursor covers exactly what they contain. */
  public async *deltaImport(cursorText: string): AsyncGenerator<DeltaBatch> {
    const cursor = JSON.parse(cursorText) as Cursor;
    if (cursor.mode === 'dirsync') {
      yield* this.dirSyncDelta(cursor);
      return;
    }
    yield* this.usnDelta(cursor);
  }

  private async *dirSyncDelta(cursor: Cursor): AsyncGenerator<DeltaBatch> {
    let cookie: Buffer = Buffer.from(cursor.cookie ?? '', 'base64');
    for (;;) {
      let result: { entries: Entry[]; control: DirSyncControl };
      try {
        result = await this.dirSync(cookie, this.options.ldapFilter ? `(&${OBJECT_FILTER}${this.options.ldapFilter})` : '(objectClass=*)');
      } catch (error) {
        throw mapLdapError(error, { url: this.options.url, bindDn: this.options.bindDn, operation: 'read changes with DirSync' });
      }
      const deletedGuids: string[] = [];
      const changedGuids: string[] = [];
      for (const raw of result.entries) {
        const guid = asBuffer(raw['objectGUID']);
        if (!guid) continue;
        const deleted = asStrings(raw['isDeleted'])[0]?.toUpperCase() === 'TRUE';
        (deleted ? deletedGuids : changedGuids).push(guidBufferToString(guid));
      }
      const changed = (await this.readByGuids(changedGuids, matchesObjectFilter)).filter((e) => e.objectClass !== 'computer' && !e.deleted);
      cookie = result.control.cookie;
      yield { changed, deletedGuids, cursor: JSON.stringify({ mode: 'dirsync', url: this.options.url, cookie: cookie.toString('base64') } satisfies Cursor) };
      if (!result.control.moreResults) return;
    }
  }

  private async *usnDelta(cursor: Cursor): AsyncGenerator<DeltaBatch> {
    const high = await this.highestCommittedUsn();
    const from = (cursor.usn ?? 0) + 1;
    const changed: AdEntry[] = [];
    try {
      const pages = this.client.searchPaginated(this.options.baseDn, {
        ...NO_SEARCH_TIME_LIMIT, scope: 'sub', filter: `(&${this.objectFilter()}(uSNChanged>=${from}))`, attributes: [...IMPORTED_ATTRIBUTES],
        explicitBufferAttributes: BINARY, paged: { pageSize: this.options.pageSize ?? 1000 },
      }, [new ExtendedDnControl()]);
      for await (const page of pages) {
        for (const raw of page.searchEntries) {
          const entry = await toAdEntry(raw, this.readRange);
          if (entry && !entry.deleted && entry.objectClass !== 'computer') changed.push(entry);
        }
      }
    } catch (error) {
      throw mapLdapError(error, { url: this.options.url, bindDn: this.options.bindDn, operation: 'read changes by uSNChanged' });
    }
    const deletedGuids: string[] = [];
    try {
      const { searchEntries } = await this.client.search(this.options.baseDn, {
        ...NO_SEARCH_TIME_LIMIT, scope: 'sub', filter: `(&(isDeleted=TRUE)(uSNChanged>=${from}))`, attributes: ['objectGUID'], explicitBufferAttributes: ['objectGUID'],
      }, [showDeletedControl()]);
      for (const raw of searchEntries) {
        const guid = asBuffer(raw['objectGUID']);
        if (guid) deletedGuids.push(guidBufferToString(guid));
      }
    } catch (error) {
      // Without the right to read deleted objects, deletions are found by the next full run's comparison.
      if (!(error instanceof InsufficientAccessError)) throw mapLdapError(error, { url: this.options.url, operation: 'read deleted objects' });
    }
    yield { changed, deletedGuids, cursor: JSON.stringify({ mode: 'usn', url: this.options.url, usn: high } satisfies Cursor) };
  }

  /** Confirms the account may use DirSync (it needs 'Replicating Directory Changes'). */
  public async canUseDirSync(): Promise<boolean> {
    try {
      await this.dirSync(Buffer.alloc(0), '(&(objectClass=user)(objectClass=organizationalUnit))');
      return true;
    } catch (error) {
      const mapped = mapLdapError(error, { url: this.options.url, bindDn: this.options.bindDn, operation: 'use DirSync' });
      if (mapped instanceof AdInsufficientRightsError) return false;
      throw mapped;
    }
  }

  /** The underlying client, for administrative operations (service account creation) that live elsewhere. */
  public get ldap(): Client {
    return this.client;
  }
}
