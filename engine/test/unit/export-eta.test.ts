import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { exportEtaSeconds, phaseEtaSeconds } from '../../src/run/run.ts';

const budget = { writes: 3000, windowSeconds: 150 }; // 20 writes/s, of which the governor uses 0.95

test('an export is estimated at its pace so far, never faster than the write budget', () => {
  // 100 of 1,000 done in 8 s (12.5/s): the rest at 12.5/s; 500 in 20 s (25/s, a burst the bucket allowed): the rest at the 19/s the governor uses.
  assert.equal(exportEtaSeconds(100, 1000, 8, budget), 72);
  assert.equal(exportEtaSeconds(500, 1000, 20, budget), 26);
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
