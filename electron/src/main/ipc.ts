/**
 * The only place raw ipcMain is used. Every handler checks that the message comes from the app's own
 * page in the main frame (house-style.md: trusted IPC sender), then forwards it to the service.
 */
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { callService, subscribeService } from './engine-connection.ts';

const METHOD = /^[a-zA-Z]{1,64}$/;

export function isTrustedSender(event: IpcMainInvokeEvent, isAppUrl: (url: string) => boolean): boolean {
  const frame = event.senderFrame;
  return frame !== null && frame === event.sender.mainFrame && isAppUrl(frame.url);
}

export function registerIpc(socketPath: string, isAppUrl: (url: string) => boolean): void {
  ipcMain.handle('dirsync:call', async (event, method: unknown, args: unknown) => {
    if (!isTrustedSender(event, isAppUrl)) return { error: { $isError: true, name: 'Forbidden', code: 'untrusted-sender', message: 'Refused: not sent by Directory Sync.' } };
    if (typeof method !== 'string' || !METHOD.test(method)) return { error: { $isError: true, name: 'BadRequest', code: 'bad-request', message: 'No such method.' } };
    if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
      return { error: { $isError: true, name: 'BadRequest', code: 'bad-request', message: 'Each method takes one object argument.' } };
    }
    return callService(socketPath, method, args);
  });
}

/** Forwards service events to a window while it lives. */
export function forwardEvents(socketPath: string, contents: WebContents): void {
  const stop = subscribeService(socketPath, (line) => {
    if (!contents.isDestroyed()) contents.send('dirsync:event', line);
  });
  contents.once('destroyed', stop);
}
