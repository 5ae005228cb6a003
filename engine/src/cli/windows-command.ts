/**
 * `dirsync windows …`: the steps of the Windows installer (installer/windows/installer.nsh) that are data, not a
 * command line — run there through `dirsync.cmd`, each exiting non-zero with the reason when it fails, so the
 * installer can show it and roll back.
 */
import type { Command } from 'commander';
import { changeMachinePath } from '../base/windows-system.ts';
import { plainFolder, readWindowsSddl, windowsAccess } from '../diagnostics/data-dir-access.ts';
import { ExitCode } from './exit-codes.ts';

export type WindowsCliHelpers = {
  dataDir(): string;
  print(value: unknown, text: () => string): void;
};

function onWindowsOnly(what: string): boolean {
  if (process.platform === 'win32') return true;
  console.error(`dirsync windows ${what} is for the Windows installer; this computer runs ${process.platform}.`);
  process.exitCode = ExitCode.usage;
  return false;
}

export function registerWindowsCommands(program: Command, helpers: WindowsCliHelpers): void {
  const windows = program.command('windows').description('steps of the Windows installer (run by it as an administrator)');
  windows.command('path').argument('<change>', 'add or remove').argument('<dir>', 'the folder of dirsync.cmd')
    .description('add the folder to the machine PATH (once), or remove it, keeping every other entry as it is')
    .action((change: string, dir: string) => {
      if (change !== 'add' && change !== 'remove') {
        console.error(`dirsync windows path: say "add" or "remove", not "${change}".`);
        process.exitCode = ExitCode.usage;
        return;
      }
      if (!onWindowsOnly('path')) return;
      const said = changeMachinePath(dir, change);
      helpers.print({ changed: true, message: said }, () => said);
    });
  windows.command('check-data-dir')
    .description('verify the data folder\'s ACL after the installer set it: owned by Administrators, SYSTEM, Administrators and the service only, nothing inherited')
    .option('--folder-only', 'only check that it is a folder of its own (not a junction or symbolic link), before its ACL is set')
    .action((o: { folderOnly?: boolean }) => {
      if (!onWindowsOnly('check-data-dir')) return;
      const dir = helpers.dataDir();
      const verdict = o.folderOnly ? plainFolder(dir) : windowsAccess(dir, readWindowsSddl(dir));
      helpers.print(verdict, () => (verdict.ok ? `The data folder is protected: ${verdict.detail}.` : `${verdict.detail} ${verdict.fix}`));
      if (!verdict.ok) process.exitCode = ExitCode.failed;
    });
}
