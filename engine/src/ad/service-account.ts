/**
 * The service account Directory Sync reads Active Directory as (an `MSOL_…` account, like Microsoft
 * Entra Connect's): created once from enterprise administrator credentials that are typed in and
 * never stored, granted only the rights the enabled features need, and checked by signing in as it
 * (ad-reference.md §7 and §1.3).
 */
import type { RightsReport as ContractRightsReport } from '../contract/control-api.ts';
import { randomBytes, randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { Attribute, Ber, BerWriter, Change, Control, type Client, type Entry } from 'ldapts';
import { AdInsufficientRightsError, AdInvalidCredentialsError, AdOperationError, mapLdapError } from '../errors/ad-errors.ts';
import { ServiceAccountExistsError } from '../errors/service-account-exists-error.ts';
import { AdConnector } from './connector.ts';
import { DirSyncControl, showDeletedControl } from './controls.ts';
import { NO_SEARCH_TIME_LIMIT } from './search-limits.ts';
import {
  ACCESS_ALLOWED_ACE_TYPE, addAce, extendedRightAce, EXTENDED_RIGHTS, parseSecurityDescriptor, SE_SELF_RELATIVE, serializeSecurityDescriptor, sidToString, type Ace, type SecurityDescriptor,
} from './security-descriptor.ts';

/** What the service account can actually do, found by signing in as it (the contract's shape). */
export type RightsReport = ContractRightsReport;
export type RightsCheck = RightsReport['checks'][number];

export type ServiceAccount = {
  readonly dn: string;
  readonly samAccountName: string;
  readonly userPrincipalName: string;
  /** `S-1-5-21-…` */
  readonly sid: string;
  /** The account's new password: hand it to the credential store, never to a log. */
  readonly password: string;
  /** False when an existing Directory Sync account was reused (its password was reset). */
  readonly created: boolean;
  readonly rights: RightsReport;
  /** The self-test on each of the forest's other ticked domains. */
  readonly domainRights: ReadonlyArray<{ readonly baseDn: string; readonly rights: RightsReport }>;
};

type TlsOptions = {
  readonly url: string;
  /** PEM of an explicitly trusted CA (else the system's trust store). */
  readonly trustedCaPem?: string;
  readonly tlsServerName?: string;
};

export type CreateServiceAccountOptions = TlsOptions & {
  /** An Enterprise or Domain Administrator: DN or user@domain. Used for this call only. */
  readonly adminBindDn: string;
  readonly adminPassword: string;
  /** The domain, `DC=contoso,DC=com`. */
  readonly baseDn: string;
  /** The administrator confirmed that an existing Directory Sync account may be reused (its password is reset). */
  readonly reuseExisting: boolean;
  /** Which rights to grant; DirSync ('Replicating Directory Changes') unless turned off. */
  readonly features?: { readonly dirSync: boolean };
  /**
   * The forest's other ticked domains (docs/forests.md): the account, made in the root domain (`baseDn`), is granted the
   * same rights on each one's naming context, through a DC of that domain, as the enterprise administrator.
   */
  readonly otherDomains?: ReadonlyArray<TlsOptions & { readonly baseDn: string }>;
};

export type VerifyServiceAccountRightsOptions = TlsOptions & {
  readonly bindDn: string;
  readonly password: string;
  readonly baseDn: string;
};

export type RotateServiceAccountPasswordOptions = TlsOptions & {
  readonly adminBindDn: string;
  readonly adminPassword: string;
  readonly accountDn: string;
};

/** The start of the description that marks an account as Directory Sync's own. */
export const SERVICE_ACCOUNT_DESCRIPTION_PREFIX = 'Account created by Directory Sync';

const SAM_PREFIX = 'MSOL_';
const PASSWORD_LENGTH = 64;
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
/** No quote or backslash: the value travels inside quotes in unicodePwd. */
const SYMBOLS = '!#$%&()*+,-./:;<=>?@[]^_{|}~';

const ADMIN_ADVICE = 'Creating the service account and granting it rights needs an Enterprise Administrator or a Domain Administrator ' +
  'of this domain: sign in with such an account (its password is used for this step only and is not stored).';

const LDAP_SERVER_SD_FLAGS_OID = '1.2.840.113556.1.4.801';
/** SD flags (MS-ADTS 3.1.1.3.4.1.11): read or write the DACL only, so no SACL rights are needed. */
const DACL_SECURITY_INFORMATION = 0x4;

/** LDAP_SERVER_SD_FLAGS: SEQUENCE { INTEGER flags }; critical, so a server without it cannot overwrite owner or SACL. */
class SdFlagsControl extends Control {
  public constructor(private readonly flags: number) {
    super(LDAP_SERVER_SD_FLAGS_OID, { critical: true });
  }

  protected override writeControl(writer: BerWriter): void {
    const value = new BerWriter();
    value.startSequence();
    value.writeInt(this.flags);
    value.endSequence();
    writer.writeBuffer(value.buffer, Ber.OctetString);
  }
}

/** A random password of `length` characters with upper case, lower case, digits and symbols (AD complexity). */
export function generateServiceAccountPassword(length = PASSWORD_LENGTH): string {
  if (length < 16) throw new Error('A service account password needs at least 16 characters');
  const pick = (alphabet: string): string => alphabet[randomInt(alphabet.length)] as string;
  const all = UPPER + LOWER + DIGITS + SYMBOLS;
  const chars = [pick(UPPER), pick(LOWER), pick(DIGITS), pick(SYMBOLS), ...Array.from({ length: length - 4 }, () => pick(all))];
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join('');
}

/** unicodePwd takes the password in double quotes, UTF-16LE (ad-reference.md §7.1). */
function unicodePwd(password: string): Buffer {
  return Buffer.from(`"${password}"`, 'utf16le');
}

/** `DC=contoso,DC=com` → `contoso.com` (the UPN suffix every domain has). */
export function dnsDomainOf(baseDn: string): string {
  const labels = baseDn.split(',').map((rdn) => /^\s*DC=(.+?)\s*$/i.exec(rdn)?.[1]).filter((label): label is string => label !== undefined);
  if (labels.length === 0) throw new AdOperationError(`"${baseDn}" is not a domain DN: give the domain as DC=contoso,DC=com.`);
  return labels.join('.').toLowerCase();
}

function firstString(entry: Entry, attribute: string): string | undefined {
  const value = entry[attribute];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}

function firstBuffer(entry: Entry, attribute: string): Buffer | undefined {
  const value = entry[attribute];
  const first = Array.isArray(value) ? value[0] : value;
  return Buffer.isBuffer(first) ? first : undefined;
}

/** Reads an object's DACL (only the DACL: no right to read the SACL is needed). */
/** Which parts of a security descriptor to read or write, and whether the object is a deleted one (CN=Deleted Objects is). */
export type SecurityDescriptorAccess = { readonly parts?: number; readonly showDeleted?: boolean };

function sdControls(access: SecurityDescriptorAccess): Control[] {
  return [new SdFlagsControl(access.parts ?? DACL_SECURITY_INFORMATION), ...(access.showDeleted ? [showDeletedControl()] : [])];
}

export async function readSecurityDescriptor(client: Client, dn: string, access: SecurityDescriptorAccess = {}): Promise<SecurityDescriptor> {
  const { searchEntries } = await client.search(dn, {
    scope: 'base', filter: '(objectClass=*)', attributes: ['nTSecurityDescriptor'], explicitBufferAttributes: ['nTSecurityDescriptor'],
  }, sdControls(access));
  const entry = searchEntries[0];
  const raw = entry ? firstBuffer(entry, 'nTSecurityDescriptor') : undefined;
  if (!raw) throw new AdInsufficientRightsError(`The security descriptor of ${dn} could not be read (no nTSecurityDescriptor came back). ${ADMIN_ADVICE}`);
  return parseSecurityDescriptor(raw);
}

/** Writes an object's DACL back (the SD flags control keeps owner, group and SACL as they are). */
export async function writeSecurityDescriptor(client: Client, dn: string, descriptor: SecurityDescriptor, access: SecurityDescriptorAccess = {}): Promise<void> {
  const raw = serializeSecurityDescriptor(descriptor);
  await client.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'nTSecurityDescriptor', values: [raw] }) }),
    sdControls(access));
}

type AccountIdentity = Omit<ServiceAccount, 'password' | 'created' | 'rights' | 'domainRights'>;

/** Directory Sync's accounts in the domain, newest first. Entra Connect's own MSOL_ accounts are not ours and are left alone. */
async function findDirectorySyncAccounts(client: Client, baseDn: string): Promise<AccountIdentity[]> {
  const { searchEntries } = await client.search(baseDn, {
    scope: 'sub',
    filter: `(&(objectClass=user)(sAMAccountName=${SAM_PREFIX}*)(description=${SERVICE_ACCOUNT_DESCRIPTION_PREFIX}*))`,
    attributes: ['sAMAccountName', 'userPrincipalName', 'objectSid', 'description', 'whenCreated'],
    explicitBufferAttributes: ['objectSid'],
  });
  return searchEntries
    .filter((entry) => firstString(entry, 'description')?.startsWith(SERVICE_ACCOUNT_DESCRIPTION_PREFIX) === true)
    .sort((a, b) => (firstString(b, 'whenCreated') ?? '').localeCompare(firstString(a, 'whenCreated') ?? ''))
    .map((entry) => {
      const sid = firstBuffer(entry, 'objectSid');
      if (!sid) throw new AdOperationError(`The objectSid of ${entry.dn} could not be read. ${ADMIN_ADVICE}`);
      const samAccountName = firstString(entry, 'sAMAccountName') ?? '';
      return { dn: entry.dn, samAccountName, userPrincipalName: firstString(entry, 'userPrincipalName') ?? '', sid: sidToString(sid) };
    });
}

async function readSid(client: Client, dn: string): Promise<string> {
  const { searchEntries } = await client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: ['objectSid'], explicitBufferAttributes: ['objectSid'] });
  const sid = searchEntries[0] ? firstBuffer(searchEntries[0], 'objectSid') : undefined;
  if (!sid) throw new AdOperationError(`The objectSid of the new account ${dn} could not be read back.`);
  return sidToString(sid);
}

/** Adds the account; returns its names (the SID is read separately, once the add has succeeded). */
async function addAccount(client: Client, baseDn: string, password: string): Promise<Omit<AccountIdentity, 'sid'>> {
  const samAccountName = `${SAM_PREFIX}${randomBytes(6).toString('hex')}`;
  const dn = `CN=${samAccountName},CN=Users,${baseDn}`;
  const userPrincipalName = `${samAccountName}@${dnsDomainOf(baseDn)}`;
  const description = `${SERVICE_ACCOUNT_DESCRIPTION_PREFIX} on ${hostname()} to synchronize this directory to Microsoft Entra ID. ` +
    'Do not delete or disable it: synchronization stops without it.';
  await client.add(dn, [
    new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
    new Attribute({ type: 'sAMAccountName', values: [samAccountName] }),
    new Attribute({ type: 'userPrincipalName', values: [userPrincipalName] }),
    new Attribute({ type: 'description', values: [description] }),
    new Attribute({ type: 'unicodePwd', values: [unicodePwd(password)] }),
    // NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD: a password that expires would stop synchronization one day.
    new Attribute({ type: 'userAccountControl', values: [String(0x0200 | 0x10000)] }),
  ]);
  return { dn, samAccountName, userPrincipalName };
}

/**
 * An administrator's reset (replace unicodePwd), done twice. For up to an hour after a reset a DC
 * still accepts the previous password (Samba's 'old password allowed period', which covers simple
 * binds; on Windows OldPasswordAllowedPeriod, for NTLM): a throwaway password takes that slot first,
 * so the old password stops working at once.
 */
async function resetPassword(client: Client, dn: string, password: string): Promise<void> {
  for (const value of [generateServiceAccountPassword(), password]) {
    await client.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [unicodePwd(value)] }) }));
  }
}

/** Adds the ACE granting `right` to `sid` on `dn` unless it is there; true when the DACL was changed. */
async function grantExtendedRight(client: Client, dn: string, sid: string, right: string): Promise<boolean> {
  const { descriptor, added } = addAce(await readSecurityDescriptor(client, dn), extendedRightAce({ sid, right }));
  if (added) await writeSecurityDescriptor(client, dn, descriptor);
  return added;
}

async function connectAsAdministrator(options: TlsOptions & { adminBindDn: string; adminPassword: string; baseDn: string }): Promise<AdConnector> {
  return AdConnector.connect({
    url: options.url, bindDn: options.adminBindDn, password: options.adminPassword, baseDn: options.baseDn,
    trustedCaPem: options.trustedCaPem, tlsServerName: options.tlsServerName,
  });
}

/**
 * Creates Directory Sync's service account `CN=MSOL_<12 hex>,CN=Users,<domain>` (or, when confirmed,
 * reuses the existing one and resets its password), grants it 'Replicating Directory Changes' on
 * the domain when DirSync is enabled, then signs in as it to report what it can do.
 */
export async function createServiceAccount(options: CreateServiceAccountOptions): Promise<ServiceAccount> {
  const password = generateServiceAccountPassword();
  const admin = await connectAsAdministrator(options);
  let account: { identity: AccountIdentity; created: boolean };
  try {
    account = await provisionAccount(admin.ldap, options, password);
  } finally {
    await admin.close();
  }
  // The account exists with its new password from here on: a domain whose grant fails is reported in its rights, never thrown,
  // so that the password is kept (a reused account's was reset above).
  const refused = new Map<string, string>();
  for (const domain of options.otherDomains ?? []) {
    await grantOnDomain(options, domain, account.identity.sid).catch((error: unknown) => refused.set(domain.baseDn, error instanceof Error ? error.message : String(error)));
  }
  // A fresh connection: the account's token must carry the grant just made.
  const rights = await verifyServiceAccountRights({
    url: options.url, trustedCaPem: options.trustedCaPem, tlsServerName: options.tlsServerName,
    bindDn: account.identity.dn, password, baseDn: options.baseDn,
  });
  const domainRights: Array<{ baseDn: string; rights: RightsReport }> = [];
  for (const domain of options.otherDomains ?? []) {
    const failure = refused.get(domain.baseDn);
    domainRights.push({ baseDn: domain.baseDn, rights: failure !== undefined
      ? { bind: false, readDirectory: false, dirSync: false, checks: [{ name: 'grant', ok: false, detail: `The rights could not be granted on ${domain.baseDn}: ${failure}` }] }
      : await verifyServiceAccountRights({ ...domain, bindDn: account.identity.dn, password }) });
  }
  return { ...account.identity, password, created: account.created, rights, domainRights };
}

/** Grants the account the rights on another domain of its forest, through that domain's DC. */
async function grantOnDomain(options: CreateServiceAccountOptions, domain: TlsOptions & { readonly baseDn: string }, sid: string): Promise<void> {
  const admin = await connectAsAdministrator({ ...domain, adminBindDn: options.adminBindDn, adminPassword: options.adminPassword });
  try {
    await grantRights(admin.ldap, { ...options, ...domain }, sid, (operation) => (error: unknown): never => {
      throw mapLdapError(error, { url: domain.url, bindDn: options.adminBindDn, operation, insufficientRightsAdvice: ADMIN_ADVICE });
    });
  } finally {
    await admin.close();
  }
}

async function provisionAccount(client: Client, options: CreateServiceAccountOptions, password: string): Promise<{ identity: AccountIdentity; created: boolean }> {
  const { baseDn } = options;
  const fail = (operation: string) => (error: unknown): never => {
    throw mapLdapError(error, { url: options.url, bindDn: options.adminBindDn, operation, insufficientRightsAdvice: ADMIN_ADVICE });
  };
  const existing = await findDirectorySyncAccounts(client, baseDn).catch(fail(`look for an existing Directory Sync account under ${baseDn}`));
  const reusable = existing[0];
  if (reusable && !options.reuseExisting) throw new ServiceAccountExistsError(reusable.dn);
  if (reusable) {
    await resetPassword(client, reusable.dn, password).catch(fail(`reset the password of ${reusable.dn}`));
    await grantRights(client, options, reusable.sid, fail);
    return { identity: reusable, created: false };
  }
  const added = await addAccount(client, baseDn, password).catch(fail(`create the service account in CN=Users,${baseDn}`));
  try {
    const identity = { ...added, sid: await readSid(client, added.dn).catch(fail(`read the objectSid of ${added.dn}`)) };
    await grantRights(client, options, identity.sid, fail);
    return { identity, created: true };
  } catch (error) {
    // Leave nothing half made: an account without its rights would only be found and refused next time.
    await removeHalfCreatedAccount(client, added.dn, error);
    throw error;
  }
}

/** Grants what the enabled features need; reading needs nothing (Authenticated Users read users). */
async function grantRights(client: Client, options: CreateServiceAccountOptions, sid: string, fail: (operation: string) => (error: unknown) => never): Promise<void> {
  if (options.features?.dirSync ?? true) {
    await grantExtendedRight(client, options.baseDn, sid, EXTENDED_RIGHTS.replicatingDirectoryChanges)
      .catch(fail(`grant 'Replicating Directory Changes' on ${options.baseDn}`));
    await grantDeletedObjectsRead(client, options.baseDn, sid)
      .catch(fail(`grant 'List Contents' and 'Read Property' on ${deletedObjectsDn(options.baseDn)}`));
  }
}

export function deletedObjectsDn(baseDn: string): string {
  return `CN=Deleted Objects,${baseDn}`;
}

/** LIST_CHILDREN | READ_PROPERTY ('LCRP' in dsacls): the least right that lets an account see the domain's tombstones. */
export const LIST_CONTENTS_READ_PROPERTY = 0x04 | 0x10;
const OWNER_SECURITY_INFORMATION = 0x1;
const BUILTIN_ADMINISTRATORS = 'S-1-5-32-544';

/**
 * Lets the account see deletions through DirSync: 'List Contents' and 'Read Property' on
 * CN=Deleted Objects, nothing else. Samba shows tombstones through DirSync only to accounts that may
 * list that container (Windows AD shows them to holders of Replicating Directory Changes already,
 * so there it changes nothing). The container belongs to SYSTEM and grants Administrators no
 * 'Read/Change permissions', so — as Microsoft documents for it (dsacls /takeownership, then
 * /G account:LCRP) — Administrators take ownership first, once. True when the DACL was changed.
 */
async function grantDeletedObjectsRead(client: Client, baseDn: string, sid: string): Promise<boolean> {
  const dn = deletedObjectsDn(baseDn);
  const access = { parts: DACL_SECURITY_INFORMATION, showDeleted: true };
  let descriptor = await readSecurityDescriptor(client, dn, access).catch((error: unknown) => {
    if (error instanceof AdInsufficientRightsError) return undefined;
    throw error;
  });
  if (!descriptor) {
    const ownership: SecurityDescriptor = { revision: 1, sbz1: 0, control: SE_SELF_RELATIVE, owner: BUILTIN_ADMINISTRATORS, layout: ['owner'] };
    await writeSecurityDescriptor(client, dn, ownership, { parts: OWNER_SECURITY_INFORMATION, showDeleted: true });
    descriptor = await readSecurityDescriptor(client, dn, access);
  }
  const ace: Ace = { kind: 'sid', type: ACCESS_ALLOWED_ACE_TYPE, flags: 0, mask: LIST_CONTENTS_READ_PROPERTY, sid, applicationData: Buffer.alloc(0) };
  const { descriptor: granted, added } = addAce(descriptor, ace);
  if (added) await writeSecurityDescriptor(client, dn, granted, access);
  return added;
}

async function removeHalfCreatedAccount(client: Client, dn: string, cause: unknown): Promise<void> {
  await client.del(dn).catch((error: unknown) => {
    throw new AdOperationError(`${(cause as Error).message} The account ${dn} was created before this failed and could not be removed ` +
      `(${(error as Error).message}): delete it in Active Directory Users and Computers before trying again.`);
  });
}

const NOT_SIGNED_IN = 'Not checked: the account could not sign in.';

async function readableUsers(client: Client, baseDn: string): Promise<number> {
  const pages = client.searchPaginated(baseDn, {
    ...NO_SEARCH_TIME_LIMIT, scope: 'sub', filter: '(&(objectClass=user)(!(objectClass=computer)))', attributes: ['objectGUID'],
    explicitBufferAttributes: ['objectGUID'], paged: { pageSize: 100 },
  });
  // One page proves the right; the generator's return ends the paged search.
  for await (const page of pages) return page.searchEntries.filter((entry) => firstBuffer(entry, 'objectGUID')?.length === 16).length;
  return 0;
}

/**
 * How many deleted objects DirSync shows the account, in a small sample. Every domain has at least
 * one, its own CN=Deleted Objects container, so none at all means the account cannot see deletions.
 */
async function visibleDeletedObjects(client: Client, baseDn: string): Promise<number> {
  const { searchEntries } = await client.search(baseDn, {
    ...NO_SEARCH_TIME_LIMIT, scope: 'sub', filter: '(isDeleted=TRUE)', attributes: ['objectGUID', 'isDeleted'], explicitBufferAttributes: ['objectGUID'], sizeLimit: 5,
  }, [new DirSyncControl()]);
  return searchEntries.length;
}

/**
 * The effective-rights self-test: signs in as the account on a fresh connection (so its token
 * carries the latest grants) and tries what the engine does — read users page by page, use
 * DirSync, see deletions through DirSync. An environment failure (DC unreachable, certificate not
 * trusted) is thrown; what the account may or may not do is reported.
 */
export async function verifyServiceAccountRights(options: VerifyServiceAccountRightsOptions): Promise<RightsReport> {
  const { url, bindDn, baseDn } = options;
  let connector: AdConnector;
  try {
    connector = await AdConnector.connect({
      url, bindDn, password: options.password, baseDn, trustedCaPem: options.trustedCaPem, tlsServerName: options.tlsServerName,
    });
  } catch (error) {
    if (!(error instanceof AdInvalidCredentialsError)) throw error;
    return {
      bind: false, readDirectory: false, dirSync: false,
      checks: [
        { name: 'bind', ok: false, detail: `${error.message} If the password is right, the account may be disabled, locked out or expired: check it in Active Directory Users and Computers.` },
        { name: 'readDirectory', ok: false, detail: NOT_SIGNED_IN },
        { name: 'dirSync', ok: false, detail: NOT_SIGNED_IN },
        { name: 'readDeletedObjects', ok: false, detail: NOT_SIGNED_IN },
      ],
    };
  }
  const checks: RightsCheck[] = [{ name: 'bind', ok: true, detail: `Signed in to ${url} as ${bindDn}.` }];
  try {
    const users = await readableUsers(connector.ldap, baseDn).catch((error: unknown) => {
      const mapped = mapLdapError(error, { url, bindDn, operation: `read users under ${baseDn}` });
      if (mapped instanceof AdInsufficientRightsError) return mapped;
      throw mapped;
    });
    const readDirectory = typeof users === 'number' && users > 0;
    checks.push({
      name: 'readDirectory', ok: readDirectory,
      detail: typeof users !== 'number'
        ? users.message
        : readDirectory
          ? `Read a page of ${users} users under ${baseDn} (paged search).`
          : `A paged search under ${baseDn} returned no users: the account cannot read them. Check that it is not denied 'Read' ` +
            '(for example by a group with a deny entry, or by removing Authenticated Users from Pre-Windows 2000 Compatible Access on the OUs).',
    });

    const dirSync = await connector.canUseDirSync();
    checks.push({
      name: 'dirSync', ok: dirSync,
      detail: dirSync
        ? `DirSync is allowed: the account holds 'Replicating Directory Changes' on ${baseDn}.`
        : `DirSync is refused: the account lacks 'Replicating Directory Changes' on ${baseDn}. Without it Directory Sync polls ` +
          'uSNChanged and finds deletions only in full runs. Let the Configuration Wizard grant it (an Enterprise or Domain Administrator signs in once), ' +
          `or grant the account 'Replicating Directory Changes' on ${baseDn} in Active Directory Users and Computers (Security tab of the domain).`,
    });

    if (dirSync) {
      const deleted = await visibleDeletedObjects(connector.ldap, baseDn)
        .catch((error: unknown) => mapLdapError(error, { url, bindDn, operation: 'read deleted objects with DirSync' }));
      checks.push(typeof deleted !== 'number'
        ? { name: 'readDeletedObjects', ok: false, detail: deleted.message }
        : deleted > 0
          ? { name: 'readDeletedObjects', ok: true, detail: `DirSync shows the account deleted objects (${deleted} in a sample), so deletions in AD reach Entra ID with the next delta.` }
          : {
            name: 'readDeletedObjects', ok: false,
            detail: `DirSync shows the account no deleted objects, not even ${deletedObjectsDn(baseDn)}, so a deletion in AD reaches Entra ID ` +
              `only with the next full run, which finds it by comparison. Grant the account 'List Contents' and 'Read Property' on ${deletedObjectsDn(baseDn)}: ` +
              'let the Configuration Wizard create or reuse the account (it grants them), or as a Domain Administrator run ' +
              `dsacls "${deletedObjectsDn(baseDn)}" /takeownership and dsacls "${deletedObjectsDn(baseDn)}" /G <DOMAIN>\\<account>:LCRP.`,
          });
    } else {
      checks.push({ name: 'readDeletedObjects', ok: false, detail: 'Not checked: deleted objects are read with DirSync, which the account may not use.' });
    }
    return { bind: true, readDirectory, dirSync, checks };
  } finally {
    await connector.close();
  }
}

/**
 * Sets a new random password on the service account as the administrator (a reset, so the old
 * password is not needed) and returns it. Store it before anything else: the old one stops working.
 */
export async function rotateServiceAccountPassword(options: RotateServiceAccountPasswordOptions): Promise<string> {
  const admin = await connectAsAdministrator({ ...options, baseDn: domainDnOf(options.accountDn) });
  const password = generateServiceAccountPassword();
  try {
    await resetPassword(admin.ldap, options.accountDn, password);
  } catch (error) {
    throw mapLdapError(error, {
      url: options.url, bindDn: options.adminBindDn, operation: `reset the password of ${options.accountDn}`,
      insufficientRightsAdvice: 'Resetting the service account\'s password needs a Domain Administrator (or an account delegated ' +
        '\'Reset password\' on it): sign in with such an account.',
    });
  } finally {
    await admin.close();
  }
  return password;
}

/** The DC=… tail of a DN. */
function domainDnOf(dn: string): string {
  const at = dn.search(/(^|,)\s*DC=/i);
  if (at === -1) throw new AdOperationError(`"${dn}" is not the DN of an account in a domain (it has no DC= part).`);
  return dn.slice(at).replace(/^,\s*/, '');
}
