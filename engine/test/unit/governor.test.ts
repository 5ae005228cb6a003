import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WriteGovernor } from '../../src/cloud/governor.ts';

/** A clock the test moves, and sleeps that move it. */
function fakeClock(start: number): { now: () => number; sleep: (ms: number) => Promise<void>; jump: (ms: number) => void; slept: number[] } {
  let t = start;
  const slept: number[] = [];
  return { now: () => t, sleep: async (ms) => { slept.push(ms); t += ms; }, jump: (ms) => { t += ms; }, slept };
}

describe('write governor and the clock', () => {
  const budget = { writes: 3000, windowSeconds: 150 };

  it('keeps to the budget: after the first burst, writes wait for the rate', async () => {
    const clock = fakeClock(0);
    const governor = new WriteGovernor(budget, 0.95, clock.now, clock.sleep);
    for (let i = 0; i < 20; i += 1) await governor.take(20);
    const elapsed = clock.slept.reduce((a, b) => a + b, 0);
    // 400 writes, of which the bucket (285) went at once: the other 115 at 19 per second.
    assert.ok(elapsed >= 5_500 && elapsed <= 6_500, `${elapsed} ms`);
  });

  it('neither stalls nor bursts when the clock jumps back an hour or forward a day', async () => {
    const clock = fakeClock(1_000_000_000);
    const governor = new WriteGovernor(budget, 0.95, clock.now, clock.sleep);
    await governor.take(285);
    clock.jump(-3_600_000);
    await governor.take(19);
    const waitedAfterBackJump = clock.slept.reduce((a, b) => a + b, 0);
    assert.ok(waitedAfterBackJump <= 1_100, `a step back costs no more than the rate itself (${waitedAfterBackJump} ms)`);
    clock.slept.length = 0;
    clock.jump(86_400_000);
    for (let i = 0; i < 30; i += 1) await governor.take(20);
    const elapsed = clock.slept.reduce((a, b) => a + b, 0);
    assert.ok(elapsed >= 15_000, `a step forward refills one bucket, never a day of budget (${elapsed} ms for 600 writes)`);
  });
});
