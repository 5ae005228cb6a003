// Types of the recording stand-in (electron-standin.mjs).
export declare const recorded: {
  ipcHandlers: Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>;
  permissionRequest?: (contents: unknown, permission: string, callback: (allowed: boolean) => void) => void;
  permissionCheck?: () => boolean;
  appListeners: Map<string, (event: unknown, contents: unknown) => void>;
  openedExternally: string[];
};
