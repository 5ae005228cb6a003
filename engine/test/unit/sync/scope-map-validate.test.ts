import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultAttributeFlow, withOverrides } from '../../../src/sync/attribute-flow.ts';
import { mapEntry } from '../../../src/sync/map.ts';
import { evaluateScope, type ScopeConfig } from '../../../src/sync/scope.ts';
import { findDuplicates, validateDesired, validateUserPrincipalName } from '../../../src/sync/validate.ts';
import { adGroup, adUser } from './builders.ts';

const wholeDomain: ScopeConfig = { includedOuGuids: [], excludedOuGuids: [] };
const context = { ancestorGuids: ['ou-sales', 'domain'], serviceAccountNames: new Set(['msol_ab12']) };
const domains = { verified: ['contoso.com', 'contoso.onmicrosoft.com'] };

describe('scope', () => {
  it('excludes critical system objects and synchronization service accounts by default', () => {
    assert.equal(evaluateScope(adUser({ isCriticalSystemObject: 'TRUE' }), wholeDomain, context).inScope, false);
    assert.equal(evaluateScope(adUser({ sAMAccountName: 'MSOL_0123456789ab' }), wholeDomain, context).inScope, false);
    assert.equal(evaluateScope(adUser({ sAMAccountName: 'AAD_abc' }), wholeDomain, context).inScope, false);
    assert.equal(evaluateScope(adUser({ sAMAccountName: 'jdoe' }), wholeDomain, context).inScope, true);
  });

  it('keeps only objects under the OUs in scope, and drops excluded OUs inside them', () => {
    const user = adUser({});
    assert.equal(evaluateScope(user, { includedOuGuids: ['ou-sales'], excludedOuGuids: [] }, context).inScope, true);
    const outside = evaluateScope(user, { includedOuGuids: ['ou-engineering'], excludedOuGuids: [] }, context);
    assert.deepEqual(outside.inScope ? undefined : outside.code, 'outside-ous');
    const excluded = evaluateScope(user, { includedOuGuids: ['domain'], excludedOuGuids: ['ou-sales'] }, context);
    assert.deepEqual(excluded.inScope ? undefined : excluded.code, 'excluded-ou');
  });

  it('limits the scope to the members of a group when one is chosen', () => {
    const member = adUser({});
    const other = adUser({});
    const config = { ...wholeDomain, groupGuid: 'g1' };
    const ctx = { ...context, scopingGroupMembers: new Set([member.guid]) };
    assert.equal(evaluateScope(member, config, ctx).inScope, true);
    assert.equal(evaluateScope(other, config, ctx).inScope, false);
  });
});

describe('map', () => {
  it('maps a user by the default attribute flow', () => {
    const entry = adUser({ cn: 'Zoë O\'Brien', displayName: ' Zoë O\'Brien ', givenName: 'Zoë', sn: 'O\'Brien', userPrincipalName: 'zoe.obrien@contoso.com',
      mail: 'zoe.obrien@contoso.com', title: 'Engineer', telephoneNumber: '+1 555 0100', c: 'us', co: 'United States', userAccountControl: '514',
      extensionAttribute3: 'cost-center-7' });
    const result = mapEntry(entry, defaultAttributeFlow);
    assert.equal(result.kind, 'mapped');
    if (result.kind !== 'mapped') return;
    const p = result.desired.properties;
    assert.equal(p['displayName'], 'Zoë O\'Brien');
    assert.equal(p['accountEnabled'], false, 'userAccountControl 514 has ACCOUNTDISABLE');
    assert.deepEqual(p['businessPhones'], ['+1 555 0100']);
    assert.equal(p['usageLocation'], 'US');
    assert.equal(p['onPremisesImmutableId'], entry.guidBase64);
    assert.equal((p['onPremisesExtensionAttributes'] as Record<string, unknown>)['extensionAttribute3'], 'cost-center-7');
    assert.equal((p['onPremisesExtensionAttributes'] as Record<string, unknown>)['extensionAttribute1'], null);
  });

  it('anchors on mS-DS-ConsistencyGuid when it is set', () => {
    const entry = adUser({ userPrincipalName: 'a@contoso.com' }, { consistencyGuidBase64: 'q83vEjRWeJCrze8SNFZ4kA==' });
    const result = mapEntry(entry, defaultAttributeFlow);
    assert.equal(result.kind === 'mapped' && result.desired.sourceAnchor, 'q83vEjRWeJCrze8SNFZ4kA==');
  });

  it('reports contacts, distribution groups and mail-enabled security groups as not writable through Graph', () => {
    const contact = { ...adUser({}), objectClass: 'contact' as const };
    assert.equal(mapEntry(contact, defaultAttributeFlow).kind, 'not-writable');
    assert.equal(mapEntry(adGroup({ groupType: '2' }), defaultAttributeFlow).kind, 'not-writable');
    assert.equal(mapEntry(adGroup({ mail: 'team@contoso.com' }), defaultAttributeFlow).kind, 'not-writable');
    const security = mapEntry(adGroup({ cn: 'Sales Team', sAMAccountName: 'Sales Team' }), defaultAttributeFlow);
    assert.equal(security.kind, 'mapped');
    assert.equal(security.kind === 'mapped' && security.desired.properties['mailNickname'], 'SalesTeam');
  });

  it('reports a value longer than Graph accepts with the attribute, not a silent cut', () => {
    const result = mapEntry(adUser({ userPrincipalName: 'a@contoso.com', title: 'x'.repeat(129) }), defaultAttributeFlow);
    assert.equal(result.kind, 'invalid');
    if (result.kind !== 'invalid') return;
    assert.equal(result.errors[0]?.attribute, 'title');
    assert.equal(result.errors[0]?.code, 'value-too-long');
  });

  it('reports a user without userPrincipalName as invalid', () => {
    const result = mapEntry(adUser({}), defaultAttributeFlow);
    assert.equal(result.kind === 'invalid' && result.errors[0]?.code, 'required-value-missing');
  });

  it('lets the configuration replace and remove flows', () => {
    const flow = withOverrides(defaultAttributeFlow, { user: [
      { target: 'jobTitle', sources: ['description'], transform: 'trim' },
      { target: 'mobilePhone', sources: [], transform: 'trim' },
    ] });
    const result = mapEntry(adUser({ userPrincipalName: 'a@contoso.com', description: 'Boss', title: 'x', mobile: '1' }), flow);
    assert.equal(result.kind === 'mapped' && result.desired.properties['jobTitle'], 'Boss');
    assert.equal(result.kind === 'mapped' && 'mobilePhone' in result.desired.properties, false);
  });
});

describe('validate', () => {
  it('refuses UPNs Microsoft Entra ID refuses, with the reason', () => {
    assert.equal(validateUserPrincipalName('josé@contoso.com', domains)?.code, 'upn-invalid-character');
    assert.equal(validateUserPrincipalName('r&d@contoso.com', domains)?.code, 'upn-invalid-character');
    assert.equal(validateUserPrincipalName(`${'a'.repeat(65)}@contoso.com`, domains)?.code, 'upn-too-long');
    assert.equal(validateUserPrincipalName('a.@contoso.com', domains)?.code, 'upn-dot-before-at');
    assert.equal(validateUserPrincipalName('a@fabrikam.com', domains)?.code, 'upn-unverified-domain');
    assert.equal(validateUserPrincipalName('a@contoso.test', domains)?.code, 'upn-unverified-domain');
    assert.equal(validateUserPrincipalName("o'brien.zoe@CONTOSO.com", domains), undefined);
  });

  it('turns a bad UPN into an object error with DN, attribute, value and hint', () => {
    const mapped = mapEntry(adUser({ userPrincipalName: 'bob@fabrikam.com' }), defaultAttributeFlow);
    assert.equal(mapped.kind, 'mapped');
    if (mapped.kind !== 'mapped') return;
    const [error] = validateDesired(mapped.desired, domains);
    assert.equal(error?.attribute, 'userPrincipalName');
    assert.equal(error?.value, 'bob@fabrikam.com');
    assert.match(error?.dn ?? '', /^CN=/);
    assert.match(error?.hint ?? '', /fabrikam\.com/);
  });

  it('reports every duplicate after the first, keeping the linked object first', () => {
    const keys = [
      { adGuid: 'a', dn: 'CN=A', objectType: 'user' as const, value: 'same@contoso.com' },
      { adGuid: 'b', dn: 'CN=B', objectType: 'user' as const, value: 'SAME@contoso.com' },
      { adGuid: 'c', dn: 'CN=C', objectType: 'user' as const, value: 'other@contoso.com' },
    ];
    assert.deepEqual(findDuplicates('mail', keys, new Set()).map((e) => e.adGuid), ['b']);
    assert.deepEqual(findDuplicates('mail', keys, new Set(['b'])).map((e) => e.adGuid), ['a']);
  });
});
