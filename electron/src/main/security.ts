/**
 * Every Electron hardening rule in one place (house-style.md; the Electron security checklist).
 */
import { app, session, shell, type BrowserWindowConstructorOptions, type WebContents } from 'electron';

/** Whether a URL is the app's own page (the renderer's index.html, any hash route): nothing else may navigate, load or call IPC. */
export function appUrlMatcher(appUrl: URL): (url: string) => boolean {
  return (url) => {
    try {
      const parsed = new URL(url);
      return parsed.protocol === 'file:' && parsed.pathname === appUrl.pathname;
    } catch {
      return false;
    }
  };
}

export function secureWebPreferences(preloadPath: string): BrowserWindowConstructorOptions['webPreferences'] {
  return {
    preload: preloadPath,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    spellcheck: false,
  };
}

/** Denies navigation away from the app, new windows (https links open in the default browser), and permissions. */
export function hardenWebContents(contents: WebContents, isAppUrl: (url: string) => boolean): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

export function denyAllPermissions(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}
