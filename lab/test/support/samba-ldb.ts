/**
 * Reads the shared lab DC's database with Samba's own `ldbsearch` on `sam.ldb`: no LDAP, no ldapts, and Samba's
 * formatting of objectGUID and objectSid (GUID text, `S-1-5-21-…`), so tests can check the lab's own readers and
 * converters against an independent source.
 */
import { join } from 'node:path';
import { defaultLabDir } from '../../connection.ts';
import { runCommand } from '../../samba/system.ts';

export type LdbEntry = { readonly dn: string; readonly attributes: ReadonlyMap<string, ReadonlyArray<string>> };

function decodeValue(line: string): [string, string] | undefined {
  const match = /^([A-Za-z0-9-]+)(::?) ?(.*)$/.exec(line);
  if (!match) return undefined;
  const [, name = '', separator, value = ''] = match;
  return [name, separator === '::' ? Buffer.from(value, 'base64').toString('utf8') : value];
}

/** Parses ldbsearch's LDIF: records separated by `# record N`, folded lines, `name:: base64` values. */
export function parseLdif(text: string): LdbEntry[] {
  const unfolded = text.replace(/\r?\n /g, '');
  const entries: LdbEntry[] = [];
  for (const record of unfolded.split(/^# record \d+$/m).slice(1)) {
    let dn = '';
    const attributes = new Map<string, string[]>();
    for (const line of record.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const pair = decodeValue(line);
      if (!pair) continue;
      const [name, value] = pair;
      if (name === 'dn') dn = value;
      else attributes.set(name, [...(attributes.get(name) ?? []), value]);
    }
    if (dn !== '') entries.push({ dn, attributes });
  }
  return entries;
}

/** `ldbsearch` on the shared lab DC's sam.ldb (subtree). */
export async function ldbSearch(baseDn: string, filter: string, attributes: ReadonlyArray<string>, labDir = defaultLabDir()): Promise<LdbEntry[]> {
  const samba = join(labDir, 'samba');
  const result = await runCommand('ldbsearch', [
    `--configfile=${join(samba, 'etc', 'smb.conf')}`, '-H', join(samba, 'private', 'sam.ldb'), '-b', baseDn, filter, ...attributes,
  ], { timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`ldbsearch failed (${result.code}): ${result.stderr}`);
  return parseLdif(result.stdout);
}

export function ldbValue(entry: LdbEntry, name: string): string | undefined {
  return entry.attributes.get(name)?.[0];
}

export function ldbValues(entry: LdbEntry, name: string): ReadonlyArray<string> {
  return entry.attributes.get(name) ?? [];
}
