/**
 * Browser mode: the engine's loopback HTTP server, for servers without a desktop and for tests.
 * It binds 127.0.0.1 only and checks the Host header (DNS-rebinding defence).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rendererFiles } from './renderer-files.ts';

export type BrowserModeServer = { readonly url: string; readonly port: number; close(): Promise<void> };

export async function startBrowserModeServer(options: { rendererDist: string; port?: number }): Promise<BrowserModeServer> {
  const serveFile = rendererFiles(options.rendererDist);
  let port = 0;
  const server: Server = createServer((request, response) => {
    const host = request.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      response.writeHead(421, { 'content-type': 'text/plain' }).end('Misdirected request: use the address the service printed.');
      return;
    }
    if (!serveFile(request, response)) response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
  };
}
