/**
 * The hostile and broken input corpus: AD values and shapes an administrator's directory really
 * holds (or an attacker could put there), each with its expected outcome — a per-object error
 * naming the attribute and the reason, or the value handled correctly (trimmed, cleaned, passed on
 * verbatim as data). Every case runs through map → validate → duplicates exactly as a run does, in
 * one batch, so that each bad object also proves the good ones beside it are unaffected.
 *
 * Shapes that need a real directory (circular nesting, members out of scope, moves in and out of
 * scope, renamed OUs, a reused sAMAccountName) are in engine/test/integration/hostile-shapes.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ObjectError } from '../../../src/contract/model.ts';
import { defaultAttributeFlow } from '../../../src/sync/attribute-flow.ts';
import { mapEntry } from '../../../src/sync/map.ts';
import { findDuplicates, validateDesired, type UniqueKey } from '../../../src/sync/validate.ts';
import { adGroup, adUser } from './builders.ts';

const domains = { verified: ['contoso.com', 'fed.contoso.com'] };

type Expect =
  | { readonly error: string; readonly attribute?: string }
  | { readonly not: 'writable' }
  | { readonly mapped: Readonly<Record<string, unknown>> };
type Case = { readonly name: string; readonly kind?: 'user' | 'group'; readonly attributes: Record<string, string | string[]>; readonly expect: Expect };

const upn = (n: number): string => `hostile.user${n}@contoso.com`;
const long = (n: number, ch = 'x'): string => ch.repeat(n);

const cases: ReadonlyArray<Case> = [
  // Control characters and NUL.
  { name: 'NUL inside displayName', attributes: { displayName: 'Ann\u0000Smith' }, expect: { error: 'control-character', attribute: 'displayName' } },
  { name: 'NUL at the end of givenName', attributes: { givenName: 'Ann\u0000' }, expect: { error: 'control-character', attribute: 'givenName' } },
  { name: 'bell character in title', attributes: { title: 'Boss\u0007' }, expect: { error: 'control-character', attribute: 'jobTitle' } },
  { name: 'escape sequence in department', attributes: { department: '\u001b[31mSales' }, expect: { error: 'control-character', attribute: 'department' } },
  { name: 'DEL in city', attributes: { l: 'Par\u007fis' }, expect: { error: 'control-character', attribute: 'city' } },
  { name: 'line break in displayName', attributes: { displayName: 'Ann\nSmith' }, expect: { error: 'control-character', attribute: 'displayName' } },
  { name: 'tab in jobTitle', attributes: { title: 'Head\tof IT' }, expect: { error: 'control-character', attribute: 'jobTitle' } },
  { name: 'carriage return in streetAddress', attributes: { streetAddress: '1 Main St\r' }, expect: { mapped: { streetAddress: '1 Main St' } } },
  { name: 'vertical tab in extensionAttribute3', attributes: { extensionAttribute3: 'a\u000bb' }, expect: { error: 'control-character', attribute: 'onPremisesExtensionAttributes.extensionAttribute3' } },
  { name: 'control character in a phone number list', attributes: { telephoneNumber: '+1\u0000555' }, expect: { error: 'control-character', attribute: 'businessPhones' } },
  { name: 'control characters in mailNickname are cleaned', attributes: { mailNickname: 'ann\u0000\u0001smith' }, expect: { mapped: { mailNickname: 'annsmith' } } },
  { name: 'line break in a group description is kept', kind: 'group', attributes: { cn: 'Ops', description: 'Line one\nLine two' }, expect: { mapped: { description: 'Line one\nLine two' } } },
  { name: 'NUL in a group description', kind: 'group', attributes: { cn: 'Ops', description: 'x\u0000' }, expect: { error: 'control-character', attribute: 'description' } },
  // Whitespace and empty values.
  { name: 'displayName of spaces falls back to cn', attributes: { displayName: '   ', cn: 'Ann Smith' }, expect: { mapped: { displayName: 'Ann Smith' } } },
  { name: 'padded values are trimmed', attributes: { givenName: '  Ann ', sn: ' Smith  ' }, expect: { mapped: { givenName: 'Ann', surname: 'Smith' } } },
  { name: 'empty title is absent, so cleared', attributes: { title: '' }, expect: { mapped: { jobTitle: undefined } } },
  { name: 'no UPN at all', attributes: { userPrincipalName: '' }, expect: { error: 'required-value-missing', attribute: 'userPrincipalName' } },
  { name: 'UPN of spaces', attributes: { userPrincipalName: '   ' }, expect: { error: 'required-value-missing', attribute: 'userPrincipalName' } },
  { name: 'no-break spaces around a UPN are trimmed', attributes: { userPrincipalName: `\u00a0${upn(1)}\u00a0` }, expect: { mapped: { userPrincipalName: upn(1) } } },
  // Very long values.
  { name: 'displayName of 256 characters is accepted', attributes: { displayName: long(256) }, expect: { mapped: { displayName: long(256) } } },
  { name: 'displayName of 257 characters', attributes: { displayName: long(257) }, expect: { error: 'value-too-long', attribute: 'displayName' } },
  { name: 'displayName of 100,000 characters', attributes: { displayName: long(100_000) }, expect: { error: 'value-too-long', attribute: 'displayName' } },
  { name: 'givenName of 65 characters', attributes: { givenName: long(65) }, expect: { error: 'value-too-long', attribute: 'givenName' } },
  { name: 'employeeID of 17 characters', attributes: { employeeID: long(17, '1') }, expect: { error: 'value-too-long', attribute: 'employeeID' } },
  { name: 'extension attribute of 1,025 characters', attributes: { extensionAttribute1: long(1025) }, expect: { error: 'value-too-long', attribute: 'extensionAttribute1' } },
  { name: 'phone number of 65 characters', attributes: { telephoneNumber: long(65, '5') }, expect: { error: 'value-too-long', attribute: 'telephoneNumber' } },
  { name: 'mailNickname of 200 characters', attributes: { mailNickname: long(200, 'a') }, expect: { error: 'value-too-long', attribute: 'mailNickname' } },
  { name: 'UPN alias of 65 characters', attributes: { userPrincipalName: `${long(65, 'a')}@contoso.com` }, expect: { error: 'upn-too-long', attribute: 'userPrincipalName' } },
  { name: 'UPN of 114 characters', attributes: { userPrincipalName: `${long(60, 'a')}@${long(49, 'd')}.com` }, expect: { error: 'value-too-long', attribute: 'userPrincipalName' } },
  // UPNs: format, characters, scripts, suffixes.
  { name: 'UPN without @', attributes: { userPrincipalName: 'annsmith' }, expect: { error: 'upn-format' } },
  { name: 'UPN with two @', attributes: { userPrincipalName: 'ann@smith@contoso.com' }, expect: { error: 'upn-format' } },
  { name: 'UPN starting with @', attributes: { userPrincipalName: '@contoso.com' }, expect: { error: 'upn-format' } },
  { name: 'UPN ending with @', attributes: { userPrincipalName: 'ann@' }, expect: { error: 'upn-format' } },
  { name: 'UPN with an accent', attributes: { userPrincipalName: 'zoë@contoso.com' }, expect: { error: 'upn-invalid-character' } },
  { name: 'UPN with a space', attributes: { userPrincipalName: 'ann smith@contoso.com' }, expect: { error: 'upn-invalid-character' } },
  { name: 'UPN mixing Latin and Cyrillic (a homoglyph "а")', attributes: { userPrincipalName: 'j\u0430ne@contoso.com' }, expect: { error: 'upn-invalid-character' } },
  { name: 'UPN in Greek', attributes: { userPrincipalName: 'αλφα@contoso.com' }, expect: { error: 'upn-invalid-character' } },
  { name: 'UPN with a zero-width space', attributes: { userPrincipalName: 'ann\u200b@contoso.com' }, expect: { error: 'upn-invalid-character' } },
  { name: 'UPN with a dot before @', attributes: { userPrincipalName: 'ann.@contoso.com' }, expect: { error: 'upn-dot-before-at' } },
  { name: 'UPN suffix not verified', attributes: { userPrincipalName: 'ann@contoso.local' }, expect: { error: 'upn-unverified-domain' } },
  { name: 'UPN suffix that only ends like a verified one', attributes: { userPrincipalName: 'ann@evilcontoso.com' }, expect: { error: 'upn-unverified-domain' } },
  { name: 'UPN suffix of a subdomain not verified', attributes: { userPrincipalName: 'ann@sub.contoso.com' }, expect: { error: 'upn-unverified-domain' } },
  { name: 'UPN suffix in upper case is the verified domain', attributes: { userPrincipalName: 'Ann.Smith@CONTOSO.COM' }, expect: { mapped: { userPrincipalName: 'Ann.Smith@CONTOSO.COM' } } },
  { name: 'UPN with the allowed special characters', attributes: { userPrincipalName: "o'neil_a-b!c#d^e~f@fed.contoso.com" }, expect: { mapped: { userPrincipalName: "o'neil_a-b!c#d^e~f@fed.contoso.com" } } },
  { name: 'UPN that looks like an LDAP filter', attributes: { userPrincipalName: '*)(objectClass=*)@contoso.com' }, expect: { error: 'upn-invalid-character' } },
  // Mail.
  { name: 'mail without a domain', attributes: { mail: 'ann@' }, expect: { error: 'mail-format', attribute: 'mail' } },
  { name: 'mail with a space', attributes: { mail: 'ann smith@contoso.com' }, expect: { error: 'mail-format', attribute: 'mail' } },
  { name: 'mail with non-ASCII', attributes: { mail: 'zoë@contoso.com' }, expect: { error: 'mail-format', attribute: 'mail' } },
  { name: 'mail with a NUL', attributes: { mail: 'ann\u0000@contoso.com' }, expect: { error: 'control-character', attribute: 'mail' } },
  // Values that look like injection: data, passed on verbatim (never interpreted).
  { name: 'displayName that looks like an LDAP filter', attributes: { displayName: '*)(|(objectClass=*)' }, expect: { mapped: { displayName: '*)(|(objectClass=*)' } } },
  { name: 'displayName that looks like OData', attributes: { displayName: "x' or 1 eq 1 or displayName eq '" }, expect: { mapped: { displayName: "x' or 1 eq 1 or displayName eq '" } } },
  { name: 'department with an OData $filter', attributes: { department: "Sales&$filter=startswith(displayName,'a')" }, expect: { mapped: { department: "Sales&$filter=startswith(displayName,'a')" } } },
  { name: 'jobTitle with HTML and script', attributes: { title: '<script>alert(1)</script>' }, expect: { mapped: { jobTitle: '<script>alert(1)</script>' } } },
  { name: 'city with a JSON fragment', attributes: { l: '","accountEnabled":true,"x":"' }, expect: { mapped: { city: '","accountEnabled":true,"x":"' } } },
  { name: 'mailNickname that looks like a path is cleaned', attributes: { mailNickname: '../../etc/passwd' }, expect: { mapped: { mailNickname: '//etc/passwd' } } },
  { name: 'mailNickname of only forbidden characters falls back to sAMAccountName', attributes: { mailNickname: '@@@', sAMAccountName: 'ann' }, expect: { mapped: { mailNickname: 'ann' } } },
  // Shapes of values.
  { name: 'several displayName values: the first one', attributes: { displayName: ['First', 'Second'] }, expect: { mapped: { displayName: 'First' } } },
  { name: 'usageLocation from an invalid country code is absent', attributes: { c: 'USA' }, expect: { mapped: { usageLocation: undefined } } },
  { name: 'usageLocation in lower case is upper-cased', attributes: { c: 'de' }, expect: { mapped: { usageLocation: 'DE' } } },
  { name: 'userAccountControl that is not a number keeps the account enabled', attributes: { userAccountControl: 'garbage' }, expect: { mapped: { accountEnabled: true } } },
  { name: 'a disabled account flows as disabled', attributes: { userAccountControl: '514' }, expect: { mapped: { accountEnabled: false } } },
  { name: 'emoji in displayName are accepted', attributes: { displayName: 'Ann 🚀 Smith' }, expect: { mapped: { displayName: 'Ann 🚀 Smith' } } },
  { name: 'right-to-left text in displayName is accepted', attributes: { displayName: 'مريم' }, expect: { mapped: { displayName: 'مريم' } } },
  // Groups.
  { name: 'distribution group', kind: 'group', attributes: { cn: 'All', groupType: '2' }, expect: { not: 'writable' } },
  { name: 'mail-enabled security group', kind: 'group', attributes: { cn: 'Sec', mail: 'sec@contoso.com' }, expect: { not: 'writable' } },
  { name: 'group with a 300-character name', kind: 'group', attributes: { cn: long(300) }, expect: { error: 'value-too-long', attribute: 'cn' } },
  { name: 'group whose name is only forbidden alias characters keeps its name', kind: 'group', attributes: { cn: '()[]', sAMAccountName: 'grp1' }, expect: { mapped: { displayName: '()[]', mailNickname: 'grp1' } } },
];

type Outcome = { readonly errors: ReadonlyArray<ObjectError>; readonly properties?: Readonly<Record<string, unknown>>; readonly notWritable?: boolean };

function outcomeOf(c: Case, i: number): Outcome {
  const base: Record<string, string> = c.kind === 'group' ? { cn: `Hostile Group ${i}` } : { userPrincipalName: upn(i), displayName: `Hostile User ${i}`, mailNickname: `hostile${i}` };
  const entry = c.kind === 'group' ? adGroup({ ...base, ...c.attributes }) : adUser({ ...base, ...c.attributes });
  const mapped = mapEntry(entry, defaultAttributeFlow);
  if (mapped.kind === 'not-writable') return { errors: [], notWritable: true };
  if (mapped.kind === 'invalid') return { errors: mapped.errors };
  return { errors: validateDesired(mapped.desired, domains), properties: mapped.desired.properties };
}

describe(`hostile and broken AD input: ${cases.length} cases`, () => {
  it('has at least 60 cases, each named once', () => {
    assert.ok(cases.length >= 60, `${cases.length} cases`);
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
  });

  for (const [i, c] of cases.entries()) {
    it(c.name, () => {
      const outcome = outcomeOf(c, i);
      const expect = c.expect;
      if ('error' in expect) {
        const error = outcome.errors.find((e) => e.code === expect.error);
        assert.ok(error, `expected ${expect.error}, got ${JSON.stringify(outcome.errors.map((e) => e.code))}`);
        if (expect.attribute) assert.equal(error.attribute, expect.attribute);
        assert.ok(error.dn.startsWith('CN='), 'the error names the object by its DN');
        assert.ok(error.reason.length > 10 && error.hint && error.hint.length > 10, 'with a reason and a fix');
        // eslint-disable-next-line no-control-regex -- a raw NUL is what must not appear
        assert.doesNotMatch(error.reason + (error.value ?? ''), /\u0000/, 'control characters are shown escaped, never raw');
      } else if ('not' in expect) {
        assert.equal(outcome.notWritable, true);
      } else {
        assert.deepEqual(outcome.errors, [], JSON.stringify(outcome.errors));
        for (const [property, value] of Object.entries(expect.mapped)) assert.deepEqual(outcome.properties?.[property], value, property);
      }
    });
  }

  it('lets every good object through, whatever bad ones sit beside it', () => {
    const outcomes = cases.map(outcomeOf);
    const expectedGood = cases.filter((c) => 'mapped' in c.expect).length;
    assert.equal(outcomes.filter((o) => o.errors.length === 0 && !o.notWritable).length, expectedGood);
  });

  it('reports every UPN and mail shared by two objects (case-insensitively) on all but the one that keeps it', () => {
    const key = (n: number, value: string): UniqueKey => ({ adGuid: `g${n}`, dn: `CN=Dup ${n},OU=Sales,DC=contoso,DC=test`, objectType: 'user', value });
    const upns = [key(1, 'same@contoso.com'), key(2, 'SAME@contoso.com'), key(3, 'same@Contoso.com'), key(4, 'unique@contoso.com')];
    const errors = findDuplicates('userPrincipalName', upns, { has: (guid) => guid === 'g2' });
    assert.deepEqual(errors.map((e) => e.adGuid).sort(), ['g1', 'g3'], 'the linked object (g2) keeps its UPN');
    for (const e of errors) assert.match(e.reason, /also used by CN=Dup 2/);
    const mails = findDuplicates('mail', [key(5, 'shared@contoso.com'), key(6, 'shared@contoso.com')], { has: () => false });
    assert.deepEqual(mails.map((e) => [e.adGuid, e.code]), [['g6', 'duplicate-mail']], 'without a link, the first DN in order keeps it');
  });
});
