import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'ldapts';
import type { AdConnection } from '../../../lab/connection.ts';
import { adminClient, sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { AdConnector } from '../../src/ad/connector.ts';
import {
  ACCESS_ALLOWED_OBJECT_ACE_TYPE, addAce, extendedRightAce, EXTENDED_RIGHTS, removeAce, sidToString, type Ace,
} from '../../src/ad/security-descriptor.ts';
import {
  createServiceAccount, deletedObjectsDn, LIST_CONTENTS_READ_PROPERTY, readSecurityDescriptor, rotateServiceAccountPassword, SERVICE_ACCOUNT_DESCRIPTION_PREFIX, verifyServiceAccountRights,
  writeSecurityDescriptor, type ServiceAccount,
} from '../../src/ad/service-account.ts';
import { AdInsufficientRightsError, AdInvalidCredentialsError } from '../../src/errors/ad-errors.ts';
import { ServiceAccountExistsError } from '../../src/errors/service-account-exists-error.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { startHarness } from '../support/engine-harness.ts';

const UF_NORMAL_ACCOUNT = 0x0200;
const UF_DONT_EXPIRE_PASSWD = 0x10000;
/** schemaIDGUID of the user class, and the rights to create and delete children of a class. */
const USER_CLASS = 'bf967aba-0de6-11d0-a285-00aa003049e2';
const ADS_RIGHT_DS_CREATE_CHILD = 0x1;
const ADS_RIGHT_DS_DELETE_CHILD = 0x2;

describe('service account (MSOL_) against Samba', () => {
  let ad: AdConnection;
  let admin: Client;
  let sandbox: AdSandbox;
  let tls: { url: string; trustedCaPem: string; tlsServerName: string };
  let account: ServiceAccount;
  let plainReader: { dn: string; password: string };
  /** Accounts this suite created (deleted in `after`), and the SIDs whose grant it removes from the domain head. */
  const createdDns = new Set<string>();
  const grantedSids = new Set<string>();
  /** ACEs the suite added elsewhere (delegations), removed in `after` should a test stop half-way. */
  const delegations: Array<{ dn: string; ace: Ace }> = [];

  const create = async (overrides: Partial<Parameters<typeof createServiceAccount>[0]> = {}): Promise<ServiceAccount> => {
    const result = await createServiceAccount({ ...tls, adminBindDn: ad.adminBindDn, adminPassword: ad.adminPassword, baseDn: ad.baseDn, reuseExisting: false, ...overrides });
    createdDns.add(result.dn);
    grantedSids.add(result.sid);
    return result;
  };

  /** The account's 'List Contents' + 'Read Property' ACEs on CN=Deleted Objects (0 while Administrators do not own it yet). */
  const deletedObjectsGrants = async (sid: string): Promise<number> => {
    const descriptor = await readSecurityDescriptor(admin, deletedObjectsDn(ad.baseDn), { showDeleted: true }).catch((error: unknown) => {
      if (error instanceof AdInsufficientRightsError) return undefined;
      throw error;
    });
    return (descriptor?.dacl?.aces ?? []).filter((ace) => ace.kind === 'sid' && ace.sid === sid && ace.type === 0 && ace.mask === LIST_CONTENTS_READ_PROPERTY).length;
  };

  const getChangesGrants = async (sid: string): Promise<number> => {
    const dacl = (await readSecurityDescriptor(admin, ad.baseDn)).dacl?.aces ?? [];
    return dacl.filter((ace) => ace.kind === 'object' && ace.sid === sid && ace.objectType === EXTENDED_RIGHTS.replicatingDirectoryChanges).length;
  };

  const directorySyncAccounts = async (): Promise<Array<{ dn: string; sid: string }>> => {
    const { searchEntries } = await admin.search(ad.baseDn, {
      scope: 'sub', filter: `(&(objectClass=user)(description=${SERVICE_ACCOUNT_DESCRIPTION_PREFIX}*))`, attributes: ['objectSid'], explicitBufferAttributes: ['objectSid'],
    });
    return searchEntries.map((entry) => ({ dn: entry.dn, sid: sidToString(entry['objectSid'] as Buffer) }));
  };

  before(async () => {
    ad = await sharedAd();
    admin = await adminClient(ad);
    tls = { url: ad.ldapsUrl, trustedCaPem: readFileSync(ad.caCertFile, 'utf8'), tlsServerName: ad.dcHostName };
    // A run that died before its `after` may have left an account behind in a long-lived lab: creation starts from nothing.
    await removeCreated();
    sandbox = await createAdSandbox(ad, 'Test Service Account');
    const password = 'Reader-Passw0rd!1';
    const dn = await sandbox.addUser('Plain Reader', {
      sAMAccountName: 'sa-plainreader', userPrincipalName: 'sa-plainreader@contoso.test', unicodePwd: Buffer.from(`"${password}"`, 'utf16le'), userAccountControl: '512',
    });
    plainReader = { dn, password };
  });

  async function removeDelegations(): Promise<void> {
    for (const { dn, ace } of delegations.splice(0)) {
      const { descriptor, removed } = removeAce(await readSecurityDescriptor(admin, dn), ace);
      if (removed > 0) await writeSecurityDescriptor(admin, dn, descriptor);
    }
  }

  /** Removes every Directory Sync account in the lab (only this suite makes them) and the grants of the ones it made. */
  async function removeCreated(): Promise<void> {
    const problems: string[] = [];
    for (const found of await directorySyncAccounts()) {
      createdDns.add(found.dn);
      grantedSids.add(found.sid);
    }
    for (const sid of grantedSids) {
      const { descriptor, removed } = removeAce(await readSecurityDescriptor(admin, ad.baseDn), extendedRightAce({ sid, right: EXTENDED_RIGHTS.replicatingDirectoryChanges }));
      if (removed > 0) await writeSecurityDescriptor(admin, ad.baseDn, descriptor);
      if (await deletedObjectsGrants(sid) > 0) {
        const access = { showDeleted: true };
        const lcrp: Ace = { kind: 'sid', type: 0, flags: 0, mask: LIST_CONTENTS_READ_PROPERTY, sid, applicationData: Buffer.alloc(0) };
        const cleaned = removeAce(await readSecurityDescriptor(admin, deletedObjectsDn(ad.baseDn), access), lcrp);
        await writeSecurityDescriptor(admin, deletedObjectsDn(ad.baseDn), cleaned.descriptor, access);
      }
    }
    for (const dn of createdDns) {
      await admin.del(dn).catch((error: unknown) => problems.push(`${dn}: ${(error as Error).message}`));
    }
    grantedSids.clear();
    createdDns.clear();
    if (problems.length > 0) throw new Error(`could not remove the service accounts this suite created: ${problems.join('; ')}`);
  }

  after(async () => {
    try {
      if (admin) await removeDelegations();
      if (admin) await removeCreated();
      await sandbox?.close();
    } finally {
      await admin?.unbind();
    }
  });

  it('says an Enterprise or Domain Administrator is needed when the account given may not create users, and leaves nothing behind', async () => {
    await assert.rejects(
      createServiceAccount({ ...tls, adminBindDn: plainReader.dn, adminPassword: plainReader.password, baseDn: ad.baseDn, reuseExisting: false }),
      (e: unknown) => e instanceof AdInsufficientRightsError && e.code === 'ad-insufficient-rights' &&
        /Enterprise Administrator or a Domain Administrator/.test(e.message) && e.message.includes(plainReader.dn),
    );
    assert.deepEqual(await directorySyncAccounts(), []);
  });

  it('removes the account it created when granting the right fails, for a delegate who may create users but not change the domain', async () => {
    const { searchEntries } = await admin.search(plainReader.dn, { scope: 'base', attributes: ['objectSid'], explicitBufferAttributes: ['objectSid'] });
    const usersDn = `CN=Users,${ad.baseDn}`;
    const delegation: Ace = {
      kind: 'object', type: ACCESS_ALLOWED_OBJECT_ACE_TYPE, flags: 0, mask: ADS_RIGHT_DS_CREATE_CHILD | ADS_RIGHT_DS_DELETE_CHILD, objectType: USER_CLASS,
      sid: sidToString(searchEntries[0]?.['objectSid'] as Buffer), applicationData: Buffer.alloc(0),
    };
    delegations.push({ dn: usersDn, ace: delegation });
    await writeSecurityDescriptor(admin, usersDn, addAce(await readSecurityDescriptor(admin, usersDn), delegation).descriptor);
    try {
      await assert.rejects(
        createServiceAccount({ ...tls, adminBindDn: plainReader.dn, adminPassword: plainReader.password, baseDn: ad.baseDn, reuseExisting: false }),
        (e: unknown) => e instanceof AdInsufficientRightsError && /grant 'Replicating Directory Changes'/.test(e.message) &&
          /Enterprise Administrator or a Domain Administrator/.test(e.message),
      );
      assert.deepEqual(await directorySyncAccounts(), [], 'the account created before the failure is gone');
    } finally {
      await removeDelegations();
    }
  });

  it('refuses a wrong administrator password with AdInvalidCredentialsError', async () => {
    await assert.rejects(create({ adminPassword: 'not-the-password' }), (e: unknown) => e instanceof AdInvalidCredentialsError && e.code === 'ad-invalid-credentials');
  });

  it('creates MSOL_<12 hex> in CN=Users with a password that never expires, and grants it Replicating Directory Changes on the domain and List Contents + Read Property on CN=Deleted Objects', async () => {
    account = await create();
    assert.match(account.samAccountName, /^MSOL_[0-9a-f]{12}$/);
    assert.equal(account.dn, `CN=${account.samAccountName},CN=Users,${ad.baseDn}`);
    assert.equal(account.userPrincipalName, `${account.samAccountName}@contoso.test`);
    assert.equal(account.created, true);
    assert.ok(account.password.length >= 48, 'a long password');
    for (const kind of [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/]) assert.match(account.password, kind);

    const { searchEntries } = await admin.search(account.dn, {
      scope: 'base', attributes: ['userAccountControl', 'description', 'objectSid', 'sAMAccountName'], explicitBufferAttributes: ['objectSid'],
    });
    const entry = searchEntries[0];
    assert.ok(entry, 'the account exists');
    assert.equal(Number(entry['userAccountControl']), UF_NORMAL_ACCOUNT | UF_DONT_EXPIRE_PASSWD);
    assert.ok(String(entry['description']).startsWith(SERVICE_ACCOUNT_DESCRIPTION_PREFIX));
    assert.equal(sidToString(entry['objectSid'] as Buffer), account.sid);
    assert.match(account.sid, /^S-1-5-21-\d+-\d+-\d+-\d+$/);
    assert.equal(await getChangesGrants(account.sid), 1);
    assert.equal(await deletedObjectsGrants(account.sid), 1);
  });

  it('passes its own rights self-test: it signs in, reads users page by page, and may use DirSync', async () => {
    assert.deepEqual([account.rights.bind, account.rights.readDirectory, account.rights.dirSync], [true, true, true], JSON.stringify(account.rights.checks));
    assert.deepEqual(account.rights.checks.map((c) => c.name), ['bind', 'readDirectory', 'dirSync', 'readDeletedObjects']);
    assert.ok(account.rights.checks.slice(0, 3).every((c) => c.ok && c.detail.length > 0));

    const connector = await AdConnector.connect({ ...tls, bindDn: account.dn, password: account.password, baseDn: ad.baseDn });
    try {
      assert.equal(AdConnector.cursorMode(await connector.currentCursor()), 'dirsync', 'the engine reads changes with DirSync as this account');
    } finally {
      await connector.close();
    }
  });

  it('sees deletions through DirSync, and its rights self-test proves it', async () => {
    const connector = await AdConnector.connect({ ...tls, bindDn: account.dn, password: account.password, baseDn: ad.baseDn });
    let seen = false;
    try {
      const cursor = await connector.currentCursor();
      const probe = await sandbox.addUser('Deleted Probe', { sAMAccountName: 'sa-deletedprobe' });
      const guid = await sandbox.guidOf(probe);
      await sandbox.remove(probe);
      for await (const batch of connector.deltaImport(cursor)) seen ||= batch.deletedGuids.includes(guid);
    } finally {
      await connector.close();
    }
    assert.ok(seen, 'a delta import as the service account did not see the deletion');
    const report = await verifyServiceAccountRights({ ...tls, bindDn: account.dn, password: account.password, baseDn: ad.baseDn });
    const check = report.checks.find((c) => c.name === 'readDeletedObjects');
    assert.equal(check?.ok, true, check?.detail);
  });

  it('a delta run as the service account deletes in the tenant what was deleted in AD', async () => {
    const leaver = await sandbox.addUser('Sa Leaver', { sAMAccountName: 'sa-leaver', userPrincipalName: 'sa.leaver@contoso.com', displayName: 'Sa Leaver' });
    await sandbox.addUser('Sa Stayer', { sAMAccountName: 'sa-stayer', userPrincipalName: 'sa.stayer@contoso.com', displayName: 'Sa Stayer' });
    const scope = { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] };
    const harness = await startHarness({ adAccount: { bindDn: account.dn, password: account.password }, config: { scope, deletionThreshold: { count: 500, percent: 100 } } });
    try {
      const full = await harness.sync('full');
      // Plain Reader's UPN suffix (contoso.test) is not verified in the tenant: an object error, the run goes on.
      assert.equal(full.status, 'completed-with-errors', full.message);
      assert.equal(full.exported['create-user'], 2, JSON.stringify(full.exported));
      await sandbox.remove(leaver);
      const delta = await harness.sync('delta');
      assert.equal(delta.kind, 'delta');
      assert.notEqual(delta.status, 'failed', delta.message);
      assert.deepEqual(delta.exported, { 'delete-user': 1 }, 'the delta run as MSOL_ missed the deletion');
    } finally {
      await harness.close();
    }
  });

  it('reports that a plain user without the grant may read users but not use DirSync', async () => {
    const report = await verifyServiceAccountRights({ ...tls, bindDn: plainReader.dn, password: plainReader.password, baseDn: ad.baseDn });
    assert.deepEqual([report.bind, report.readDirectory, report.dirSync], [true, true, false]);
    const dirSync = report.checks.find((c) => c.name === 'dirSync');
    assert.equal(dirSync?.ok, false);
    assert.match(dirSync?.detail ?? '', /lacks 'Replicating Directory Changes' on DC=contoso,DC=test/);
    assert.equal(report.checks.find((c) => c.name === 'readDeletedObjects')?.ok, false);
  });

  it('reports an account that cannot sign in as such instead of throwing', async () => {
    const report = await verifyServiceAccountRights({ ...tls, bindDn: plainReader.dn, password: 'wrong-Passw0rd!', baseDn: ad.baseDn });
    assert.deepEqual([report.bind, report.readDirectory, report.dirSync], [false, false, false]);
    assert.match(report.checks[0]?.detail ?? '', /refused the user name or password/);
  });

  it('refuses to create a second account without confirmation, naming the existing one', async () => {
    await assert.rejects(create(), (e: unknown) => e instanceof ServiceAccountExistsError && e.code === 'service-account-exists' &&
      e.accountDn === account.dn && e.message.includes(account.dn) && /Confirm that Directory Sync may reuse it/.test(e.message));
    assert.equal((await directorySyncAccounts()).length, 1);
  });

  it('reuses the existing account when confirmed: a new password, the old one no longer signs in, and the grant is not added twice', async () => {
    const reused = await create({ reuseExisting: true });
    assert.equal(reused.created, false);
    assert.equal(reused.dn, account.dn);
    assert.equal(reused.sid, account.sid);
    assert.notEqual(reused.password, account.password);
    assert.equal(reused.rights.dirSync, true);
    assert.equal(await getChangesGrants(account.sid), 1);
    assert.equal(await deletedObjectsGrants(account.sid), 1);
    assert.equal((await directorySyncAccounts()).length, 1);

    const old = await verifyServiceAccountRights({ ...tls, bindDn: account.dn, password: account.password, baseDn: ad.baseDn });
    assert.equal(old.bind, false, 'the old password no longer signs in');
    account = reused;
  });

  it('rotates the password: the new one signs in and the old one no longer does', async () => {
    const password = await rotateServiceAccountPassword({ ...tls, adminBindDn: ad.adminBindDn, adminPassword: ad.adminPassword, accountDn: account.dn });
    assert.notEqual(password, account.password);
    assert.ok(password.length >= 48);
    const now = await verifyServiceAccountRights({ ...tls, bindDn: account.dn, password, baseDn: ad.baseDn });
    assert.deepEqual([now.bind, now.dirSync], [true, true]);
    const before = await verifyServiceAccountRights({ ...tls, bindDn: account.dn, password: account.password, baseDn: ad.baseDn });
    assert.equal(before.bind, false);
  });

  it('refuses to rotate with a wrong administrator password, or as an account that may not reset passwords', async () => {
    await assert.rejects(rotateServiceAccountPassword({ ...tls, adminBindDn: ad.adminBindDn, adminPassword: 'not-the-password', accountDn: account.dn }),
      (e: unknown) => e instanceof AdInvalidCredentialsError);
    await assert.rejects(rotateServiceAccountPassword({ ...tls, adminBindDn: plainReader.dn, adminPassword: plainReader.password, accountDn: account.dn }),
      (e: unknown) => e instanceof AdInsufficientRightsError && /Domain Administrator/.test(e.message));
  });

  it('grants nothing when DirSync is turned off', async () => {
    await removeCreated();
    const readOnly = await create({ features: { dirSync: false } });
    assert.equal(readOnly.created, true);
    assert.equal(await getChangesGrants(readOnly.sid), 0);
    assert.equal(await deletedObjectsGrants(readOnly.sid), 0);
    assert.deepEqual([readOnly.rights.bind, readOnly.rights.readDirectory, readOnly.rights.dirSync], [true, true, false]);
  });
});
