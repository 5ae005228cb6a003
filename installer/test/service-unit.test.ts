import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../../lab/connection.ts';
import { readableAppDir } from '../../engine/test/support/readable-app.ts';
import { runCommand } from '../../lab/samba/system.ts';

const template = join(repoRoot, 'installer', 'linux', 'directory-sync.service.in');
const installScript = join(repoRoot, 'installer', 'linux', 'install-service.sh');
const uninstallScript = join(repoRoot, 'installer', 'linux', 'uninstall-service.sh');
type Installation = { readonly account: string; readonly dataDir: string };
const defaults: Installation = { account: 'dirsync', dataDir: '/var/lib/dirsync' };

/** Whether others may pass through a directory and every one above it. */
function passableByOthers(dir: string): boolean {
  for (let d = realpathSync(dir); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === dirname(d)) return true;
  }
}

/** The test's own root, 0755 where others may reach it (TMPDIR, or /tmp where TMPDIR is private): its service account reads the data directory, and where needed the app, in it. */
function makeScratch(): string {
  const base = [tmpdir(), '/tmp'].find((d) => existsSync(d) && passableByOthers(d));
  if (base === undefined) throw new Error(`neither ${tmpdir()} nor /tmp can be reached by others: the test has no root its service account can reach`);
  const dir = mkdtempSync(join(realpathSync(base), 'dirsync-unit-'));
  chmodSync(dir, 0o755);
  return dir;
}
const scratch = makeScratch();

/**
 * The installation the tests make and remove: an account of their own (no machine has it; a system account
 * name, up to 32 characters) with its data directory in the scratch root. The machine's own installation
 * (dirsync, /var/lib/dirsync), if any, is never touched.
 */
const own: Installation = { account: `dsync-t${randomBytes(4).toString('hex')}`, dataDir: join(scratch, 'data') };
const unitDir = join(scratch, 'units');
const unitFile = join(unitDir, 'directory-sync.service');
/** What runs as the account keeps its temporary files (tsx's cache) in the scratch root too, not in /tmp after the account is gone. */
const accountTmp = join(scratch, 'tmp');
mkdirSync(accountTmp);
chmodSync(accountTmp, 0o1777);
const accountEnv = { ...process.env, TMPDIR: accountTmp };

/** The unit as install-service.sh renders it (systemd makes a StateDirectory= under /var/lib only; elsewhere the script makes the directory). */
function render(node: string, appDir: string, { account, dataDir }: Installation = defaults): string {
  const unit = readFileSync(template, 'utf8').replaceAll('@NODE@', node).replaceAll('@APP_DIR@', appDir).replaceAll('@ACCOUNT@', account).replaceAll('@DATA_DIR@', dataDir);
  return dataDir.startsWith('/var/lib/') ? unit.replaceAll('@STATE_DIRECTORY@', dataDir.slice('/var/lib/'.length))
    : unit.split('\n').filter((line) => !line.startsWith('StateDirectory')).join('\n');
}

const literally = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** systemd-analyze verify: exit 0 is not enough, it only warns about unknown keys; any word on stderr is a finding. */
async function verify(file: string): Promise<string> {
  const result = await runCommand('systemd-analyze', ['verify', file], { timeoutMs: 60_000 });
  return `${result.code === 0 ? '' : `exit ${result.code}: `}${result.stderr}`.trim();
}

async function accountExists(): Promise<boolean> {
  return (await runCommand('getent', ['passwd', own.account])).code === 0;
}

/** What the service and the uninstall test run from an app directory, which the test's account must read. */
const APP_FILES = ['engine/bin/dirsync.js', 'engine/src/cli/main.ts', 'installer/test/support/mark-run.ts', 'node_modules/tsx/package.json', 'node_modules/better-sqlite3/package.json'];
const findAppDir = (): Promise<string> => readableAppDir(own.account, scratch, APP_FILES);
let appDirFound: Promise<string> | undefined;
const appDir = (): Promise<string> => (appDirFound ??= findAppDir());

describe('the systemd service', () => {
  after(async () => {
    // Undo exactly what this test made: its account and group (unless the purge test removed them) and its scratch root.
    if (await accountExists()) await runCommand('userdel', [own.account]);
    if ((await runCommand('getent', ['group', own.account])).code === 0) await runCommand('groupdel', [own.account]);
    rmSync(scratch, { recursive: true, force: true, maxRetries: 5 });
  });

  it('is a unit systemd-analyze verifies without a finding, running as dirsync with least privilege', async () => {
    const file = join(scratch, 'directory-sync.service');
    writeFileSync(file, render(process.execPath, repoRoot));
    assert.equal(await verify(file), '');
    const unit = readFileSync(file, 'utf8');
    for (const directive of ['User=dirsync', 'Group=dirsync', 'NoNewPrivileges=yes', 'CapabilityBoundingSet=', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/dirsync',
      'UMask=0077', 'StateDirectory=dirsync', 'StateDirectoryMode=0700', 'WorkingDirectory=/var/lib/dirsync',
      `ExecStart="${process.execPath}" "${repoRoot}/engine/bin/dirsync.js" --data-dir /var/lib/dirsync service run`, 'Environment=ELECTRON_RUN_AS_NODE=1']) {
      assert.ok(unit.split('\n').includes(directive), `the unit lacks ${directive}`);
    }
    assert.doesNotMatch(unit, /@[A-Z_]+@/, 'a placeholder is left');
  });

  it('fails verification for a misspelt directive or a runtime that is not there (the check can fail)', async () => {
    const file = join(scratch, 'directory-sync.service');
    writeFileSync(file, render(process.execPath, repoRoot).replace('ProtectClock=yes', 'ProtectClok=yes'));
    assert.match(await verify(file), /Unknown key 'ProtectClok'/);
    writeFileSync(file, render('/nonexistent/node', repoRoot));
    assert.match(await verify(file), /\/nonexistent\/node is not executable/);
  });

  it('install-service.sh refuses an account or a data directory the unit cannot name, or a data directory of other files, and makes nothing', async () => {
    const install = (args: ReadonlyArray<string>) => runCommand('bash', [installScript, '--unit-dir', unitDir, '--node', process.execPath, '--no-start', ...args], { timeoutMs: 60_000 });
    const badAccount = await install(['--account', 'Not a name', '--data-dir', own.dataDir]);
    assert.equal(badAccount.code, 2);
    assert.match(badAccount.stderr, /--account Not a name: an account name is up to 32 lower-case letters/);
    const badDir = await install(['--account', own.account, '--data-dir', 'relative/dir']);
    assert.equal(badDir.code, 2);
    assert.match(badDir.stderr, /--data-dir relative\/dir: give an absolute path/);
    const others = join(scratch, 'others');
    mkdirSync(others);
    writeFileSync(join(others, 'notes.txt'), '');
    const occupied = await install(['--account', own.account, '--data-dir', others]);
    assert.equal(occupied.code, 1);
    assert.match(occupied.stderr, /holds other files: give a directory of the service's own/);
    assert.equal(statSync(join(others, 'notes.txt')).uid, 0);
    assert.equal(await accountExists(), false);
    assert.ok(!existsSync(own.dataDir) && !existsSync(unitFile));
  });

  it('install-service.sh creates the account without a shell, a data directory only it can open, and the unit; again, it changes nothing', async () => {
    assert.equal(await accountExists(), false, `the account ${own.account} is already on this machine`);
    const install = () => runCommand('bash', [installScript, '--unit-dir', unitDir, '--node', process.execPath, '--no-start', '--account', own.account, '--data-dir', own.dataDir],
      { timeoutMs: 60_000 });
    const first = await install();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`runs as ${own.account}, data in ${literally(own.dataDir)}`));
    const passwd = (await runCommand('getent', ['passwd', own.account])).stdout.trim().split(':');
    assert.equal(passwd[5], own.dataDir);
    assert.equal(passwd[6], '/usr/sbin/nologin');
    assert.ok(Number(passwd[2]) < 1000, 'a system account');
    const stat = statSync(own.dataDir);
    assert.equal(stat.mode & 0o777, 0o700);
    assert.equal(stat.uid, Number(passwd[2]));
    assert.equal(await verify(unitFile), '');
    // The checks of the default unit above hold for what the script renders: the same text, for this account and data directory.
    assert.equal(readFileSync(unitFile, 'utf8'), render(process.execPath, repoRoot, own));
    for (const directive of [`User=${own.account}`, `Group=${own.account}`, `ReadWritePaths=${own.dataDir}`, `WorkingDirectory=${own.dataDir}`,
      `ExecStart="${process.execPath}" "${repoRoot}/engine/bin/dirsync.js" --data-dir ${own.dataDir} service run`]) {
      assert.ok(readFileSync(unitFile, 'utf8').split('\n').includes(directive), `the unit lacks ${directive}`);
    }

    // An upgrade over a store that an earlier root install left: the account takes it over.
    writeFileSync(join(own.dataDir, 'dirsync.db'), '');
    const again = await install();
    assert.equal(again.code, 0, again.stderr);
    assert.equal(statSync(join(own.dataDir, 'dirsync.db')).uid, Number(passwd[2]));
    assert.equal((await runCommand('getent', ['passwd', own.account])).stdout.trim().split(':')[2], passwd[2], 'the same account');
    rmSync(join(own.dataDir, 'dirsync.db'));
  });

  it('the unit\'s command runs the service as the account: its control socket is the account\'s alone', async () => {
    assert.ok(await accountExists(), 'the install test above did not make the account');
    const app = await appDir();
    const child = spawn('runuser', ['-u', own.account, '--', process.execPath, join(app, 'engine', 'bin', 'dirsync.js'), '--data-dir', own.dataDir, 'service', 'run'],
      { stdio: ['ignore', 'ignore', 'pipe'], cwd: own.dataDir, env: accountEnv });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const running = () => child.exitCode === null && child.signalCode === null;
    try {
      const socket = join(own.dataDir, 'control.sock');
      for (let i = 0; i < 100 && !existsSync(socket) && running(); i += 1) await new Promise((r) => setTimeout(r, 100));
      assert.ok(existsSync(socket), `the service did not open its control socket${running() ? '' : ` (it exited with ${child.exitCode ?? child.signalCode})`}: ${stderr}`);
      const stat = statSync(socket);
      assert.equal(stat.mode & 0o777, 0o600);
      assert.equal(stat.uid, Number((await runCommand('id', ['-u', own.account])).stdout.trim()));
      const keyOrStore = ['dirsync.db', 'secret.key'].filter((f) => existsSync(join(own.dataDir, f)));
      for (const f of keyOrStore) assert.equal(statSync(join(own.dataDir, f)).mode & 0o077, 0, `${f} is readable by others`);
      const status = await runCommand(process.execPath, [join(repoRoot, 'engine', 'bin', 'dirsync.js'), '--data-dir', own.dataDir, '--json', 'status'], { timeoutMs: 30_000 });
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /"configured": false/);
    } finally {
      if (running()) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });

  describe('uninstall-service.sh', () => {
    const markRun = async (action: 'start' | 'finish') => {
      const app = await appDir();
      return runCommand('runuser', ['-u', own.account, '--', process.execPath, '--import', 'tsx', join(app, 'installer', 'test', 'support', 'mark-run.ts'), own.dataDir, action],
        { cwd: app, env: accountEnv, timeoutMs: 60_000 });
    };

    async function uninstall(args: ReadonlyArray<string>) {
      const child = spawn('bash', [uninstallScript, '--unit-dir', unitDir, '--node', process.execPath, '--poll', '0.2', '--app-dir', await appDir(),
        '--account', own.account, '--data-dir', own.dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: scratch, env: accountEnv });
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

    /** Should a step fail while a run is marked in progress, stops the uninstall waiting for it and finishes the run: no later test waits forever. */
    async function withRunInProgress(steps: (run: Awaited<ReturnType<typeof uninstall>>) => Promise<void>): Promise<void> {
      assert.equal((await markRun('start')).code, 0);
      const run = await uninstall([]);
      try {
        await steps(run);
      } catch (error) {
        run.child.kill('SIGKILL');
        await markRun('finish');
        throw error;
      }
    }

    it('waits for the run in progress, saying so, then removes the service and keeps the store', async () => {
      assert.ok(await accountExists(), 'the install test above did not make the account');
      await withRunInProgress(async (run) => {
        await run.said(/A synchronization is in progress \(run \d+ \(full, started [^)]+\)\)\. Waiting for it to finish before removing the service;\npress Ctrl\+C to cancel the removal\./);
        await new Promise((r) => setTimeout(r, 700));
        assert.ok(existsSync(unitFile), 'the service was removed while a run was in progress');
        assert.equal((await markRun('finish')).code, 0);
        assert.equal(await run.exited, 0, run.output());
        assert.ok(!existsSync(unitFile));
        assert.ok(existsSync(join(own.dataDir, 'dirsync.db')), 'the store is kept by default');
        assert.ok(await accountExists());
        assert.match(run.output(), new RegExp(`Kept ${literally(own.dataDir)} \\(configuration, store, secrets\\) and the account ${own.account}`));
      });
    });

    it('lets the administrator cancel while a run is in progress, and removes nothing then', async () => {
      assert.ok(await accountExists(), 'the install test above did not make the account');
      writeFileSync(unitFile, render(process.execPath, repoRoot, own));
      await withRunInProgress(async (run) => {
        await run.said(/press Ctrl\+C to cancel the removal/);
        run.child.kill('SIGINT');
        assert.equal(await run.exited, 130, run.output());
        assert.match(run.output(), /Removal cancelled: the service and its data are left as they were\./);
        assert.ok(existsSync(unitFile));
        assert.equal((await markRun('finish')).code, 0);
      });
    });

    it('purges the store and the account only when confirmed', async () => {
      assert.ok(await accountExists(), 'the install test above did not make the account');
      const unconfirmed = await uninstall(['--purge']);
      assert.equal(await unconfirmed.exited, 1);
      assert.match(unconfirmed.output(), new RegExp(`--purge deletes the configuration, the store and the secrets in ${literally(own.dataDir)}: confirm with --yes\\.`));
      assert.ok(existsSync(own.dataDir));
      const confirmed = await uninstall(['--purge', '--yes']);
      assert.equal(await confirmed.exited, 0, confirmed.output());
      assert.ok(!existsSync(own.dataDir));
      assert.equal(await accountExists(), false);
    });
  });
});
