/**
 * The control API's transport on the client side, the one copy: HTTP over the service's local socket
 * (a named pipe on Windows) or over loopback with the browser-mode token. `POST /api/<method>` answers
 * an envelope `{ result } | { error }`; `GET /api/events` streams newline-delimited JSON events.
 * The CLI, the tests and the Electron shell all use it (electron/ may import this room).
 */
import { request, type RequestOptions } from 'node:http';
import { dirname, join } from 'node:path';
import type { SerializedError } from '../contract/control-api.ts';
import { clientProofHeader, CLIENT_PROOF_HEADER, HELLO_PATH, newNonce, proofMatches, readControlKey } from './channel-proof.ts';

/**
 * The local socket (the service proves itself with the key in `keyFile` before anything is sent; default: the
 * key beside the socket, or in the default data directory for a named pipe), or loopback with the browser-mode token.
 */
export type ControlEndpoint = { readonly socketPath: string; readonly keyFile?: string } | { readonly url: string; readonly token: string; readonly origin?: string };

/** The service's answer as it came, or a transport failure described as an error of code `bad-response`. */
export type ControlEnvelope = { readonly result?: unknown; readonly error?: SerializedError };

/**
 * A connection of its own per call (`agent: false`): Node's global agent keeps connections alive, and one kept
 * across a restart of the service fails the next call (EPIPE) though the new service answers.
 */
function options(endpoint: ControlEndpoint, path: string, method: string, proof?: string): RequestOptions {
  if ('socketPath' in endpoint) return { socketPath: endpoint.socketPath, path, method, agent: false, headers: { host: 'localhost', ...(proof ? { [CLIENT_PROOF_HEADER]: proof } : {}) } };
  const url = new URL(path, endpoint.url);
  return {
    host: url.hostname, port: url.port, path: url.pathname, method, agent: false,
    headers: { authorization: `Bearer ${endpoint.token}`, host: url.host, ...(endpoint.origin ? { origin: endpoint.origin } : {}) },
  };
}

function refused(code: string, message: string): ControlEnvelope {
  return { error: { $isError: true, name: 'ServerNotVerified', code, message } };
}

/** One exchange, its status and JSON body (undefined when not JSON). */
function exchange(opts: RequestOptions, body: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...opts, headers: { ...opts.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What the hello left: the refusal to return instead of sending, or the client's proof for the request to `path`. */
type Verified = { readonly refusal: ControlEnvelope } | { readonly proof: (path: string) => string | undefined };

/**
 * On the local socket, the service must prove it holds the control key before anything else is sent; its answer
 * carries the challenge the client's request then answers. Rejects only when nothing answers.
 */
async function verifyServer(endpoint: ControlEndpoint): Promise<Verified> {
  if (!('socketPath' in endpoint)) return { proof: () => undefined };
  const refusal = (code: string, message: string): Verified => ({ refusal: refused(code, message) });
  // Beside a Unix socket by default; a named pipe's callers name it (base/locations.ts controlKeyFile).
  const keyFile = endpoint.keyFile ?? (endpoint.socketPath.startsWith('\\\\.\\pipe\\') ? undefined : join(dirname(endpoint.socketPath), 'control.key'));
  if (keyFile === undefined) return refusal('control-key-unreadable', `No control key file was given for ${endpoint.socketPath}: the client cannot check the service.`);
  const read = readControlKey(keyFile);
  if ('problem' in read) return refusal(read.code, read.problem);
  const nonce = newNonce();
  const answer = await exchange(options(endpoint, HELLO_PATH, 'POST'), JSON.stringify({ nonce }));
  const result = (answer.json as { result?: { proof?: unknown; challenge?: unknown } } | undefined)?.result;
  const challenge = result?.challenge;
  if (answer.status === 200 && proofMatches(read.key, nonce, result?.proof) && typeof challenge === 'string') {
    return { proof: (path) => clientProofHeader(read.key, challenge, path) };
  }
  return refusal('server-not-verified', `The process answering on ${endpoint.socketPath} did not prove it is the Directory Synchronization Service `
    + `(it does not hold the service's control key ${keyFile}): nothing was sent to it. Stop that process and start the service again.`);
}

/** One call: resolves with the service's envelope; rejects only when the service cannot be reached. */
export async function postControl(endpoint: ControlEndpoint, method: string, args: unknown): Promise<ControlEnvelope> {
  const verified = await verifyServer(endpoint);
  if ('refusal' in verified) return verified.refusal;
  const body = JSON.stringify(args ?? {});
  const path = `/api/${method}`;
  return new Promise((resolve, reject) => {
    const opts = options(endpoint, path, 'POST', verified.proof(path));
    const req = request({ ...opts, headers: { ...opts.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ControlEnvelope);
        } catch (error) {
          resolve({ error: { $isError: true, name: 'BadResponse', code: 'bad-response',
            message: `The service answered HTTP ${res.statusCode} with something that is not JSON: ${(error as Error).message}` } });
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Streams the service's events, one JSON line each (once the service proved itself); returns a function that stops. */
export function streamControlEvents(endpoint: ControlEndpoint, onLine: (line: string) => void): () => void {
  let stopped = false;
  let stop: () => void = () => { stopped = true; };
  void verifyServer(endpoint).then((verified) => {
    if ('refusal' in verified || stopped) return;
    stop = openEventStream(endpoint, onLine, verified.proof('/api/events'));
  }, () => undefined);
  return () => stop();
}

function openEventStream(endpoint: ControlEndpoint, onLine: (line: string) => void, proof: string | undefined): () => void {
  const req = request(options(endpoint, '/api/events', 'GET', proof), (res) => {
    let buffer = '';
    res.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) onLine(line);
        newline = buffer.indexOf('\n');
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}
