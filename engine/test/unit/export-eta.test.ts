import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { exportEtaSeconds, phaseEtaSeconds } from '../../src/run/run.ts';

const budget = { writes: 3000, windowSeconds: 150 }; // 20 writes/s

test('an export at the write budget\'s pace is estimated at that pace, even while it started slower', () => {
  // 100 of 1,000 done in 8 s (12.5/s, more than half the budget): the rest goes at 20/s.
  assert.equal(exportEtaSeconds(100, 1000, 8, budget), 45);
  assert.equal(exportEtaSeconds(500, 1000, 25, budget), 25);
});

test('a slow export (a slow tenant, under half the budget) is estimated at its own pace', () => {
  assert.equal(exportEtaSeconds(100, 1000, 20, budget), 180);
});

test('no estimate before the first write or after the last', () => {
  assert.equal(exportEtaSeconds(0, 1000, 5, budget), undefined);
  assert.equal(exportEtaSeconds(1000, 1000, 5, budget), undefined);
  assert.equal(exportEtaSeconds(10, 1000, 0, budget), undefined);
  assert.equal(phaseEtaSeconds(50, 100, 10), 10);
  assert.equal(phaseEtaSeconds(50, undefined, 10), undefined);
});
