import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import type { AdConnection } from '../connection.ts';
import { defaultLabDir } from '../connection.ts';
import { buildOrganisation, consistencyGuidBytes, userStringAttributes, type Organisation } from '../fixtures/organisation.ts';
import { lastSambaDcTimings, sambaDcStatus, startSambaDc, stopSambaDc } from '../samba/index.ts';
import { runCommand } from '../samba/system.ts';
import { adminClient, sharedAd } from './support/shared-lab.ts';

/** A file holding the Administrator password, for the OpenLDAP tools' -y (keeps it off the command line). */
function passwordFile(ad: AdConnection): { file: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dirsync-ldap-pw-'));
  const file = join(dir, 'password');
  writeFileSync(file, ad.adminPassword, { mode: 0o600 });
  return { file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** DNs in ldapsearch LDIF output (`dn:` plain or `dn::` base64). */
function dnsFromLdif(ldif: string): string[] {
  return ldif.split('\n').flatMap((line) => {
    if (line.startsWith('dn:: ')) return [Buffer.from(line.slice(5), 'base64').toString('utf8')];
    if (line.startsWith('dn: ')) return [line.slice(4)];
    return [];
  });
}

function portListens(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolvePort(true); });
    socket.once('error', () => resolvePort(false));
  });
}

const lower = (values: ReadonlyArray<string>): string[] => values.map((v) => v.toLowerCase()).sort();
const asArray = (value: unknown): string[] => (value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);

const seededUserFilter = '(&(objectClass=user)(!(objectClass=computer))(!(isCriticalSystemObject=TRUE)))';

describe('Samba AD DC of the lab', () => {
  let ad: AdConnection;
  let organisation: Organisation;

  before(async () => {
    ad = await sharedAd();
    organisation = buildOrganisation(ad.baseDn);
  });

  it('lists every seeded user to the real ldapsearch over LDAPS, trusting only the lab CA', async () => {
    const pw = passwordFile(ad);
    try {
      const result = await runCommand('ldapsearch', [
        '-LLL', '-o', 'ldif-wrap=no', '-x', '-H', ad.ldapsUrl, '-D', ad.adminUpn, '-y', pw.file,
        '-E', 'pr=1000/noprompt', '-b', ad.baseDn, seededUserFilter, '1.1',
      ], { env: { ...process.env, LDAPTLS_CACERT: ad.caCertFile, LDAPTLS_REQCERT: 'demand' }, timeoutMs: 60_000 });
      assert.equal(result.code, 0, `ldapsearch failed: ${result.stderr}`);
      const dns = dnsFromLdif(result.stdout);
      assert.equal(dns.length, organisation.users.length);
      assert.deepEqual(lower(dns), lower(organisation.users.map((u) => u.dn)));
    } finally {
      pw.dispose();
    }
  });

  it('serves a certificate that validates against the lab CA and is refused without it', async () => {
    const trusting = await adminClient(ad);
    await trusting.unbind();

    const untrusting = new Client({ url: ad.ldapsUrl, connectTimeout: 5000, tlsOptions: { servername: ad.dcHostName } });
    await assert.rejects(untrusting.bind(ad.adminUpn, ad.adminPassword), (error: Error & { code?: string }) => {
      assert.match(`${error.code ?? ''} ${error.message}`, /certificate|self.signed|verify/i);
      return true;
    });
    await untrusting.unbind();

    const wrongName = new Client({ url: ad.ldapsUrl, connectTimeout: 5000, tlsOptions: { ca: [readFileSync(ad.caCertFile)], servername: 'not-the-dc.contoso.test' } });
    await assert.rejects(wrongName.bind(ad.adminUpn, ad.adminPassword), /altname|does not match|Hostname/i);
    await wrongName.unbind();
  });

  it('refuses a simple bind over plain ldap:// on 389 with strongerAuthRequired (8)', async (t) => {
    if (!(await portListens(389))) {
      t.skip('nothing listens on 127.0.0.1:389');
      return;
    }
    const plain = new Client({ url: 'ldap://127.0.0.1:389', connectTimeout: 5000 });
    await assert.rejects(plain.bind(ad.adminUpn, ad.adminPassword), (error: Error & { code?: number }) => {
      assert.equal(error.code, 8, `expected strongerAuthRequired, got ${error.code}: ${error.message}`);
      assert.match(error.message, /Transport encryption required/);
      return true;
    });
    await plain.unbind();
  });

  it('registers contoso.com as a UPN suffix of the forest', async () => {
    const client = await adminClient(ad);
    try {
      const { searchEntries } = await client.search(`CN=Partitions,CN=Configuration,${ad.baseDn}`, { scope: 'base', attributes: ['uPNSuffixes'] });
      assert.deepEqual(asArray(searchEntries[0]?.['uPNSuffixes']), [...ad.upnSuffixes]);
    } finally {
      await client.unbind();
    }
  });

  describe('the seeded organisation', () => {
    let client: Client;
    before(async () => {
      client = await adminClient(ad);
    });
    after(async () => {
      await client.unbind();
    });

    it('has every OU, including the nested ones', async () => {
      const { searchEntries } = await client.search(ad.baseDn, { filter: '(objectClass=organizationalUnit)', attributes: ['ou'] });
      const found = lower(searchEntries.map((e) => e.dn));
      for (const ou of organisation.ous) assert.ok(found.includes(ou.dn.toLowerCase()), `missing ${ou.dn}`);
      assert.ok(found.includes(organisation.notable.nestedOu.toLowerCase()));
      assert.equal(organisation.notable.nestedOu.split(',').filter((rdn) => rdn.startsWith('OU=')).length, 4);
    });

    it('reads every user back exactly as the fixture wrote it (accents, apostrophes, commas, bad data included)', async () => {
      const attributes = ['sAMAccountName', 'userPrincipalName', 'userAccountControl', 'proxyAddresses', 'manager', 'cn', ...userStringAttributes];
      const { searchEntries } = await client.search(ad.baseDn, { filter: seededUserFilter, attributes, paged: { pageSize: 1000 } });
      const byDn = new Map(searchEntries.map((e) => [e.dn.toLowerCase(), e]));
      assert.equal(byDn.size, organisation.users.length);
      for (const user of organisation.users) {
        const entry = byDn.get(user.dn.toLowerCase());
        assert.ok(entry, `missing user ${user.dn}`);
        assert.equal(entry['cn'], user.cn, user.dn);
        assert.equal(entry['sAMAccountName'], user.sAMAccountName, user.dn);
        assert.equal(entry['userPrincipalName'], user.userPrincipalName, user.dn);
        for (const name of userStringAttributes) {
          // AD (and Samba) give every user created without a countryCode the value 0.
          const expected = name === 'countryCode' ? (user.countryCode ?? '0') : user[name];
          assert.deepEqual(asArray(entry[name]), asArray(expected), `${name} of ${user.dn}`);
        }
        assert.deepEqual(lower(asArray(entry['proxyAddresses'])), lower(user.proxyAddresses ?? []), `proxyAddresses of ${user.dn}`);
        assert.deepEqual(lower(asArray(entry['manager'])), lower(user.manager ? [user.manager] : []), `manager of ${user.dn}`);
        const uac = Number(entry['userAccountControl']);
        assert.equal((uac & 2) !== 0, !user.enabled, `ACCOUNTDISABLE bit of ${user.dn} (userAccountControl ${uac})`);
      }
      const special = [...organisation.notable.accented, ...organisation.notable.withApostrophe, organisation.notable.commaInCn];
      for (const dn of special) assert.ok(byDn.has(dn.toLowerCase()), `missing ${dn}`);
      assert.equal(byDn.get(organisation.notable.commaInCn.toLowerCase())?.['cn'], 'Lefèvre, Chloé');
    });

    it('keeps the users AD accepts but Entra refuses, with their bad values', async () => {
      const bad = organisation.users.filter((u) => u.expectedProblem !== undefined);
      assert.deepEqual([...new Set(bad.map((u) => u.expectedProblem))].sort(),
        ['duplicate-mail', 'non-routable-upn-suffix', 'unverified-upn-suffix', 'upn-invalid-character', 'upn-prefix-too-long']);
      for (const user of bad) {
        const { searchEntries } = await client.search(user.dn, { scope: 'base', attributes: ['userPrincipalName', 'mail'] });
        assert.equal(searchEntries[0]?.['userPrincipalName'], user.userPrincipalName);
        assert.equal(searchEntries[0]?.['mail'], user.mail);
      }
      const nonRoutable = await client.search(organisation.notable.nonRoutableSuffixUser, { scope: 'base', attributes: ['userPrincipalName'] });
      assert.match(String(nonRoutable.searchEntries[0]?.['userPrincipalName']), new RegExp(`@${ad.domain.replace('.', '\\.')}$`));
      const long = bad.find((u) => u.expectedProblem === 'upn-prefix-too-long');
      assert.ok(long && (long.userPrincipalName.split('@')[0] ?? '').length > 64);
      const sameMail = await client.search(ad.baseDn, { filter: '(&(objectClass=user)(mail=c.green@contoso.com))', attributes: ['mail'] });
      assert.equal(sameMail.searchEntries.length, 2);
    });

    it('stores mS-DS-ConsistencyGuid as 16 bytes on the users that have one, distinct from objectGUID', async () => {
      const users = organisation.users.filter((u) => u.consistencyGuid !== undefined);
      assert.ok(users.length >= 3);
      for (const user of users) {
        const { searchEntries } = await client.search(user.dn, {
          scope: 'base', attributes: ['mS-DS-ConsistencyGuid', 'objectGUID'], explicitBufferAttributes: ['mS-DS-ConsistencyGuid', 'objectGUID'],
        });
        const value = searchEntries[0]?.['mS-DS-ConsistencyGuid'];
        assert.ok(Buffer.isBuffer(value), `mS-DS-ConsistencyGuid of ${user.dn} should be one binary value`);
        assert.equal(value.length, 16);
        assert.deepEqual(value, consistencyGuidBytes(user.consistencyGuid ?? ''));
        assert.notDeepEqual(value, searchEntries[0]?.['objectGUID']);
      }
    });

    it('has the groups with their members, nested groups, distribution groups and the mail-enabled security group', async () => {
      const { searchEntries } = await client.search(ad.baseDn, {
        filter: '(&(objectClass=group)(!(isCriticalSystemObject=TRUE)))', attributes: ['groupType', 'member', 'mail', 'proxyAddresses', 'sAMAccountName'],
      });
      const byDn = new Map(searchEntries.map((e) => [e.dn.toLowerCase(), e]));
      assert.equal(byDn.size, organisation.groups.length);
      for (const group of organisation.groups) {
        const entry = byDn.get(group.dn.toLowerCase());
        assert.ok(entry, `missing group ${group.dn}`);
        assert.equal(Number(entry['groupType']), group.groupType, `groupType of ${group.dn}`);
        assert.equal(entry['sAMAccountName'], group.sAMAccountName);
        assert.deepEqual(lower(asArray(entry['member'])), lower(group.members), `members of ${group.dn}`);
        assert.deepEqual(asArray(entry['mail']), asArray(group.mail));
      }
      assert.ok(organisation.groups.filter((g) => g.security).length >= 20);
      assert.ok(organisation.groups.filter((g) => !g.security && g.mail).length >= 3);
      // Three levels of nesting as AD stores them: Product-Development ⊃ Engineering ⊃ Platform ⊃ Site-Reliability.
      const membersInAd = (cn: string): string[] => lower(asArray(byDn.get(`cn=${cn},ou=groups,ou=contoso,${ad.baseDn}`.toLowerCase())?.['member']));
      const groupDn = (cn: string): string => `cn=${cn},ou=groups,ou=contoso,${ad.baseDn}`.toLowerCase();
      assert.ok(membersInAd('UG-Product-Development').includes(groupDn('GG-Engineering')));
      assert.ok(membersInAd('GG-Engineering').includes(groupDn('GG-Platform')));
      assert.ok(membersInAd('GG-Platform').includes(groupDn('GG-Site-Reliability')));
      assert.ok(membersInAd('UG-Everyone').includes(organisation.notable.largeGroup.toLowerCase()));
      const mailSecurity = byDn.get(organisation.notable.mailEnabledSecurityGroup.toLowerCase());
      assert.ok(mailSecurity && (Number(mailSecurity['groupType']) & 0x80000000) !== 0 && typeof mailSecurity['mail'] === 'string');
      assert.ok(asArray(mailSecurity['proxyAddresses']).length > 0);
      const scopes = new Set(organisation.groups.map((g) => g.groupType));
      for (const type of [-2147483646, -2147483640, -2147483644, 2, 8]) assert.ok(scopes.has(type), `no group of type ${type}`);
    });

    it('has the mail contacts', async () => {
      const { searchEntries } = await client.search(ad.baseDn, { filter: '(objectClass=contact)', attributes: ['mail', 'displayName'] });
      assert.deepEqual(lower(searchEntries.map((e) => e.dn)), lower(organisation.contacts.map((c) => c.dn)));
      assert.ok(searchEntries.filter((e) => typeof e['mail'] === 'string').length >= 3);
    });

    it('returns the large group\'s members in ranges of 1,500 (member;range=0-1499, then 1500-*)', async () => {
      const dn = organisation.notable.largeGroup;
      const expected = organisation.groups.find((g) => g.dn === dn)?.members.length ?? 0;
      assert.ok(expected >= 1600, `the fixture's large group has ${expected} members`);
      const first = await client.search(dn, { scope: 'base', attributes: ['member;range=0-1499'] });
      const firstValues = asArray(first.searchEntries[0]?.['member;range=0-1499']);
      assert.equal(firstValues.length, 1500);
      const rest = await client.search(dn, { scope: 'base', attributes: ['member;range=1500-*'] });
      const restValues = asArray(rest.searchEntries[0]?.['member;range=1500-*']);
      assert.equal(restValues.length, expected - 1500);
      assert.equal(new Set(lower([...firstValues, ...restValues])).size, expected);
    });

    it('marks built-in objects isCriticalSystemObject=TRUE and leaves seeded ones without it', async () => {
      const critical = await client.search(ad.baseDn, {
        filter: '(&(|(objectClass=user)(objectClass=group)(objectClass=contact))(isCriticalSystemObject=TRUE))', attributes: ['sAMAccountName'],
      });
      const names = critical.searchEntries.map((e) => String(e['sAMAccountName']));
      for (const builtin of ['Administrator', 'krbtgt', 'Guest', 'Domain Users', 'Domain Admins', 'DC1$']) assert.ok(names.includes(builtin), `${builtin} should be critical`);
      const seededDns = new Set(lower([...organisation.users, ...organisation.groups, ...organisation.contacts].map((o) => o.dn)));
      for (const entry of critical.searchEntries) assert.ok(!seededDns.has(entry.dn.toLowerCase()), `${entry.dn} is seeded but critical`);
      const notCritical = await client.search(ad.baseDn, {
        filter: '(&(|(objectClass=user)(objectClass=group)(objectClass=contact))(!(isCriticalSystemObject=TRUE)))', attributes: ['1.1'], paged: { pageSize: 1000 },
      });
      assert.equal(notCritical.searchEntries.length, seededDns.size);
    });
  });

  it('refuses to start a second DC on the same 127.0.0.1:636 and names the process holding it', async () => {
    const labDir = mkdtempSync(join(tmpdir(), 'dirsync-dc-port-'));
    try {
      await assert.rejects(startSambaDc({ labDir }), /Port 636 on 127\.0\.0\.1 is already in use by .*\(pid \d+\)/);
      assert.equal(existsSync(join(labDir, 'samba')), false);
    } finally {
      rmSync(labDir, { recursive: true, force: true });
    }
  });
});

/** Processes whose command line or working directory mentions `dir` (samba rewrites its command line, so check both). */
function processesMentioning(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline = '';
    let cwd = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      cwd = readlinkSync(`/proc/${entry}/cwd`);
    } catch {
      continue; // exited while we looked, or a kernel thread
    }
    if (cmdline.includes(dir) || cwd === dir || cwd.startsWith(`${dir}/`)) found.push(`${entry}: ${cmdline}`);
  }
  return found;
}

async function namespaces(): Promise<string[]> {
  const result = await runCommand('ip', ['netns', 'list']);
  return result.stdout.split('\n').map((line) => line.split(' ')[0] ?? '').filter((name) => name !== '');
}

describe('Samba DC lifecycle in a network namespace', () => {
  const netns = `dirsync-test-${process.pid}`;
  let labDir = '';

  after(async () => {
    if (labDir !== '') {
      await stopSambaDc({ labDir, netns });
      rmSync(labDir, { recursive: true, force: true });
    }
  });

  it('starts a second DC beside the shared one, answers LDAPS inside the namespace, then stops leaving nothing behind', async (t) => {
    const shared = await sharedAd();
    labDir = mkdtempSync(join(tmpdir(), 'dirsync-dc-netns-'));
    const sharedTemplate = join(defaultLabDir(), 'samba-template');
    const templateDir = existsSync(sharedTemplate) ? sharedTemplate : undefined;

    const t0 = Date.now();
    const second = await startSambaDc({ labDir, netns, ...(templateDir ? { templateDir } : {}) });
    const startMs = Date.now() - t0;
    assert.equal(sambaDcStatus({ labDir }).running, true);
    assert.ok((await namespaces()).includes(netns));
    assert.ok(processesMentioning(labDir).length > 0, 'the scan should see the running DC (else the final check proves nothing)');

    const pw = passwordFile(second);
    try {
      const env = { ...process.env, LDAPTLS_CACERT: second.caCertFile, LDAPTLS_REQCERT: 'demand' };
      const inside = await runCommand('ip', ['netns', 'exec', netns, 'ldapsearch', '-LLL', '-x', '-H', second.ldapsUrl, '-D', second.adminUpn, '-y', pw.file,
        '-b', second.baseDn, '-s', 'base', '(objectClass=*)', '1.1'], { env, timeoutMs: 30_000 });
      assert.equal(inside.code, 0, `ldapsearch inside ${netns} failed: ${inside.stderr}`);
      assert.deepEqual(dnsFromLdif(inside.stdout), [second.baseDn]);
      // It is a different, empty DC: the shared one's seeded OU does not exist there.
      const unseeded = await runCommand('ip', ['netns', 'exec', netns, 'ldapsearch', '-LLL', '-x', '-H', second.ldapsUrl, '-D', second.adminUpn, '-y', pw.file,
        '-b', `OU=Contoso,${second.baseDn}`, '-s', 'base', '(objectClass=*)', '1.1'], { env, timeoutMs: 30_000 });
      assert.equal(unseeded.code, 32, 'OU=Contoso should not exist on the second DC (noSuchObject)');
    } finally {
      pw.dispose();
    }

    // The shared DC was not disturbed.
    const sharedClient = await adminClient(shared);
    await sharedClient.unbind();

    const t1 = Date.now();
    await stopSambaDc({ labDir, netns });
    const stopMs = Date.now() - t1;
    assert.deepEqual(processesMentioning(labDir), []);
    assert.equal(sambaDcStatus({ labDir }).running, false);
    assert.ok(!(await namespaces()).includes(netns), `namespace ${netns} should be removed`);
    await stopSambaDc({ labDir, netns }); // idempotent

    const timings = lastSambaDcTimings();
    const message = `second DC: start ${startMs} ms (template ${timings?.templateBuilt ? 'built' : 'reused'} ${timings?.templateMs} ms, ` +
      `copy ${timings?.copyMs} ms, samba up ${timings?.startMs} ms), stop ${stopMs} ms`;
    t.diagnostic(message);
    console.log(message);
  });
});
