import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../../../lab/connection.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { parseConfig } from '../../src/base/config.ts';
import { saveConfig, SECRET_AD_PASSWORD, SECRET_CLIENT_SECRET } from '../../src/run/session.ts';
import type { DoctorReport } from '../../src/diagnostics/doctor.ts';
import { latestSchemaVersion } from '../../src/store/database.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { startHarness, type Harness } from '../support/engine-harness.ts';

async function doctor(dataDir: string): Promise<{ code: number; report: DoctorReport; text: string }> {
  const run = (json: boolean) => new Promise<{ code: number; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'engine', 'bin', 'dirsync.js'), '--data-dir', dataDir, ...(json ? ['--json'] : []), 'doctor'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.once('exit', (code) => resolve({ code: code ?? -1, stdout }));
  });
  const json = await run(true);
  const text = await run(false);
  assert.equal(text.code, json.code);
  return { code: json.code, report: JSON.parse(json.stdout) as DoctorReport, text: text.stdout };
}

function statusOf(report: DoctorReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}

describe('dirsync doctor', () => {
  let sandbox: AdSandbox;
  let harness: Harness;

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Doctor');
    await sandbox.addUser('Doc One', { sAMAccountName: 'docone', userPrincipalName: 'doc.one@contoso.com', displayName: 'Doc One' });
    harness = await startHarness({ scopeOuGuids: [await sandbox.guidOf(sandbox.ouDn)] });
    const run = await harness.sync('full');
    assert.equal(run.status, 'succeeded', run.message);
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('finds a healthy installation healthy, and says what is left to do', async () => {
    const { code, report, text } = await doctor(harness.dataDir);
    assert.equal(code, 0, text);
    const { 'service-registration': registration, ...statuses } = statusOf(report);
    assert.deepEqual(statuses, {
      'versions': 'ok', 'data-directory': 'ok', 'store': 'ok', 'secrets': 'ok', 'configuration': 'ok',
      // No service runs for this data directory, and no server has claimed the tenant yet.
      'service': 'warning',
      'ad-certificate': 'ok', 'ad-connection': 'ok', 'ad-rights': 'ok', 'cloud-network': 'ok', 'tenant-connection': 'ok', 'ownership': 'warning', 'last-run': 'ok',
    });
    assert.match(text, /^ok +Network to Microsoft Entra ID: 127\.0\.0\.1:\d+ and 127\.0\.0\.1:\d+ reached through a direct connection \(no proxy\); certificates trusted: \d+ of Node\.js, \d+ of the system's store, 0 chosen in the wizard\.$/m);
    // This test machine has no systemd (skipped) or has it without the package installed (warning).
    assert.ok(registration === 'skipped' || registration === 'warning', `service-registration: ${registration}`);
    assert.match(text, /^ok +State store: .*schema \d+ \(current\), integrity ok\.$/m);
    assert.match(text, /^ok +Domain controller certificate: The certificate of ldaps:\/\/127\.0\.0\.1:636 .* SHA-256 [0-9A-F:]{95}\) is valid until /m);
    assert.match(text, /^WARNING {2}Tenant ownership: No server holds the tenant.*\n {9}fix: .*dirsync ownership --claim$/m);
    assert.match(text, new RegExp(`No failures, ${report.warnings} warnings\\.$`, 'm'));
  });

  it('fails on a wrong AD password and a wrong client secret, each with its fix', async () => {
    harness.store.secrets.set(SECRET_AD_PASSWORD, 'not-the-password');
    harness.store.secrets.set(SECRET_CLIENT_SECRET, 'not-the-secret');
    try {
      const { code, report, text } = await doctor(harness.dataDir);
      assert.equal(code, 1, text);
      const ad = report.checks.find((c) => c.id === 'ad-connection');
      assert.equal(ad?.status, 'failed');
      assert.match(ad?.fix ?? '', /Rotate the service account password|enter the right one/);
      const cloud = report.checks.find((c) => c.id === 'tenant-connection');
      assert.equal(cloud?.status, 'failed');
      assert.match(text, /2 failed, \d+ warnings\./);
    } finally {
      harness.store.secrets.set(SECRET_AD_PASSWORD, harness.ad.adminPassword);
      harness.store.secrets.set(SECRET_CLIENT_SECRET, harness.tenant.connection.clientSecret);
    }
  });

  it('fails the network check on a proxy that cannot be reached, naming it, and tries no sign-in behind it', async () => {
    const saved = harness.config;
    harness.config = parseConfig({ ...saved, network: { proxy: { mode: 'url', url: 'http://127.0.0.1:1' } } }, 'the doctor test');
    saveConfig(harness.store, harness.dataDir, harness.config);
    try {
      const { code, report, text } = await doctor(harness.dataDir);
      assert.equal(code, 1, text);
      const network = report.checks.find((c) => c.id === 'cloud-network');
      assert.equal(network?.status, 'failed');
      assert.match(network?.detail ?? '', /^Cannot reach the proxy 127\.0\.0\.1:1 \(from the configuration\) \(ECONNREFUSED\)/);
      assert.match(network?.fix ?? '', /Advanced: network/);
      assert.equal(report.checks.find((c) => c.id === 'tenant-connection'), undefined, 'no sign-in is tried behind a path that fails');
    } finally {
      harness.config = saved;
      saveConfig(harness.store, harness.dataDir, saved);
    }
  });

  it('warns about a key file others can read', async () => {
    const keyFile = join(harness.dataDir, 'secret.key');
    chmodSync(keyFile, 0o644);
    try {
      const { report } = await doctor(harness.dataDir);
      const secrets = report.checks.find((c) => c.id === 'secrets');
      assert.equal(secrets?.status, 'warning');
      assert.equal(secrets?.fix, `chmod 600 ${keyFile}`);
    } finally {
      chmodSync(keyFile, 0o600);
    }
  });

  it('reports a key file DPAPI protected on another computer (a Windows data folder copied here), and what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dirsync-doctor-dpapi-'));
    harness.store.db.pragma('wal_checkpoint(TRUNCATE)');
    copyFileSync(join(harness.dataDir, 'dirsync.db'), join(dir, 'dirsync.db'));
    writeFileSync(join(dir, 'secret.key'), Buffer.concat([Buffer.from('DIRSYNC-DPAPI-1\n'), randomBytes(230)]));
    const { code, report } = await doctor(dir);
    assert.equal(code, 1);
    const secrets = report.checks.find((c) => c.id === 'secrets');
    assert.equal(secrets?.status, 'failed');
    assert.match(secrets?.detail ?? '', /protected by Windows DPAPI on the computer that made it and cannot be read on this operating system/);
    assert.match(secrets?.fix ?? '', /enter the secrets again/);
  });

  it('reports a store from a newer version without touching it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dirsync-doctor-newer-'));
    harness.store.db.pragma('wal_checkpoint(TRUNCATE)');
    copyFileSync(join(harness.dataDir, 'dirsync.db'), join(dir, 'dirsync.db'));
    copyFileSync(join(harness.dataDir, 'secret.key'), join(dir, 'secret.key'));
    const db = new Database(join(dir, 'dirsync.db'));
    db.pragma(`user_version = ${latestSchemaVersion() + 1}`);
    db.pragma('journal_mode = DELETE');
    db.close();
    const before = createHash('sha256').update(readFileSync(join(dir, 'dirsync.db'))).digest('hex');
    const { code, report } = await doctor(dir);
    assert.equal(code, 1);
    const store = report.checks.find((c) => c.id === 'store');
    assert.equal(store?.status, 'failed');
    assert.match(store?.detail ?? '', new RegExp(`schema ${latestSchemaVersion() + 1}, newer than this version understands`));
    assert.equal(createHash('sha256').update(readFileSync(join(dir, 'dirsync.db'))).digest('hex'), before);
  });
});
