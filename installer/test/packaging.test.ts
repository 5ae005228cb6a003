import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../../lab/connection.ts';
import { runCommand } from '../../lab/samba/system.ts';

const require = createRequire(join(repoRoot, 'package.json'));
const configFile = join(repoRoot, 'installer', 'electron-builder.json');
type BuilderConfig = Record<string, unknown> & {
  files: string[]; nsis: { license: string; include: string; perMachine: boolean; oneClick: boolean; runAfterFinish: boolean };
  deb: { afterInstall: string; afterRemove: string }; win: { target: Array<{ target: string; arch: string[] }>; extraResources: Array<{ from: string }> };
  linux: { target: string[] };
};
const config = JSON.parse(readFileSync(configFile, 'utf8')) as BuilderConfig;
const scratch = mkdtempSync(join(tmpdir(), 'dirsync-packaging-'));

/** electron-builder's own validation of a configuration (its JSON schema and deprecation checks). */
async function validate(candidate: unknown): Promise<void> {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as { validateConfiguration(c: unknown, logger: unknown): Promise<void> };
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  await validateConfiguration(candidate, new DebugLogger(false));
}

/** The files of the checkout a pattern of `files` takes ('dir/**', 'dir/**\/*.ts' or a file). */
function matching(pattern: string): string[] {
  const [base, rest] = pattern.includes('/**') ? [pattern.slice(0, pattern.indexOf('/**')), pattern.slice(pattern.indexOf('/**') + 3)] : [pattern, undefined];
  const root = join(repoRoot, base);
  if (!existsSync(root)) return [];
  if (rest === undefined) return statSync(root).isFile() ? [base] : [];
  const suffix = rest.replace(/^\/\*/, '');
  return (readdirSync(root, { recursive: true }) as string[]).filter((f) => statSync(join(root, f)).isFile() && f.endsWith(suffix)).map((f) => join(base, f));
}

describe('the packages (electron-builder configuration)', () => {
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('is a configuration electron-builder accepts, and one it refuses when a key is misspelt', async () => {
    await validate(config);
    await assert.rejects(validate({ ...config, nsis: { ...config.nsis, oneClik: false } }), /does not match the API schema/);
  });

  it('makes a per-machine 64-bit NSIS installer with the license page and the Configuration Wizard at its end, and deb, AppImage and tar.gz', () => {
    assert.deepEqual(config.win.target, [{ target: 'nsis', arch: ['x64'] }]);
    assert.equal(config.nsis.perMachine, true);
    assert.equal(config.nsis.oneClick, false);
    assert.equal(config.nsis.runAfterFinish, true);
    assert.deepEqual(config.linux.target, ['deb', 'AppImage', 'tar.gz']);
    for (const file of [config.nsis.license, config.nsis.include, config.deb.afterInstall, config.deb.afterRemove, ...config.win.extraResources.map((r) => r.from)]) {
      assert.ok(existsSync(join(repoRoot, file)), `${file} (named by the configuration) does not exist`);
    }
    assert.match(readFileSync(join(repoRoot, config.nsis.include), 'utf8'), /MUI_FINISHPAGE_RUN_TEXT "Start Configuration Wizard now"/);
  });

  it('packs what the app and its service need — every pattern takes files, the service scripts and the built renderer and shell among them', async () => {
    // npm test builds before it tests; run on its own, this test builds first.
    if (!existsSync(join(repoRoot, 'dist', 'electron', 'main.cjs')) || !existsSync(join(repoRoot, 'dist', 'engine', 'dirsync.mjs')) || !existsSync(join(repoRoot, 'renderer', 'dist', 'index.html'))) {
      const build = await runCommand('npm', ['run', '-s', 'build'], { cwd: repoRoot, timeoutMs: 300_000 });
      assert.equal(build.code, 0, build.stderr);
    }
    const packed = new Set<string>();
    for (const pattern of config.files.filter((p) => !p.startsWith('!'))) {
      const files = matching(pattern);
      assert.ok(files.length > 0, `the pattern ${pattern} takes no file`);
      for (const f of files) packed.add(f);
    }
    for (const needed of ['package.json', 'LICENSE', 'engine/bin/dirsync.js', 'engine/src/cli/main.ts', 'engine/src/service/daemon.ts', 'dist/engine/dirsync.mjs', 'dist/electron/main.cjs',
      'dist/electron/preload.cjs', 'renderer/dist/index.html', 'installer/linux/install-service.sh', 'installer/linux/uninstall-service.sh',
      'installer/linux/directory-sync.service.in']) {
      assert.ok(packed.has(needed), `${needed} is not packed`);
    }
    assert.ok(![...packed].some((f) => f.includes('/test/') || f.startsWith('lab/') || f.startsWith('e2e/')), 'tests or the lab are packed');
    // The service runs the bundled engine, or the TypeScript sources through tsx where they are newer: both are runtime dependencies, installed into the package.
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const runtime of ['tsx', 'better-sqlite3', 'ldapts', '@azure/msal-node', '@microsoft/microsoft-graph-client']) assert.ok(pkg.dependencies[runtime], `${runtime} is not a runtime dependency`);
  });

  it('stops the Windows service gracefully: WinSW runs `dirsync service stop` with the app, within its stop timeout', () => {
    const xml = readFileSync(join(repoRoot, 'installer', 'windows', 'service', 'DirectorySyncService.xml'), 'utf8');
    const element = (name: string): string => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1] ?? '';
    const all = (name: string): string[] => [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1] ?? '');
    assert.equal(element('stopexecutable'), element('executable'), 'the stop executable is the app itself, run as Node.js');
    assert.deepEqual(all('stopargument'), ['%BASE%\\..\\app\\engine\\bin\\dirsync.js', '--data-dir', '%ProgramData%\\Directory Sync', 'service', 'stop', '--wait', '280']);
    assert.deepEqual(all('startargument'), ['%BASE%\\..\\app\\engine\\bin\\dirsync.js', '--data-dir', '%ProgramData%\\Directory Sync', 'service', 'run']);
    assert.ok(Number(all('stopargument').at(-1)) < Number(/^(\d+) sec$/.exec(element('stoptimeout'))?.[1]), 'the stop command gives up before WinSW kills the process');
  });

  it('is a service configuration WinSW 2 reads as meant: valid against the schema of what WinSW 2 reads, which refuses WinSW 3\'s forms', async () => {
    const xsd = join(repoRoot, 'installer', 'windows', 'service', 'winsw-v2.xsd');
    const file = join(repoRoot, 'installer', 'windows', 'service', 'DirectorySyncService.xml');
    const valid = await runCommand('xmllint', ['--noout', '--schema', xsd, file], { timeoutMs: 30_000 });
    assert.equal(valid.code, 0, valid.stdout + valid.stderr);
    // WinSW 2 ignores <stoparguments> (and <startarguments>): it would kill the service instead of running the stop command.
    const misread = join(scratch, 'winsw3-forms.xml');
    writeFileSync(misread, readFileSync(file, 'utf8').replace(/(?:\s*<stopargument>[^<]*<\/stopargument>)+/, '\n  <stoparguments>dirsync.js service stop</stoparguments>'));
    const refused = await runCommand('xmllint', ['--noout', '--schema', xsd, misread], { timeoutMs: 30_000 });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Element 'stoparguments': This element is not expected/);
  });

  it('checks every install step in order, verifies the data folder after protecting it, and rolls back on the first failure', () => {
    const nsh = readFileSync(join(repoRoot, config.nsis.include), 'utf8');
    const install = /!macro customInstall\n([\s\S]*?)\n!macroend/.exec(nsh)?.[1] ?? '';
    const [steps, rollback = ''] = install.split('${If} $DirSyncError != ""');
    assert.ok(rollback.includes('Abort') && /ExecWait '"\$INSTDIR\\Uninstall \$\{PRODUCT_FILENAME\}\.exe" \/S/.test(rollback), 'a failure uninstalls what was installed and aborts');
    assert.doesNotMatch(steps ?? '', /nsExec::ExecToLog/, 'no step runs without its exit code checked');
    const order = [...(steps ?? '').matchAll(/!insertmacro DirSyncStep "([^"]+)" '([^']+)'/g)].map((m) => `${m[1]} :: ${m[2]}`);
    const expected = [/Updating .* refresh/, /Registering the Directory Synchronization Service .* install/, /account .* obj= "NT SERVICE/,
      /folder of its own .* windows check-data-dir --folder-only/, /owner .* \/setowner \*S-1-5-32-544 \/T/,
      /Protecting .* \/inheritance:r \/grant:r "\*S-1-5-18:\(OI\)\(CI\)F" "\*S-1-5-32-544:\(OI\)\(CI\)F" "NT SERVICE\\\$\{DIRSYNC_SERVICE\}:\(OI\)\(CI\)M"/,
      /Resetting .* \/reset \/T/, /Verifying .* windows check-data-dir"/,
      /Event Log source :: eventcreate\.exe .* \/SO "\$\{DIRSYNC_EVENT_SOURCE\}"/, /PATH .* windows path add "\$INSTDIR\\resources\\bin"/, /Starting .* sc\.exe start/];
    assert.equal(order.length, expected.length, order.join('\n'));
    expected.forEach((pattern, i) => assert.match(order[i] ?? '', pattern));
    assert.match(steps ?? '', /\$\{IfNot\} \$\{FileExists\} "\$\{DIRSYNC_WRAPPER\}"\n\s+StrCpy \$DirSyncError "The service wrapper/, 'a missing WinSW is caught before anything is done');
    assert.match(steps ?? '', /DirSyncRunAsAdministrator "\$newStartMenuLink"\n\s+!insertmacro DirSyncRunAsAdministrator "\$newDesktopLink"/, 'the shortcuts ask for elevation');
    assert.match(nsh, /FileSeek \$2 0x15 SET\n\s+FileReadByte \$2 \$3\n\s+IntOp \$3 \$3 \| 0x20/, 'RunAsUser is bit 0x2000 of the LinkFlags at 0x14');
    const logger = readFileSync(join(repoRoot, 'engine', 'src', 'base', 'logger.ts'), 'utf8');
    assert.ok(logger.includes(`'/SO', '${/!define DIRSYNC_EVENT_SOURCE "([^"]+)"/.exec(nsh)?.[1]}'`), 'the engine writes to the source the installer registers');
  });

  it('ships dirsync for the PATH, and runs the app as invoked (the service starts the same executable as a non-administrator account)', () => {
    assert.equal((config.win as { requestedExecutionLevel?: string }).requestedExecutionLevel, undefined, 'requireAdministrator would make CreateProcess fail for the service (ERROR_ELEVATION_REQUIRED)');
    assert.ok(config.win.extraResources.some((r) => r.from === 'installer/windows/bin'));
    const cmd = readFileSync(join(repoRoot, 'installer', 'windows', 'bin', 'dirsync.cmd'), 'utf8');
    assert.match(cmd, /\r\n/, 'CRLF, as cmd.exe expects');
    assert.match(cmd, /set ELECTRON_RUN_AS_NODE=1\r\n"%~dp0\.\.\\\.\.\\Directory Sync\.exe" "%~dp0\.\.\\app\\engine\\bin\\dirsync\.js" --data-dir "%ProgramData%\\Directory Sync" %\*\r\n/);
  });

  it('compiles the installer\'s NSIS additions with makensis: the service, the finish page, the uninstall that waits for a run', async () => {
    const nsisInclude = join(require.resolve('app-builder-lib/package.json'), '..', 'templates', 'nsis', 'include');
    const script = join(scratch, 'check.nsi');
    writeFileSync(script, [
      'Unicode true',
      '!include "MUI2.nsh"',
      '!include "LogicLib.nsh"',
      `!addincludedir "${nsisInclude}"`,
      '!define PRODUCT_FILENAME "Directory Sync"',
      '!define APP_EXECUTABLE_FILENAME "Directory Sync.exe"',
      '!define VERSION "0.1.0"',
      'Name "Directory Sync"',
      `OutFile "${join(scratch, 'check.exe')}"`,
      'InstallDir "$PROGRAMFILES64\\Directory Sync"',
      'RequestExecutionLevel admin',
      // electron-builder's shortcut variables (include/installer.nsh), set before customInstall.
      'Var newStartMenuLink',
      'Var newDesktopLink',
      `!include "${join(repoRoot, config.nsis.include)}"`,
      `!insertmacro MUI_PAGE_LICENSE "${join(repoRoot, config.nsis.license)}"`,
      '!insertmacro MUI_PAGE_INSTFILES',
      '!insertmacro customFinishPage',
      '!insertmacro MUI_UNPAGE_INSTFILES',
      '!insertmacro MUI_LANGUAGE "English"',
      // In electron-builder's order: its app-running check (ours replaces it) comes before the install and the uninstall steps.
      'Section "Install"',
      '  !insertmacro customCheckAppRunning',
      '  SetOutPath "$INSTDIR"',
      '  StrCpy $newStartMenuLink "$SMPROGRAMS\\Directory Sync.lnk"',
      '  CreateShortCut "$newStartMenuLink" "$INSTDIR\\Directory Sync.exe"',
      '  StrCpy $newDesktopLink "$DESKTOP\\Directory Sync.lnk"',
      '  !insertmacro customInstall',
      '  WriteUninstaller "$INSTDIR\\Uninstall Directory Sync.exe"',
      'SectionEnd',
      'Function un.checkAppRunning',
      '  !insertmacro customCheckAppRunning',
      'FunctionEnd',
      'Section "Uninstall"',
      '  Call un.checkAppRunning',
      '  !insertmacro customUnInstall',
      'SectionEnd',
      '',
    ].join('\n'));
    const result = await runCommand('makensis', ['-V2', '-WX', script], { timeoutMs: 120_000 });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok(existsSync(join(scratch, 'check.exe')));
  });
});
