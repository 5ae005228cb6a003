/**
 * Secrets at rest (service account password, client secret, certificate key): AES-256-GCM under a 32-byte key in
 * `secret.key` beside the store. They are never logged and never sent to the renderer.
 *
 * How the key itself is held depends on the operating system:
 * - Windows: protected by DPAPI in the local machine's scope (`@primno/dpapi`, a prebuilt N-API module based on
 *   Microsoft's msal-node-extensions addon), with Directory Sync's own entropy. Only this computer can unprotect
 *   it, so a copy of the data folder (a backup of its files, a folder copied to another server) does not decrypt
 *   the secrets. It is not more than that: any process on this computer may call DPAPI in the machine scope, so
 *   here the data folder's ACL (SYSTEM, Administrators, the service account) is what keeps other users from the
 *   file; and a full image of the system disk carries the machine's DPAPI keys. A key an older version left in
 *   the clear is protected in place on first open (if that fails — a file held open — it stays as it was and the
 *   next open tries again; `dirsync doctor` says so).
 * - Elsewhere: the file is readable by the service user alone (mode 0600, the data directory 0700).
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { StoreError } from '../errors/store-error.ts';
import { nowIso, type Db } from './database.ts';

/** What the OS offers to hold the key (DPAPI on Windows); undefined where file permissions alone hold it. */
export type KeyProtector = {
  /** Said by `dirsync doctor` and in errors, e.g. "Windows DPAPI (local machine)". */
  readonly description: string;
  protect(key: Buffer): Buffer;
  unprotect(blob: Buffer): Buffer;
};

/** The two calls of `@primno/dpapi` (CryptProtectData / CryptUnprotectData) Directory Sync uses. */
export type DpapiBindings = {
  protectData(data: Uint8Array, entropy: Uint8Array | null, scope: 'CurrentUser' | 'LocalMachine'): Uint8Array;
  unprotectData(data: Uint8Array, entropy: Uint8Array | null, scope: 'CurrentUser' | 'LocalMachine'): Uint8Array;
};

/** A protected key file starts with this line; a key in the clear is exactly 32 bytes. */
const PROTECTED_MAGIC = Buffer.from('DIRSYNC-DPAPI-1\n');
const DPAPI_ENTROPY = Buffer.from('Directory Sync secret key');

/** DPAPI in the local machine's scope: the service (its virtual account) and an administrator's `dirsync` both unprotect it. */
export function dpapiKeyProtector(dpapi: DpapiBindings): KeyProtector {
  return {
    description: 'Windows DPAPI (local machine)',
    protect: (key) => Buffer.from(dpapi.protectData(key, DPAPI_ENTROPY, 'LocalMachine')),
    unprotect: (blob) => Buffer.from(dpapi.unprotectData(blob, DPAPI_ENTROPY, 'LocalMachine')),
  };
}

/** The protector of this platform: DPAPI on Windows (failing with a clear error if its module cannot load), none elsewhere. */
export function platformKeyProtector(platform: NodeJS.Platform = process.platform): KeyProtector | undefined {
  if (platform !== 'win32') return undefined;
  const module = createRequire(import.meta.url)('@primno/dpapi') as { isPlatformSupported: boolean; Dpapi: DpapiBindings };
  if (!module.isPlatformSupported) {
    throw new StoreError(`Windows DPAPI is not available to Directory Sync (the module @primno/dpapi has no build for ${process.arch}): the secrets cannot be protected. Reinstall Directory Sync for this computer's architecture.`);
  }
  return dpapiKeyProtector(module.Dpapi);
}

/** How the key file at `keyFile` is held: 'protected' (DPAPI), 'clear' (file permissions), or 'missing'. */
export function keyFileProtection(keyFile: string): 'protected' | 'clear' | 'missing' {
  if (!existsSync(keyFile)) return 'missing';
  return isProtected(readFileSync(keyFile)) ? 'protected' : 'clear';
}

function isProtected(content: Buffer): boolean {
  return content.length > PROTECTED_MAGIC.length && content.subarray(0, PROTECTED_MAGIC.length).equals(PROTECTED_MAGIC);
}

function damaged(keyFile: string, why: string): StoreError {
  return new StoreError(`The secret key file ${keyFile} ${why}. Restore it from a backup made on this computer, or delete it and enter the secrets again with \`dirsync init\`.`);
}

function unprotectKey(keyFile: string, content: Buffer, protector: KeyProtector | undefined): Buffer {
  if (!protector) throw damaged(keyFile, 'is protected by Windows DPAPI on the computer that made it and cannot be read on this operating system');
  let key: Buffer;
  try {
    key = protector.unprotect(content.subarray(PROTECTED_MAGIC.length));
  } catch (error) {
    throw damaged(keyFile, `cannot be unprotected by ${protector.description} (${error instanceof Error ? error.message : String(error)}): it was made on another computer, or Windows was reinstalled`);
  }
  if (key.length !== 32) throw damaged(keyFile, 'is damaged (its protected key is not 32 bytes)');
  return key;
}

/** Writes the key as the protector holds it, next to the file and renamed over it once it reads back the same. */
function writeKey(keyFile: string, key: Buffer, protector: KeyProtector | undefined, flag: 'wx' | 'w'): void {
  const content = protector ? Buffer.concat([PROTECTED_MAGIC, protector.protect(key)]) : key;
  if (protector && !timingSafeEqual(unprotectKey(keyFile, content, protector), key)) throw damaged(keyFile, `could not be protected by ${protector.description} (it did not read back)`);
  if (flag === 'wx') {
    writeFileSync(keyFile, content, { mode: 0o600, flag });
  } else {
    const temporary = `${keyFile}.${process.pid}.tmp`;
    writeFileSync(temporary, content, { mode: 0o600 });
    try {
      renameSync(temporary, keyFile);
    } finally {
      rmSync(temporary, { force: true });
    }
  }
  if (process.platform !== 'win32') chmodSync(keyFile, 0o600);
}

/** The store's key: read (protecting a key left in the clear when the OS can), or made on first open. */
export function loadOrCreateKey(keyFile: string, protector: KeyProtector | undefined = platformKeyProtector()): Buffer {
  if (existsSync(keyFile)) {
    const content = readFileSync(keyFile);
    if (isProtected(content)) return unprotectKey(keyFile, content, protector);
    if (content.length !== 32) throw damaged(keyFile, 'is damaged (expected 32 bytes)');
    if (protector) {
      try {
        writeKey(keyFile, content, protector, 'w');
      } catch {
        // Kept in the clear for now (a file held open, a full disk): the secrets still open, the next open retries.
      }
    }
    return content;
  }
  const key = randomBytes(32);
  writeKey(keyFile, key, protector, 'wx');
  return key;
}

export class SecretStore {
  public constructor(private readonly db: Db, private readonly key: Buffer) {}

  public set(name: string, value: string): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(name));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    this.db.prepare('INSERT INTO secrets (name, iv, tag, ciphertext, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET iv = excluded.iv, tag = excluded.tag, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at')
      .run(name, iv, cipher.getAuthTag(), ciphertext, nowIso());
  }

  public get(name: string): string | undefined {
    const row = this.db.prepare('SELECT iv, tag, ciphertext FROM secrets WHERE name = ?').get(name) as { iv: Buffer; tag: Buffer; ciphertext: Buffer } | undefined;
    if (!row) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, row.iv);
      decipher.setAAD(Buffer.from(name));
      decipher.setAuthTag(row.tag);
      return Buffer.concat([decipher.update(row.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new StoreError(`The secret "${name}" cannot be decrypted with this computer's key file. Enter it again (dirsync init) or restore the key file that belongs to this store.`);
    }
  }

  /** The names of every stored secret (never their values). */
  public names(): string[] {
    return (this.db.prepare('SELECT name FROM secrets ORDER BY name').all() as Array<{ name: string }>).map((row) => row.name);
  }

  public delete(name: string): void {
    this.db.prepare('DELETE FROM secrets WHERE name = ?').run(name);
  }
}
