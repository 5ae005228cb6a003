/**
 * Who can read the data directory (the store, its key, the control key), as `dirsync doctor` checks it: Unix
 * permission bits, or on Windows the folder's ACL as `icacls` prints it — Node reports every Windows folder as
 * 0o666, so the mode says nothing there (issue 9b, finding 5). The Windows side is parsed from icacls' output,
 * which the tests give it; running icacls is the only part that never runs here (docs/never-runs-here.md).
 */
import { execFileSync } from 'node:child_process';

export type AccessVerdict = { readonly ok: true; readonly detail: string } | { readonly ok: false; readonly detail: string; readonly fix: string };

/** Unix: nobody but the owner (the service account) may read or enter it. */
export function unixAccess(dir: string, mode: number): AccessVerdict {
  if ((mode & 0o077) === 0) return { ok: true, detail: `${dir} (mode ${mode.toString(8)})` };
  return { ok: false, detail: `${dir} can be read by other users than the service account (mode ${mode.toString(8)}).`, fix: `chmod 700 ${dir}` };
}

/** The principals the installer grants (installer/windows/installer.nsh), by the names icacls prints. */
const ALLOWED = [/^NT AUTHORITY\\SYSTEM$/i, /^BUILTIN\\Administrators$/i, /^NT SERVICE\\DirectorySync$/i, /^\*?S-1-5-18$/i, /^\*?S-1-5-32-544$/i];

export type AclEntry = { readonly principal: string; readonly rights: string; readonly inherited: boolean };

/**
 * The entries of `icacls <dir>`'s output: the first line starts with the path, the others are indented, each
 * `principal:(flags)(rights)`; the last line is the summary ("Successfully processed 1 files…").
 */
export function parseIcacls(dir: string, output: string): AclEntry[] {
  const entries: AclEntry[] = [];
  for (const raw of output.split(/\r?\n/)) {
    const line = raw.startsWith(dir) ? raw.slice(dir.length) : raw;
    const match = /^\s*(.+?):((?:\([A-Z,]+\))+)\s*$/i.exec(line);
    if (!match) continue;
    const principal = (match[1] ?? '').trim();
    const rights = match[2] ?? '';
    // A DENY entry takes access away: it never opens the folder.
    if (/\(DENY\)/i.test(rights)) continue;
    entries.push({ principal, rights, inherited: /\(I\)/.test(rights) });
  }
  return entries;
}

/** Windows: only SYSTEM, Administrators and the service's virtual account, and nothing inherited from ProgramData. */
export function windowsAccess(dir: string, icaclsOutput: string): AccessVerdict {
  const entries = parseIcacls(dir, icaclsOutput);
  const fix = `icacls "${dir}" /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" "NT SERVICE\\DirectorySync:(OI)(CI)M"`
    + ` (as an administrator; the installer runs the same)`;
  if (entries.length === 0) return { ok: false, detail: `The permissions of ${dir} could not be read (icacls printed nothing this check understands).`, fix };
  const others = entries.filter((e) => !ALLOWED.some((allowed) => allowed.test(e.principal)));
  const inherited = entries.filter((e) => e.inherited);
  if (others.length > 0) {
    return { ok: false, detail: `${dir} is open to ${[...new Set(others.map((e) => e.principal))].join(', ')} besides SYSTEM, Administrators and the service.`, fix };
  }
  if (inherited.length > 0) return { ok: false, detail: `${dir} inherits permissions from its parent folder: a change there would open it.`, fix };
  return { ok: true, detail: `${dir} (SYSTEM, Administrators and the service only)` };
}

/** Runs icacls on Windows (the adapter that never runs here). */
export function readWindowsAcl(dir: string): string {
  return execFileSync('icacls.exe', [dir], { encoding: 'utf8', windowsHide: true });
}
