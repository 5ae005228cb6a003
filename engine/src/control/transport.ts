/**
 * The control API's transport on the client side, the one copy: HTTP over the service's local socket
 * (a named pipe on Windows) or over loopback with the browser-mode token. `POST /api/<method>` answers
 * an envelope `{ result } | { error }`; `GET /api/events` streams newline-delimited JSON events.
 * The CLI, the tests and the Electron shell all use it (electron/ may import this room).
 */
import { request, type RequestOptions } from 'node:http';
import type { SerializedError } from '../contract/control-api.ts';

export type ControlEndpoint = { readonly socketPath: string } | { readonly url: string; readonly token: string; readonly origin?: string };

/** The service's answer as it came, or a transport failure described as an error of code `bad-response`. */
export type ControlEnvelope = { readonly result?: unknown; readonly error?: SerializedError };

/**
 * A connection of its own per call (`agent: false`): Node's global agent keeps connections alive, and one kept
 * across a restart of the service fails the next call (EPIPE) though the new service answers.
 */
function options(endpoint: ControlEndpoint, path: string, method: string): RequestOptions {
  if ('socketPath' in endpoint) return { socketPath: endpoint.socketPath, path, method, agent: false, headers: { host: 'localhost' } };
  const url = new URL(path, endpoint.url);
  return {
    host: url.hostname, port: url.port, path: url.pathname, method, agent: false,
    headers: { authorization: `Bearer ${endpoint.token}`, host: url.host, ...(endpoint.origin ? { origin: endpoint.origin } : {}) },
  };
}

/** One call: resolves with the service's envelope; rejects only when the service cannot be reached. */
export function postControl(endpoint: ControlEndpoint, method: string, args: unknown): Promise<ControlEnvelope> {
  const body = JSON.stringify(args ?? {});
  return new Promise((resolve, reject) => {
    const opts = options(endpoint, `/api/${method}`, 'POST');
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

/** Streams the service's events, one JSON line each; returns a function that stops. */
export function streamControlEvents(endpoint: ControlEndpoint, onLine: (line: string) => void): () => void {
  const req = request(options(endpoint, '/api/events', 'GET'), (res) => {
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
