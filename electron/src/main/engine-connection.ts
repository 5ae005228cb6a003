/**
 * The Electron main process's connection to the Directory Synchronization Service: the engine's own
 * control transport (engine/src/control/transport.ts) over the service's local socket (a named pipe
 * on Windows), found where the engine puts it (engine/src/base/locations.ts). The renderer never
 * reaches it directly.
 */
import { postControl, streamControlEvents } from '../../../engine/src/control/transport.ts';
import { controlKeyFile } from '../../../engine/src/base/locations.ts';

export { serviceSocketPath } from '../../../engine/src/base/locations.ts';

/** One control API call; resolves with the service's envelope `{ result } | { error }` unchanged. */
export async function callService(socketPath: string, method: string, args: unknown): Promise<unknown> {
  try {
    // The service proves itself with its control key before anything is sent (engine/src/control/channel-proof.ts).
    return await postControl({ socketPath, keyFile: controlKeyFile(socketPath) }, method, args);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      // The service runs, but this account may not reach it: never "not running".
      return { error: { $isError: true, name: 'AccessError', code: 'access-denied',
        message: `This account may not use the Directory Synchronization Service (${code}): ${process.platform === 'win32'
          ? 'start Directory Sync with "Run as administrator" (its shortcuts ask for it)'
          : 'start it as root or as the account the service runs as'}.` } };
    }
    return { error: { $isError: true, name: 'ServiceUnavailable', code: 'service-unavailable',
      message: `The Directory Synchronization Service is not running (${(error as Error).message}). Start it (systemctl start dirsync, or the Services console on Windows), then try again.` } };
  }
}

/** Streams service events; returns a function that stops. */
export function subscribeService(socketPath: string, onLine: (line: string) => void): () => void {
  return streamControlEvents({ socketPath, keyFile: controlKeyFile(socketPath) }, onLine);
}
