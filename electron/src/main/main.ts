/**
 * The Electron shell: one window hosting the renderer. It stays thin: everything the wizard does is
 * a call to the engine's control API (see renderer/src/lib/engine-client.ts).
 */
import { app, BrowserWindow } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { serviceSocketPath } from './engine-connection.ts';
import { forwardEvents, registerIpc } from './ipc.ts';
import { appUrlMatcher, denyAllPermissions, hardenWebContents, secureWebPreferences } from './security.ts';

const rendererIndex = process.env['DIRSYNC_RENDERER_INDEX'] ?? join(__dirname, '..', '..', 'renderer', 'dist', 'index.html');
const appUrl = pathToFileURL(rendererIndex);
/** The installer's finish page ("Start Configuration Wizard now") starts the app with --configuration-wizard. */
const startPage = process.argv.includes('--configuration-wizard') ? '#/configure/welcome' : '';

const isAppUrl = appUrlMatcher(appUrl);

async function createWindow(): Promise<void> {
  const window = new BrowserWindow({
    width: 1024,
    height: 720,
    title: 'Directory Sync',
    show: false,
    webPreferences: secureWebPreferences(join(__dirname, 'preload.cjs')),
  });
  hardenWebContents(window.webContents, isAppUrl);
  forwardEvents(socketPath, window.webContents);
  window.once('ready-to-show', () => window.show());
  await window.loadURL(`${appUrl.href}${startPage}`);
}

app.enableSandbox();
const socketPath = serviceSocketPath();
void app.whenReady().then(async () => {
  denyAllPermissions();
  registerIpc(socketPath, isAppUrl);
  await createWindow();
});
app.on('window-all-closed', () => app.quit());
