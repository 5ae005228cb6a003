import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HandoverStatus } from '../../../src/contract/handover.ts';
import { syncToolOf } from '../../../src/cloud/sync-tool.ts';
import { HandoverRefusedError } from '../../../src/errors/handover-errors.ts';
import { checkSwitch, observeLastSync, OLD_TOOL_ORPHAN_REASON, oldToolActivity } from '../../../src/run/handover.ts';
import { buildPlan } from '../../../src/run/planning.ts';
import { Store } from '../../../src/store/store.ts';
import type { CloudObject } from '../../../src/sync/cloud-object.ts';
import { adUser, TEST_ANCHOR_PROPERTY, testConfig } from '../sync/builders.ts';

const ANCHOR_PROPERTY = TEST_ANCHOR_PROPERTY;
const config = testConfig('the handover test');

const MINUTE = 60_000;
const at = (ms: number): string => new Date(ms).toISOString();

describe('the old tool: which one, and whether it still runs', () => {
  it('tells Entra Connect (with its server), Cloud Sync, and an unknown tool apart by their cloud sync accounts', () => {
    assert.deepEqual(syncToolOf(['Sync_AADC01_0a1b2c3d4e5f@contoso.onmicrosoft.com']).server, 'AADC01');
    assert.equal(syncToolOf(['ADToAADSyncServiceAccount@contoso.onmicrosoft.com']).kind, 'cloud-sync');
    assert.equal(syncToolOf(['someone@contoso.com']).kind, 'unknown');
    assert.match(syncToolOf([]).description, /does not show/);
  });

  it('uses the tool\'s default cycle until two last sync times are seen, then the median interval', () => {
    const store = Store.inMemory();
    const start = Date.parse('2026-12-07T10:00:00Z');
    const once = oldToolActivity(store, 'entra-connect', at(start), start + 59 * MINUTE);
    assert.deepEqual([once.cycleSeconds, once.cycleObserved, once.stopped], [1800, false, false], 'within two of Connect\'s 30-minute cycles');
    assert.equal(oldToolActivity(store, 'entra-connect', at(start), start + 61 * MINUTE).stopped, true, 'older than two cycles: stopped');
    assert.equal(oldToolActivity(store, 'cloud-sync', at(start), start + 5 * MINUTE).stopped, true, 'Cloud Sync runs every 2 minutes');
    for (const minutes of [0, 10, 20, 29, 40]) observeLastSync(store, at(start + minutes * MINUTE), start + minutes * MINUTE);
    observeLastSync(store, at(start + 40 * MINUTE), start + 41 * MINUTE); // the same value seen again is not a cycle
    const seen = oldToolActivity(store, 'entra-connect', at(start + 40 * MINUTE), start + 55 * MINUTE);
    assert.deepEqual([seen.cycleSeconds, seen.cycleObserved, seen.stopped], [600, true, false], 'median of 10, 10, 9 and 11 minutes');
    assert.equal(seen.stoppedAfter, at(start + 60 * MINUTE));
    assert.equal(oldToolActivity(store, 'entra-connect', at(start + 40 * MINUTE), start + 61 * MINUTE).stopped, true);
    assert.equal(oldToolActivity(store, 'entra-connect', null, start).stopped, true, 'no last sync time at all');
    store.close();
  });
});

describe('the switch is refused unless confirmed and the old tool stopped', () => {
  const status = (overrides: Partial<HandoverStatus> = {}): HandoverStatus => ({
    tenantSynchronized: true, synchronized: { user: 10, group: 2 }, confirmation: 'Contoso', summary: 'synchronized',
    tool: syncToolOf(['Sync_AADC01_0a1b2c3d4e5f@contoso.onmicrosoft.com']),
    activity: { lastSyncDateTime: '2026-12-07T10:00:00Z', cycleSeconds: 1800, cycleObserved: false, stopped: false, stoppedAfter: '2026-12-07T11:00:00Z' },
    ...overrides,
  });
  const refused = (fn: () => void, pattern: RegExp): void => assert.throws(fn, (e: unknown) => e instanceof HandoverRefusedError && pattern.test(e.message));

  it('asks for the tenant\'s name typed exactly', () => {
    refused(() => checkSwitch(status(), { confirmation: 'contoso', oldToolGone: true }), /type the tenant's name exactly: "Contoso"/);
  });

  it('waits for the old tool to stop, unless the administrator says it is gone', () => {
    refused(() => checkSwitch(status(), { confirmation: 'Contoso', oldToolGone: false }), /still synchronizes this tenant.*after 2026-12-07T11:00:00Z/);
    assert.doesNotThrow(() => checkSwitch(status(), { confirmation: ' Contoso ', oldToolGone: true }));
    assert.doesNotThrow(() => checkSwitch(status({ activity: { cycleSeconds: 1800, cycleObserved: false, stopped: true } }), { confirmation: 'Contoso', oldToolGone: false }));
  });

  it('has nothing to take over in a tenant no tool synchronizes, and never switches twice', () => {
    refused(() => checkSwitch(status({ tenantSynchronized: false }), { confirmation: 'Contoso', oldToolGone: true }), /nothing to take over/);
    const state = { phase: 'converting' as const, switchedAt: '2026-12-07T11:00:00Z', switchedBy: 'admin', tool: syncToolOf([]), synchronizedAtSwitch: { user: 1, group: 0 } };
    refused(() => checkSwitch(status({ state }), { confirmation: 'Contoso', oldToolGone: true }), /already under way/);
  });
});

describe('planning a takeover', () => {
  it('adopts users by their objectGUID immutable id (kept), and holds the old tool\'s orphans for approval', () => {
    const store = Store.inMemory();
    const runId = store.startRun('full', false);
    const consistency = Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64');
    const ann = adUser({ cn: 'Ann', userPrincipalName: 'ann@contoso.com', displayName: 'Ann' }, { consistencyGuidBase64: consistency, sid: 'S-1-5-21-1-2-3-1001' });
    store.transaction(() => store.upsertAdEntries([ann], runId));
    const converted = (id: string, immutableId: string, sid: string, upn: string): CloudObject => ({ id, objectType: 'user', immutableId, securityIdentifier: sid,
      userPrincipalName: upn, onPremisesSyncEnabled: false, properties: { userPrincipalName: upn, displayName: upn.split('@')[0], onPremisesImmutableId: immutableId } });
    store.transaction(() => store.upsertCloudObjects([converted('c-ann', ann.guidBase64, 'S-1-5-21-1-2-3-1001', 'ann@contoso.com'),
      converted('c-gone', 'Z29uZS1mcm9tLWFk', 'S-1-5-21-1-2-3-1002', 'gone@contoso.com')], runId));
    const plan = buildPlan({ store, config, runId, mode: { kind: 'full' }, domains: { verified: ['contoso.com'] }, anchorProperty: ANCHOR_PROPERTY, dryRun: true,
      recordMatches: true, oldToolOrphans: true });
    const ops = store.listOperations(plan.planId).map((s) => ({ ...s.operation, status: s.status }));
    const adopt = ops.find((op) => op.kind === 'update-user');
    assert.equal(adopt?.cloudId, 'c-ann', 'the user DirSync anchored by objectGUID is adopted, though its source anchor is the consistency GUID');
    assert.equal(adopt?.properties?.[ANCHOR_PROPERTY], consistency);
    assert.ok(!('onPremisesImmutableId' in (adopt?.properties ?? {})), 'its immutable id stays as the old tool wrote it');
    const orphan = ops.find((op) => op.kind === 'delete-user');
    assert.deepEqual([orphan?.cloudId, orphan?.status, orphan?.reason], ['c-gone', 'held', OLD_TOOL_ORPHAN_REASON]);
    assert.equal(ops.filter((op) => op.kind === 'create-user').length, 0);
    const without = buildPlan({ store, config, runId: store.startRun('full', false), mode: { kind: 'full' }, domains: { verified: ['contoso.com'] },
      anchorProperty: ANCHOR_PROPERTY, dryRun: true });
    assert.equal(store.listOperations(without.planId).filter((s) => s.operation.kind === 'delete-user').length, 0, 'outside a takeover no such orphan is planned');
    store.close();
  });
});
