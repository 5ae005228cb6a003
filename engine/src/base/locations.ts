/**
 * Where an installation lives on this computer: its data directory and the service's control
 * socket. The engine and the Electron shell both read them here (electron/ may import this file).
 */
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Where the service keeps its store, key and logs, per operating system ($DIRSYNC_DATA_DIR first). */
export function defaultDataDir(): string {
  if (process.env['DIRSYNC_DATA_DIR']) return process.env['DIRSYNC_DATA_DIR'];
  if (process.platform === 'win32') return join(process.env['ProgramData'] ?? 'C:\\ProgramData', 'Directory Sync');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Directory Sync');
  if (process.getuid?.() === 0) return '/var/lib/dirsync';
  return join(process.env['XDG_DATA_HOME'] ?? join(homedir(), '.local', 'share'), 'dirsync');
}

/** The service's control socket for a data directory (a named pipe on Windows). */
export function defaultSocketPath(dataDir: string): string {
  return process.platform === 'win32' ? '\\\\.\\pipe\\directory-sync' : join(dataDir, 'control.sock');
}

/** The running service's control socket: $DIRSYNC_SOCKET, else the default of the default data directory. */
export function serviceSocketPath(): string {
  return process.env['DIRSYNC_SOCKET'] ?? defaultSocketPath(defaultDataDir());
}

/**
 * The key the service proves itself with on its control socket (control/channel-proof.ts): beside the socket in the
 * data directory, or in the data directory for a named pipe. Readable by the service's account and administrators only.
 */
export function controlKeyFile(socketPath: string, dataDir: string = defaultDataDir()): string {
  return socketPath.startsWith('\\\\.\\pipe\\') ? join(dataDir, 'control.key') : join(dirname(socketPath), 'control.key');
}
