/**
 * Preload: exposes `window.dirsync` to the sandboxed renderer. Raw ipcRenderer stays here.
 */
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('dirsync', {
  shell: 'electron',
  version: process.versions['electron'] ?? 'unknown',
});
