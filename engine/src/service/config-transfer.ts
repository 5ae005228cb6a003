/**
 * Moving an installation to another computer: the configuration as a file, with the secrets left
 * out or re-encrypted under a passphrase the administrator types (scrypt, then AES-256-GCM), since
 * the store's own key never leaves this computer. What belongs to this computer — its server id,
 * connector spaces, links, cursors, history — is not exported: the new server finds every object it
 * manages again from the tenant on its first full run.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError } from '../errors/config-error.ts';
import type { Store } from '../store/store.ts';
import { productVersion } from '../version.ts';
import { parseConfig, type DirSyncConfig } from '../base/config.ts';
import { readConfig, saveConfig } from '../run/session.ts';

export const EXPORT_FORMAT = 'directory-sync-configuration';
export const MIN_PASSPHRASE_LENGTH = 12;
const AAD = Buffer.from(`${EXPORT_FORMAT}/1/secrets`);
const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;

type SealedSecrets = {
  readonly cipher: 'aes-256-gcm';
  readonly kdf: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
};

export type ConfigurationExport = {
  readonly format: typeof EXPORT_FORMAT;
  readonly formatVersion: 1;
  readonly exportedAt: string;
  readonly exportedFrom: { readonly hostName: string; readonly productVersion: string };
  readonly configuration: DirSyncConfig;
  /** The store's secrets under the administrator's passphrase, or null when they were left out. */
  readonly secrets: SealedSecrets | null;
};

export type ImportResult = { readonly config: DirSyncConfig; readonly secretNames: ReadonlyArray<string>; readonly exportedFrom?: ConfigurationExport['exportedFrom'] };

function checkPassphrase(passphrase: string): void {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new ConfigError(`The passphrase is too short: use at least ${MIN_PASSPHRASE_LENGTH} characters (it protects the service account password and the app's credential in the file).`);
  }
}

function deriveKey(passphrase: string, salt: Buffer, params: { N: number; r: number; p: number }): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, 32, { ...params, maxmem: 256 * params.N * params.r });
}

function seal(values: Readonly<Record<string, string>>, passphrase: string): SealedSecrets {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(passphrase, salt, SCRYPT), iv);
  cipher.setAAD(AAD);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
  return { cipher: 'aes-256-gcm', kdf: 'scrypt', ...SCRYPT, salt: salt.toString('base64'), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
}

function unseal(sealed: SealedSecrets, passphrase: string, file: string): Record<string, string> {
  if (sealed.cipher !== 'aes-256-gcm' || sealed.kdf !== 'scrypt' || sealed.N > 2 ** 20 || sealed.r > 16 || sealed.p > 4) {
    throw new ConfigError(`The secrets in ${file} use a protection this version of Directory Sync does not know (${sealed.cipher}, ${sealed.kdf}): export them again with this version.`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(passphrase, Buffer.from(sealed.salt, 'base64'), sealed), Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(AAD);
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    const json = Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]).toString('utf8');
    return JSON.parse(json) as Record<string, string>;
  } catch {
    // GCM authentication fails alike for a wrong passphrase and a changed file: say both.
    throw new ConfigError(`The passphrase does not open the secrets in ${file} (or the file was changed after it was exported). Type the passphrase used for \`dirsync config export\`; nothing was imported.`);
  }
}

/** The configuration of this store as an export; with a passphrase, every stored secret comes along under it. */
export function exportConfiguration(store: Store, options: { readonly passphrase?: string } = {}): ConfigurationExport {
  const configuration = readConfig(store);
  if (!configuration) throw new ConfigError('There is no configuration to export yet: run the Configuration Wizard or `dirsync init` first.');
  let secrets: SealedSecrets | null = null;
  if (options.passphrase !== undefined) {
    checkPassphrase(options.passphrase);
    const values: Record<string, string> = {};
    for (const name of store.secrets.names()) {
      const value = store.secrets.get(name);
      if (value !== undefined) values[name] = value;
    }
    secrets = seal(values, options.passphrase);
  }
  return {
    format: EXPORT_FORMAT, formatVersion: 1, exportedAt: new Date().toISOString(),
    exportedFrom: { hostName: hostname(), productVersion }, configuration, secrets,
  };
}

/** Whether an export file carries secrets (so the caller knows to ask for the passphrase). */
export function exportHasSecrets(file: string): boolean {
  const parsed = readExportFile(file);
  return 'format' in parsed && parsed.secrets !== null;
}

function readExportFile(file: string): ConfigurationExport | { readonly bare: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file} is not a configuration exported by Directory Sync: ${(error as Error).message}.`);
  }
  if (typeof json === 'object' && json !== null && (json as { format?: unknown }).format === EXPORT_FORMAT) {
    const exported = json as ConfigurationExport;
    if (exported.formatVersion !== 1) {
      throw new ConfigError(`${file} was exported by a newer version of Directory Sync (format ${String(exported.formatVersion)}): install that version here, or export again with this one.`);
    }
    return exported;
  }
  // `dirsync config export` of version 0.1 wrote the bare configuration.
  return { bare: json };
}

/**
 * Imports an export into this store: the configuration is validated and, when the file carries
 * secrets, they are decrypted with the passphrase and stored under this computer's key. Nothing is
 * written unless everything could be read.
 */
export function importConfiguration(store: Store, dataDir: string, file: string, options: { readonly passphrase?: string } = {}): ImportResult {
  const parsed = readExportFile(file);
  if ('bare' in parsed) {
    const config = parseConfig(parsed.bare, file);
    saveConfig(store, dataDir, config);
    return { config, secretNames: [] };
  }
  const config = parseConfig(parsed.configuration, file);
  let values: Record<string, string> = {};
  if (parsed.secrets !== null) {
    if (options.passphrase === undefined) {
      throw new ConfigError(`${file} carries secrets under a passphrase: give it (DIRSYNC_EXPORT_PASSPHRASE, or type it when asked).`);
    }
    values = unseal(parsed.secrets, options.passphrase, file);
  }
  store.transaction(() => {
    saveConfig(store, dataDir, config);
    for (const [name, value] of Object.entries(values)) store.secrets.set(name, value);
  });
  return { config, secretNames: Object.keys(values).sort(), exportedFrom: parsed.exportedFrom };
}
