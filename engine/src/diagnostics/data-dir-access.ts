/**
 * Who can read the data directory (the store, its key, the control key), as `dirsync doctor` and the Windows
 * installer check it: Unix permission bits, or on Windows the folder's security descriptor — Node reports every
 * Windows folder as 0o666, so the mode says nothing there (issue 9b, finding 5). On Windows the descriptor is
 * read as SDDL (`icacls <dir> /save`), where accounts are SIDs: icacls' printed names are localized
 * ("VORDEFINIERT\Administratoren") and in the console's code page, so they are never compared. Reading it is the
 * only part that never runs here (docs/never-runs-here.md); the SDDL is parsed and judged here.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, win32 } from 'node:path';

export type AccessVerdict = { readonly ok: true; readonly detail: string } | { readonly ok: false; readonly detail: string; readonly fix: string };

/** Unix: nobody but the owner (the service account) may read or enter it. */
export function unixAccess(dir: string, mode: number): AccessVerdict {
  if ((mode & 0o077) === 0) return { ok: true, detail: `${dir} (mode ${mode.toString(8)})` };
  return { ok: false, detail: `${dir} can be read by other users than the service account (mode ${mode.toString(8)}).`, fix: `chmod 700 ${dir}` };
}

/**
 * The SID of a service's virtual account (`NT SERVICE\<name>`): S-1-5-80 followed by the SHA-1 of the service
 * name in upper case, UTF-16LE, read as five little-endian 32-bit numbers (what `sc showsid` prints).
 */
export function serviceSid(serviceName: string): string {
  const digest = createHash('sha1').update(Buffer.from(serviceName.toUpperCase(), 'utf16le')).digest();
  const parts = [0, 4, 8, 12, 16].map((offset) => digest.readUInt32LE(offset));
  return `S-1-5-80-${parts.join('-')}`;
}

export const SERVICE_NAME = 'DirectorySync';

/** SDDL's abbreviations of the accounts this check names, and the SIDs they stand for. */
const ABBREVIATIONS: Record<string, string> = {
  SY: 'S-1-5-18', BA: 'S-1-5-32-544', BU: 'S-1-5-32-545', AU: 'S-1-5-11', WD: 'S-1-1-0', CO: 'S-1-3-0', AN: 'S-1-5-7', IU: 'S-1-5-4', PU: 'S-1-5-32-547', BG: 'S-1-5-32-546',
};
const NAMES: Record<string, string> = {
  'S-1-5-18': 'SYSTEM', 'S-1-5-32-544': 'Administrators', 'S-1-5-32-545': 'Users', 'S-1-5-11': 'Authenticated Users', 'S-1-1-0': 'Everyone',
  'S-1-3-0': 'CREATOR OWNER', 'S-1-5-7': 'ANONYMOUS LOGON', 'S-1-5-4': 'INTERACTIVE', 'S-1-5-32-547': 'Power Users', 'S-1-5-32-546': 'Guests',
};

export type SddlAce = { readonly type: string; readonly flags: string; readonly rights: string; readonly sid: string };
export type Sddl = { readonly owner?: string; readonly protected: boolean; readonly aces: SddlAce[] };

const sidOf = (token: string): string => ABBREVIATIONS[token.toUpperCase()] ?? token.toUpperCase();

/** The owner and DACL of an SDDL string (`O:BAG:SYD:PAI(A;OICI;FA;;;SY)…`). */
export function parseSddl(sddl: string): Sddl | undefined {
  const text = sddl.trim();
  const owner = /O:([A-Z]{2}|S-[0-9-]+)/i.exec(text)?.[1];
  const dacl = /D:([A-Z]*)((?:\([^)]*\))*)/i.exec(text);
  if (!dacl) return undefined;
  const aces = [...(dacl[2] ?? '').matchAll(/\(([^)]*)\)/g)].map((m) => {
    const [type = '', flags = '', rights = '', , , sid = ''] = (m[1] ?? '').split(';');
    return { type: type.toUpperCase(), flags: flags.toUpperCase(), rights, sid: sidOf(sid) };
  });
  return { owner: owner === undefined ? undefined : sidOf(owner), protected: (dacl[1] ?? '').toUpperCase().includes('P'), aces };
}

const nameOf = (sid: string): string => NAMES[sid] ?? (sid === serviceSid(SERVICE_NAME) ? `NT SERVICE\\${SERVICE_NAME}` : sid);

/**
 * Windows: owned by Administrators (or SYSTEM), only SYSTEM, Administrators and the service's virtual account
 * allowed, and nothing inherited from ProgramData (the DACL protected). Deny entries take access away: ignored.
 */
export function windowsAccess(dir: string, sddl: string): AccessVerdict {
  const fix = `icacls "${dir}" /setowner *S-1-5-32-544 /T /C && icacls "${dir}" /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" "NT SERVICE\\${SERVICE_NAME}:(OI)(CI)M"`
    + ' (as an administrator; the installer runs the same)';
  const parsed = parseSddl(sddl);
  if (!parsed || parsed.aces.length === 0) return { ok: false, detail: `The permissions of ${dir} could not be read (no access control list this check understands).`, fix };
  const allowed = new Set(['S-1-5-18', 'S-1-5-32-544', serviceSid(SERVICE_NAME)]);
  const others = parsed.aces.filter((a) => a.type === 'A' && !allowed.has(a.sid));
  if (others.length > 0) return { ok: false, detail: `${dir} is open to ${[...new Set(others.map((a) => nameOf(a.sid)))].join(', ')} besides SYSTEM, Administrators and the service.`, fix };
  if (!parsed.protected || parsed.aces.some((a) => a.flags.includes('ID'))) return { ok: false, detail: `${dir} inherits permissions from its parent folder: a change there would open it.`, fix };
  if (parsed.owner !== undefined && parsed.owner !== 'S-1-5-32-544' && parsed.owner !== 'S-1-5-18') {
    return { ok: false, detail: `${dir} is owned by ${nameOf(parsed.owner)}, who can change its permissions at any time.`, fix };
  }
  return { ok: true, detail: `${dir} (SYSTEM, Administrators and the service only, owned by ${nameOf(parsed.owner ?? 'S-1-5-32-544')})` };
}

/** Whether `dir` is a folder of its own: a junction or symbolic link would carry every ACL change to its target. */
export function plainFolder(dir: string, stat: (path: string) => { isDirectory(): boolean; isSymbolicLink(): boolean } = lstatSync): AccessVerdict {
  const s = stat(dir);
  if (s.isSymbolicLink()) return { ok: false, detail: `${dir} is a junction or symbolic link, not a folder: someone may have made it to redirect the data elsewhere.`, fix: `Remove it (rmdir "${dir}") and install again.` };
  if (!s.isDirectory()) return { ok: false, detail: `${dir} is not a folder.`, fix: `Remove it and install again.` };
  return { ok: true, detail: `${dir} is a folder` };
}

/** `icacls <dir> /save` writes the SDDL (UTF-16LE: the name, then the descriptor) to a file: the adapter that never runs here. */
export function readWindowsSddl(dir: string): string {
  const scratch = mkdtempSync(join(tmpdir(), 'dirsync-acl-'));
  try {
    const file = join(scratch, 'acl.txt');
    execFileSync(win32.join(process.env['SystemRoot'] ?? 'C:\\Windows', 'System32', 'icacls.exe'), [dir, '/save', file, '/Q'], { windowsHide: true });
    return sddlFromSaved(readFileSync(file));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The descriptor line of what `icacls /save` wrote (UTF-16LE with or without a BOM, or plain text). */
export function sddlFromSaved(content: Buffer): string {
  const text = (content.includes(0) ? content.toString('utf16le') : content.toString('utf8')).replace(/^\uFEFF/, '');
  return text.split(/\r?\n/).find((line) => /D:/.test(line) && /\(/.test(line))?.trim() ?? '';
}
