import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ACCESS_ALLOWED_ACE_TYPE, ACCESS_ALLOWED_OBJECT_ACE_TYPE, ACL_REVISION, ACL_REVISION_DS, ADS_RIGHT_DS_CONTROL_ACCESS, addAce, EXTENDED_RIGHTS,
  extendedRightAce, INHERITED_ACE, parseSecurityDescriptor, removeAce, SE_DACL_PRESENT, SE_SELF_RELATIVE, serializeSecurityDescriptor, sidFromString,
  sidToString, type Ace, type SecurityDescriptor,
} from '../../../src/ad/security-descriptor.ts';

/**
 * Captured from a lab Samba 4.17 DC (as Administrator, no SD flags control, so owner, group, SACL
 * and DACL are all there): `ldapsearch … -b DC=contoso,DC=test -s base nTSecurityDescriptor` and the
 * same for CN=svc-backup,OU=Service Accounts,OU=Contoso (a user, whose DACL has inherited ACEs).
 * `ldbsearch` on the DC's sam.ldb showed them in SDDL: the domain head is O:BAG:BAD:AI(46 ACEs)S:AI(5),
 * the user O:DAG:DAD:AI(44 ACEs, 20 of them inherited)S:AI(2).
 */
function fixture(name: string): Buffer {
  return Buffer.from(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim(), 'base64');
}

const domainHead = fixture('samba-domain-head-sd.base64');
const user = fixture('samba-user-sd.base64');
/** The lab domain's SID, from the domain head's objectSid `AQQAAAAAAAUVAAAAIxALo/ev1WwtjHAT`. */
const domainSid = 'S-1-5-21-2735411235-1825943543-326143021';
const accountSid = `${domainSid}-1108`;
const getChanges = extendedRightAce({ sid: accountSid, right: EXTENDED_RIGHTS.replicatingDirectoryChanges });

function isInherited(ace: Ace): boolean {
  return (ace.flags & INHERITED_ACE) !== 0;
}

function daclOf(descriptor: SecurityDescriptor): ReadonlyArray<Ace> {
  assert.ok(descriptor.dacl, 'the descriptor has a DACL');
  return descriptor.dacl.aces;
}

describe('security descriptor codec', () => {
  it('parses the descriptor Samba stores on the domain head and serializes it to the same bytes', () => {
    const descriptor = parseSecurityDescriptor(domainHead);
    assert.equal(descriptor.owner, 'S-1-5-32-544');
    assert.equal(descriptor.group, 'S-1-5-32-544');
    assert.equal(daclOf(descriptor).length, 46);
    assert.equal(descriptor.sacl?.aces.length, 5);
    assert.deepEqual(descriptor.layout, ['owner', 'group', 'sacl', 'dacl']);
    assert.ok(serializeSecurityDescriptor(descriptor).equals(domainHead));
  });

  it('parses a user descriptor with inherited ACEs and serializes it to the same bytes', () => {
    const descriptor = parseSecurityDescriptor(user);
    assert.equal(descriptor.owner, `${domainSid}-512`);
    assert.equal(daclOf(descriptor).length, 44);
    assert.equal(daclOf(descriptor).filter(isInherited).length, 20);
    assert.ok(serializeSecurityDescriptor(descriptor).equals(user));
  });

  it('decodes the Get-Changes grant Samba gives Enterprise Read-only DCs as an object ACE with the right GUID and SID', () => {
    const grant = daclOf(parseSecurityDescriptor(domainHead)).find((ace) => ace.kind === 'object' && ace.sid === `${domainSid}-498` &&
      ace.objectType === EXTENDED_RIGHTS.replicatingDirectoryChanges);
    assert.deepEqual(grant, { ...getChanges, sid: `${domainSid}-498` });
  });

  it('adds an explicit ACE after the explicit ACEs and before the first inherited one', () => {
    const before = parseSecurityDescriptor(user);
    const { descriptor, added } = addAce(before, getChanges);
    assert.equal(added, true);
    const aces = daclOf(descriptor);
    const at = aces.findIndex((ace) => ace.kind === 'object' && ace.sid === accountSid);
    assert.equal(at, daclOf(before).findIndex(isInherited));
    assert.equal(aces.slice(0, at).some(isInherited), false);
    assert.equal(aces.slice(at + 1).every(isInherited), true);
    assert.equal(aces.length, daclOf(before).length + 1);
    assert.equal(descriptor.dacl?.revision, ACL_REVISION_DS);
  });

  it('appends the ACE to a DACL without inherited ACEs, and what it writes parses back with the ACE', () => {
    const { descriptor } = addAce(parseSecurityDescriptor(domainHead), getChanges);
    const bytes = serializeSecurityDescriptor(descriptor);
    assert.equal(bytes.length, domainHead.length + 56, 'an object ACE with a domain account SID is 56 bytes');
    const reread = parseSecurityDescriptor(bytes);
    assert.deepEqual(daclOf(reread).at(-1), getChanges);
    assert.deepEqual(reread.sacl, parseSecurityDescriptor(domainHead).sacl);
    assert.equal(reread.owner, 'S-1-5-32-544');
  });

  it('does not add an ACE that is already there', () => {
    const once = addAce(parseSecurityDescriptor(domainHead), getChanges).descriptor;
    const twice = addAce(parseSecurityDescriptor(serializeSecurityDescriptor(once)), getChanges);
    assert.equal(twice.added, false);
    assert.equal(daclOf(twice.descriptor).filter((ace) => ace.kind === 'object' && ace.sid === accountSid).length, 1);
    assert.ok(serializeSecurityDescriptor(twice.descriptor).equals(serializeSecurityDescriptor(once)));
  });

  it('removes an ACE it added, which leaves the original bytes', () => {
    const granted = addAce(parseSecurityDescriptor(domainHead), getChanges).descriptor;
    const { descriptor, removed } = removeAce(granted, getChanges);
    assert.equal(removed, 1);
    assert.ok(serializeSecurityDescriptor(descriptor).equals(domainHead));
    assert.equal(removeAce(descriptor, getChanges).removed, 0);
  });

  it('raises a revision 2 ACL to revision 4 when an object ACE goes in, and builds a DACL-only descriptor', () => {
    const everyoneRead: Ace = { kind: 'sid', type: ACCESS_ALLOWED_ACE_TYPE, flags: 0, mask: 0x20094, sid: 'S-1-1-0', applicationData: Buffer.alloc(0) };
    const dacl: SecurityDescriptor = { revision: 1, sbz1: 0, control: SE_SELF_RELATIVE | SE_DACL_PRESENT, dacl: { revision: ACL_REVISION, aces: [everyoneRead] }, layout: ['dacl'] };
    const bytes = serializeSecurityDescriptor(addAce(dacl, getChanges).descriptor);
    // header 20 + ACL header 8 + basic ACE (8 + 12-byte SID) + object ACE (12 + 16 + 28-byte SID)
    assert.equal(bytes.length, 20 + 8 + 20 + 56);
    assert.equal(bytes.readUInt32LE(16), 20, 'the DACL follows the header');
    assert.deepEqual([bytes.readUInt32LE(4), bytes.readUInt32LE(8), bytes.readUInt32LE(12)], [0, 0, 0], 'no owner, group or SACL');
    const reread = parseSecurityDescriptor(bytes);
    assert.equal(reread.dacl?.revision, ACL_REVISION_DS);
    assert.deepEqual(daclOf(reread), [everyoneRead, getChanges]);
  });

  it('encodes the Get-Changes ACE as ad-reference §7.2 lays it out', () => {
    const bytes = serializeSecurityDescriptor(addAce({ revision: 1, sbz1: 0, control: SE_SELF_RELATIVE | SE_DACL_PRESENT, dacl: { revision: ACL_REVISION_DS, aces: [] }, layout: ['dacl'] }, getChanges).descriptor);
    const ace = bytes.subarray(28);
    assert.equal(ace.readUInt8(0), ACCESS_ALLOWED_OBJECT_ACE_TYPE);
    assert.equal(ace.readUInt8(1), 0);
    assert.equal(ace.readUInt16LE(2), ace.length);
    assert.equal(ace.readUInt32LE(4), ADS_RIGHT_DS_CONTROL_ACCESS);
    assert.equal(ace.readUInt32LE(8), 1, 'ACE_OBJECT_TYPE_PRESENT');
    assert.equal(ace.subarray(12, 28).toString('hex'), 'aaf63111079cd111f79f00c04fc2dcd2', 'the GUID in objectGUID byte order');
    assert.equal(sidToString(ace.subarray(28)), accountSid);
  });

  it('keeps ACE types it does not decode, and callback data, byte for byte', () => {
    const compound: Ace = { kind: 'opaque', type: 0x04, flags: 0x02, body: Buffer.from('0100000001000000010100000000000512000000', 'hex') };
    const callback: Ace = { kind: 'sid', type: 0x09, flags: 0, mask: 0x1, sid: 'S-1-5-11', applicationData: Buffer.from('61727478000000', 'hex') };
    const descriptor: SecurityDescriptor = {
      revision: 1, sbz1: 0, control: SE_SELF_RELATIVE | SE_DACL_PRESENT, owner: 'S-1-5-18', dacl: { revision: ACL_REVISION_DS, aces: [compound, callback] }, layout: ['dacl', 'owner'],
    };
    const bytes = serializeSecurityDescriptor(descriptor);
    assert.deepEqual(parseSecurityDescriptor(bytes), descriptor);
    assert.ok(serializeSecurityDescriptor(parseSecurityDescriptor(bytes)).equals(bytes));
  });

  it('round-trips any descriptor made of the ACE kinds it knows', () => {
    const guid = fc.uuid({ version: 4 }).map((g) => g.toLowerCase());
    const sid = fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 0, maxLength: 15 })
      .chain((subs) => fc.integer({ min: 0, max: 2 ** 48 - 1 }).map((authority) => sidToString(sidFromString(`S-1-${authority}${subs.map((s) => `-${s}`).join('')}`))));
    const flags = fc.integer({ min: 0, max: 0xff });
    const mask = fc.integer({ min: 0, max: 0xffffffff });
    const data = fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a));
    const ace: fc.Arbitrary<Ace> = fc.oneof(
      fc.record({ kind: fc.constant('sid' as const), type: fc.constantFrom(0x00, 0x01, 0x02, 0x09, 0x11), flags, mask, sid, applicationData: data }, { noNullPrototype: true }),
      fc.record({ kind: fc.constant('object' as const), type: fc.constantFrom(0x05, 0x06, 0x07, 0x0b), flags, mask, objectType: guid, inheritedObjectType: guid, sid, applicationData: data },
        { requiredKeys: ['kind', 'type', 'flags', 'mask', 'sid', 'applicationData'], noNullPrototype: true }),
      fc.record({ kind: fc.constant('opaque' as const), type: fc.constantFrom(0x04, 0x14, 0xee), flags, body: data }, { noNullPrototype: true }),
    );
    const acl = fc.record({ revision: fc.constantFrom(ACL_REVISION, ACL_REVISION_DS), aces: fc.array(ace, { maxLength: 6 }) }, { noNullPrototype: true });
    const descriptor = fc.record({
      owner: fc.option(sid, { nil: undefined }), group: fc.option(sid, { nil: undefined }),
      sacl: fc.option(acl, { nil: undefined }), dacl: fc.option(acl, { nil: undefined }),
    }).map(({ owner, group, sacl, dacl }): SecurityDescriptor => {
      const parts = { owner, group, sacl, dacl };
      const layout = (['owner', 'group', 'sacl', 'dacl'] as const).filter((part) => parts[part] !== undefined);
      const control = SE_SELF_RELATIVE | (dacl ? SE_DACL_PRESENT : 0) | (sacl ? 0x10 : 0);
      return {
        revision: 1, sbz1: 0, control, layout,
        ...(owner === undefined ? {} : { owner }), ...(group === undefined ? {} : { group }),
        ...(sacl === undefined ? {} : { sacl }), ...(dacl === undefined ? {} : { dacl }),
      };
    });
    fc.assert(fc.property(descriptor, (d) => {
      const bytes = serializeSecurityDescriptor(d);
      assert.deepEqual(parseSecurityDescriptor(bytes), d);
      assert.ok(serializeSecurityDescriptor(parseSecurityDescriptor(bytes)).equals(bytes));
    }));
  });

  it('converts SIDs between binary and S-1-5-21-… text', () => {
    const domainObjectSid = Buffer.from('AQQAAAAAAAUVAAAAIxALo/ev1WwtjHAT', 'base64');
    assert.equal(sidToString(domainObjectSid), domainSid);
    assert.ok(sidFromString(domainSid).equals(domainObjectSid));
    assert.equal(sidFromString('S-1-1-0').toString('hex'), '010100000000000100000000');
    assert.equal(sidToString(sidFromString('s-1-5-32-544')), 'S-1-5-32-544');
    assert.equal(sidToString(sidFromString('S-1-0x123456789ABC-7')), 'S-1-0x123456789ABC-7', 'authorities of 2^32 and above are hexadecimal');
  });

  it('rejects malformed input with a message saying what is wrong', () => {
    assert.throws(() => sidFromString('S-1-5-21-x'), /is not a SID/);
    assert.throws(() => sidFromString('S-1-5-4294967296'), /does not fit in 32 bits/);
    assert.throws(() => parseSecurityDescriptor(domainHead.subarray(0, 300)), /truncated/);
    const absolute = Buffer.from(domainHead);
    absolute.writeUInt16LE(absolute.readUInt16LE(2) & ~SE_SELF_RELATIVE, 2);
    assert.throws(() => parseSecurityDescriptor(absolute), /not in self-relative form/);
    const noDacl: SecurityDescriptor = { revision: 1, sbz1: 0, control: SE_SELF_RELATIVE, owner: 'S-1-5-18', layout: ['owner'] };
    assert.throws(() => addAce(noDacl, getChanges), /no DACL/);
    assert.throws(() => addAce(parseSecurityDescriptor(domainHead), { ...getChanges, flags: INHERITED_ACE }), /Only explicit ACEs/);
  });
});
