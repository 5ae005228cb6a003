/**
 * The Windows installer's PATH step, driven against a stand-in of Windows PowerShell that runs the scripts it is
 * given against one registry value — decoding `-EncodedCommand` as PowerShell does, reading the single-quoted
 * literal as PowerShell reads it: the entries an administrator has are kept exactly (order, %variables%,
 * non-ASCII folders, quotes, a trailing `;`), ours is added once and removed in every spelling, and a write that
 * does not read back fails.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../../../lab/connection.ts';
import { changeMachinePath, pathWith, powershell, psQuote, READ_PATH_SCRIPT, writePathScript } from '../../../src/base/windows-system.ts';

const BIN = 'C:\\Program Files\\Directory Sync\\resources\\bin';
const SYSTEM_PATH = "%SystemRoot%\\system32;%SystemRoot%;C:\\Programme\\Überwachung\\bin;C:\\Users\\O'Brien\\tools;C:\\Daten\\‘quoted’;C:\\Program Files\\Git\\cmd\\";

/** PowerShell's reading of a single-quoted literal: two quote characters of any of its four kinds are one. */
function psUnquote(literal: string): string {
  return literal.slice(1, -1).replace(/(['\u2018\u2019\u201A\u201B])\1/g, '$1');
}

function registry(initial: string, options: { dropWrites?: boolean; oemOutput?: boolean } = {}) {
  let value = initial;
  const scripts: string[] = [];
  const run = (command: string, args: string[]): string => {
    assert.equal(command, 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    assert.deepEqual(args.slice(0, 5), ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand']);
    const script = Buffer.from(args[5] ?? '', 'base64').toString('utf16le');
    scripts.push(script);
    assert.match(script, /OpenSubKey\('SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment'/);
    if (script.includes('GetValue')) {
      assert.match(script, /DoNotExpandEnvironmentNames/);
      assert.match(script, /OutputEncoding = \[System\.Text\.Encoding\]::UTF8/);
      return options.oemOutput ? value.replace(/[^\x20-\x7e]/g, '\uFFFD') : value;
    }
    const literal = /SetValue\('Path', ('(?:[^'\u2018\u2019\u201A\u201B]|(['\u2018\u2019\u201A\u201B])\2)*'), \[Microsoft\.Win32\.RegistryValueKind\]::ExpandString\)/.exec(script)?.[1];
    assert.ok(literal, script);
    if (!options.dropWrites) value = psUnquote(literal);
    return '';
  };
  return { run, scripts, value: () => value };
}

describe('the Windows installer\'s machine PATH', { concurrency: false }, () => {
  const systemRoot = process.env['SystemRoot'];
  process.env['SystemRoot'] = 'C:\\Windows';

  it('adds the folder once at the end and keeps everything else exactly, non-ASCII folders and quotes among them', () => {
    const reg = registry(SYSTEM_PATH);
    assert.match(changeMachinePath(BIN, 'add', reg.run), /was added/);
    assert.equal(reg.value(), `${SYSTEM_PATH};${BIN}`);
    assert.match(changeMachinePath(BIN, 'add', reg.run), /already on the machine PATH/);
    assert.equal(changeMachinePath(`${BIN.toUpperCase()}\\`, 'add', reg.run), `${BIN.toUpperCase()}\\ is already on the machine PATH.`);
    assert.equal(reg.value(), `${SYSTEM_PATH};${BIN}`);
    assert.equal(reg.scripts.filter((s) => s.includes('SetValue')).length, 1, 'written once');
    assert.equal(pathWith(`${SYSTEM_PATH};`, BIN, 'add'), `${SYSTEM_PATH};${BIN}`, 'a trailing ; is not doubled');
    assert.equal(pathWith('', BIN, 'add'), BIN);
  });

  it('removes every spelling of the folder on uninstall, and nothing else', () => {
    const reg = registry(`${BIN};${SYSTEM_PATH};${BIN.toLowerCase()}\\`);
    assert.match(changeMachinePath(BIN, 'remove', reg.run), /was removed/);
    assert.equal(reg.value(), SYSTEM_PATH);
    assert.match(changeMachinePath(BIN, 'remove', reg.run), /was not on the machine PATH/);
  });

  it('writes nothing when the PATH does not read back as text, or comes back empty; fails when a write does not read back', () => {
    const garbled = registry(SYSTEM_PATH, { oemOutput: true });
    assert.throws(() => changeMachinePath(BIN, 'add', garbled.run), /did not read back as text .*left as it is/);
    assert.equal(garbled.scripts.filter((s) => s.includes('SetValue')).length, 0);
    assert.throws(() => changeMachinePath(BIN, 'add', () => ''), /came back empty\): it was left as it is/);
    assert.throws(() => changeMachinePath(BIN, 'add', registry(SYSTEM_PATH, { dropWrites: true }).run), /did not read back as written/);
  });

  it('passes the value as a PowerShell literal PowerShell cannot end early, and reads the PATH unexpanded', () => {
    assert.equal(psQuote("a'b’c"), "'a''b’’c'");
    assert.equal(psUnquote(psQuote("x'‘’‚‛y")), "x'‘’‚‛y");
    assert.match(writePathScript('%SystemRoot%;C:\\x'), /SetValue\('Path', '%SystemRoot%;C:\\x', \[Microsoft\.Win32\.RegistryValueKind\]::ExpandString\)/);
    assert.match(READ_PATH_SCRIPT, /DoNotExpandEnvironmentNames/);
    assert.equal(powershell('x', 'D:\\WINDOWS')[0], 'D:\\WINDOWS\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
  });

  it('dirsync windows refuses to run off Windows, saying what it is for', { skip: process.platform === 'win32' ? 'this is Windows' : false }, () => {
    if (systemRoot === undefined) delete process.env['SystemRoot'];
    else process.env['SystemRoot'] = systemRoot;
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'engine', 'src', 'cli', 'main.ts'), 'windows', 'path', 'add', BIN], { encoding: 'utf8', cwd: repoRoot });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /dirsync windows path is for the Windows installer; this computer runs linux/);
  });
});
