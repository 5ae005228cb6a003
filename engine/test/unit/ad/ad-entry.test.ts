import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entry } from 'ldapts';
import { toAdEntry, type RangedReader } from '../../../src/ad/connector.ts';

const guidBytes = (n: number): Buffer => Buffer.from(Array.from({ length: 16 }, (_, i) => (i === 15 ? n : i)));
const guidOf = (n: number): string => `03020100-0504-0706-0809-0a0b0c0d0e${n.toString(16).padStart(2, '0')}`;
const extended = (n: number, dn: string): string => `<GUID=${guidBytes(n).toString('hex')}>;<SID=010500000000000515000000>;${dn}`;
const user = (n: number): string => extended(n, `CN=User ${n},OU=People,DC=contoso,DC=test`);
const foreign = (n: number, sid: string): string => extended(n, `CN=${sid},CN=ForeignSecurityPrincipals,DC=contoso,DC=test`);

function groupEntry(attributes: Record<string, unknown>): Entry {
  return { dn: `${extended(1, 'CN=Staff,OU=Groups,DC=contoso,DC=test')}`, objectGUID: guidBytes(1), objectClass: ['top', 'group'], ...attributes } as unknown as Entry;
}

describe('an AD entry as read (toAdEntry)', () => {
  it('keeps each member of a ranged list by its GUID, and names the foreign ones by SID, in the order read', async () => {
    const asked: number[] = [];
    const rest: RangedReader = async (_dn, attribute, from) => {
      asked.push(from);
      assert.equal(attribute, 'member');
      if (from === 2) return { values: [foreign(4, 'S-1-5-21-1-2-3-1104'), user(5)], done: false, next: 4 };
      return { values: [user(6)], done: true, next: 5 };
    };
    const entry = await toAdEntry(groupEntry({ 'member;range=0-1': [user(2), user(3)] }), rest);
    assert.deepEqual(asked, [2, 4], 'each range is read from where the last ended');
    assert.deepEqual(entry?.memberGuids, [2, 3, 4, 5, 6].map(guidOf));
    assert.deepEqual(entry?.foreignMembers, [{ sid: 'S-1-5-21-1-2-3-1104', dn: 'CN=S-1-5-21-1-2-3-1104,CN=ForeignSecurityPrincipals,DC=contoso,DC=test' }]);
    assert.equal(entry?.dn, 'CN=Staff,OU=Groups,DC=contoso,DC=test');
  });

  it('reads no range of a member list an object that is not a group carries, and leaves a group without foreign members as it was', async () => {
    const never: RangedReader = async () => assert.fail('no range is read for an object that is not a group');
    const contact = await toAdEntry({ ...groupEntry({ 'member;range=0-0': [user(2)] }), objectClass: ['top', 'contact'] } as unknown as Entry, never);
    assert.equal(contact?.memberGuids, undefined);
    const plain = await toAdEntry(groupEntry({ member: [user(2), user(3)] }), never);
    assert.deepEqual(plain?.memberGuids, [guidOf(2), guidOf(3)]);
    assert.equal('foreignMembers' in (plain ?? {}), false);
  });
});
