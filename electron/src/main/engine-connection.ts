/**
 * The Electron main process's connection to the Directory Synchronization Service: HTTP over the
 * service's local socket (a named pipe on Windows). The renderer never reaches it directly.
 */
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The service's control socket: $DIRSYNC_SOCKET, else the service's default for this platform. */
export function serviceSocketPath(): string {
  if (process.env['DIRSYNC_SOCKET']) return process.env['DIRSYNC_SOCKET'];
  if (process.platform === 'win32') return '\\\\.\\pipe\\directory-sync';
  const dataDir = process.env['DIRSYNC_DATA_DIR']
    ?? (process.getuid?.() === 0 ? '/var/lib/dirsync' : join(process.env['XDG_DATA_HOME'] ?? join(homedir(), '.local', 'share'), 'dirsync'));
  return join(dataDir, 'control.sock');
}

/** One control API call; resolves with the service's envelope `{ result } | { error }` unchanged. */
export function callService(socketPath: string, method: string, args: unknown): Promise<unknown> {
  const body = JSON.stringify(args ?? {});
  return new Promise((resolve) => {
    const req = request({ socketPath, path: `/api/${method}`, method: 'POST', headers: { host: 'localhost', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          resolve({ error: { $isError: true, name: 'BadResponse', code: 'bad-response', message: `The service answered HTTP ${res.statusCode} with something that is not JSON.` } });
        }
      });
    });
    req.on('error', (error) => resolve({ error: { $isError: true, name: 'ServiceUnavailable', code: 'service-unavailable',
      message: `The Directory Synchronization Service is not running (${error.message}). Start it (systemctl start dirsync, or the Services console on Windows), then try again.` } }));
    req.end(body);
  });
}

/** Streams service events; returns a function that stops. */
export function subscribeService(socketPath: string, onLine: (line: string) => void): () => void {
  const req = request({ socketPath, path: '/api/events', method: 'GET', headers: { host: 'localhost' } }, (res) => {
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
