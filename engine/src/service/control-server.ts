/**
 * Serves the control API over HTTP: on a Unix socket (or Windows named pipe) restricted to the
 * service's user and administrators, and — for browser mode — on 127.0.0.1 with a random token and
 * Host/Origin checks, where it also serves the built renderer.
 *
 *   POST /api/<method>   body: the one argument object → { result } or { error: SerializedError }
 *   GET  /api/events     a stream of newline-delimited JSON events { event, data }
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { ControlEvents, ControlMethod, ControlRequests, SerializedError } from '../contract/control-api.ts';
import { EngineError } from '../errors/engine-error.ts';
import { rendererFiles } from './renderer-files.ts';
import { ChallengeBook, channelProof, CLIENT_PROOF_HEADER, ensureControlKey, HELLO_PATH } from '../control/channel-proof.ts';

export type EventSink = <E extends keyof ControlEvents>(event: E, data: ControlEvents[E]) => void;

type Listener = (line: string) => void;

/** Fans events out to every connected /api/events stream. */
export class EventHub {
  private readonly listeners = new Set<Listener>();

  public readonly emit: EventSink = (event, data) => {
    const line = `${JSON.stringify({ event, data })}\n`;
    for (const listener of this.listeners) listener(line);
  };

  public subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof EngineError) return error.toJSON();
  return { $isError: true, name: 'InternalError', code: 'internal', message: `Unexpected error in the service: ${(error as Error)?.message ?? String(error)}` };
}

function readJson(request: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text === '' ? {} : JSON.parse(text));
      } catch {
        reject(new Error('the request body is not JSON'));
      }
    });
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  response.end(text);
}

type Access = { readonly kind: 'socket'; readonly key: Buffer; readonly challenges: ChallengeBook } | { readonly kind: 'loopback'; readonly token: string; readonly port: () => number };

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function tokenMatches(expected: string, header: string | undefined): boolean {
  const presented = /^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '';
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The methods a client may call: exactly the contract's (the compiler checks the list is complete),
 * never any other method of the object that implements them.
 */
const CONTROL_METHODS: Readonly<Record<ControlMethod, true>> = {
  getStatus: true, getReadiness: true, testAdConnection: true, listOus: true, discoverForest: true, startRun: true, listRuns: true, listErrors: true,
  matchReport: true, getPlan: true, approvePlan: true, rejectPlan: true, lookupObject: true, previewConfig: true, listPreviewObjects: true,
  getConfig: true, saveConfig: true, createServiceAccount: true, verifyServiceAccount: true, rotateServiceAccountPassword: true,
  getOwnership: true, claimOwnership: true, beginCloudSignIn: true, testCloudConnection: true, completeCloudSignIn: true, testExistingApp: true,
  graphPermissions: true, cancelCloudSignIn: true, cloudSignInProgress: true,
  getHandover: true, handoverReport: true, beginHandoverSwitch: true, completeHandoverSwitch: true, cancelHandoverSwitch: true, stopService: true,
};

function handler(api: ControlRequests, hub: EventHub, access: Access, serveFile?: ReturnType<typeof rendererFiles>) {
  const methods = new Set<string>(Object.keys(CONTROL_METHODS));
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (access.kind === 'loopback') {
      // Bound to 127.0.0.1 already; a peer from anywhere else (a proxy, a forwarded port) is refused all the same.
      const peer = request.socket.remoteAddress ?? '';
      if (!/^(127\.|::1$|::ffff:127\.)/.test(peer)) {
        send(response, 403, { error: { $isError: true, name: 'Forbidden', code: 'not-loopback', message: 'Only this computer may use the service.' } });
        return;
      }
      const port = access.port();
      const host = request.headers.host ?? '';
      if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
        send(response, 421, { error: { $isError: true, name: 'MisdirectedRequest', code: 'bad-host', message: 'Use the address the service printed.' } });
        return;
      }
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`) {
        send(response, 403, { error: { $isError: true, name: 'ForbiddenOrigin', code: 'bad-origin', message: 'Requests from other web sites are refused.' } });
        return;
      }
      if (!url.pathname.startsWith('/api/')) {
        if (serveFile && serveFile(request, response)) return;
        send(response, 404, { error: { $isError: true, name: 'NotFound', code: 'not-found', message: 'Not found' } });
        return;
      }
      if (!tokenMatches(access.token, request.headers.authorization)) {
        send(response, 401, { error: { $isError: true, name: 'Unauthorized', code: 'unauthorized', message: 'A valid service token is required.' } });
        return;
      }
    }
    if (access.kind === 'socket' && url.pathname === HELLO_PATH && request.method === 'POST') {
      // The service proves itself before a client sends anything (control/channel-proof.ts).
      const body = await readJson(request).catch(() => undefined) as { nonce?: unknown } | undefined;
      const nonce = body?.nonce;
      if (typeof nonce !== 'string' || nonce.length < 16 || nonce.length > 128) {
        send(response, 400, { error: { $isError: true, name: 'BadRequest', code: 'bad-request', message: 'A hello carries a nonce of 16 to 128 characters.' } });
        return;
      }
      send(response, 200, { result: { proof: channelProof(access.key, nonce), challenge: access.challenges.issue() } });
      return;
    }
    if (access.kind === 'socket' && !access.challenges.redeem(headerValue(request.headers[CLIENT_PROOF_HEADER]), url.pathname)) {
      // The channel may be open to every local user (the Windows pipe is): only a holder of control.key is served.
      send(response, 401, { error: { $isError: true, name: 'ClientNotVerified', code: 'client-not-verified',
        message: 'This process did not prove it holds the service\'s control key: the Directory Synchronization Service takes requests only from the accounts that can read it.' } });
      return;
    }
    if (url.pathname === '/api/events' && request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      response.write('\n');
      const unsubscribe = hub.subscribe((line) => response.write(line));
      request.on('close', unsubscribe);
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    if (request.method !== 'POST' || !methods.has(method)) {
      send(response, 404, { error: { $isError: true, name: 'UnknownMethod', code: 'unknown-method', message: `No such method: ${method}` } });
      return;
    }
    let args: unknown;
    try {
      args = await readJson(request);
    } catch (error) {
      send(response, 400, { error: { $isError: true, name: 'BadRequest', code: 'bad-request', message: (error as Error).message } });
      return;
    }
    if (args === null || typeof args !== 'object' || Array.isArray(args)) {
      send(response, 400, { error: { $isError: true, name: 'BadRequest', code: 'bad-request', message: 'Each method takes one object argument.' } });
      return;
    }
    try {
      const fn = api[method as keyof ControlRequests] as (a: unknown) => Promise<unknown>;
      send(response, 200, { result: await fn.call(api, args) });
    } catch (error) {
      // An expected error (wrong password, run in progress…) is an answer, as in JSON-RPC: 200 with the error
      // envelope, so browsers do not log it as a failed request. Only a bug is a 500.
      send(response, error instanceof EngineError ? 200 : 500, { error: serializeError(error) });
    }
  };
}

export type ControlServer = { readonly socketPath?: string; readonly url?: string; readonly token?: string; close(): Promise<void> };

/**
 * The local channel: a Unix socket with owner-only permissions (a named pipe on Windows), on which the service
 * proves itself with the key in `keyFile` (made on first start) before clients send anything, and serves only
 * clients that prove they hold the same key (control/channel-proof.ts).
 */
export async function listenOnSocket(api: ControlRequests, hub: EventHub, socketPath: string, keyFile: string): Promise<ControlServer> {
  const key = ensureControlKey(keyFile);
  const isPipe = socketPath.startsWith('\\\\.\\pipe\\');
  if (!isPipe) {
    mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
    if (existsSync(socketPath)) rmSync(socketPath);
  }
  const challenges = new ChallengeBook(key);
  const server: Server = createServer((req, res) => void handler(api, hub, { kind: 'socket', key, challenges })(req, res));
  const previousMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The pipe keeps the default DACL libuv gives it (full control to SYSTEM, Administrators and the service's
      // account; read to Everyone): write access — and FILE_CREATE_PIPE_INSTANCE, which is FILE_APPEND_DATA — to
      // everyone (Node's writableAll) would let any local user add instances of the pipe and sit between a client
      // and the service. So a non-elevated administrator cannot open it: the wizard's shortcuts ask for elevation.
      server.listen(socketPath, () => resolve());
    });
  } finally {
    process.umask(previousMask);
  }
  if (!isPipe) chmodSync(socketPath, 0o600);
  return {
    socketPath,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Browser mode: 127.0.0.1 only, a random token, Host and Origin checked; serves the renderer too. */
export async function listenOnLoopback(api: ControlRequests, hub: EventHub, options: { port?: number; rendererDist?: string; token?: string }):
  Promise<ControlServer & { url: string; token: string; port: number }> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  let port = 0;
  const serveFile = options.rendererDist ? rendererFiles(options.rendererDist) : undefined;
  const server: Server = createServer((req, res) => void handler(api, hub, { kind: 'loopback', token, port: () => port }, serveFile)(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`, token, port,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
