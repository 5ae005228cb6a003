/**
 * The local control channel cannot be squatted (issue 9b, finding 1): the service proves it holds its control key
 * before a client sends anything, so a process that took the socket (or, on Windows, the pipe name) first never
 * receives what the wizard sends. The same code runs on Windows, where the pipe namespace is open to every local user.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../../../lab/connection.ts';
import { readableAppDir } from '../support/readable-app.ts';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ChallengeBook, channelProof, CLIENT_PROOF_HEADER, clientProofHeader, HELLO_PATH } from '../../src/control/channel-proof.ts';
import { postControl, streamControlEvents } from '../../src/control/transport.ts';
import { callControl, RemoteError } from '../../src/service/control-client.ts';
import { startService, type RunningService } from '../../src/service/daemon.ts';

type Seen = { method: string; path: string; body: string };

/** One raw HTTP exchange over the socket, as a process that does not use Directory Sync's client would make it. */
function raw(socketPath: string, path: string, body: string, headers: Record<string, string> = {}, method = 'POST'): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method, agent: false, headers: { host: 'localhost', 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text.trim() === '' ? undefined : JSON.parse(text.split('\n')[0] ?? '') as unknown }));
    });
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : body);
  });
}

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
    assert.equal(missing.error?.code, 'control-key-missing');
    assert.match(missing.error?.message ?? '', /has not started yet/);
    const damaged = join(temp(), 'control.key');
    writeFileSync(damaged, 'short');
    const damagedAnswer = await postControl({ socketPath, keyFile: damaged }, 'getStatus', {});
    assert.equal(damagedAnswer.error?.code, 'control-key-damaged');
    assert.match(damagedAnswer.error?.message ?? '', /is damaged/);
  });

  it('serves only a client that proves it holds the key: without a proof, with another key, replayed, or for another method, nothing runs', async () => {
    const socketPath = running.socket.socketPath ?? '';
    const key = readFileSync(keyFile());
    const refusedAs = (answer: { status: number; json: unknown }): string | undefined => (answer.status === 401 ? (answer.json as { error?: { code?: string } }).error?.code : `HTTP ${answer.status}`);
    const hello = async (): Promise<string> => ((await raw(socketPath, HELLO_PATH, JSON.stringify({ nonce: 'n'.repeat(24) }))).json as { result: { challenge: string } }).result.challenge;

    assert.equal(refusedAs(await raw(socketPath, '/api/stopService', '{}')), 'client-not-verified', 'no proof');
    assert.equal(refusedAs(await raw(socketPath, '/api/events', '', {}, 'GET')), 'client-not-verified', 'no event stream without a proof');
    const otherKey = Buffer.alloc(32, 9);
    assert.equal(refusedAs(await raw(socketPath, '/api/stopService', '{}', { [CLIENT_PROOF_HEADER]: clientProofHeader(otherKey, await hello(), '/api/stopService') })), 'client-not-verified', 'another key');
    const forStatus = clientProofHeader(key, await hello(), '/api/getStatus');
    assert.equal(refusedAs(await raw(socketPath, '/api/stopService', '{}', { [CLIENT_PROOF_HEADER]: forStatus })), 'client-not-verified', 'a proof for another method');
    assert.equal(refusedAs(await raw(socketPath, '/api/getStatus', '{}', { [CLIENT_PROOF_HEADER]: clientProofHeader(key, 'made-up~challenge~000000', '/api/getStatus') })), 'client-not-verified', 'a challenge never issued');

    const good = forStatus;
    const answered = await raw(socketPath, '/api/getStatus', '{}', { [CLIENT_PROOF_HEADER]: good });
    assert.equal(answered.status, 200);
    assert.equal((answered.json as { result: { configured: boolean } }).result.configured, false);
    assert.equal(refusedAs(await raw(socketPath, '/api/getStatus', '{}', { [CLIENT_PROOF_HEADER]: good })), 'client-not-verified', 'replayed');
    assert.equal((await callControl({ socketPath }, 'getStatus', {})).configured, false, 'the service still runs: stopService never ran');
  });

  it('lets a challenge be answered once and only for a minute', () => {
    let now = 0;
    const key = Buffer.alloc(32, 1);
    const book = new ChallengeBook(key, () => now);
    const late = book.issue();
    now = 60_001;
    assert.equal(book.redeem(clientProofHeader(key, late, '/api/x'), '/api/x'), false, 'expired');
    const fresh = book.issue();
    assert.equal(book.redeem(clientProofHeader(key, fresh, '/api/x'), '/api/x'), true);
    assert.equal(book.redeem(clientProofHeader(key, fresh, '/api/x'), '/api/x'), false, 'spent');
    assert.equal(book.redeem(undefined, '/api/x'), false);
    const honest = book.issue();
    for (let i = 0; i < 10_000; i += 1) book.issue();
    assert.equal(book.redeem(clientProofHeader(key, honest, '/api/x'), '/api/x'), true, 'a flood of hellos does not push an honest challenge out');
    const [issued, random] = book.issue().split('~');
    assert.equal(book.redeem(clientProofHeader(key, `${issued}~${random}~forged`, '/api/x'), '/api/x'), false, 'a challenge the service did not seal');
    const other = new ChallengeBook(Buffer.alloc(32, 2), () => now).issue();
    assert.equal(book.redeem(clientProofHeader(key, other, '/api/x'), '/api/x'), false, 'a challenge sealed under another key');
  });

  it('tells an account that may not use the service so, and what to do — never that the service is not running', { skip: typeof process.getuid !== 'function' }, async () => {
    // Another local account (nobody) as the administrator whose rights do not reach the data directory, then the
    // control key: on Windows, the administrator whose token UAC filtered. It runs the CLI from where it can read it
    // (a copy in a scratch root when the checkout is private, as a CI clone in a mktemp -d is).
    const root = process.getuid?.() === 0;
    const appDir = root ? await readableAppDir('nobody', mkdtempSync(join(tmpdir(), 'dirsync-channel-app-')), ['engine/src/cli/main.ts', 'node_modules/tsx/package.json']) : repoRoot;
    const asOther = (...args: string[]) => {
      const command = [process.execPath, '--import', 'tsx', join(appDir, 'engine', 'src', 'cli', 'main.ts'), '--data-dir', dataDir, ...args];
      const [file, ...rest] = root ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...command] : command;
      return spawnSync(file ?? '', rest, { cwd: appDir, encoding: 'utf8', timeout: 60_000 });
    };
    const mode = statSync(dataDir).mode & 0o777;
    const socketPath = running.socket.socketPath ?? '';
    if (process.getuid?.() !== 0) chmodSync(dataDir, 0o000);
    try {
      const status = asOther('status');
      assert.equal(status.status, 1, status.stdout + status.stderr);
      assert.match(status.stderr, /This account may not open .*dirsync-channel-[^/]+ \(EACCES\): run it as root \(sudo\) or as the account the service runs as/, 'the store');
      const stop = asOther('service', 'stop');
      assert.equal(stop.status, 1, stop.stdout + stop.stderr);
      assert.match(stop.stderr, /This account may not open .*control\.sock \(EACCES\): run it as root \(sudo\) or as the account the service runs as/, 'the channel');
      assert.doesNotMatch(status.stderr + status.stdout + stop.stderr + stop.stdout, /not running/);
      const busy = asOther('service', 'busy');
      assert.equal(busy.status, 1, 'the installer\'s question fails closed');
      assert.match(busy.stdout, /cannot be told: This account may not open/);

      if (process.getuid?.() !== 0) return;
      // The channel open to every local user (as the Windows pipe is), the control key not: the key is what is refused.
      chmodSync(dataDir, 0o711);
      chmodSync(socketPath, 0o666);
      const keyed = asOther('service', 'stop');
      assert.equal(keyed.status, 1, keyed.stdout + keyed.stderr);
      assert.match(keyed.stderr, /cannot read the service's control key .*control\.key \(EACCES\), so the Directory Synchronization Service will not take its requests: run it as root/);
      assert.doesNotMatch(keyed.stderr, /not running/);
    } finally {
      chmodSync(dataDir, mode);
      chmodSync(socketPath, 0o600);
    }
  });
});
