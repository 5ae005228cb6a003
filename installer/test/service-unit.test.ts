import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../../lab/connection.ts';
import { runCommand } from '../../lab/samba/system.ts';

const template = join(repoRoot, 'installer', 'linux', 'directory-sync.service.in');
const installScript = join(repoRoot, 'installer', 'linux', 'install-service.sh');
const dataDir = '/var/lib/dirsync';
const scratch = mkdtempSync(join(tmpdir(), 'dirsync-unit-'));

function render(node: string, appDir: string): string {
  return readFileSync(template, 'utf8').replaceAll('@NODE@', node).replaceAll('@APP_DIR@', appDir);
}

/** systemd-analyze verify: exit 0 is not enough, it only warns about unknown keys; any word on stderr is a finding. */
async function verify(unitFile: string): Promise<string> {
  const result = await runCommand('systemd-analyze', ['verify', unitFile], { timeoutMs: 60_000 });
  return `${result.code === 0 ? '' : `exit ${result.code}: `}${result.stderr}`.trim();
}

async function accountExists(): Promise<boolean> {
  return (await runCommand('getent', ['passwd', 'dirsync'])).code === 0;
}

/** Whether the account can read this checkout (an installed copy in /opt always is; a clone under /root is not). */
async function readableByAccount(): Promise<boolean> {
  return (await runCommand('runuser', ['-u', 'dirsync', '--', 'test', '-r', join(repoRoot, 'node_modules', 'tsx', 'package.json')])).code === 0;
}
const UNREADABLE = `the checkout ${repoRoot} is not readable by the account dirsync (a parent directory is private), so the service cannot run as that account from it; an installed copy is readable`;

describe('the systemd service', () => {
  const preexisting = { account: false, dataDir: existsSync(dataDir) };
  after(async () => {
    rmSync(scratch, { recursive: true, force: true });
    // Undo only what this test made: never an installation that was on the machine before it.
    if (!preexisting.account && (await accountExists())) {
      await runCommand('userdel', ['dirsync']);
      await runCommand('groupdel', ['dirsync']);
    }
    if (!preexisting.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('is a unit systemd-analyze verifies without a finding, running as dirsync with least privilege', async () => {
    const file = join(scratch, 'directory-sync.service');
    writeFileSync(file, render(process.execPath, repoRoot));
    assert.equal(await verify(file), '');
    const unit = readFileSync(file, 'utf8');
    for (const directive of ['User=dirsync', 'NoNewPrivileges=yes', 'CapabilityBoundingSet=', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/dirsync',
      'UMask=0077', 'StateDirectoryMode=0700', `ExecStart="${process.execPath}" "${repoRoot}/engine/bin/dirsync.js" --data-dir /var/lib/dirsync service run`, 'Environment=ELECTRON_RUN_AS_NODE=1']) {
      assert.ok(unit.split('\n').includes(directive), `the unit lacks ${directive}`);
    }
  });

  it('fails verification for a misspelt directive or a runtime that is not there (the check can fail)', async () => {
    const file = join(scratch, 'directory-sync.service');
    writeFileSync(file, render(process.execPath, repoRoot).replace('ProtectClock=yes', 'ProtectClok=yes'));
    assert.match(await verify(file), /Unknown key 'ProtectClok'/);
    writeFileSync(file, render('/nonexistent/node', repoRoot));
    assert.match(await verify(file), /\/nonexistent\/node is not executable/);
  });

  it('install-service.sh creates the dirsync account without a shell, a data directory only it can open, and the unit; again, it changes nothing', async (t) => {
    preexisting.account = await accountExists();
    if (preexisting.account || preexisting.dataDir) {
      t.skip('this machine has a Directory Sync installation (account dirsync or /var/lib/dirsync): the test will not touch it');
      return;
    }
    const unitDir = join(scratch, 'units');
    const first = await runCommand('bash', [installScript, '--unit-dir', unitDir, '--node', process.execPath, '--no-start'], { timeoutMs: 60_000 });
    assert.equal(first.code, 0, first.stderr);
    const passwd = (await runCommand('getent', ['passwd', 'dirsync'])).stdout.trim().split(':');
    assert.equal(passwd[5], dataDir);
    assert.equal(passwd[6], '/usr/sbin/nologin');
    assert.ok(Number(passwd[2]) < 1000, 'a system account');
    const stat = statSync(dataDir);
    assert.equal(stat.mode & 0o777, 0o700);
    assert.equal(stat.uid, Number(passwd[2]));
    assert.equal(await verify(join(unitDir, 'directory-sync.service')), '');

    // An upgrade over a store that an earlier root install left: the account takes it over.
    writeFileSync(join(dataDir, 'dirsync.db'), '');
    const again = await runCommand('bash', [installScript, '--unit-dir', unitDir, '--node', process.execPath, '--no-start'], { timeoutMs: 60_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(statSync(join(dataDir, 'dirsync.db')).uid, Number(passwd[2]));
    assert.equal((await runCommand('getent', ['passwd', 'dirsync'])).stdout.trim().split(':')[2], passwd[2], 'the same account');
    rmSync(join(dataDir, 'dirsync.db'));
  });

  it('the unit\'s command runs the service as dirsync: its control socket is the account\'s alone', async (t) => {
    if (!(await accountExists()) || preexisting.account) {
      t.skip(preexisting.account ? 'an installation was on this machine before the test' : 'the account was not created by the test before');
      return;
    }
    if (!(await readableByAccount())) {
      t.skip(UNREADABLE);
      return;
    }
    const child = spawn('runuser', ['-u', 'dirsync', '--', process.execPath, join(repoRoot, 'engine', 'bin', 'dirsync.js'), '--data-dir', dataDir, 'service', 'run'],
      { stdio: 'ignore' });
    try {
      const socket = join(dataDir, 'control.sock');
      for (let i = 0; i < 100 && !existsSync(socket); i += 1) await new Promise((r) => setTimeout(r, 100));
      assert.ok(existsSync(socket), 'the service did not open its control socket');
      const stat = statSync(socket);
      assert.equal(stat.mode & 0o777, 0o600);
      assert.equal(stat.uid, Number((await runCommand('id', ['-u', 'dirsync'])).stdout.trim()));
      const keyOrStore = ['dirsync.db', 'secret.key'].filter((f) => existsSync(join(dataDir, f)));
      for (const f of keyOrStore) assert.equal(statSync(join(dataDir, f)).mode & 0o077, 0, `${f} is readable by others`);
      const status = await runCommand(process.execPath, [join(repoRoot, 'engine', 'bin', 'dirsync.js'), '--data-dir', dataDir, '--json', 'status'], { timeoutMs: 30_000 });
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /"configured": false/);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });

  describe('uninstall-service.sh', () => {
    const uninstallScript = join(repoRoot, 'installer', 'linux', 'uninstall-service.sh');
    const unitDir = join(scratch, 'units');
    const unitFile = join(unitDir, 'directory-sync.service');
    const markRun = (action: 'start' | 'finish') => runCommand('runuser', ['-u', 'dirsync', '--', process.execPath, '--import', 'tsx',
      join(repoRoot, 'installer', 'test', 'support', 'mark-run.ts'), dataDir, action], { cwd: repoRoot, timeoutMs: 60_000 });

    function uninstall(args: ReadonlyArray<string>) {
      const child = spawn('bash', [uninstallScript, '--unit-dir', unitDir, '--node', process.execPath, '--poll', '0.2', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
      child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
      const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
      const said = async (pattern: RegExp) => {
        for (let i = 0; i < 300 && !pattern.test(output); i += 1) await new Promise((r) => setTimeout(r, 100));
        assert.match(output, pattern);
      };
      return { child, exited, said, output: () => output };
    }

    it('waits for the run in progress, saying so, then removes the service and keeps the store', async (t) => {
      if (preexisting.account || !(await accountExists())) {
        t.skip('needs the account made by the install test above, on a machine without an installation of its own');
        return;
      }
      if (!(await readableByAccount())) {
        t.skip(UNREADABLE);
        return;
      }
      assert.equal((await markRun('start')).code, 0);
      const run = uninstall([]);
      await run.said(/A synchronization is in progress \(run \d+ \(full, started [^)]+\)\)\. Waiting for it to finish before removing the service;\npress Ctrl\+C to cancel the removal\./);
      await new Promise((r) => setTimeout(r, 700));
      assert.ok(existsSync(unitFile), 'the service was removed while a run was in progress');
      assert.equal((await markRun('finish')).code, 0);
      assert.equal(await run.exited, 0, run.output());
      assert.ok(!existsSync(unitFile));
      assert.ok(existsSync(join(dataDir, 'dirsync.db')), 'the store is kept by default');
      assert.ok(await accountExists());
      assert.match(run.output(), /Kept \/var\/lib\/dirsync \(configuration, store, secrets\)/);
    });

    it('lets the administrator cancel while a run is in progress, and removes nothing then', async (t) => {
      if (preexisting.account || !(await accountExists())) {
        t.skip('needs the account made by the install test above');
        return;
      }
      if (!(await readableByAccount())) {
        t.skip(UNREADABLE);
        return;
      }
      writeFileSync(unitFile, render(process.execPath, repoRoot));
      assert.equal((await markRun('start')).code, 0);
      const run = uninstall([]);
      await run.said(/press Ctrl\+C to cancel the removal/);
      run.child.kill('SIGINT');
      assert.equal(await run.exited, 130, run.output());
      assert.match(run.output(), /Removal cancelled: the service and its data are left as they were\./);
      assert.ok(existsSync(unitFile));
      assert.equal((await markRun('finish')).code, 0);
    });

    it('purges the store and the account only when confirmed', async (t) => {
      if (preexisting.account || !(await accountExists())) {
        t.skip('needs the account made by the install test above');
        return;
      }
      const unconfirmed = uninstall(['--purge']);
      assert.equal(await unconfirmed.exited, 1);
      assert.match(unconfirmed.output(), /--purge deletes the configuration, the store and the secrets in \/var\/lib\/dirsync: confirm with --yes\./);
      assert.ok(existsSync(dataDir));
      const confirmed = uninstall(['--purge', '--yes']);
      assert.equal(await confirmed.exited, 0, confirmed.output());
      assert.ok(!existsSync(dataDir));
      assert.equal(await accountExists(), false);
    });
  });
});
