/**
 * The data folder's protection as `dirsync doctor` and the Windows installer judge it. On Windows the descriptor
 * is read as SDDL (`icacls /save`), with accounts as SIDs, so a German or French Windows — where icacls prints
 * "VORDEFINIERT\Administratoren" — is judged the same.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSddl, plainFolder, sddlFromSaved, serviceSid, unixAccess, windowsAccess } from '../../../src/diagnostics/data-dir-access.ts';

const DIR = 'C:\\ProgramData\\Directory Sync';
const SERVICE = serviceSid('DirectorySync');
/** As the installer leaves it: owner Administrators, protected, SYSTEM and Administrators full control, the service Modify. */
const INSTALLED = `O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;${SERVICE})`;
/** A folder a standard user created under ProgramData before the installer ran: theirs, inheriting Users' access. */
const PRE_CREATED = 'O:S-1-5-21-1004336348-1177238915-682003330-1001G:S-1-5-21-1004336348-1177238915-682003330-513'
  + 'D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIIOID;GA;;;CO)(A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)';

describe('who can read the data directory (dirsync doctor, the Windows installer)', () => {
  it('computes the service\'s virtual account SID as Windows does (sc showsid)', () => {
    assert.equal(serviceSid('TrustedInstaller'), 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464', 'a well-known one');
    assert.equal(serviceSid('directorysync'), SERVICE, 'the name is taken in upper case');
  });

  it('reads the owner, the protection and the entries of an SDDL, abbreviations as SIDs', () => {
    const parsed = parseSddl(PRE_CREATED);
    assert.equal(parsed?.owner, 'S-1-5-21-1004336348-1177238915-682003330-1001');
    assert.equal(parsed?.protected, false);
    assert.deepEqual(parsed?.aces.map((a) => [a.sid, a.flags.includes('ID')]), [
      ['S-1-5-18', true], ['S-1-5-32-544', true], ['S-1-3-0', true], ['S-1-5-32-545', true], ['S-1-5-32-545', true],
    ]);
  });

  it('accepts the descriptor the installer sets, and names every other account with the commands that fix it', () => {
    assert.deepEqual(windowsAccess(DIR, INSTALLED), { ok: true, detail: `${DIR} (SYSTEM, Administrators and the service only, owned by Administrators)` });
    const open = windowsAccess(DIR, PRE_CREATED);
    assert.equal(open.ok, false);
    assert.match(open.detail, /is open to CREATOR OWNER, Users besides SYSTEM, Administrators and the service/);
    assert.match(open.ok ? '' : open.fix, /^icacls "C:\\ProgramData\\Directory Sync" \/setowner \*S-1-5-32-544 \/T \/C && icacls .* \/inheritance:r \/grant:r/);
  });

  it('refuses a folder that inherits, one a standard user still owns, or one it cannot read; a deny entry opens nothing', () => {
    assert.match(windowsAccess(DIR, 'O:BAD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)').detail, /inherits permissions from its parent folder/);
    assert.match(windowsAccess(DIR, `O:S-1-5-21-1-2-3-1001D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;${SERVICE})`).detail,
      /is owned by S-1-5-21-1-2-3-1001, who can change its permissions at any time/);
    assert.equal(windowsAccess(DIR, '').ok, false);
    assert.equal(windowsAccess(DIR, `O:BAD:PAI(D;OICI;FA;;;WD)(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)`).ok, true);
    assert.match(windowsAccess(DIR, 'O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FR;;;S-1-5-80-1-2-3-4-5)').detail, /open to S-1-5-80-1-2-3-4-5/, 'another service is not ours');
  });

  it('reads what icacls /save wrote: UTF-16LE, the name on one line and the descriptor on the next', () => {
    const saved = Buffer.from(`Directory Sync\r\n${INSTALLED}\r\n`, 'utf16le');
    assert.equal(sddlFromSaved(Buffer.concat([Buffer.from([0xff, 0xfe]), saved])), INSTALLED);
    assert.equal(sddlFromSaved(saved), INSTALLED);
  });

  it('refuses a junction or symbolic link in place of the folder, before any ACL is set through it', () => {
    const as = (link: boolean, dir: boolean) => () => ({ isSymbolicLink: () => link, isDirectory: () => dir });
    assert.equal(plainFolder(DIR, as(false, true)).ok, true);
    assert.match(plainFolder(DIR, as(true, false)).detail, /is a junction or symbolic link/);
    assert.match(plainFolder(DIR, as(false, false)).detail, /is not a folder/);
  });

  it('on Unix: owner only, group and others refused', () => {
    assert.equal(unixAccess('/var/lib/dirsync', 0o700).ok, true);
    assert.equal(unixAccess('/var/lib/dirsync', 0o750).ok, false);
    assert.equal(unixAccess('/var/lib/dirsync', 0o755).ok, false);
  });
});
