import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainNameOf, forestOf, normalizeDn, parseConfig, sourceOfDn } from '../../../src/base/config.ts';
import { adSourcesOf, sourceForDn } from '../../../src/run/sources.ts';
import { findDuplicates, type ForestRule } from '../../../src/sync/validate.ts';
import { ConfigError } from '../../../src/errors/config-error.ts';

const cloud = { tenantId: 'contoso.onmicrosoft.com', clientId: '00000000-0000-0000-0000-000000000001', credential: 'secret' };
const source = (id: string, baseDn: string, forest?: string) => ({ id, ...(forest ? { forest } : {}), ad: { url: `ldaps://${id}:636`, bindDn: 'MSOL_1@x', baseDn } });

describe('forests in the configuration', () => {
  it('takes several domains and forests, each domain with its forest, DNS name and scope', () => {
    const config = parseConfig({ version: 2, cloud, sources: [
      source('contoso', 'DC=contoso,DC=com'), source('emea', 'DC=emea, DC=contoso,DC=com', 'contoso.com'), source('fabrikam', 'dc=fabrikam,dc=test'),
    ] }, 'a test');
    const sources = adSourcesOf(config);
    assert.deepEqual(sources.map((s) => [s.id, s.domain, s.forest]), [
      ['contoso', 'contoso.com', 'contoso.com'], ['emea', 'emea.contoso.com', 'contoso.com'], ['fabrikam', 'fabrikam.test', 'fabrikam.test']]);
    assert.deepEqual(sources.map((s) => s.scope), [0, 1, 2].map(() => ({ includedOuGuids: [], excludedOuGuids: [] })));
    // An object belongs to the domain whose naming context holds it: the longest that does.
    assert.equal(sourceForDn(sources, 'CN=Ada,OU=Staff,DC=emea,DC=contoso,DC=com').id, 'emea');
    assert.equal(sourceForDn(sources, 'cn=Bo,ou=Staff,dc=CONTOSO, dc=com').id, 'contoso');
    assert.equal(sourceForDn(sources, 'CN=Cy,DC=fabrikam,DC=test').id, 'fabrikam');
    assert.equal(sourceOfDn(config.sources, 'CN=Dee,DC=northwind,DC=test'), undefined);
    assert.equal(forestOf(config.sources[1] as never), 'contoso.com');
    assert.equal(domainNameOf('DC=apac,DC=Contoso,DC=com'), 'apac.contoso.com');
    assert.equal(normalizeDn('CN=A , OU = B,DC=C'), 'cn=a,ou=b,dc=c');
  });

  it('refuses a domain configured twice, or two sources with one id, saying which setting to change', () => {
    assert.throws(() => parseConfig({ version: 2, cloud, sources: [source('a', 'DC=contoso,DC=com'), source('b', 'dc=Contoso, dc=com')] }, 'a test'),
      (error: unknown) => error instanceof ConfigError && /sources\.1\.ad\.baseDn: dc=Contoso, dc=com is configured twice/.test(error.message));
    assert.throws(() => parseConfig({ version: 2, cloud, sources: [source('a', 'DC=contoso,DC=com'), source('A', 'DC=fabrikam,DC=com')] }, 'a test'),
      (error: unknown) => error instanceof ConfigError && /sources\.1\.id: "A" names another source too/.test(error.message));
    assert.throws(() => parseConfig({ version: 2, cloud, sources: [] }, 'a test'), /must name at least one directory source/);
    assert.throws(() => parseConfig({ version: 2, cloud, preferredForest: 'northwind.com', sources: [source('a', 'DC=contoso,DC=com'), source('b', 'DC=fabrikam,DC=com')] }, 'a test'),
      /preferredForest: "northwind.com" is not a configured forest: give one of contoso.com, fabrikam.com/);
    assert.equal(parseConfig({ version: 2, cloud, preferredForest: 'Fabrikam.com', sources: [source('a', 'DC=contoso,DC=com'), source('b', 'DC=fabrikam,DC=com')] }, 'a test')
      .preferredForest, 'Fabrikam.com');
  });

  it('reads a configuration of one domain as it always was: one source, its own forest', () => {
    const config = parseConfig({ version: 1, cloud, ad: { url: 'ldaps://dc1:636', bindDn: 'x', baseDn: 'DC=contoso,DC=com' } }, 'a test');
    assert.deepEqual(adSourcesOf(config).map((s) => [s.id, s.domain, s.forest, s.passwordSecret]), [['primary', 'contoso.com', 'contoso.com', 'ad.password']]);
  });
});

describe('the same UPN in two forests', () => {
  const forests = (preferred?: string): ForestRule => ({ forestOf: (dn) => (/dc=fabrikam/i.test(dn) ? 'fabrikam.test' : 'contoso.test'), ...(preferred ? { preferred } : {}) });
  const keys = [
    { adGuid: 'c', dn: 'CN=Ann,OU=Staff,DC=contoso,DC=test', objectType: 'user' as const, value: 'ann@contoso.com' },
    { adGuid: 'f', dn: 'CN=Ann,OU=Staff,DC=fabrikam,DC=test', objectType: 'user' as const, value: 'Ann@Contoso.com' },
  ];

  it('is written for neither, each reported with both DNs and forests, when neither is synchronized and no forest was chosen', () => {
    const errors = findDuplicates('userPrincipalName', keys, new Set(), forests());
    assert.deepEqual(errors.map((e) => [e.adGuid, e.code]), [['c', 'duplicate-userprincipalname-across-forests'], ['f', 'duplicate-userprincipalname-across-forests']]);
    assert.match(errors[0]?.reason ?? '', /of this object \(forest contoso\.test\) is also used by CN=Ann,OU=Staff,DC=fabrikam,DC=test \(forest fabrikam\.test\).*neither is written/);
    assert.match(errors[1]?.reason ?? '', /is also used by CN=Ann,OU=Staff,DC=contoso,DC=test \(forest contoso\.test\)/);
    assert.match(errors[0]?.hint ?? '', /preferredForest/);
  });

  it('is kept by the chosen forest, or by the object already synchronized, and refused for the other', () => {
    const chosen = findDuplicates('userPrincipalName', keys, new Set(), forests('fabrikam.test'));
    assert.deepEqual(chosen.map((e) => e.adGuid), ['c']);
    assert.match(chosen[0]?.reason ?? '', /CN=Ann,OU=Staff,DC=fabrikam,DC=test keeps it \(forest fabrikam\.test was chosen to win\)/);
    const linked = findDuplicates('userPrincipalName', keys, new Set(['c']), forests('fabrikam.test'));
    assert.deepEqual(linked.map((e) => e.adGuid), ['f']);
    assert.match(linked[0]?.reason ?? '', /keeps it \(it is already synchronized\)/);
  });

  it('within one forest keeps the rule of one domain: the first keeps it', () => {
    const oneForest = [keys[0] as (typeof keys)[number], { ...(keys[0] as (typeof keys)[number]), adGuid: 'd', dn: 'CN=Ann2,OU=Staff,DC=contoso,DC=test' }];
    assert.deepEqual(findDuplicates('userPrincipalName', oneForest, new Set(), forests()).map((e) => [e.adGuid, e.code]), [['d', 'duplicate-userprincipalname']]);
  });
});
