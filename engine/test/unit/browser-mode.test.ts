import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ControlRequests } from '../../src/contract/control-api.ts';
import { EventHub, listenOnLoopback } from '../../src/service/control-server.ts';

function get(port: number, path: string, host: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('browser mode serves the wizard', () => {
  let server: Awaited<ReturnType<typeof listenOnLoopback>>;
  before(async () => {
    const dist = mkdtempSync(join(tmpdir(), 'dirsync-dist-'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(tmpdir(), 'outside.txt'), 'secret');
    server = await listenOnLoopback({} as ControlRequests, new EventHub(), { rendererDist: dist });
  });
  after(() => server.close());

  it('serves the renderer with its content security policy, without a token', async () => {
    const res = await get(server.port, '/', `127.0.0.1:${server.port}`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-security-policy']), /default-src 'none'/);
    assert.match(res.body, /<title>t<\/title>/);
  });

  it('listens on the loopback address only: another interface of this computer is not answered', async (t) => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) {
      t.skip('this machine has no network interface but loopback');
      return;
    }
    await assert.rejects(new Promise((resolve, reject) => {
      const req = request({ host: external.address, port: server.port, path: '/api/getStatus', timeout: 2000 }, resolve);
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end();
    }), /ECONNREFUSED|timeout|EHOSTUNREACH/);
  });

  it('refuses a request whose Host is not the loopback address it printed', async () => {
    assert.equal((await get(server.port, '/', 'evil.example:80')).status, 421);
  });

  it('never serves a file outside the renderer folder', async () => {
    const res = await get(server.port, '/..%2foutside.txt', `127.0.0.1:${server.port}`);
    assert.equal(res.status, 404);
    assert.doesNotMatch(res.body, /secret/);
  });

  it('refuses to start when the renderer is not built', async () => {
    await assert.rejects(listenOnLoopback({} as ControlRequests, new EventHub(), { rendererDist: join(tmpdir(), 'no-such-dist') }), /npm run build/);
  });
});
