/**
 * A graceful stop (issue 9b, finding 3): `dirsync service stop` — what WinSW's stop executable runs on Windows,
 * where Ctrl+C never reaches a service without a console — and SIGTERM (systemd) end a run in progress after its
 * current export page, record why, and let the process exit on its own; the next run finishes the work, nothing
 * duplicated.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../../../lab/connection.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { defaultSocketPath } from '../../src/base/locations.ts';
import { controlClient } from '../../src/service/control-client.ts';
import { openStore } from '../../src/run/session.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { managedInTenant, startHarness, type Harness } from '../support/engine-harness.ts';

/** More than one export page (200 operations): a stop during the first leaves the second to the next run. */
const USERS = 230;

async function until<T>(what: string, read: () => Promise<T> | T, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('stopping the service during a run', () => {
  let harness: Harness;
  let sandbox: AdSandbox;
  let service: { child: ChildProcess; exited: Promise<number | null> } | undefined;

  const dirsync = (args: ReadonlyArray<string>): string[] => [join(repoRoot, 'engine', 'bin', 'dirsync.js'), '--data-dir', harness.dataDir, ...args];

  async function startServiceProcess(): Promise<void> {
    const child = spawn(process.execPath, dirsync(['service', 'run', '--no-schedule']), { stdio: 'ignore' });
    service = { child, exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null)))) };
    const socketPath = defaultSocketPath(harness.dataDir);
    await until('the service socket', () => controlClient({ socketPath }).getStatus({}).then(() => true, () => false), (up) => up);
  }

  /** Starts a full run and waits until its export has begun its first page (each batch answered 1.5 s late). */
  async function runUntilExporting(): Promise<number> {
    harness.tenant.state.injectFaults({ mode: 'latency', latencyMs: 1500, ratio: 1, pathPrefix: '/v1.0/$batch', when: 'after' });
    const { runId } = await controlClient({ socketPath: defaultSocketPath(harness.dataDir) }).startRun({ kind: 'full' });
    await until('the export to begin', () => managedInTenant(harness.tenant, 'user').length, (n) => n >= 1);
    return runId;
  }

  async function stopServiceProcess(): Promise<void> {
    const running = service;
    service = undefined;
    running?.child.kill('SIGTERM');
    await running?.exited;
  }

  function runOf(runId: number): { status: string; message?: string; exported: Record<string, number> } {
    const store = openStore(harness.dataDir);
    try {
      return store.getRun(runId) as { status: string; message?: string; exported: Record<string, number> };
    } finally {
      store.close();
    }
  }

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Service Stop');
    for (let i = 0; i < USERS; i += 1) {
      await sandbox.addUser(`Stop User ${i}`, { sAMAccountName: `stopuser${i}`, userPrincipalName: `stop.user${i}@contoso.com`, displayName: `Stop User ${i}` });
    }
    harness = await startHarness({ scopeOuGuids: [await sandbox.guidOf(sandbox.ouDn)] });
    harness.store.close();
  });

  after(async () => {
    service?.child.kill('SIGKILL');
    await harness?.close();
    await sandbox?.close();
  });

  /** `dirsync service busy`, as the Windows installer runs it (dirsync-status.cmd): its exit code. */
  async function busy(): Promise<number | null> {
    const child = spawn(process.execPath, dirsync(['service', 'busy']), { stdio: 'ignore' });
    return new Promise((resolve) => child.once('exit', resolve));
  }

  it('dirsync service stop: the run ends after its current page, says it was interrupted, and the process exits by itself', async () => {
    await startServiceProcess();
    assert.equal(await busy(), 0, 'the service runs, no run in progress');
    const runId = await runUntilExporting();
    assert.equal(await busy(), 5, 'a run is in progress: the installer waits');
    const stop = spawn(process.execPath, dirsync(['service', 'stop', '--wait', '60']), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    stop.stdout?.on('data', (c: Buffer) => { out += c.toString(); });
    const stopCode = await new Promise<number | null>((resolve) => stop.once('exit', resolve));
    assert.equal(stopCode, 0, out);
    assert.match(out, new RegExp(`stopped \\(run ${runId} was interrupted after its current page`));
    assert.equal(await service?.exited, 0, 'the service exited on its own, not killed');
    service = undefined;
    const run = runOf(runId);
    assert.notEqual(run.status, 'running');
    assert.match(run.message ?? '', /asked to stop .* interrupted after its current export page; the rest is planned again next run/);
    assert.ok((run.exported['create-user'] ?? 0) < USERS, `the run stopped before the end (${run.exported['create-user'] ?? 0} created)`);
    assert.equal(await busy(), 0, 'the service is not running: nothing is in progress');
    // Something else answers on the service's socket: the installer is told it cannot know (fail closed), never "idle".
    const socketPath = defaultSocketPath(harness.dataDir);
    const squatter = createServer((_req, res) => res.end(JSON.stringify({ result: { proof: 'x', running: undefined } })));
    await new Promise<void>((resolve) => squatter.listen(socketPath, resolve));
    try {
      assert.equal(await busy(), 1);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
      rmSync(socketPath, { force: true });
    }
  });

  it('SIGTERM does the same, and the next run finishes the work without a duplicate', async () => {
    await startServiceProcess();
    const runId = await runUntilExporting();
    service?.child.kill('SIGTERM');
    assert.equal(await service?.exited, 0);
    service = undefined;
    assert.match(runOf(runId).message ?? '', /interrupted after its current export page/);
    harness.tenant.state.clearFaults();
    await startServiceProcess();
    const api = controlClient({ socketPath: defaultSocketPath(harness.dataDir) });
    const { runId: last } = await api.startRun({ kind: 'full' });
    await until('the last run', () => api.listRuns({ limit: 1 }), (r) => r[0]?.id === last && r[0].status !== 'running');
    const upns = managedInTenant(harness.tenant, 'user').map((u) => String(u['userPrincipalName']));
    assert.equal(upns.length, USERS, 'every user once');
    assert.equal(new Set(upns).size, USERS, 'no duplicate');
    await stopServiceProcess();
  });
});
