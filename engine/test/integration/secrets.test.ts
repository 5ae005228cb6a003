/**
 * Secrets never leave the store in clear: after a full sync, a failed sync (a wrong AD password),
 * every command an administrator runs and a Node diagnostic report of the engine taken mid-run
 * (what a crash report holds), every file the engine wrote and every byte it printed is scanned for
 * the AD password, the client secret and the wrong password — as text, UTF-16, base64 and hex.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../../../lab/connection.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { openStore, SECRET_AD_PASSWORD } from '../../src/run/session.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { startHarness, type Harness } from '../support/engine-harness.ts';

type Output = { readonly label: string; readonly code: number | null; readonly text: Buffer };

function dirsync(dataDir: string, args: ReadonlyArray<string>, nodeFlags: ReadonlyArray<string> = [], onSpawn?: (pid: number) => void): Promise<Output> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeFlags, join(repoRoot, 'engine', 'bin', 'dirsync.js'), '--data-dir', dataDir, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    if (child.pid !== undefined) onSpawn?.(child.pid);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.once('close', (code) => resolve({ label: `dirsync ${args.join(' ')}`, code, text: Buffer.concat(chunks) }));
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** The forms a secret could leak in. */
function forms(secret: string): ReadonlyArray<{ form: string; bytes: Buffer }> {
  return [
    { form: 'text', bytes: Buffer.from(secret, 'utf8') },
    { form: 'UTF-16', bytes: Buffer.from(secret, 'utf16le') },
    { form: 'base64', bytes: Buffer.from(Buffer.from(secret, 'utf8').toString('base64').replace(/=+$/, ''), 'utf8') },
    { form: 'hex', bytes: Buffer.from(Buffer.from(secret, 'utf8').toString('hex'), 'utf8') },
  ];
}

describe('secrets: never in a log, an output, a report or the store in clear', () => {
  let sandbox: AdSandbox;
  let harness: Harness;
  const outputs: Output[] = [];
  let reportDir: string;
  const wrongPassword = `Wrong-Pa55-${Date.now()}`;

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Secrets');
    for (let i = 0; i < 5; i += 1) await sandbox.addUser(`Secret User ${i}`, { sAMAccountName: `secret${i}`, userPrincipalName: `secret.user${i}@contoso.com`, displayName: `Secret User ${i}` });
    harness = await startHarness({ config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] } } });
    harness.store.close();
    reportDir = mkdtempSync(join(tmpdir(), 'dirsync-reports-'));
    const dataDir = harness.dataDir;
    // A full sync, with a diagnostic report taken while it runs (what Node writes on a fatal error).
    const reportFlags = ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${reportDir}`];
    // Every batch answered 500 ms late, so the report is taken while the export runs.
    harness.tenant.state.injectFaults({ mode: 'latency', latencyMs: 500, pathPrefix: '/v1.0/$batch' });
    let pid = 0;
    const syncing = dirsync(dataDir, ['sync', '--full'], reportFlags, (p) => { pid = p; });
    for (let i = 0; i < 200 && readdirSync(reportDir).length === 0; i += 1) {
      await new Promise((r) => setTimeout(r, 50));
      if (i >= 20 && i % 10 === 0) process.kill(pid, 'SIGUSR2');
    }
    outputs.push(await syncing);
    harness.tenant.state.clearFaults();
    for (const args of [['status'], ['--json', 'status'], ['history'], ['errors'], ['config', 'show'], ['--json', 'config', 'show'], ['plan'], ['doctor'], ['--json', 'doctor'],
      ['config', 'export', join(dataDir, 'exported-config.json')]]) {
      outputs.push(await dirsync(dataDir, args));
    }
    // A failing run: the AD password is wrong (and must not be echoed either).
    const store = openStore(dataDir);
    store.secrets.set(SECRET_AD_PASSWORD, wrongPassword);
    store.close();
    outputs.push(await dirsync(dataDir, ['sync', '--full'], reportFlags));
    outputs.push(await dirsync(dataDir, ['doctor']));
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('ran what it scans: a sync that succeeded, one that failed on the password, every command, a diagnostic report', () => {
    assert.equal(outputs[0]?.code, 0, outputs[0]?.text.toString());
    const failed = outputs.at(-2) as Output;
    assert.notEqual(failed.code, 0);
    assert.match(failed.text.toString(), /password|credentials|bind/i, 'the failure says what is wrong, without the password');
    assert.ok(readdirSync(reportDir).some((f) => f.endsWith('.json')), 'the diagnostic report was written');
  });

  it('finds none of the secrets in any form in any file or output', () => {
    const secrets = { 'the AD password': harness.ad.adminPassword, 'the client secret': harness.tenant.connection.clientSecret, 'the wrong AD password': wrongPassword };
    const haystacks = [
      ...filesUnder(harness.dataDir).filter((f) => statSync(f).isFile() && !f.endsWith('secret.key')).map((f) => ({ label: f, text: readFileSync(f) })),
      ...filesUnder(reportDir).map((f) => ({ label: `diagnostic report ${f}`, text: readFileSync(f) })),
      ...outputs,
    ];
    assert.ok(haystacks.some((h) => h.label.endsWith('dirsync.db')) && haystacks.some((h) => /logs/.test(h.label)), 'the store and the logs are scanned');
    const leaks: string[] = [];
    for (const [name, secret] of Object.entries(secrets)) {
      assert.ok(secret.length >= 8, `${name} is long enough to search for`);
      for (const { form, bytes } of forms(secret)) {
        for (const haystack of haystacks) if (haystack.text.includes(bytes)) leaks.push(`${name} (${form}) in ${haystack.label}`);
      }
    }
    assert.deepEqual(leaks, []);
  });

  it('keeps the secrets in the store encrypted, under a key only the service account can read', () => {
    const store = openStore(harness.dataDir);
    try {
      assert.equal(store.secrets.get(SECRET_AD_PASSWORD), wrongPassword, 'the scan above searched a store that holds it');
    } finally {
      store.close();
    }
    assert.equal(statSync(join(harness.dataDir, 'secret.key')).mode & 0o077, 0, 'the key file is owner-only');
  });
});
