import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, withPrimarySource } from '../../src/base/config.ts';
import { fullRunConfigHash, nextRun } from '../../src/service/scheduler.ts';

const config = parseConfig({
  version: 1,
  ad: { url: 'ldaps://dc1.contoso.com', bindDn: 'CN=MSOL_1,CN=Users,DC=contoso,DC=com', baseDn: 'DC=contoso,DC=com' },
  cloud: { tenantId: '11111111-2222-3333-4444-555555555555', clientId: '11111111-2222-3333-4444-555555555556', credential: 'secret' },
}, 'test');
const hash = fullRunConfigHash(config);
const minute = 60_000;

describe('scheduler', () => {
  it('runs a full run first', () => {
    assert.deepEqual(nextRun({ now: 1000, intervalMinutes: 30, configHash: hash }), { kind: 'full', at: 1000, reason: 'no full run yet' });
  });

  it('runs a delta every interval after the last run', () => {
    const decision = nextRun({ now: 10 * minute, intervalMinutes: 30, lastRunEndedAt: 5 * minute, lastFullRunConfigHash: hash, configHash: hash });
    assert.deepEqual([decision.kind, decision.at], ['delta', 35 * minute]);
  });

  it('catches up at once after downtime', () => {
    const decision = nextRun({ now: 200 * minute, intervalMinutes: 30, lastRunEndedAt: 5 * minute, lastFullRunConfigHash: hash, configHash: hash });
    assert.deepEqual([decision.kind, decision.at, decision.reason], ['delta', 200 * minute, 'catching up after downtime']);
  });

  it('runs a full run when the scope or the attribute flow changed, not when the schedule did', () => {
    const rescoped = fullRunConfigHash(withPrimarySource(config, (source) => ({ ...source, scope: { ...source.scope, includedOuGuids: ['x'] } })));
    assert.equal(nextRun({ now: 0, intervalMinutes: 30, lastRunEndedAt: 0, lastFullRunConfigHash: hash, configHash: rescoped }).kind, 'full');
    assert.equal(fullRunConfigHash({ ...config, schedule: { intervalMinutes: 5, fullEveryHours: 1 } }), hash);
  });

  it('runs a full run at least every fullEveryHours, at the next scheduled time', () => {
    const hour = 60 * minute;
    const due = nextRun({ now: 25 * hour, intervalMinutes: 30, lastRunEndedAt: 24.9 * hour, lastFullRunConfigHash: hash, configHash: hash, lastFullRunAt: 0.5 * hour, fullEveryHours: 24 });
    assert.deepEqual([due.kind, due.reason], ['full', 'the periodic full run']);
    const notYet = nextRun({ now: 2 * hour, intervalMinutes: 30, lastRunEndedAt: 1.9 * hour, lastFullRunConfigHash: hash, configHash: hash, lastFullRunAt: hour, fullEveryHours: 24 });
    assert.equal(notYet.kind, 'delta');
  });

  it('keeps the interval after the clock was set back a day, rather than waiting for the clock to catch up', () => {
    const day = 24 * 60 * minute;
    // The last run ended "tomorrow" by the clock now: it was recorded before the clock went back.
    const decision = nextRun({ now: 10 * day, intervalMinutes: 30, lastRunEndedAt: 11 * day, lastFullRunConfigHash: hash, configHash: hash, lastFullRunAt: 11 * day, fullEveryHours: 24 });
    assert.deepEqual([decision.kind, decision.at], ['delta', 10 * day + 30 * minute]);
    const full = nextRun({ now: 10 * day, intervalMinutes: 30, lastRunEndedAt: 10 * day - minute, lastFullRunConfigHash: hash, configHash: hash, lastFullRunAt: 40 * day, fullEveryHours: 24 });
    assert.equal(full.kind, 'delta', 'a full run "in the future" is not overdue either: the next periodic full run is a day from now');
  });

  it('catches up at once after the clock jumped forward', () => {
    const decision = nextRun({ now: 1000 * minute, intervalMinutes: 30, lastRunEndedAt: 10 * minute, lastFullRunConfigHash: hash, configHash: hash });
    assert.deepEqual([decision.kind, decision.at], ['delta', 1000 * minute]);
  });
});
