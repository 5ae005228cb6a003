/**
 * The service proves itself on its local control channel before a client sends anything (issue 9b: a local
 * process that created the socket or pipe first must never receive what the wizard sends — an enterprise
 * administrator's password, a client secret). The service holds a random key in a file only its account and
 * administrators can read (`control.key`); a client sends a fresh nonce to `POST /api/_hello` and checks the
 * answer, an HMAC of it under that key, before its request goes out. The same code runs on Linux and Windows.
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

/** The key as a client reads it, or why it cannot. */
export function readControlKey(file: string): { key: Buffer } | { problem: string } {
  try {
    const key = readFileSync(file);
    if (key.length !== KEY_BYTES) return { problem: `The service's control key ${file} is damaged: restart the Directory Synchronization Service, which makes a new one.` };
    return { key };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { problem: `The service's control key ${file} does not exist: the Directory Synchronization Service has not started yet for this data directory.` };
    return { problem: `This account cannot read the service's control key ${file} (${code ?? 'error'}): run this as an administrator, or as the account the service runs as.` };
  }
}
