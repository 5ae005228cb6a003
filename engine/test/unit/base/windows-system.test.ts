/**
 * The Windows installer's PATH step, driven against a stand-in registry that answers reg.exe's command lines as
 * reg.exe prints them: the entries an administrator has are kept exactly (order, %variables%, a trailing `;`),
 * ours is added once and removed in every spelling, and a write that does not read back fails.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../../../lab/connection.ts';
import { changeMachinePath, ENVIRONMENT_KEY, parseRegQuery, pathWith, regAddPath } from '../../../src/base/windows-system.ts';

const BIN = 'C:\\Program Files\\Directory Sync\\resources\\bin';
const SYSTEM_PATH = '%SystemRoot%\\system32;%SystemRoot%;%SystemRoot%\\System32\\Wbem;C:\\Program Files\\Git\\cmd\\;C:\\Tools';

/** reg.exe over one value, printing what Windows' reg.exe prints. */
function registry(initial: string, options: { dropWrites?: boolean } = {}) {
  let value = initial;
  const calls: string[][] = [];
  const run = (command: string, args: string[]): string => {
    calls.push([command, ...args]);
    assert.equal(command, 'reg.exe');
    assert.equal(args[1], ENVIRONMENT_KEY);
    if (args[0] === 'query') return `\r\n${ENVIRONMENT_KEY}\r\n    Path    REG_EXPAND_SZ    ${value}\r\n\r\n`;
    if (args[0] === 'add') {
      assert.deepEqual(args.slice(2, 6), ['/v', 'Path', '/t', 'REG_EXPAND_SZ']);
      if (!options.dropWrites) value = args[7] ?? '';
      return 'The operation completed successfully.\r\n';
    }
    throw new Error(`unexpected ${args.join(' ')}`);
  };
  return { run, calls, value: () => value };
}

describe('the Windows installer\'s machine PATH', () => {
  it('reads the value as reg query prints it, with spaces in the data', () => {
    assert.deepEqual(parseRegQuery(`\r\n${ENVIRONMENT_KEY}\r\n    Path    REG_EXPAND_SZ    ${SYSTEM_PATH}\r\n`, 'Path'), { type: 'REG_EXPAND_SZ', data: SYSTEM_PATH });
    assert.equal(parseRegQuery('ERROR: The system was unable to find the specified registry key or value.', 'Path'), undefined);
  });

  it('adds the folder once at the end and keeps everything else as it was', () => {
    const reg = registry(SYSTEM_PATH);
    assert.match(changeMachinePath(BIN, 'add', reg.run), /was added/);
    assert.equal(reg.value(), `${SYSTEM_PATH};${BIN}`);
    assert.match(changeMachinePath(BIN, 'add', reg.run), /already on the machine PATH/);
    assert.equal(changeMachinePath(`${BIN.toUpperCase()}\\`, 'add', reg.run), `${BIN.toUpperCase()}\\ is already on the machine PATH.`);
    assert.equal(reg.value(), `${SYSTEM_PATH};${BIN}`);
    assert.equal(reg.calls.filter((c) => c[1] === 'add').length, 1, 'written once');
    assert.equal(pathWith(`${SYSTEM_PATH};`, BIN, 'add'), `${SYSTEM_PATH};${BIN}`, 'a trailing ; is not doubled');
    assert.equal(pathWith('', BIN, 'add'), BIN);
  });

  it('removes every spelling of the folder on uninstall, and nothing else', () => {
    const reg = registry(`${BIN};${SYSTEM_PATH};${BIN.toLowerCase()}\\`);
    assert.match(changeMachinePath(BIN, 'remove', reg.run), /was removed/);
    assert.equal(reg.value(), SYSTEM_PATH);
    assert.match(changeMachinePath(BIN, 'remove', reg.run), /was not on the machine PATH/);
  });

  it('fails, saying so, when the PATH cannot be read or does not read back as written', () => {
    assert.throws(() => changeMachinePath(BIN, 'add', () => 'ERROR: Access is denied.'), /could not be read .*left as it is/);
    const reg = registry(SYSTEM_PATH, { dropWrites: true });
    assert.throws(() => changeMachinePath(BIN, 'add', reg.run), /did not read back as written/);
  });

  it('writes the PATH as an expandable string, so %SystemRoot% stays a variable', () => {
    assert.deepEqual(regAddPath('%SystemRoot%;C:\\x'), ['reg.exe', ['add', ENVIRONMENT_KEY, '/v', 'Path', '/t', 'REG_EXPAND_SZ', '/d', '%SystemRoot%;C:\\x', '/f']]);
  });

  it('dirsync windows refuses to run off Windows, saying what it is for', { skip: process.platform === 'win32' ? 'this is Windows' : false }, () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'engine', 'src', 'cli', 'main.ts'), 'windows', 'path', 'add', BIN], { encoding: 'utf8', cwd: repoRoot });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /dirsync windows path is for the Windows installer; this computer runs linux/);
  });
});
