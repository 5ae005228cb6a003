/**
 * The lab's second forest (issue 29): fabrikam.test on its own Samba DC at 127.0.0.2, started with the first
 * by `npm run lab`, seeded with lab/fixtures/fabrikam.ts — a UPN that a contoso user holds too, and a contoso
 * user as a member of a fabrikam group, by SID, which makes a foreign security principal. Its DC can be stopped
 * and started again on the same database (stopSecondForestDc / startSecondForestDc).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Client } from 'ldapts';
import { defaultLabDir, readConnection, type AdConnection } from '../connection.ts';
import { buildFabrikamOrganisation, foreignSecurityPrincipalDn, type FabrikamOrganisation } from '../fixtures/fabrikam.ts';
import { buildOrganisation, consistencyGuidBytes } from '../fixtures/organisation.ts';
import { contosoForest, fabrikamForest, sambaDcStatus } from '../samba/index.ts';
import { sidToString } from '../samba/seed.ts';
import { runCommand } from '../samba/system.ts';
import { adminClient, sharedAd, sharedForests, startSecondForestDc, stopSecondForestDc } from './support/shared-lab.ts';

const seededUserFilter = '(&(objectClass=user)(!(objectClass=computer))(!(isCriticalSystemObject=TRUE)))';
const seededGroupFilter = '(&(objectClass=group)(!(isCriticalSystemObject=TRUE)))';

const lower = (values: ReadonlyArray<string>): string[] => values.map((v) => v.toLowerCase()).sort();
const asArray = (value: unknown): string[] => (value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);

/** The certificate the DC at `ad` presents, validated against its CA with its servername. */
function peerCertificate(ad: AdConnection): Promise<PeerCertificate> {
  const url = new URL(ad.ldapsUrl);
  return new Promise((resolveCertificate, reject) => {
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), servername: ad.dcHostName, ca: [readFileSync(ad.caCertFile)] }, () => {
      const certificate = socket.getPeerCertificate();
      socket.destroy();
      resolveCertificate(certificate);
    });
    socket.once('error', reject);
  });
}

function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = netConnect({ host, port });
    socket.setTimeout(2000);
    socket.once('connect', () => { socket.destroy(); resolvePort(true); });
    socket.once('timeout', () => { socket.destroy(); resolvePort(false); });
    socket.once('error', () => { socket.destroy(); resolvePort(false); });
  });
}

/** objectGUIDs (hex) of every seeded user, group and foreign security principal of the DC at `ad`, by lower-case DN. */
/**
 * The objectGUIDs of what the seed made: the users and groups under the fixture's OU, and the foreign security principals
 * its groups hold. Other suites add objects (service accounts, test OUs, FSPs that outlive their groups) that are not the seed's.
 */
async function guidsOf(ad: AdConnection, scopeOu: string): Promise<Map<string, string>> {
  const client = await adminClient(ad);
  try {
    const { searchEntries } = await client.search(scopeOu, {
      filter: `(|${seededUserFilter}${seededGroupFilter})`, attributes: ['objectGUID', 'member'], explicitBufferAttributes: ['objectGUID'], paged: { pageSize: 1000 },
    });
    const guids = new Map(searchEntries.map((e) => [e.dn.toLowerCase(), (e['objectGUID'] as Buffer).toString('hex')]));
    const fsps = searchEntries.flatMap((e) => asArray(e['member'])).filter((dn) => /,CN=ForeignSecurityPrincipals,/i.test(dn));
    for (const dn of new Set(fsps)) {
      const fsp = await client.search(dn, { scope: 'base', attributes: ['objectGUID'], explicitBufferAttributes: ['objectGUID'] });
      guids.set(dn.toLowerCase(), (fsp.searchEntries[0]?.['objectGUID'] as Buffer).toString('hex'));
    }
    return guids;
  } finally {
    await client.unbind();
  }
}

describe('the lab\'s second forest (fabrikam.test)', () => {
  let forests: ReadonlyArray<AdConnection>;
  let contoso: AdConnection;
  let fabrikam: AdConnection;
  let fixture: FabrikamOrganisation;

  before(async () => {
    forests = await sharedForests();
    [contoso, fabrikam] = forests as [AdConnection, AdConnection];
    fixture = buildFabrikamOrganisation(fabrikam.baseDn, buildOrganisation(contoso.baseDn));
  });
  after(async () => {
    // A failed stop/restart test must not leave the shared lab without its second forest.
    if (!sambaDcStatus({ labDir: defaultLabDir(), forest: fabrikamForest }).running) await startSecondForestDc();
  });

  it('lists both forests in connection.json, contoso first (the `ad` of the lab), fabrikam on 127.0.0.2', async () => {
    assert.equal(forests.length, 2);
    assert.deepEqual(contoso, await sharedAd());
    assert.equal(contoso.ldapsUrl, 'ldaps://127.0.0.1:636');
    assert.equal(contoso.domain, contosoForest.dnsDomain);
    assert.deepEqual({ ...fabrikam, adminPassword: '' }, {
      ldapsUrl: 'ldaps://127.0.0.2:636', dcHostName: 'dc1.fabrikam.test', realm: 'FABRIKAM.TEST', domain: 'fabrikam.test', netbiosName: 'FABRIKAM',
      baseDn: 'DC=fabrikam,DC=test', adminBindDn: 'CN=Administrator,CN=Users,DC=fabrikam,DC=test', adminUpn: 'Administrator@fabrikam.test',
      adminPassword: '', caCertFile: join(defaultLabDir(), 'samba-fabrikam', 'ca.pem'), upnSuffixes: ['fabrikam.com', 'contoso.com'],
    });
  });

  it('reads a connection.json written before the second forest as one forest', () => {
    const labDir = mkdtempSync(join(tmpdir(), 'dirsync-lab-v1-'));
    try {
      const { forests: _forests, ...older } = readConnection() ?? assert.fail('no connection.json');
      writeFileSync(join(labDir, 'connection.json'), JSON.stringify({ ...older, labDir }));
      assert.deepEqual(readConnection(labDir)?.forests, [older.ad]);
    } finally {
      rmSync(labDir, { recursive: true, force: true });
    }
  });

  it('answers LDAPS on both DCs with certificates that validate against each forest\'s own CA, and not the other\'s', async () => {
    for (const ad of forests) {
      const client = await adminClient(ad);
      try {
        const { searchEntries } = await client.search('', { scope: 'base', attributes: ['defaultNamingContext', 'dnsHostName'] });
        assert.equal(searchEntries[0]?.['defaultNamingContext'], ad.baseDn);
        assert.equal(String(searchEntries[0]?.['dnsHostName']).toLowerCase(), ad.dcHostName);
      } finally {
        await client.unbind();
      }
    }
    const certificate = await peerCertificate(fabrikam);
    assert.deepEqual(certificate.subjectaltname?.split(', ').sort(), ['DNS:dc1', 'DNS:dc1.fabrikam.test', 'DNS:localhost', 'IP Address:127.0.0.2']);
    // contoso's CA does not vouch for fabrikam's DC: two forests, two CAs.
    const crossed = new Client({ url: fabrikam.ldapsUrl, connectTimeout: 5000, tlsOptions: { ca: [readFileSync(contoso.caCertFile)], servername: fabrikam.dcHostName } });
    await assert.rejects(crossed.bind(fabrikam.adminUpn, fabrikam.adminPassword), /certificate|self.signed|verify/i);
    await crossed.unbind();
    // The OpenLDAP tools check the address in the URL: the certificate names 127.0.0.2.
    const ldapsearch = await runCommand('ldapsearch', ['-LLL', '-x', '-H', fabrikam.ldapsUrl, '-D', fabrikam.adminUpn, '-w', fabrikam.adminPassword, '-s', 'base', '-b', '', '(objectClass=*)', '1.1'],
      { env: { ...process.env, LDAPTLS_CACERT: fabrikam.caCertFile, LDAPTLS_REQCERT: 'demand' }, timeoutMs: 30_000 });
    assert.equal(ldapsearch.code, 0, ldapsearch.stderr);
    const lo = await runCommand('ip', ['-o', 'addr', 'show', 'dev', 'lo'], { timeoutMs: 10_000 });
    assert.match(lo.stdout, / inet 127\.0\.0\.2\//);
  });

  describe('the seeded organisation', () => {
    let client: Client;
    before(async () => {
      client = await adminClient(fabrikam);
    });
    after(async () => {
      await client.unbind();
    });

    it('has exactly the fixture\'s OUs, users, groups and memberships', async () => {
      const counts = fixture.counts;
      const ous = await client.search(fixture.notable.scopeOu, { filter: '(objectClass=organizationalUnit)', attributes: ['1.1'] });
      assert.deepEqual(lower(ous.searchEntries.map((e) => e.dn)), lower(fixture.ous.map((o) => o.dn)));
      assert.equal(ous.searchEntries.length, counts.ous);

      const users = await client.search(fabrikam.baseDn, { filter: seededUserFilter, attributes: ['userPrincipalName', 'mail', 'userAccountControl', 'manager', 'mS-DS-ConsistencyGuid'],
        explicitBufferAttributes: ['mS-DS-ConsistencyGuid'] });
      assert.equal(users.searchEntries.length, counts.users);
      assert.equal(counts.users, 40);
      const byDn = new Map(users.searchEntries.map((e) => [e.dn.toLowerCase(), e]));
      for (const user of fixture.users) {
        const entry = byDn.get(user.dn.toLowerCase()) ?? assert.fail(`missing ${user.dn}`);
        assert.equal(entry['userPrincipalName'], user.userPrincipalName);
        assert.equal(entry['mail'], user.mail);
        assert.equal((Number(entry['userAccountControl']) & 2) === 0, user.enabled, user.dn);
        assert.deepEqual(lower(asArray(entry['manager'])), lower(user.manager ? [user.manager] : []));
        const guid = entry['mS-DS-ConsistencyGuid'];
        if (user.consistencyGuid) assert.deepEqual(guid, consistencyGuidBytes(user.consistencyGuid), user.dn);
        else assert.ok(guid === undefined || (Array.isArray(guid) && guid.length === 0), `${user.dn} has no mS-DS-ConsistencyGuid`);
      }
      assert.equal(users.searchEntries.filter((e) => (Number(e['userAccountControl']) & 2) === 0).length, counts.enabledUsers);
      assert.equal(users.searchEntries.filter((e) => Buffer.isBuffer(e['mS-DS-ConsistencyGuid'])).length, counts.usersWithConsistencyGuid);
      assert.ok(fixture.users.filter((u) => u.userPrincipalName !== fixture.notable.upnCollision.userPrincipalName).every((u) => u.userPrincipalName.endsWith('@fabrikam.com')));

      const groups = await client.search(fabrikam.baseDn, { filter: seededGroupFilter, attributes: ['member', 'groupType', 'mail'] });
      assert.equal(groups.searchEntries.length, counts.groups);
      assert.equal(groups.searchEntries.reduce((n, e) => n + asArray(e['member']).length, 0), counts.memberships);
      for (const group of fixture.groups) {
        const entry = groups.searchEntries.find((e) => e.dn.toLowerCase() === group.dn.toLowerCase()) ?? assert.fail(`missing ${group.dn}`);
        assert.equal(Number(entry['groupType']), group.groupType);
        const fsp = asArray(entry['member']).filter((dn) => /,CN=ForeignSecurityPrincipals,/i.test(dn));
        assert.deepEqual(lower(asArray(entry['member']).filter((dn) => !fsp.includes(dn))), lower(group.members), `members of ${group.dn}`);
        assert.equal(fsp.length, fixture.foreignMembers.filter((m) => m.groupDn === group.dn).length, `foreign members of ${group.dn}`);
      }
      assert.equal(asArray(groups.searchEntries.find((e) => e.dn === fixture.notable.mailEnabledSecurityGroup)?.['mail'])[0], 'leadership@fabrikam.com');

      const contacts = await client.search(fabrikam.baseDn, { filter: '(objectClass=contact)', attributes: ['1.1'] });
      assert.equal(contacts.searchEntries.length, counts.contacts);
      const partitions = await client.search(`CN=Partitions,CN=Configuration,${fabrikam.baseDn}`, { scope: 'base', attributes: ['uPNSuffixes'] });
      assert.deepEqual(asArray(partitions.searchEntries[0]?.['uPNSuffixes']).sort(), ['contoso.com', 'fabrikam.com']);
    });

    it('holds the contoso user added by SID as a foreign security principal, which the group\'s member points to', async () => {
      const foreign = fixture.notable.foreignMember;
      const contosoClient = await adminClient(contoso);
      let sidBytes: Buffer;
      try {
        const { searchEntries } = await contosoClient.search(foreign.memberDn, { scope: 'base', attributes: ['objectSid', 'userPrincipalName'], explicitBufferAttributes: ['objectSid'] });
        sidBytes = searchEntries[0]?.['objectSid'] as Buffer;
        assert.ok(Buffer.isBuffer(sidBytes), `${foreign.memberDn} has an objectSid in contoso`);
      } finally {
        await contosoClient.unbind();
      }
      const sid = sidToString(sidBytes);
      assert.match(sid, /^S-1-5-21-\d+-\d+-\d+-\d+$/);
      const fspDn = foreignSecurityPrincipalDn(sid, fabrikam.baseDn);

      const { searchEntries } = await client.search(fspDn, { scope: 'base', attributes: ['objectClass', 'objectSid', 'memberOf', 'cn'], explicitBufferAttributes: ['objectSid'] });
      const fsp = searchEntries[0] ?? assert.fail(`no ${fspDn}`);
      assert.ok(asArray(fsp['objectClass']).includes('foreignSecurityPrincipal'));
      assert.deepEqual(fsp['objectSid'], sidBytes, 'the FSP carries the contoso user\'s SID');
      assert.equal(fsp['cn'], sid);
      assert.deepEqual(lower(asArray(fsp['memberOf'])), lower([foreign.groupDn]));

      const group = await client.search(foreign.groupDn, { scope: 'base', attributes: ['member'] });
      assert.ok(lower(asArray(group.searchEntries[0]?.['member'])).includes(fspDn.toLowerCase()), `${foreign.groupDn} has ${fspDn} as a member`);
      // The seed's FSPs (other suites may have added FSPs of their own, which outlive their groups), besides the 4
      // well-known ones (S-1-5-4, -9, -11, -17) every Samba domain is provisioned with.
      const all = await client.search(`CN=ForeignSecurityPrincipals,${fabrikam.baseDn}`, { filter: '(objectClass=foreignSecurityPrincipal)', attributes: ['cn', 'memberOf'] });
      const seeded = all.searchEntries.filter((e) => lower(asArray(e['memberOf'])).some((dn) => dn.endsWith(fixture.notable.scopeOu.toLowerCase())));
      assert.deepEqual(seeded.map((e) => String(e['cn'])), [sid]);
      assert.equal(seeded.length, fixture.counts.foreignSecurityPrincipals);
      assert.deepEqual(all.searchEntries.map((e) => String(e['cn'])).filter((cn) => !cn.startsWith('S-1-5-21-')).sort(), ['S-1-5-11', 'S-1-5-17', 'S-1-5-4', 'S-1-5-9']);
    });

    it('gives the colliding UPN to one user in each forest', async () => {
      const collision = fixture.notable.upnCollision;
      const filter = `(userPrincipalName=${collision.userPrincipalName})`;
      const inFabrikam = await client.search(fabrikam.baseDn, { filter, attributes: ['objectGUID', 'mail'], explicitBufferAttributes: ['objectGUID'] });
      assert.deepEqual(inFabrikam.searchEntries.map((e) => e.dn), [collision.fabrikamDn]);
      assert.equal(inFabrikam.searchEntries[0]?.['mail'], 'grace.wilson@fabrikam.com');
      const contosoClient = await adminClient(contoso);
      try {
        const inContoso = await contosoClient.search(contoso.baseDn, { filter, attributes: ['objectGUID', 'userAccountControl'], explicitBufferAttributes: ['objectGUID'] });
        assert.deepEqual(inContoso.searchEntries.map((e) => e.dn), [collision.contosoDn]);
        assert.ok(collision.contosoDn.endsWith(`OU=Contoso,${contoso.baseDn}`));
        assert.equal(Number(inContoso.searchEntries[0]?.['userAccountControl']) & 2, 0, 'the contoso user is enabled');
        assert.notDeepEqual(inContoso.searchEntries[0]?.['objectGUID'], inFabrikam.searchEntries[0]?.['objectGUID']);
      } finally {
        await contosoClient.unbind();
      }
    });
  });

  it('stops the second forest\'s DC and starts it again on the same database: the same objects with the same objectGUIDs', async (t) => {
    const labDir = defaultLabDir();
    const before = await guidsOf(fabrikam, fixture.notable.scopeOu);
    assert.equal(before.size, fixture.counts.users + fixture.counts.groups + fixture.counts.foreignSecurityPrincipals);

    const t0 = Date.now();
    await stopSecondForestDc();
    const stopMs = Date.now() - t0;
    assert.equal(sambaDcStatus({ labDir, forest: fabrikamForest }).running, false);
    assert.equal(await portAnswers('127.0.0.2', 636), false, 'nothing answers on 127.0.0.2:636 once it is stopped');
    await assert.rejects(sharedForests(), /second forest's Samba DC \(fabrikam\.test\) is not running/);
    const contosoClient = await adminClient(contoso); // the first forest is not disturbed
    await contosoClient.unbind();

    const t1 = Date.now();
    const restarted = await startSecondForestDc();
    const startMs = Date.now() - t1;
    assert.deepEqual(restarted, fabrikam, 'the same connection: address, certificate, password');
    assert.deepEqual(await sharedForests(), forests);
    const after = await guidsOf(restarted, fixture.notable.scopeOu);
    assert.deepEqual([...after.entries()].sort(), [...before.entries()].sort());
    const message = `second forest's DC: stop ${stopMs} ms, start again on its database ${startMs} ms`;
    t.diagnostic(message);
    console.log(message);
  });
});
