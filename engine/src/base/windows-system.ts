/**
 * The Windows installer's steps that need more than a command line (installer/windows/installer.nsh runs them
 * through `dirsync windows …`): the machine PATH edited as data, never truncated the way NSIS's 1,024-character
 * strings would. It is read and written through .NET's registry API in Windows PowerShell, with the script passed
 * as UTF-16 (`-EncodedCommand`) and the answer as UTF-8: `reg.exe` prints in the console's OEM code page, which
 * would turn every non-ASCII folder on the PATH into "?" when written back. The pure parts are tested here;
 * PowerShell itself is the adapter that never runs here (docs/never-runs-here.md).
 */
import { execFileSync } from 'node:child_process';
import { win32 } from 'node:path';

export const ENVIRONMENT_KEY = 'SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment';

/** Windows PowerShell by its full path (never found through the current directory), running `script`. */
export function powershell(script: string, systemRoot = process.env['SystemRoot'] ?? 'C:\\Windows'): [string, string[]] {
  return [win32.join(systemRoot, 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe'),
    ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', Buffer.from(script, 'utf16le').toString('base64')]];
}

/** A PowerShell single-quoted string: quotes doubled, the typographic single quotes PowerShell also ends strings with among them. */
export function psQuote(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, '$&$&')}'`;
}

const OPEN = `[Microsoft.Win32.Registry]::LocalMachine.OpenSubKey(${psQuote(ENVIRONMENT_KEY)}`;

/** Prints the PATH as stored (its `%variables%` unexpanded), in UTF-8. */
export const READ_PATH_SCRIPT = [
  '[Console]::OutputEncoding = [System.Text.Encoding]::UTF8',
  `$key = ${OPEN})`,
  "[Console]::Out.Write($key.GetValue('Path', '', [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames))",
].join('\n');

/** Writes the PATH back as an expandable string, so `%SystemRoot%` and the like stay variables. */
export function writePathScript(value: string): string {
  return [`$key = ${OPEN}, $true)`, `$key.SetValue('Path', ${psQuote(value)}, [Microsoft.Win32.RegistryValueKind]::ExpandString)`].join('\n');
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

type Run = (command: string, args: string[]) => string;

/** Adds or removes `dir` on the machine PATH (Windows only). Returns what it did, for the installer's log. */
export function changeMachinePath(dir: string, change: 'add' | 'remove', run: Run = runTool): string {
  const read = (): string => {
    const [command, args] = powershell(READ_PATH_SCRIPT);
    return run(command, args).replace(/\r?\n$/, '');
  };
  const current = read();
  if (current.includes('\uFFFD')) throw new Error(`The machine PATH did not read back as text (HKLM\\${ENVIRONMENT_KEY}): it was left as it is.`);
  if (current.trim() === '') throw new Error(`The machine PATH could not be read from HKLM\\${ENVIRONMENT_KEY} (it came back empty): it was left as it is.`);
  const next = pathWith(current, dir, change);
  if (next === undefined) return change === 'add' ? `${dir} is already on the machine PATH.` : `${dir} was not on the machine PATH.`;
  const [command, args] = powershell(writePathScript(next));
  run(command, args);
  if (read() !== next) throw new Error(`The machine PATH did not read back as written (HKLM\\${ENVIRONMENT_KEY}): check it in System Properties, Environment Variables.`);
  return change === 'add' ? `${dir} was added to the machine PATH.` : `${dir} was removed from the machine PATH.`;
}

function runTool(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', windowsHide: true });
}
