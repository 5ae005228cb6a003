/**
 * Secrets at rest (service account password, client secret, certificate key): AES-256-GCM with a key
 * held by the operating system's file permissions — a key file readable only by the service user
 * (mode 0600) beside the store. They are never logged and never sent to the renderer.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { StoreError } from '../errors/store-error.ts';
import { nowIso, type Db } from './database.ts';

export function loadOrCreateKey(keyFile: string): Buffer {
  if (existsSync(keyFile)) {
    const key = readFileSync(keyFile);
    if (key.length !== 32) throw new StoreError(`The secret key file ${keyFile} is damaged (expected 32 bytes). Restore it from a backup, or delete it and enter the secrets again with \`dirsync init\`.`);
    return key;
  }
  const key = randomBytes(32);
  writeFileSync(keyFile, key, { mode: 0o600, flag: 'wx' });
  if (process.platform !== 'win32') chmodSync(keyFile, 0o600);
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
