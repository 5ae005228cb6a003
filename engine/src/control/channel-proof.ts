/**
 * The service proves itself on its local control channel before a client sends anything (issue 9b: a local
 * process that created the socket or pipe first must never receive what the wizard sends — an enterprise
 * administrator's password, a client secret). The service holds a random key in a file only its account and
 * administrators can read (`control.key`); a client sends a fresh nonce to `POST /api/_hello` and checks the
 * answer, an HMAC of it under that key, before its request goes out. The same code runs on Linux and Windows.
 *
 * The client proves itself too: the hello's answer carries a challenge, single-use and short-lived, and the
 * request that follows carries an HMAC of it and of its own path under the same key (`x-dirsync-client-proof`):
 * a process that can reach the channel but cannot read `control.key` (SYSTEM, Administrators and the service
 * account only) gets nothing done. The channel's own permissions stay the first guard: only those accounts can
 * open it (and on Windows only they can create instances of the pipe), so the proofs are defence in depth.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const HELLO_PATH = '/api/_hello';
const CONTEXT = 'dirsync-control-v1';
const KEY_BYTES = 32;

export function newNonce(): string {
  return randomBytes(24).toString('base64url');
}

export function channelProof(key: Buffer, nonce: string): string {
  return createHmac('sha256', key).update(`${CONTEXT}|${nonce}`).digest('base64url');
}

export function proofMatches(key: Buffer, nonce: string, proof: unknown): boolean {
  if (typeof proof !== 'string') return false;
  const expected = Buffer.from(channelProof(key, nonce));
  const given = Buffer.from(proof);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export const CLIENT_PROOF_HEADER = 'x-dirsync-client-proof';
const CLIENT_CONTEXT = 'dirsync-control-client-v1';

/** The header a client sends with a request to `path`, answering the hello's challenge. */
export function clientProofHeader(key: Buffer, challenge: string, path: string): string {
  return `${challenge}.${createHmac('sha256', key).update(`${CLIENT_CONTEXT}|${challenge}|${path}`).digest('base64url')}`;
}

/**
 * The service's side of the client's proof. A challenge carries its own time and an HMAC of it under the key,
 * so the service keeps nothing for the challenges it hands out — a flood of hellos cannot push an honest
 * client's challenge out — and only remembers the ones answered, until they expire, to refuse a replay.
 */
export class ChallengeBook {
  private readonly spent = new Map<string, number>();

  public constructor(private readonly key: Buffer, private readonly now: () => number = () => Date.now(), private readonly lifetimeMs = 60_000) {}

  private seal(issued: string, random: string): string {
    return createHmac('sha256', this.key).update(`dirsync-control-challenge-v1|${issued}|${random}`).digest('base64url');
  }

  public issue(): string {
    const issued = this.now().toString(36);
    const random = newNonce();
    return `${issued}~${random}~${this.seal(issued, random)}`;
  }

  /** Whether `header` answers, for `path`, a challenge this service issued less than a minute ago and nobody answered yet. */
  public redeem(header: string | undefined, path: string): boolean {
    if (typeof header !== 'string') return false;
    const dot = header.lastIndexOf('.');
    const challenge = dot > 0 ? header.slice(0, dot) : '';
    const [issued = '', random = '', seal = ''] = challenge.split('~');
    const expectedSeal = Buffer.from(this.seal(issued, random));
    if (Buffer.byteLength(seal) !== expectedSeal.length || !timingSafeEqual(Buffer.from(seal), expectedSeal)) return false;
    const now = this.now();
    const age = now - parseInt(issued, 36);
    if (!(age >= -5_000 && age <= this.lifetimeMs)) return false;
    const expected = Buffer.from(clientProofHeader(this.key, challenge, path));
    const given = Buffer.from(header);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    for (const [c, expires] of this.spent) if (expires <= now) this.spent.delete(c);
    if (this.spent.has(challenge)) return false;
    this.spent.set(challenge, now + this.lifetimeMs + 5_000);
    return true;
  }
}

/** The service's key: read, or made on first start (owner-only on Unix; on Windows the data folder's ACL protects it). */
export function ensureControlKey(file: string): Buffer {
  if (existsSync(file)) {
    const key = readFileSync(file);
    if (key.length === KEY_BYTES) return key;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  writeFileSync(file, key, { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}

/** What an administrator does when this account may not use the data directory or the channel, on this platform. */
export function elevationHint(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'open the command prompt with "Run as administrator"' : 'run it as root (sudo) or as the account the service runs as';
}

/** The key as a client reads it, or why it cannot. */
export function readControlKey(file: string): { key: Buffer } | { problem: string; code: 'control-key-missing' | 'control-key-damaged' | 'control-key-unreadable' } {
  try {
    const key = readFileSync(file);
    if (key.length !== KEY_BYTES) return { code: 'control-key-damaged', problem: `The service's control key ${file} is damaged: restart the Directory Synchronization Service, which makes a new one.` };
    return { key };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { code: 'control-key-missing', problem: `The service's control key ${file} does not exist: the Directory Synchronization Service has not started yet for this data directory.` };
    return { code: 'control-key-unreadable', problem: `This account cannot read the service's control key ${file} (${code ?? 'error'}), so the Directory Synchronization Service will not take its requests: ${elevationHint()}.` };
  }
}
