/**
 * Small operating-system helpers for the lab's Samba DC: running commands, finding executables,
 * scanning /proc and asking who listens on a port. Linux only (the lab needs Samba, which is).
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { repoRoot } from '../connection.ts';

/** The script that installs, and with --check verifies, every Debian package and file the lab needs. */
export const prerequisitesScript = join(repoRoot, 'installer', 'linux', 'install-prerequisites.sh');

/**
 * What the prerequisites check finds missing on this machine (the packages to install, by name), or
 * undefined when everything is there. The one list of packages and files lives in the script.
 */
export function missingPrerequisites(): string | undefined {
  const check = spawnSync('bash', [prerequisitesScript, '--check'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  if (check.error) return `The prerequisites check (${prerequisitesScript} --check) could not run: ${check.error.message}`;
  if (check.status === 0) return undefined;
  return (check.stderr || check.stdout).trim();
}

/** A sentence for an error: what is missing and how to install it, or the command that checks. */
export function prerequisitesAdvice(): string {
  return missingPrerequisites() ?? `The prerequisites check finds nothing missing (bash ${prerequisitesScript} --check).`;
}

export type CommandResult = { readonly code: number; readonly stdout: string; readonly stderr: string };

/** Runs a command to completion (no shell) and resolves with its exit code and output; never rejects on exit code. */
export function runCommand(
  command: string,
  args: ReadonlyArray<string>,
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolveResult, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`Could not run '${command}': ${error.message}.\n${prerequisitesAdvice()}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolveResult({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Full path of an executable found on PATH (plus the sbin directories), or undefined. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory: try the next one.
      continue;
    }
  }
  return undefined;
}

export function requireExecutable(name: string, why: string): string {
  const found = findExecutable(name);
  if (!found) {
    throw new Error(`'${name}' is not installed (${why}).\n${prerequisitesAdvice()}`);
  }
  return found;
}

export type ProcessInfo = {
  readonly pid: number;
  readonly ppid: number;
  readonly sessionId: number;
  /** Target of /proc/PID/exe (undefined when unreadable). */
  readonly exe?: string;
  /** Target of /proc/PID/cwd (undefined when unreadable). */
  readonly cwd?: string;
  /** Arguments joined with spaces (processes such as samba rewrite it). */
  readonly cmdline: string;
};

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    // The process is gone or is a kernel thread: there is nothing to read.
    return undefined;
  }
}

/** One process from /proc, or undefined if it has exited. */
export function readProcess(pid: number): ProcessInfo | undefined {
  let stat: string;
  let cmdline: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // It exited between the directory listing and the read.
    return undefined;
  }
  // Fields after the command name in parentheses (which may itself contain spaces or parentheses).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return undefined; // a zombie holds nothing; its parent reaps it
  return {
    pid,
    ppid: Number(fields[1]),
    sessionId: Number(fields[3]),
    exe: readLink(`/proc/${pid}/exe`),
    cwd: readLink(`/proc/${pid}/cwd`),
    cmdline: cmdline.split('\0').join(' ').trim(),
  };
}

/** Every live process on the machine (all network namespaces share one PID namespace here). */
export function listProcesses(): ProcessInfo[] {
  const result: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProcess(Number(entry));
    if (info) result.push(info);
  }
  return result;
}

export function isAlive(pid: number): boolean {
  return readProcess(pid) !== undefined;
}

/** Signals a process; returns false if it no longer exists. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

export type PortOwner = { readonly name: string; readonly pid?: number };

/** Who listens on TCP port (on `host` or every address when given, else on any), via `ss`; optionally inside a network namespace. */
export async function tcpListeners(port: number, netns?: string, host?: string): Promise<PortOwner[]> {
  const ss = findExecutable('ss');
  if (!ss) return [];
  const args = ['-Hltnp', `sport = :${port}`];
  const result = netns === undefined
    ? await runCommand(ss, args, { timeoutMs: 5000 })
    : await runCommand(requireExecutable('ip', 'network namespaces'), ['netns', 'exec', netns, ss, ...args], { timeoutMs: 5000 });
  if (result.code !== 0) return [];
  const owners: PortOwner[] = [];
  for (const line of result.stdout.split('\n')) {
    if (line.trim() === '') continue;
    // With a host, only listeners on that address or on every address (0.0.0.0, *, [::]) hold the port for it.
    const local = line.trim().split(/\s+/)[3] ?? '';
    if (host !== undefined && ![`${host}:${port}`, `0.0.0.0:${port}`, `*:${port}`, `[::]:${port}`].includes(local)) continue;
    const users = [...line.matchAll(/\("([^"]*)",pid=(\d+)/g)];
    if (users.length === 0) owners.push({ name: 'unknown process (run `ss -ltnp` as root to see it)' });
    for (const match of users) owners.push({ name: match[1] ?? 'unknown', pid: Number(match[2]) });
  }
  return owners;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

/** The last `lines` lines of a text file, or a note saying it does not exist. */
export function tailFile(path: string, lines = 40): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n');
  } catch {
    // Nothing was logged yet (or the directory was removed): say so rather than fail.
    return `(no log at ${path})`;
  }
}
