/**
 * The engine's one logger: pino, JSON lines, into `<dataDir>/logs/dirsync.log`, rotated by size.
 * Every line of a run carries its run id. Secrets are redacted by key wherever they appear; run
 * start, end and failure also go to the OS log (syslog/journald on Linux, the Event Log on Windows).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, win32 } from 'node:path';
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export const REDACTED_KEYS = ['password', 'adminPassword', 'clientSecret', 'secret', 'token', 'accessToken', 'refreshToken', 'privateKey', 'privateKeyPem', 'authorization', 'unicodePwd', 'proxyPassword'];

/** A synchronous file stream that rotates `file` → `file.1` → … → `file.<keep>` past `maxBytes`. */
export class RotatingFile {
  private fd: number;
  private size: number;

  public constructor(private readonly file: string, private readonly maxBytes = 10 * 1024 * 1024, private readonly keep = 5) {
    this.fd = openSync(file, 'a', 0o600);
    this.size = existsSync(file) ? statSync(file).size : 0;
  }

  public write(line: string): boolean {
    if (this.size + Buffer.byteLength(line) > this.maxBytes && this.size > 0) this.rotate();
    this.size += writeSync(this.fd, line);
    return true;
  }

  private rotate(): void {
    closeSync(this.fd);
    rmSync(`${this.file}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i -= 1) if (existsSync(`${this.file}.${i}`)) renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
    renameSync(this.file, `${this.file}.1`);
    this.fd = openSync(this.file, 'a', 0o600);
    this.size = 0;
  }

  public close(): void {
    closeSync(this.fd);
  }
}

export function createLogger(options: { logDir?: string; level?: string; maxBytes?: number; keep?: number } = {}): Logger {
  const redact = { paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]), censor: '[redacted]' };
  if (!options.logDir) return pino({ level: options.level ?? 'info', redact, base: { service: 'directory-sync' } }, pino.destination(2));
  mkdirSync(options.logDir, { recursive: true, mode: 0o700 });
  const stream = new RotatingFile(join(options.logDir, 'dirsync.log'), options.maxBytes, options.keep);
  return pino({ level: options.level ?? 'info', redact, base: { service: 'directory-sync' }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}

/** Writes one line to the operating system's log; best effort (a missing tool is not an error of the run). */
export function osLog(level: 'info' | 'error', message: string): void {
  const [command, args] = process.platform === 'win32'
    ? [win32.join(process.env['SystemRoot'] ?? 'C:\\Windows', 'System32', 'eventcreate.exe'), ['/T', level === 'error' ? 'ERROR' : 'INFORMATION', '/ID', level === 'error' ? '2' : '1', '/L', 'APPLICATION', '/SO', 'Directory Sync', '/D', message]] as const
    : ['logger', ['-t', 'directory-sync', '-p', `user.${level === 'error' ? 'err' : 'info'}`, message]] as const;
  const child = spawn(command, [...args], { stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
}
