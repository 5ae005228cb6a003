// What the shell's main process calls of Electron, recorded for its unit tests (see electron-hooks.mjs).
export const recorded = { ipcHandlers: new Map(), permissionRequest: undefined, permissionCheck: undefined, appListeners: new Map(), openedExternally: [] };
export const ipcMain = { handle: (channel, handler) => recorded.ipcHandlers.set(channel, handler) };
export const shell = { openExternal: async (url) => { recorded.openedExternally.push(url); } };
export const session = {
  defaultSession: {
    setPermissionRequestHandler: (handler) => { recorded.permissionRequest = handler; },
    setPermissionCheckHandler: (handler) => { recorded.permissionCheck = handler; },
  },
};
export const app = { on: (event, listener) => recorded.appListeners.set(event, listener) };
