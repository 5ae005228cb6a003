/**
 * What the store leaves out of its JSON reads back exactly (store/compact.ts): any value, any text, and
 * the operations and cloud objects of a store, byte for byte smaller and equal once read.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PlannedOperation } from '../../../src/contract/model.ts';
import { packJson, unpackJson } from '../../../src/store/compact.ts';
import { packOperation, readOperation, Store } from '../../../src/store/store.ts';
import type { CloudObject } from '../../../src/sync/cloud-object.ts';

const noExtensions = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`extensionAttribute${i + 1}`, null]));

describe('the store\'s compact JSON', () => {
  it('reads back every JSON value as written, the marker\'s own text inside strings included (the property itself never being 0)', () => {
    const tricky = fc.constantFrom('"onPremisesExtensionAttributes":0', 'onPremisesExtensionAttributes', JSON.stringify({ onPremisesExtensionAttributes: noExtensions }));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.jsonValue(), tricky, fc.constant(noExtensions),
        fc.dictionary(fc.oneof(fc.string(), fc.constant('onPremisesExtensionAttributes')), tie('node'), { maxKeys: 4 }), fc.array(tie('node'), { maxLength: 3 })),
    })).node;
    fc.assert(fc.property(value, (v) => {
      const text = JSON.stringify(v);
      // The premise (store/compact.ts): onPremisesExtensionAttributes, a complex type, is an object or null, never the number 0.
      fc.pre(!text.includes('"onPremisesExtensionAttributes":0'));
      assert.equal(unpackJson(packJson(text)), text);
    }), { numRuns: 2000 });
  });

  it('keeps a user\'s empty extension attributes and a membership\'s standard reason out of the row, and reads the same operation back', () => {
    const add: PlannedOperation = { kind: 'add-member', objectType: 'group', sourceAnchor: 'g==', adGuid: 'a', dn: 'CN=G,DC=x', cloudId: 'c', displayName: 'G',
      member: { sourceAnchor: 'u==', objectType: 'user', dn: 'CN=U,DC=x', cloudId: 'm' }, reason: 'CN=U,DC=x is a member in Active Directory' };
    const create: PlannedOperation = { kind: 'create-user', objectType: 'user', sourceAnchor: 'u==', reason: 'new', properties: { displayName: 'U', onPremisesExtensionAttributes: noExtensions } };
    const other: PlannedOperation = { ...add, reason: 'restored: CN=U,DC=x is a member in Active Directory' };
    for (const op of [add, create, other]) {
      const packed = packOperation(op);
      const row = { operation: packed, kind: op.kind, objectType: op.objectType, sourceAnchor: op.sourceAnchor, adGuid: op.adGuid ?? null, dn: op.dn ?? null };
      assert.deepEqual(readOperation(row), op);
    }
    assert.doesNotMatch(packOperation(add), /reason/);
    assert.match(packOperation(other), /restored/);
    assert.ok(packOperation(create).length < JSON.stringify(create).length - 450, packOperation(create));
  });

  it('stores a cloud user with no extension attributes in a fraction of the text and reads it back whole', () => {
    const store = Store.open(join(mkdtempSync(join(tmpdir(), 'dirsync-compact-')), 'dirsync.db'), join(tmpdir(), `compact-${process.pid}.key`));
    const user: CloudObject = { id: '1', objectType: 'user', properties: { displayName: 'U', onPremisesExtensionAttributes: noExtensions }, displayName: 'U' };
    store.upsertCloudObjects([user], 1);
    assert.deepEqual(store.getCloudObject('1'), user);
    const raw = (store.db.prepare('SELECT object FROM cloud_objects').get() as { object: string }).object;
    assert.ok(raw.length < 120, raw);
    store.close();
  });
});
