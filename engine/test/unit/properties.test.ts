/**
 * Property-based tests (fast-check) of what must hold for every input, not only the examples: the
 * DirSync control's encoding, the anchor and GUID conversions, and the planner's idempotence
 * (applying a plan and planning again changes nothing). The deletion gate's properties are in
 * sync/match-plan-gate.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Ber, BerReader, BerWriter } from 'ldapts';
import { DirSyncControl, LDAP_SERVER_DIRSYNC_OID } from '../../src/ad/controls.ts';
import { guidBufferToString, guidStringToBuffer, parseExtendedDn } from '../../src/ad/guid.ts';
import { applyPropertyChanges } from '../../src/run/export.ts';
import { defaultAttributeFlow } from '../../src/sync/attribute-flow.ts';
import type { CloudObject } from '../../src/sync/cloud-object.ts';
import { mapEntry, type DesiredObject } from '../../src/sync/map.ts';
import { planMembership, planObject, type MemberRef } from '../../src/sync/plan.ts';
import { adUser } from './sync/builders.ts';

const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));

describe('DirSync control (properties)', () => {
  it('encodes any flags, size and cookie as DirSyncRequestValue, critical, and they decode back the same', () => {
    fc.assert(fc.property(uint32, fc.integer({ min: 0, max: 0x7fffffff }), bytes(600), (flags, maxBytes, cookie) => {
      const writer = new BerWriter();
      new DirSyncControl({ flags, maxBytes, cookie }).write(writer);
      const reader = new BerReader(writer.buffer);
      assert.notEqual(reader.readSequence(), null);
      assert.equal(reader.readString(), LDAP_SERVER_DIRSYNC_OID);
      assert.equal(reader.readBoolean(), true, 'DirSync is always critical');
      const value = new BerReader(reader.readString(Ber.OctetString, true) as Buffer);
      assert.notEqual(value.readSequence(), null);
      assert.equal(value.readInt(), flags | 0, 'flags as a 32-bit two\'s complement INTEGER');
      assert.equal(value.readInt(), maxBytes);
      assert.deepEqual(value.readString(Ber.OctetString, true) ?? Buffer.alloc(0), cookie);
      assert.equal(value.remain, 0);
    }));
  });

  it('reads any response value: more-results flag and the cookie, byte for byte', () => {
    fc.assert(fc.property(fc.boolean(), uint32, bytes(600), (more, unused, cookie) => {
      const writer = new BerWriter();
      writer.startSequence();
      writer.writeInt(more ? 1 : 0);
      writer.writeInt(unused | 0);
      writer.writeBuffer(cookie, Ber.OctetString);
      writer.endSequence();
      const control = new DirSyncControl({ cookie: Buffer.from('old') });
      control.parse(new BerReader(writer.buffer));
      assert.equal(control.responseReceived, true);
      assert.equal(control.moreResults, more);
      assert.deepEqual(control.cookie, cookie, 'the next request sends exactly the cookie AD returned');
    }));
  });
});

describe('anchors and GUIDs (properties)', () => {
  const guidBytes = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a));

  it('turns any objectGUID into its string and back, and the base64 anchor into the same bytes', () => {
    fc.assert(fc.property(guidBytes, (raw) => {
      const text = guidBufferToString(raw);
      assert.match(text, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.deepEqual(guidStringToBuffer(text), raw);
      assert.deepEqual(guidStringToBuffer(`{${text.toUpperCase()}}`), raw, 'braced, upper-case GUIDs are the same GUID');
      const anchor = raw.toString('base64');
      assert.equal(guidBufferToString(Buffer.from(anchor, 'base64')), text, 'the source anchor (ImmutableId) names the same object');
    }));
  });

  it('reads the GUID of an extended DN in either form, and leaves the DN itself intact', () => {
    const dn = fc.stringMatching(/^CN=[^<>]{1,30},DC=contoso,DC=com$/);
    fc.assert(fc.property(guidBytes, dn, fc.boolean(), (raw, plain, binary) => {
      const guid = guidBufferToString(raw);
      const value = `<GUID=${binary ? raw.toString('hex') : guid}>;<SID=S-1-5-21-1-2-3-1104>;${plain}`;
      assert.deepEqual(parseExtendedDn(value), { guid, dn: plain });
    }));
  });

  it('refuses anything that is not 16 bytes or a GUID string', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }).filter((a) => a.length !== 16), (a) => {
      assert.throws(() => guidBufferToString(Buffer.from(a)), /16 bytes/);
    }));
    fc.assert(fc.property(fc.string({ maxLength: 40 }).filter((s) => !/^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i.test(s)), (s) => {
      let parsed: Buffer | undefined;
      try { parsed = guidStringToBuffer(s); } catch { return; }
      // What it accepts must at least be 16 bytes that name the GUID given.
      assert.equal(parsed.length, 16, `"${s}" was accepted as a GUID`);
    }));
  });
});

const settings = {
  anchorProperty: 'extension_app_sourceAnchor',
  ownedProperties: {
    user: [...new Set(defaultAttributeFlow.user.map((r) => r.target.split('.')[0] as string))],
    group: [...new Set(defaultAttributeFlow.group.map((r) => r.target.split('.')[0] as string))],
  },
};

/** AD values as administrators leave them: empty, padded, non-ASCII, absent. */
const adValue = fc.oneof(fc.constant(''), fc.constant('  '), fc.string({ maxLength: 12 }), fc.constantFrom('Zoë Ångström', ' Sales ', 'R&D', '+1 555 0100'));
const adAttributes = fc.record({
  givenName: adValue, sn: adValue, title: adValue, department: adValue, company: adValue, mail: fc.constantFrom('', 'ann@contoso.com', 'Ann.Other@contoso.com'),
  telephoneNumber: adValue, l: adValue, c: fc.constantFrom('', 'us', 'DE', 'xx1'), extensionAttribute1: adValue, extensionAttribute7: adValue,
  userAccountControl: fc.constantFrom('512', '514', '66048'),
}, { requiredKeys: [] });
/** What the tenant may hold already: anything of the same shape, or nothing. */
const cloudValue = fc.oneof(fc.constant(null), fc.string({ maxLength: 12 }), fc.constantFrom('Zoë Ångström', 'Sales', 'R&D'));
const cloudProperties = fc.record({
  givenName: cloudValue, surname: cloudValue, jobTitle: cloudValue, department: cloudValue, companyName: cloudValue, mail: cloudValue, city: cloudValue,
  usageLocation: fc.constantFrom(null, 'US', 'DE'), accountEnabled: fc.boolean(), businessPhones: fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }),
  onPremisesExtensionAttributes: fc.dictionary(fc.constantFrom('extensionAttribute1', 'extensionAttribute7', 'extensionAttribute9'), cloudValue),
}, { requiredKeys: [] });

describe('planner (properties)', () => {
  it('plans nothing more once its plan is applied: applying a plan twice changes nothing', () => {
    fc.assert(fc.property(adAttributes, cloudProperties, (attributes, cloudProps) => {
      const values = Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== ''));
      const mapped = mapEntry(adUser({ userPrincipalName: 'ann@contoso.com', displayName: 'Ann', ...values }), defaultAttributeFlow);
      fc.pre(mapped.kind === 'mapped');
      const desired = (mapped as { desired: DesiredObject }).desired;
      const cloud: CloudObject = { id: 'cloud-ann', objectType: 'user', properties: { displayName: 'Old', userPrincipalName: 'ann@contoso.com', ...cloudProps } };
      const first = planObject(desired, { kind: 'linked', cloud, reason: 'linked' }, settings);
      assert.ok(first.length <= 1, 'one update at most');
      for (const [name, value] of Object.entries(first[0]?.properties ?? {})) {
        assert.notDeepEqual(value, (first[0]?.previous as Record<string, unknown> | undefined)?.[name], `${name} is planned only if it differs`);
      }
      const applied: CloudObject = { ...cloud, properties: applyPropertyChanges(cloud.properties, first[0]?.properties ?? {}) };
      assert.deepEqual(planObject(desired, { kind: 'linked', cloud: applied, reason: 'linked' }, settings), []);
    }));
  });

  it('brings any cloud group to AD\'s members and leaves the ones it does not manage', () => {
    const ids = fc.uniqueArray(fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `m${i}`)), { maxLength: 12 });
    fc.assert(fc.property(ids, ids, ids, (wanted, current, managedIds) => {
      const ref = (id: string): MemberRef => ({ sourceAnchor: `anchor-${id}`, objectType: 'user', cloudId: id });
      const managed = new Map(managedIds.map((id) => [id, ref(id)] as const));
      const group = { sourceAnchor: 'g', adGuid: 'g-guid', dn: 'CN=G,DC=contoso,DC=com', cloudId: 'cloud-g' };
      const ops = planMembership(group, wanted.map(ref), new Set(current), managed);
      const after = new Set(current);
      for (const op of ops) {
        const id = op.member?.cloudId as string;
        if (op.kind === 'add-member') after.add(id);
        else after.delete(id);
      }
      for (const id of wanted) assert.ok(after.has(id), `${id} is a member`);
      for (const id of after) assert.ok(wanted.includes(id) || (current.includes(id) && !managed.has(id)), `${id} stays only if AD names it or it is not managed`);
      assert.deepEqual(planMembership(group, wanted.map(ref), after, managed), [], 'and planning again changes nothing');
    }));
  });
});
