/**
 * Preload: exposes `window.dirsync` to the sandboxed renderer. Raw ipcRenderer stays here.
 * `call` resolves with the service's envelope `{ result } | { error }` (errors are revived by
 * renderer/src/lib/engine-client.ts: Electron would keep only their message).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

contextBridge.exposeInMainWorld('dirsync', {
  shell: 'electron',
  version: process.versions['electron'] ?? 'unknown',
  call: (method: string, args: Record<string, unknown>): Promise<unknown> => ipcRenderer.invoke('dirsync:call', method, args),
  subscribe: (listener: (message: { event: string; data: unknown }) => void): (() => void) => {
    const handler = (_event: IpcRendererEvent, line: string) => listener(JSON.parse(line) as { event: string; data: unknown });
    ipcRenderer.on('dirsync:event', handler);
    return () => ipcRenderer.removeListener('dirsync:event', handler);
  },
});
