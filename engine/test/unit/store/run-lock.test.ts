/**
 * The run lock when the wall clock jumps: a live holder is never taken over because its heartbeat
 * looks old, a holder that truly stopped is, and a second process racing for it loses.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RunInProgressError } from '../../../src/errors/run-errors.ts';
import { withRunLock } from '../../../src/run/run-lock.ts';
import { Store } from '../../../src/store/store.ts';

function tempStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'dirsync-lock-'));
  return Store.open(join(dir, 'dirsync.db'), join(dir, 'secret.key'));
}

/** Another live process on this host, standing for a run that holds the lock. */
function liveProcess(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
}

/** Writes the lock row as the holder `pid` would have, with its last heartbeat `heartbeatAgoMs` ago by the wall clock. */
function holdAs(store: Store, pid: number, heartbeatAgoMs: number): void {
  const at = new Date(Date.now() - heartbeatAgoMs).toISOString();
  store.db.prepare('INSERT INTO run_lock (id, pid, host, run_id, acquired_at, heartbeat_at) VALUES (1, ?, ?, NULL, ?, ?) ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, heartbeat_at = excluded.heartbeat_at')
    .run(pid, hostname(), at, at);
}

describe('run lock and clock jumps', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it('refuses a second run beside a live holder whose heartbeat looks an hour old (the clock jumped forward) once it sees the heartbeat move', async () => {
    const store = tempStore();
    const holder = liveProcess();
    children.push(holder);
    holdAs(store, holder.pid ?? 0, 3600_000);
    // The holder's next heartbeat, written on the new time, arrives while the newcomer watches.
    const beat = setTimeout(() => store.db.prepare('UPDATE run_lock SET heartbeat_at = ? WHERE id = 1').run(new Date().toISOString()), 100);
    let ran = false;
    const started = performance.now();
    await assert.rejects(withRunLock(store, async () => { ran = true; }, { watchMs: 400 }), (error: unknown) =>
      error instanceof RunInProgressError && new RegExp(`process ${holder.pid ?? 0} on `).test(error.message));
    clearTimeout(beat);
    assert.equal(ran, false, 'the second run never started');
    assert.ok(performance.now() - started >= 390, 'it watched the heartbeat before deciding');
    const row = store.db.prepare('SELECT pid FROM run_lock WHERE id = 1').get() as { pid: number };
    assert.equal(row.pid, holder.pid, 'the holder keeps its lock');
    store.close();
  });

  it('takes over a holder whose process lives but whose heartbeat never moves (hung, or its process id reused)', async () => {
    const store = tempStore();
    const unrelated = liveProcess();
    children.push(unrelated);
    holdAs(store, unrelated.pid ?? 0, 3600_000);
    let ran = false;
    await withRunLock(store, async () => {
      ran = true;
      const row = store.db.prepare('SELECT pid FROM run_lock WHERE id = 1').get() as { pid: number };
      assert.equal(row.pid, process.pid, 'this process holds the lock while it runs');
    }, { watchMs: 200 });
    assert.equal(ran, true);
    assert.equal((store.db.prepare('SELECT COUNT(*) AS n FROM run_lock').get() as { n: number }).n, 0, 'released after the run');
    store.close();
  });

  it('lets only one of two processes that watched the same silent holder take over', () => {
    const store = tempStore();
    const unrelated = liveProcess();
    children.push(unrelated);
    holdAs(store, unrelated.pid ?? 0, 3600_000);
    const first = store.acquireRunLock(undefined, 600_000, () => true);
    const second = store.acquireRunLock(undefined, 600_000, () => true);
    assert.ok(!first.acquired && first.silent && !second.acquired && second.silent, 'both see a silent holder and neither takes it at once');
    assert.equal(store.takeOverRunLock(undefined, first.silent), true);
    assert.equal(store.takeOverRunLock(undefined, second.silent), false, 'the lock changed since the second one looked');
    store.close();
  });

  it('reclaims at once the lock of a dead holder, even with a heartbeat in the future (the clock jumped back)', async () => {
    const store = tempStore();
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => gone.on('exit', resolve));
    holdAs(store, gone.pid ?? 0, -3600_000);
    const started = performance.now();
    let ran = false;
    await withRunLock(store, async () => { ran = true; }, { watchMs: 5000 });
    assert.equal(ran, true);
    assert.ok(performance.now() - started < 2000, 'no wait for a holder whose process is gone');
    store.close();
  });

  it('refuses at once beside a live holder with a fresh heartbeat, and beside one whose heartbeat is in the future', async () => {
    const store = tempStore();
    const holder = liveProcess();
    children.push(holder);
    for (const ago of [1000, -3600_000]) {
      holdAs(store, holder.pid ?? 0, ago);
      const started = performance.now();
      await assert.rejects(withRunLock(store, async () => undefined, { watchMs: 5000 }), RunInProgressError);
      assert.ok(performance.now() - started < 2000, 'no watching: the heartbeat is recent by the wall clock');
    }
    store.close();
  });
});
