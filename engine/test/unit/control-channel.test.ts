/**
 * The local control channel cannot be squatted (issue 9b, finding 1): the service proves it holds its control key
 * before a client sends anything, so a process that took the socket (or, on Windows, the pipe name) first never
 * receives what the wizard sends. The same code runs on Windows, where the pipe namespace is open to every local user.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { channelProof } from '../../src/control/channel-proof.ts';
import { postControl, streamControlEvents } from '../../src/control/transport.ts';
import { callControl, RemoteError } from '../../src/service/control-client.ts';
import { startService, type RunningService } from '../../src/service/daemon.ts';

type Seen = { method: string; path: string; body: string };

/** A process that created a socket first and answers everything, recording what it is sent. */
async function squatter(socketPath: string, answer: (seen: Seen) => unknown): Promise<{ server: Server; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      const entry = { method: req.method ?? '', path: req.url ?? '', body };
      seen.push(entry);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer(entry)));
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { server, seen };
}

describe('the control channel: the service proves itself before anything is sent', () => {
  const dirs: string[] = [];
  let running: RunningService;
  let dataDir: string;
  const keyFile = (): string => join(dataDir, 'control.key');
  const temp = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'dirsync-channel-'));
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    dataDir = temp();
    running = await startService({ dataDir, schedule: false });
  });

  after(async () => {
    await running.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('answers a client that checks it, with a key only the service account can read', async () => {
    const status = await callControl({ socketPath: running.socket.socketPath ?? '' }, 'getStatus', {});
    assert.equal(status.configured, false);
    assert.equal(statSync(keyFile()).mode & 0o777, 0o600);
    assert.equal(readFileSync(keyFile()).length, 32);
  });

  it('sends a squatter nothing but the hello: no method, no argument, no password', async () => {
    const socketPath = join(temp(), 'control.sock');
    const fake = await squatter(socketPath, () => ({ result: { proof: 'anything' } }));
    try {
      const envelope = await postControl({ socketPath, keyFile: keyFile() }, 'createServiceAccount', { adminPassword: 'Enterprise-Admin-Passw0rd!' });
      assert.equal(envelope.error?.code, 'server-not-verified');
      assert.match(envelope.error?.message ?? '', /did not prove it is the Directory Synchronization Service .*nothing was sent to it/);
      assert.deepEqual(fake.seen.map((s) => s.path), ['/api/_hello']);
      assert.ok(fake.seen.every((s) => !s.body.includes('Passw0rd')), 'the password never reached it');
      await assert.rejects(callControl({ socketPath, keyFile: keyFile() }, 'getStatus', {}), (e: unknown) => e instanceof RemoteError && e.code === 'server-not-verified');
    } finally {
      fake.server.close();
    }
  });

  it('refuses a server proving itself with another key, and opens no event stream to it', async () => {
    const socketPath = join(temp(), 'control.sock');
    const otherKey = Buffer.alloc(32, 7);
    const fake = await squatter(socketPath, (seen) => ({ result: { proof: channelProof(otherKey, (JSON.parse(seen.body || '{}') as { nonce?: string }).nonce ?? '') } }));
    try {
      assert.equal((await postControl({ socketPath, keyFile: keyFile() }, 'getStatus', {})).error?.code, 'server-not-verified');
      const stop = streamControlEvents({ socketPath, keyFile: keyFile() }, () => undefined);
      await new Promise((r) => setTimeout(r, 300));
      stop();
      assert.ok(fake.seen.every((s) => s.path === '/api/_hello'), fake.seen.map((s) => s.path).join());
    } finally {
      fake.server.close();
    }
  });

  it('says what to do when this account cannot read the key, or when it is damaged', async () => {
    const socketPath = running.socket.socketPath ?? '';
    const missing = await postControl({ socketPath, keyFile: join(temp(), 'control.key') }, 'getStatus', {});
    assert.equal(missing.error?.code, 'control-key-unreadable');
    assert.match(missing.error?.message ?? '', /has not started yet/);
    const damaged = join(temp(), 'control.key');
    writeFileSync(damaged, 'short');
    assert.match((await postControl({ socketPath, keyFile: damaged }, 'getStatus', {})).error?.message ?? '', /is damaged/);
  });
});
