import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIcacls, unixAccess, windowsAccess } from '../../../src/diagnostics/data-dir-access.ts';

const DIR = 'C:\\ProgramData\\Directory Sync';
const pad = ' '.repeat(DIR.length + 1);

/** What icacls prints for the folder as the installer leaves it. */
const INSTALLED = [
  `${DIR} NT AUTHORITY\\SYSTEM:(OI)(CI)(F)`,
  `${pad}BUILTIN\\Administrators:(OI)(CI)(F)`,
  `${pad}NT SERVICE\\DirectorySync:(OI)(CI)(M)`,
  '',
  'Successfully processed 1 files; Failed processing 0 files',
].join('\r\n');

/** A folder a standard user created under ProgramData before the installer ran (the default inherited ACL). */
const PRE_CREATED = [
  `${DIR} NT AUTHORITY\\SYSTEM:(I)(OI)(CI)(F)`,
  `${pad}BUILTIN\\Administrators:(I)(OI)(CI)(F)`,
  `${pad}CREATOR OWNER:(I)(OI)(CI)(IO)(F)`,
  `${pad}BUILTIN\\Users:(I)(OI)(CI)(RX)`,
  `${pad}BUILTIN\\Users:(I)(CI)(WD,AD,WEA,A)`,
  '',
  'Successfully processed 1 files; Failed processing 0 files',
].join('\r\n');

describe('who can read the data directory (dirsync doctor)', () => {
  it('reads icacls output: principals, rights, inheritance', () => {
    assert.deepEqual(parseIcacls(DIR, PRE_CREATED).map((e) => [e.principal, e.inherited]), [
      ['NT AUTHORITY\\SYSTEM', true], ['BUILTIN\\Administrators', true], ['CREATOR OWNER', true], ['BUILTIN\\Users', true], ['BUILTIN\\Users', true],
    ]);
  });

  it('accepts the ACL the installer sets, and names every other principal with the command that fixes it', () => {
    assert.deepEqual(windowsAccess(DIR, INSTALLED), { ok: true, detail: `${DIR} (SYSTEM, Administrators and the service only)` });
    const open = windowsAccess(DIR, PRE_CREATED);
    assert.equal(open.ok, false);
    assert.match(open.detail, /is open to CREATOR OWNER, BUILTIN\\Users besides SYSTEM, Administrators and the service/);
    assert.match(open.ok ? '' : open.fix, /^icacls "C:\\ProgramData\\Directory Sync" \/inheritance:r \/grant:r/);
  });

  it('warns when the right principals are only inherited, and when icacls says nothing it understands', () => {
    const inheritedOnly = [`${DIR} NT AUTHORITY\\SYSTEM:(I)(OI)(CI)(F)`, `${pad}BUILTIN\\Administrators:(I)(OI)(CI)(F)`].join('\r\n');
    assert.match(windowsAccess(DIR, inheritedOnly).detail, /inherits permissions from its parent folder/);
    assert.equal(windowsAccess(DIR, 'Access is denied.').ok, false);
    const denied = [`${DIR} Everyone:(DENY)(OI)(CI)(W)`, `${pad}NT AUTHORITY\\SYSTEM:(OI)(CI)(F)`, `${pad}BUILTIN\\Administrators:(OI)(CI)(F)`].join('\r\n');
    assert.equal(windowsAccess(DIR, denied).ok, true, 'a DENY entry takes access away: it opens nothing');
  });

  it('on Unix: owner only, group and others refused', () => {
    assert.equal(unixAccess('/var/lib/dirsync', 0o700).ok, true);
    assert.equal(unixAccess('/var/lib/dirsync', 0o750).ok, false);
    assert.equal(unixAccess('/var/lib/dirsync', 0o755).ok, false);
  });
});
