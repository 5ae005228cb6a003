import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PlannedOperation } from '../../../src/contract/model.ts';
import { requestFor, writeUnitsFor, type ExportItem } from '../../../src/cloud/writer.ts';

const base = 'https://graph.example.test/';
let next = 0;
function item(op: Omit<PlannedOperation, 'reason' | 'objectType' | 'sourceAnchor'> & Partial<PlannedOperation>): ExportItem {
  next += 1;
  const operation: PlannedOperation = { reason: 'test', objectType: 'group', sourceAnchor: `anchor-${op.cloudId ?? next}`, ...op };
  return { key: `1:${next}`, operation, request: requestFor(operation, base, { password: 'x' }) };
}
const add = (group: string, member: string): ExportItem => item({ kind: 'add-member', cloudId: group, member: { sourceAnchor: member, objectType: 'user', cloudId: member } });

describe('write units: which operations go in one request', () => {
  it('binds a group\'s additions 20 at a time, in their order, and leaves every other operation alone', () => {
    const ops = [
      ...Array.from({ length: 45 }, (_, i) => add('g1', `u${i}`)),
      add('g2', 'u0'),
      item({ kind: 'remove-member', cloudId: 'g1', member: { sourceAnchor: 'u99', objectType: 'user', cloudId: 'u99' } }),
      add('g2', 'u1'),
    ];
    const units = writeUnitsFor(ops, base);
    assert.deepEqual(units.map((u) => [u.request.method, u.request.url, u.items.length]), [
      ['PATCH', '/groups/g1', 20], ['PATCH', '/groups/g1', 20], ['DELETE', '/groups/g1/members/u99/$ref', 1], ['PATCH', '/groups/g1', 5], ['PATCH', '/groups/g2', 2],
    ]);
    const binds = (units[0]?.request.body as Record<string, string[]>)['members@odata.bind'];
    assert.deepEqual(binds?.slice(0, 2), [`${base}v1.0/directoryObjects/u0`, `${base}v1.0/directoryObjects/u1`]);
    assert.equal(units.flatMap((u) => u.items).length, ops.length, 'every operation in exactly one request');
  });

  it('sends a single addition as the $ref add, and a group\'s create with its first members in its body', () => {
    const create = item({ kind: 'create-group', properties: { displayName: 'G', mailEnabled: false, securityEnabled: true, mailNickname: 'g' } });
    const members = [add('pending', 'u1'), add('pending', 'u2')].map((m) => ({ ...m, operation: { ...m.operation, cloudId: undefined } }));
    const units = writeUnitsFor([{ ...create, members }, add('g3', 'u1')], base);
    assert.equal(units.length, 2);
    assert.deepEqual(units[0]?.items.map((i) => i.operation.kind), ['create-group', 'add-member', 'add-member']);
    assert.deepEqual((units[0]?.request.body as Record<string, unknown>)['members@odata.bind'], [`${base}v1.0/directoryObjects/u1`, `${base}v1.0/directoryObjects/u2`]);
    assert.equal((units[0]?.request.body as Record<string, unknown>)['displayName'], 'G');
    assert.deepEqual([units[1]?.request.method, units[1]?.request.url], ['POST', '/groups/g3/members/$ref']);
  });
});
