/**
 * The Windows installer's steps that need more than a command line (installer/windows/installer.nsh runs them
 * through `dirsync windows …`): the machine PATH edited as data, never truncated the way NSIS's 1,024-character
 * strings would; and the data folder's ACL verified after it is set. The pure parts are tested here; `reg.exe`
 * and `icacls.exe` are the adapters that never run here (docs/never-runs-here.md).
 */
import { execFileSync } from 'node:child_process';

export const ENVIRONMENT_KEY = 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment';

export type RegistryValue = { readonly type: 'REG_SZ' | 'REG_EXPAND_SZ'; readonly data: string };

/**
 * The value `reg query <key> /v <name>` prints: a line `    <name>    <type>    <data>` (four spaces between
 * columns); undefined when the output has no such line.
 */
export function parseRegQuery(output: string, name: string): RegistryValue | undefined {
  for (const line of output.split(/\r?\n/)) {
    const match = /^\s+(.+?) {4}(REG_SZ|REG_EXPAND_SZ) {4}(.*)$/.exec(line);
    if (match && match[1]?.toLowerCase() === name.toLowerCase()) return { type: match[2] as RegistryValue['type'], data: match[3] ?? '' };
  }
  return undefined;
}

const same = (a: string, b: string): boolean => a.replace(/[\\/]+$/, '').toLowerCase() === b.replace(/[\\/]+$/, '').toLowerCase();

/**
 * The PATH with `dir` added at its end (once) or removed (every spelling of it); every other entry, its order,
 * its `%variables%` and its spelling are kept as they were. Undefined when nothing changes.
 */
export function pathWith(current: string, dir: string, change: 'add' | 'remove'): string | undefined {
  const entries = current.split(';');
  const present = entries.some((e) => same(e, dir));
  if (change === 'add') {
    if (present) return undefined;
    const kept = current.endsWith(';') || current === '' ? current : `${current};`;
    return `${kept}${dir}`;
  }
  if (!present) return undefined;
  return entries.filter((e) => !same(e, dir)).join(';');
}

/** The reg.exe command that writes the PATH back, as an expandable string so `%SystemRoot%` and the like stay. */
export function regAddPath(data: string): [string, string[]] {
  return ['reg.exe', ['add', ENVIRONMENT_KEY, '/v', 'Path', '/t', 'REG_EXPAND_SZ', '/d', data, '/f']];
}

/** Adds or removes `dir` on the machine PATH (Windows only). Returns what it did, for the installer's log. */
export function changeMachinePath(dir: string, change: 'add' | 'remove', run: (command: string, args: string[]) => string = runTool): string {
  const current = parseRegQuery(run('reg.exe', ['query', ENVIRONMENT_KEY, '/v', 'Path']), 'Path');
  if (!current) throw new Error(`The machine PATH could not be read from ${ENVIRONMENT_KEY}: it was left as it is.`);
  const next = pathWith(current.data, dir, change);
  if (next === undefined) return change === 'add' ? `${dir} is already on the machine PATH.` : `${dir} was not on the machine PATH.`;
  const [command, args] = regAddPath(next);
  run(command, args);
  const written = parseRegQuery(run('reg.exe', ['query', ENVIRONMENT_KEY, '/v', 'Path']), 'Path');
  if (written?.data !== next) throw new Error(`The machine PATH did not read back as written (${ENVIRONMENT_KEY}): check it with \`reg query\`.`);
  return change === 'add' ? `${dir} was added to the machine PATH.` : `${dir} was removed from the machine PATH.`;
}

function runTool(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', windowsHide: true });
}
