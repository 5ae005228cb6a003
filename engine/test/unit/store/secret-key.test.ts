/**
 * How the store's secret key is held: DPAPI on Windows (machine scope), file permissions elsewhere. The Windows
 * call itself (CryptProtectData) cannot run here; a stand-in with the same contract — bytes bound to one
 * "computer" and to the entropy given — drives the same code the service runs there, and the real module is
 * loaded to prove it is packaged and says plainly where it cannot work.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { repoRoot } from '../../../../lab/connection.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StoreError } from '../../../src/errors/store-error.ts';
import { dpapiKeyProtector, keyFileProtection, loadOrCreateKey, platformKeyProtector, type DpapiBindings } from '../../../src/store/secrets.ts';
import { Store } from '../../../src/store/store.ts';

/** A computer's DPAPI as its contract says: only the same computer (machine key) and the same entropy unprotect. */
function computer(): DpapiBindings & { calls: Array<{ op: string; scope: string; entropy: string }> } {
  const machineKey = randomBytes(32);
  const calls: Array<{ op: string; scope: string; entropy: string }> = [];
  return {
    calls,
    protectData(data, entropy, scope) {
      calls.push({ op: 'protect', scope, entropy: Buffer.from(entropy ?? []).toString() });
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', machineKey, iv);
      cipher.setAAD(Buffer.from(entropy ?? []));
      const body = Buffer.concat([cipher.update(data), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    unprotectData(blob, entropy, scope) {
      calls.push({ op: 'unprotect', scope, entropy: Buffer.from(entropy ?? []).toString() });
      const bytes = Buffer.from(blob);
      const decipher = createDecipheriv('aes-256-gcm', machineKey, bytes.subarray(0, 12));
      decipher.setAAD(Buffer.from(entropy ?? []));
      decipher.setAuthTag(bytes.subarray(12, 28));
      try {
        return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]);
      } catch {
        throw new Error('Key not valid for use in specified state. (0x8009000B)');
      }
    },
  };
}

const scratch = (): string => mkdtempSync(join(tmpdir(), 'dirsync-key-'));

describe('the secret key at rest', () => {
  it('on Windows: the key file holds only a DPAPI blob in the machine scope with our entropy, and the store reads its secrets back', () => {
    const dir = scratch();
    const dpapi = computer();
    const keyFile = join(dir, 'secret.key');
    const key = loadOrCreateKey(keyFile, dpapiKeyProtector(dpapi));
    const content = readFileSync(keyFile);
    assert.equal(content.includes(key), false, 'the key is not in the file in the clear');
    assert.equal(keyFileProtection(keyFile), 'protected');
    assert.ok(dpapi.calls.every((c) => c.scope === 'LocalMachine' && c.entropy === 'Directory Sync secret key'), JSON.stringify(dpapi.calls));
    assert.deepEqual(loadOrCreateKey(keyFile, dpapiKeyProtector(dpapi)), key, 'the same computer reads the same key');

    const store = Store.open(join(dir, 'dirsync.db'), keyFile, dpapiKeyProtector(dpapi));
    store.secrets.set('ad-password', 'S3cret-Value!');
    assert.equal(store.secrets.get('ad-password'), 'S3cret-Value!');
    store.close();
  });

  it('a copy of the data folder on another computer does not decrypt, and says why and what to do', () => {
    const dir = scratch();
    const keyFile = join(dir, 'secret.key');
    loadOrCreateKey(keyFile, dpapiKeyProtector(computer()));
    const elsewhere = scratch();
    copyFileSync(keyFile, join(elsewhere, 'secret.key'));
    assert.throws(() => loadOrCreateKey(join(elsewhere, 'secret.key'), dpapiKeyProtector(computer())),
      (e: unknown) => e instanceof StoreError && /cannot be unprotected by Windows DPAPI \(local machine\) \(Key not valid.*another computer.*dirsync init/.test(e.message));
    assert.throws(() => loadOrCreateKey(join(elsewhere, 'secret.key'), undefined),
      (e: unknown) => e instanceof StoreError && /protected by Windows DPAPI on the computer that made it and cannot be read on this operating system/.test(e.message));
  });

  it('an upgrade protects a key an older version left in the clear, keeping the secrets it encrypted', () => {
    const dir = scratch();
    const keyFile = join(dir, 'secret.key');
    const old = loadOrCreateKey(keyFile, undefined);
    assert.equal(keyFileProtection(keyFile), 'clear');
    const before = Store.open(join(dir, 'dirsync.db'), keyFile, undefined);
    before.secrets.set('client-secret', 'from-the-old-version');
    before.close();

    const dpapi = computer();
    const upgraded = loadOrCreateKey(keyFile, dpapiKeyProtector(dpapi));
    assert.deepEqual(upgraded, old, 'the same key, now protected');
    assert.equal(keyFileProtection(keyFile), 'protected');
    assert.equal(readFileSync(keyFile).includes(old), false);
    const withKey = Store.open(join(dir, 'dirsync.db'), keyFile, dpapiKeyProtector(dpapi));
    assert.equal(withKey.secrets.get('client-secret'), 'from-the-old-version');
    withKey.close();
  });

  it('keeps a clear key working when protecting it fails, and tries again at the next open', () => {
    const dir = scratch();
    const keyFile = join(dir, 'secret.key');
    const key = loadOrCreateKey(keyFile, undefined);
    const failing = { description: 'Windows DPAPI (local machine)', protect: (): Buffer => { throw new Error('The process cannot access the file'); }, unprotect: (b: Buffer): Buffer => b };
    assert.deepEqual(loadOrCreateKey(keyFile, failing), key);
    assert.equal(keyFileProtection(keyFile), 'clear');
    assert.deepEqual(loadOrCreateKey(keyFile, dpapiKeyProtector(computer())), key);
    assert.equal(keyFileProtection(keyFile), 'protected');
  });

  it('refuses a damaged key file instead of making a new key that would lose every secret', () => {
    const dir = scratch();
    const keyFile = join(dir, 'secret.key');
    writeFileSync(keyFile, Buffer.alloc(17));
    assert.throws(() => loadOrCreateKey(keyFile, undefined), /is damaged \(expected 32 bytes\)/);
    const dpapi = computer();
    writeFileSync(keyFile, Buffer.concat([Buffer.from('DIRSYNC-DPAPI-1\n'), dpapi.protectData(Buffer.alloc(16), Buffer.from('Directory Sync secret key'), 'LocalMachine')]));
    assert.throws(() => loadOrCreateKey(keyFile, dpapiKeyProtector(dpapi)), /its protected key is not 32 bytes/);
  });

  it('elsewhere: the key is the service user\'s alone (0600)', { skip: process.platform === 'win32' ? 'Unix modes' : false }, () => {
    const keyFile = join(scratch(), 'secret.key');
    loadOrCreateKey(keyFile);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(readFileSync(keyFile).length, 32);
  });

  it('loads the real DPAPI module for Windows, which is packaged, and says plainly that this computer cannot use it', () => {
    assert.equal(platformKeyProtector('linux'), undefined, 'no protector outside Windows: file permissions');
    if (process.platform === 'win32') {
      assert.equal(platformKeyProtector('win32')?.description, 'Windows DPAPI (local machine)');
      return;
    }
    assert.throws(() => platformKeyProtector('win32'), /Windows DPAPI is not available to Directory Sync \(the module @primno\/dpapi has no build for /);
    for (const arch of ['x64', 'arm64']) {
      const build = join(repoRoot, 'node_modules', '@primno', 'dpapi', 'prebuilds', `win32-${arch}`, '@primno+dpapi.node');
      assert.ok(existsSync(build) && statSync(build).size > 10_000, `the Windows ${arch} build ships with the package: ${build}`);
      assert.equal(readFileSync(build).subarray(0, 2).toString('latin1'), 'MZ', 'a Windows DLL');
    }
  });
});
