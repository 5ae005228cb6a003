import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../connection.ts';
import { prerequisitesScript, runCommand } from '../samba/system.ts';

const withoutPackages = join(repoRoot, 'lab', 'test', 'support', 'without-packages.sh');
const provisionProbe = join(repoRoot, 'lab', 'test', 'support', 'provision-probe.ts');

/** Runs a command as if these Debian packages were not installed (their files hidden in a private mount namespace). */
function runWithout(packages: ReadonlyArray<string>, command: ReadonlyArray<string>) {
  return runCommand('bash', [withoutPackages, ...packages, '--', ...command], { cwd: repoRoot, timeoutMs: 120_000 });
}

/** What the lab says when it provisions a new domain on a machine without these packages. */
async function provisionWithout(packages: ReadonlyArray<string>, netns: string): Promise<string | null> {
  const labDir = join(scratch, netns);
  const result = await runWithout(packages, [process.execPath, '--import', 'tsx', provisionProbe, labDir, netns]);
  assert.equal(result.code, 0, `the provision probe failed to run: ${result.stderr}`);
  return (JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { error: string | null }).error;
}

const scratch = mkdtempSync(join(tmpdir(), 'dirsync-prerequisites-'));

describe('the prerequisites of a fresh Debian machine', () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('finds every Debian package and file the project needs on this machine', async () => {
    const result = await runCommand('bash', [prerequisitesScript, '--check'], { cwd: repoRoot, timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Prerequisites: all \d+ Debian packages, \d+ files and the npm packages are present/);
  });

  it('names samba-ad-provision when the AD schema files are missing, and the command that installs it', async () => {
    const result = await runWithout(['samba-ad-provision'], ['bash', prerequisitesScript, '--check']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /missing: \/usr\/share\/samba\/setup\/ad-schema\/AD_DS_Attributes__Windows_Server_2012_R2\.ldf \(Debian package samba-ad-provision\)/);
    assert.match(result.stderr, /^ {2}apt-get install --no-install-recommends samba-ad-provision$/m);
  });

  it('names every missing package at once, in one install command: samba-vfs-modules and ldb-tools', async () => {
    const result = await runWithout(['samba-vfs-modules', 'ldb-tools'], ['bash', prerequisitesScript, '--check']);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /missing: \/usr\/bin\/ldbmodify \(Debian package ldb-tools\)/);
    assert.match(result.stderr, /^ {2}apt-get install --no-install-recommends samba-vfs-modules ldb-tools$/m);
  });

  it('the lab names samba-ad-provision when provisioning its domain fails for the schema files', async () => {
    const error = await provisionWithout(['samba-ad-provision'], 'ds-prereq-schema');
    assert.ok(error !== null, 'the domain was provisioned without the AD schema files');
    assert.match(error, /^samba-tool domain provision failed/);
    assert.match(error, /apt-get install --no-install-recommends samba-ad-provision/);
  });

  it('the lab names samba-dsdb-modules when provisioning fails for a missing ldb module (samba_secrets)', async () => {
    const error = await provisionWithout(['samba-dsdb-modules'], 'ds-prereq-dsdb');
    assert.ok(error !== null, 'the domain was provisioned without the directory database modules');
    assert.match(error, /Module \[samba_secrets\] not found/);
    assert.match(error, /apt-get install --no-install-recommends samba-dsdb-modules/);
  });

  it('the lab names ldap-utils when a command it runs is not installed', async () => {
    const result = await runWithout(['ldap-utils'], [process.execPath, '--import', 'tsx', '--eval',
      `import('${join(repoRoot, 'lab', 'samba', 'system.ts')}').then((m) => { try { m.requireExecutable('ldapsearch', 'probing the DC'); console.log('found'); } catch (e) { console.log(e.message); } })`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /'ldapsearch' is not installed \(probing the DC\)/);
    assert.match(result.stdout, /apt-get install --no-install-recommends ldap-utils/);
  });

  it('without root and without sudo, installs nothing and says how to run it', async () => {
    // A copy the unprivileged account can read wherever the checkout lives (CI may clone under /root).
    const copy = mkdtempSync(join(tmpdir(), 'dirsync-prereq-user-'));
    mkdirSync(join(copy, 'installer', 'linux'), { recursive: true });
    const script = join(copy, 'installer', 'linux', 'install-prerequisites.sh');
    copyFileSync(prerequisitesScript, script);
    chmodSync(copy, 0o755);
    // runuser (util-linux) drops to an unprivileged account; sudo, where this machine has it, is hidden.
    const asNobody = ['runuser', '-u', 'nobody', '--', 'bash', script];
    const hasSudo = (await runCommand('dpkg-query', ['-W', '-f=${db:Status-Status}', 'sudo'])).stdout === 'installed';
    const result = hasSudo ? await runWithout(['sudo'], asNobody) : await runCommand(asNobody[0] ?? 'runuser', asNobody.slice(1), { cwd: '/', timeoutMs: 60_000 });
    rmSync(copy, { recursive: true, force: true });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /run it as root \(su -c 'bash .*install-prerequisites\.sh'\) or install sudo/);
    assert.doesNotMatch(result.stdout, /Installing Debian packages/);
  });
});
