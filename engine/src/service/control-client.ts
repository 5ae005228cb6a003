/**
 * A Node client of the control API (the CLI and the tests use it): over the service's local socket,
 * or over loopback HTTP with the token. Errors come back revived as RemoteError with their code.
 */
import { request, type RequestOptions } from 'node:http';
import type { ControlEvents, ControlMethod, ControlRequests, SerializedError } from '../contract/control-api.ts';
import { EngineError } from '../errors/engine-error.ts';

export type ControlEndpoint = { readonly socketPath: string } | { readonly url: string; readonly token: string; readonly origin?: string };

/** An error the service reported, with its stable code. */
export class RemoteError extends EngineError {
  public override readonly name: string;
  public constructor(public readonly code: string, name: string, message: string) {
    super(message);
    this.name = name;
  }
}

function options(endpoint: ControlEndpoint, path: string, method: string): RequestOptions {
  if ('socketPath' in endpoint) return { socketPath: endpoint.socketPath, path, method, headers: { host: 'localhost' } };
  const url = new URL(path, endpoint.url);
  return {
    host: url.hostname, port: url.port, path: url.pathname, method,
    headers: { authorization: `Bearer ${endpoint.token}`, host: url.host, ...(endpoint.origin ? { origin: endpoint.origin } : {}) },
  };
}

export function callControl<M extends ControlMethod>(endpoint: ControlEndpoint, method: M, args: Parameters<ControlRequests[M]>[0]): ReturnType<ControlRequests[M]> {
  const body = JSON.stringify(args);
  return new Promise((resolve, reject) => {
    const opts = options(endpoint, `/api/${method}`, 'POST');
    const req = request({ ...opts, headers: { ...opts.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { result?: unknown; error?: SerializedError };
          if (parsed.error) reject(new RemoteError(parsed.error.code, parsed.error.name, parsed.error.message));
          else resolve(parsed.result as never);
        } catch (error) {
          reject(new RemoteError('bad-response', 'BadResponse', `The service answered HTTP ${res.statusCode} with something that is not JSON: ${(error as Error).message}`));
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  }) as ReturnType<ControlRequests[M]>;
}

/** Subscribes to service events; returns a function that unsubscribes. */
export function subscribeControl(endpoint: ControlEndpoint, onEvent: <E extends keyof ControlEvents>(event: E, data: ControlEvents[E]) => void): () => void {
  const req = request(options(endpoint, '/api/events', 'GET'), (res) => {
    let buffer = '';
    res.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) {
          const { event, data } = JSON.parse(line) as { event: keyof ControlEvents; data: never };
          onEvent(event, data);
        }
        newline = buffer.indexOf('\n');
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

/** A typed proxy: `client.getStatus({})`. */
export function controlClient(endpoint: ControlEndpoint): ControlRequests {
  return new Proxy({} as ControlRequests, {
    get: (_target, method: string) => (args: never) => callControl(endpoint, method as ControlMethod, args),
  });
}
