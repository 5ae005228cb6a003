import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { buildOrganisation } from '../../../lab/fixtures/organisation.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import type { AdConnection } from '../../../lab/connection.ts';
import { AdConnector } from '../../src/ad/connector.ts';
import { AdCertificateError, AdInvalidCredentialsError } from '../../src/errors/ad-errors.ts';
import type { AdEntry } from '../../src/sync/ad-entry.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';

async function connect(ad: AdConnection, overrides: Partial<Parameters<typeof AdConnector.connect>[0]> = {}): Promise<AdConnector> {
  return AdConnector.connect({ url: ad.ldapsUrl, bindDn: ad.adminBindDn, password: ad.adminPassword, baseDn: ad.baseDn,
    trustedCaPem: readFileSync(ad.caCertFile, 'utf8'), ...overrides });
}

async function fullImport(connector: AdConnector): Promise<AdEntry[]> {
  const all: AdEntry[] = [];
  for await (const page of connector.fullImport()) all.push(...page);
  return all;
}

async function delta(connector: AdConnector, cursor: string): Promise<{ changed: AdEntry[]; deleted: string[]; cursor: string }> {
  const changed: AdEntry[] = [];
  const deleted: string[] = [];
  let next = cursor;
  for await (const batch of connector.deltaImport(cursor)) {
    changed.push(...batch.changed);
    deleted.push(...batch.deletedGuids);
    next = batch.cursor;
  }
  return { changed, deleted, cursor: next };
}

describe('AD connector against Samba', () => {
  let ad: AdConnection;
  let sandbox: AdSandbox;
  const organisation = buildOrganisation();

  before(async () => {
    ad = await sharedAd();
    sandbox = await createAdSandbox(ad, 'Test AD Connector');
  });
  after(async () => {
    await sandbox?.close();
  });

  it('imports every seeded user, group and contact in pages, with ranged member lists resolved to GUIDs', async () => {
    const connector = await connect(ad, { pageSize: 200 });
    try {
      const entries = await fullImport(connector);
      const users = entries.filter((e) => e.objectClass === 'user' && !e.dn.includes(sandbox.ouDn));
      const seededUsers = users.filter((e) => organisation.users.some((u) => u.dn.toLowerCase() === e.dn.toLowerCase()));
      assert.equal(seededUsers.length, organisation.counts.users);
      assert.equal(entries.filter((e) => e.objectClass === 'contact').length, organisation.counts.contacts);
      const large = entries.find((e) => e.dn === organisation.notable.largeGroup);
      assert.ok(large, 'the large group is imported');
      assert.ok((large.memberGuids?.length ?? 0) >= 1600, `the large group has ${large.memberGuids?.length} members`);
      const accented = entries.find((e) => e.dn === organisation.notable.accented[0]);
      assert.ok(accented?.parentGuid, 'objects carry their parent GUID');
      assert.equal(entries.every((e) => /^[0-9a-f-]{36}$/.test(e.guid)), true);
    } finally {
      await connector.close();
    }
  });

  it('anchors on mS-DS-ConsistencyGuid where it is set and objectGUID elsewhere', async () => {
    const connector = await connect(ad);
    try {
      const entries = await fullImport(connector);
      const withGuid = entries.filter((e) => e.consistencyGuidBase64 !== undefined);
      assert.equal(withGuid.length, organisation.counts.usersWithConsistencyGuid);
      for (const e of withGuid) assert.notEqual(e.consistencyGuidBase64, e.guidBase64);
    } finally {
      await connector.close();
    }
  });

  it('reads adds, changes, renames, moves and deletions with DirSync, and nothing twice', async () => {
    const connector = await connect(ad);
    try {
      const start = await connector.currentCursor();
      assert.equal(AdConnector.cursorMode(start), 'dirsync');
      const sub = await sandbox.addOu('Moved Here');
      const dn = await sandbox.addUser('Delta Dora', { sAMAccountName: 'deltadora', userPrincipalName: 'delta.dora@contoso.com', title: 'Analyst' });
      const gone = await sandbox.addUser('Gone Gary', { sAMAccountName: 'gonegary', userPrincipalName: 'gone.gary@contoso.com' });
      // DirSync is asked for every change; objects of other classes (this one, the DC's RID set that each new user moves on) are left out.
      await sandbox.client.add(`CN=Delta Service Point,${sandbox.ouDn}`, { objectClass: ['top', 'serviceConnectionPoint'], cn: 'Delta Service Point' });
      const first = await delta(connector, start);
      assert.deepEqual(first.changed.map((e) => e.dn).sort(), [dn, gone, sub].sort());
      assert.equal(first.changed.find((e) => e.dn === dn)?.attributes['title']?.[0], 'Analyst');

      const goneGuid = await sandbox.guidOf(gone);
      await sandbox.replace(dn, 'title', ['Lead Analyst']);
      await sandbox.rename(dn, `CN=Dora Delta,${sub}`);
      await sandbox.remove(gone);
      const second = await delta(connector, first.cursor);
      const moved = second.changed.find((e) => e.attributes['samaccountname']?.[0] === 'deltadora');
      assert.equal(moved?.dn, `CN=Dora Delta,${sub}`);
      assert.equal(moved?.attributes['title']?.[0], 'Lead Analyst');
      assert.deepEqual(second.deleted, [goneGuid]);

      const third = await delta(connector, second.cursor);
      assert.deepEqual([third.changed.length, third.deleted.length], [0, 0]);
    } finally {
      await connector.close();
    }
  });

  it('falls back to uSNChanged when the account lacks the right to use DirSync', async () => {
    const password = 'Reader-Passw0rd!1';
    const reader = await sandbox.addUser('Plain Reader', { sAMAccountName: 'plainreader', userPrincipalName: 'plainreader@contoso.test',
      unicodePwd: Buffer.from(`"${password}"`, 'utf16le'), userAccountControl: '512' });
    const connector = await connect(ad, { bindDn: reader, password });
    try {
      assert.equal(await connector.canUseDirSync(), false);
      const start = await connector.currentCursor();
      assert.equal(AdConnector.cursorMode(start), 'usn');
      const dn = await sandbox.addUser('Usn Ursula', { sAMAccountName: 'usnursula', userPrincipalName: 'usn.ursula@contoso.com' });
      const found = await delta(connector, start);
      assert.ok(found.changed.some((e) => e.dn === dn));
    } finally {
      await connector.close();
    }
  });

  it('says what is wrong with a bad password and with an untrusted certificate', async () => {
    await assert.rejects(connect(ad, { password: 'wrong-password' }), (e: unknown) => e instanceof AdInvalidCredentialsError && /password/.test((e as Error).message));
    await assert.rejects(connect(ad, { trustedCaPem: undefined }), (e: unknown) => e instanceof AdCertificateError && /Trust the CA/.test((e as Error).message));
  });
});
