/**
 * The Electron shell's hardening (electron/src/main/security.ts, ipc.ts) in plain Node: `electron`
 * is resolved to a recording stand-in (test/support/electron-hooks.mjs), so what is asserted is what
 * the shell asks of Electron — window options, navigation, new windows, permissions, the CSP the
 * page carries — and that IPC from anything but the app's own page never reaches the service.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

register('./support/electron-hooks.mjs', import.meta.url);
const standin = await import('./support/electron-standin.mjs');
const security = await import('../src/main/security.ts');
const ipc = await import('../src/main/ipc.ts');
const { ChallengeBook, channelProof, CLIENT_PROOF_HEADER, ensureControlKey, HELLO_PATH } = await import('../../engine/src/control/channel-proof.ts');

const appUrl = pathToFileURL('/opt/directory-sync/resources/renderer/dist/index.html');
const isAppUrl = security.appUrlMatcher(appUrl);

/** A WebContents as far as the shell uses it: its listeners and its window-open handler. */
function fakeContents(): { contents: never; listeners: Map<string, (event: { preventDefault(): void }, url?: string) => void>; openHandler?: (d: { url: string }) => { action: string } } {
  const state: ReturnType<typeof fakeContents> = { contents: undefined as never, listeners: new Map() };
  state.contents = {
    on: (event: string, listener: (event: { preventDefault(): void }, url?: string) => void) => state.listeners.set(event, listener),
    setWindowOpenHandler: (handler: (d: { url: string }) => { action: string }) => { state.openHandler = handler; },
  } as never;
  return state;
}

function prevented(listener: ((event: { preventDefault(): void }, url?: string) => void) | undefined, url?: string): boolean {
  let was = false;
  listener?.({ preventDefault: () => { was = true; } }, url);
  return was;
}

describe('Electron shell: window and page hardening', () => {
  it('creates windows sandboxed and context-isolated, without Node, with web security on', () => {
    assert.deepEqual(security.secureWebPreferences('/app/preload.cjs'), {
      preload: '/app/preload.cjs', sandbox: true, contextIsolation: true, nodeIntegration: false, nodeIntegrationInWorker: false,
      webSecurity: true, allowRunningInsecureContent: false, experimentalFeatures: false, spellcheck: false,
    });
  });

  it('knows its own page from every other URL', () => {
    assert.equal(isAppUrl(`${appUrl.href}#/configure/welcome`), true);
    for (const url of ['https://login.microsoftonline.com/', 'file:///etc/passwd', `file:///tmp/index.html`, 'http://127.0.0.1:8080/index.html', 'javascript:alert(1)', 'not a url']) {
      assert.equal(isAppUrl(url), false, url);
    }
  });

  it('stops navigation away from the app and webviews, and opens no window (https links go to the browser)', () => {
    const page = fakeContents();
    security.hardenWebContents(page.contents, isAppUrl);
    assert.equal(prevented(page.listeners.get('will-navigate'), 'https://evil.example/'), true);
    assert.equal(prevented(page.listeners.get('will-navigate'), 'file:///etc/passwd'), true);
    assert.equal(prevented(page.listeners.get('will-navigate'), `${appUrl.href}#/setup`), false, 'its own routes navigate');
    assert.equal(prevented(page.listeners.get('will-attach-webview')), true);
    for (const url of ['https://learn.microsoft.com/entra/', 'http://example.com/', 'file:///etc/passwd', 'javascript:alert(1)']) {
      assert.deepEqual(page.openHandler?.({ url }), { action: 'deny' }, url);
    }
    assert.deepEqual(standin.recorded.openedExternally, ['https://learn.microsoft.com/entra/'], 'only the https link opened, in the default browser');
  });

  it('denies every permission, and every window any later web contents would open', () => {
    security.denyAllPermissions();
    const answers: boolean[] = [];
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) standin.recorded.permissionRequest?.(undefined, permission, (allowed) => answers.push(allowed));
    assert.deepEqual(answers, [false, false, false, false, false]);
    assert.equal(standin.recorded.permissionCheck?.(), false);
    const later = fakeContents();
    standin.recorded.appListeners.get('web-contents-created')?.(undefined, later.contents);
    assert.deepEqual(later.openHandler?.({ url: 'https://example.com/' }), { action: 'deny' });
  });

  it('ships a content security policy that allows nothing but the app itself', () => {
    const html = readFileSync(join(import.meta.dirname, '..', '..', 'renderer', 'index.html'), 'utf8');
    const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name as string, values]));
    assert.deepEqual(directives.get('default-src'), ["'none'"]);
    assert.deepEqual(directives.get('script-src'), ["'self'"], 'no inline or eval script, no remote script');
    assert.deepEqual(directives.get('connect-src'), ["'self'"]);
    assert.doesNotMatch(csp, /unsafe-eval|\*|https?:/);
  });
});

describe('Electron shell: IPC', () => {
  let server: Server;
  let socketPath: string;
  const reached: string[] = [];

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dirsync-ipc-'));
    socketPath = join(dir, 'service.sock');
    // A stand-in service that proves itself with its control key, as the real one does (engine/src/control/channel-proof.ts).
    const key = ensureControlKey(join(dir, 'control.key'));
    const challenges = new ChallengeBook(key);
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url === HELLO_PATH) {
          res.end(JSON.stringify({ result: { proof: channelProof(key, (JSON.parse(body) as { nonce: string }).nonce), challenge: challenges.issue() } }));
          return;
        }
        if (!challenges.redeem(req.headers[CLIENT_PROOF_HEADER] as string | undefined, req.url ?? '')) {
          res.statusCode = 401;
          res.end(JSON.stringify({ error: { $isError: true, name: 'ClientNotVerified', code: 'client-not-verified', message: 'no client proof' } }));
          return;
        }
        reached.push(req.url ?? '');
        res.end(JSON.stringify({ result: { ok: true } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    ipc.registerIpc(socketPath, isAppUrl);
  });
  after(() => server.close());

  const call = (sender: { url: string; main: boolean } | null, method: unknown, args?: unknown): Promise<unknown> => {
    const mainFrame = { url: sender?.url ?? '' };
    const senderFrame = sender === null ? null : sender.main ? mainFrame : { url: sender.url };
    return (standin.recorded.ipcHandlers.get('dirsync:call') as (event: unknown, ...a: unknown[]) => Promise<unknown>)({ sender: { mainFrame }, senderFrame }, method, args);
  };

  it('forwards a call from the app\'s own page to the service', async () => {
    assert.deepEqual(await call({ url: `${appUrl.href}#/configure/welcome`, main: true }, 'getStatus', {}), { result: { ok: true } });
    assert.deepEqual(reached, ['/api/getStatus']);
  });

  it('drops calls from any other page, from a subframe, or with no frame, before they reach the service', async () => {
    reached.length = 0;
    for (const sender of [{ url: 'https://evil.example/', main: true }, { url: appUrl.href, main: false }, { url: 'file:///tmp/index.html', main: true }, null]) {
      const answer = await call(sender, 'runSync', { kind: 'full' }) as { error?: { code?: string } };
      assert.equal(answer.error?.code, 'untrusted-sender', JSON.stringify(sender));
    }
    assert.deepEqual(reached, [], 'nothing untrusted reached the service');
  });

  it('refuses method names and arguments that are not the API\'s shape', async () => {
    reached.length = 0;
    for (const [method, args] of [['../admin', {}], ['a'.repeat(65), {}], [42, {}], ['runSync', 'full'], ['runSync', null], ['runSync', ['full']]] as const) {
      const answer = await call({ url: appUrl.href, main: true }, method, args) as { error?: { code?: string } };
      assert.equal(answer.error?.code, 'bad-request', `${String(method).slice(0, 20)} ${JSON.stringify(args)}`);
    }
    assert.deepEqual(reached, []);
  });
});
