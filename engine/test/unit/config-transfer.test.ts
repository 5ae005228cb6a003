import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors/config-error.ts';
import { parseConfig } from '../../src/base/config.ts';
import { exportConfiguration, importConfiguration } from '../../src/service/config-transfer.ts';
import { openStore, readConfig, saveConfig } from '../../src/run/session.ts';

const config = parseConfig({
  version: 1,
  ad: { url: 'ldaps://dc1.contoso.com:636', bindDn: 'MSOL_0123456789ab@contoso.com', baseDn: 'DC=contoso,DC=com' },
  cloud: { tenantId: '00000000-0000-4000-8000-000000000001', clientId: '00000000-0000-4000-8000-000000000002', credential: 'secret' },
  scope: { includedOuGuids: ['4b1f6a3e-0000-4000-8000-000000000003'], excludedOuGuids: [] },
}, 'the test');
const PASSPHRASE = 'a passphrase of some length';

function installation(withConfig = true) {
  const dataDir = mkdtempSync(join(tmpdir(), 'dirsync-transfer-'));
  const store = openStore(dataDir);
  if (withConfig) {
    saveConfig(store, dataDir, config);
    store.secrets.set('ad.password', 'MSOL-password-Ü-42!');
    store.secrets.set('cloud.clientSecret', 'client~secret~value');
  }
  return { dataDir, store };
}

describe('moving the configuration to another computer', () => {
  it('carries the configuration and every secret under the passphrase to a new store, and nothing of this computer', () => {
    const from = installation();
    from.store.setCursor('server.id', 'this-computer-only');
    const file = join(from.dataDir, 'export.json');
    writeFileSync(file, JSON.stringify(exportConfiguration(from.store, { passphrase: PASSPHRASE })));
    const to = installation(false);
    const result = importConfiguration(to.store, to.dataDir, file, { passphrase: PASSPHRASE });
    assert.deepEqual(result.secretNames, ['ad.password', 'cloud.clientSecret']);
    assert.deepEqual(readConfig(to.store), config);
    assert.equal(to.store.secrets.get('ad.password'), 'MSOL-password-Ü-42!');
    assert.equal(to.store.secrets.get('cloud.clientSecret'), 'client~secret~value');
    assert.equal(to.store.getCursor('server.id'), undefined);
    assert.ok(!readFileSync(file, 'utf8').includes('this-computer-only'));
  });

  it('refuses a wrong passphrase and a changed file alike, and imports nothing', () => {
    const from = installation();
    const file = join(from.dataDir, 'export.json');
    const exported = exportConfiguration(from.store, { passphrase: PASSPHRASE });
    writeFileSync(file, JSON.stringify(exported));
    const to = installation(false);
    assert.throws(() => importConfiguration(to.store, to.dataDir, file, { passphrase: 'another passphrase entirely' }), ConfigError);
    const sealed = exported.secrets as NonNullable<typeof exported.secrets>;
    const flipped = Buffer.from(sealed.ciphertext, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    writeFileSync(file, JSON.stringify({ ...exported, secrets: { ...sealed, ciphertext: flipped.toString('base64') } }));
    assert.throws(() => importConfiguration(to.store, to.dataDir, file, { passphrase: PASSPHRASE }), /does not open the secrets .* \(or the file was changed after it was exported\)/);
    assert.equal(readConfig(to.store), undefined);
    assert.deepEqual(to.store.secrets.names(), []);
  });

  it('asks for the passphrase only when the file has secrets, and reads the bare configuration older versions exported', () => {
    const from = installation();
    const withSecrets = join(from.dataDir, 'with.json');
    writeFileSync(withSecrets, JSON.stringify(exportConfiguration(from.store, { passphrase: PASSPHRASE })));
    assert.throws(() => importConfiguration(installation(false).store, from.dataDir, withSecrets), /carries secrets under a passphrase/);
    const without = exportConfiguration(from.store);
    assert.equal(without.secrets, null);
    const legacy = join(from.dataDir, 'legacy.json');
    writeFileSync(legacy, JSON.stringify(config));
    const to = installation(false);
    assert.deepEqual(importConfiguration(to.store, to.dataDir, legacy).config, config);
  });

  it('refuses a short passphrase, an export of a newer format, and a file that is not an export', () => {
    const from = installation();
    assert.throws(() => exportConfiguration(from.store, { passphrase: 'short' }), /at least 12 characters/);
    const newer = join(from.dataDir, 'newer.json');
    writeFileSync(newer, JSON.stringify({ ...exportConfiguration(from.store), formatVersion: 2 }));
    assert.throws(() => importConfiguration(from.store, from.dataDir, newer), /exported by a newer version of Directory Sync \(format 2\)/);
    const garbage = join(from.dataDir, 'garbage.json');
    writeFileSync(garbage, 'not json');
    assert.throws(() => importConfiguration(from.store, from.dataDir, garbage), /is not a configuration exported by Directory Sync/);
    assert.throws(() => exportConfiguration(installation(false).store), /no configuration to export yet/);
  });
});
