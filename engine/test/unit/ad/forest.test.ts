import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainsFromCrossRefs, findDomainControllers, type CrossRefEntry } from '../../../src/ad/forest.ts';

const partitions = 'CN=Partitions,CN=Configuration,DC=contoso,DC=com';

/**
 * A forest's crossRefs as Windows writes them (MS-ADTS 6.1.1.2.1.1; Samba's provision_configuration.ldif for
 * the root's): the configuration and schema (systemFlags 1), the root domain (3), a child domain (3, with
 * trustParent), a second tree (3, no parent), the DNS application partitions (5) and a domain being created
 * (enabled FALSE). Samba 4.17 cannot host a child domain (lab/samba/README.md), so these paths are tested here.
 */
const crossRefs: CrossRefEntry[] = [
  { dn: `CN=Enterprise Configuration,${partitions}`, nCName: 'CN=Configuration,DC=contoso,DC=com', dnsRoot: 'contoso.com', systemFlags: '1' },
  { dn: `CN=Enterprise Schema,${partitions}`, nCName: 'CN=Schema,CN=Configuration,DC=contoso,DC=com', dnsRoot: 'contoso.com', systemFlags: '1' },
  { dn: `CN=CONTOSO,${partitions}`, nCName: 'DC=contoso,DC=com', dnsRoot: 'contoso.com', nETBIOSName: 'CONTOSO', systemFlags: '3' },
  { dn: `CN=EMEA,${partitions}`, nCName: 'DC=emea,DC=contoso,DC=com', dnsRoot: 'emea.contoso.com', nETBIOSName: 'EMEA', systemFlags: '3', trustParent: `CN=CONTOSO,${partitions}` },
  { dn: `CN=APAC,${partitions}`, nCName: 'DC=apac,DC=contoso,DC=com', dnsRoot: ['apac.contoso.com'], nETBIOSName: ['APAC'], systemFlags: ['3'], trustParent: [`cn=contoso,${partitions.toLowerCase()}`] },
  { dn: `CN=FABRIKAM,${partitions}`, nCName: 'DC=fabrikam,DC=com', dnsRoot: 'fabrikam.com', nETBIOSName: 'FABRIKAM', systemFlags: '3' },
  { dn: `CN=6a1e…,${partitions}`, nCName: 'DC=DomainDnsZones,DC=contoso,DC=com', dnsRoot: 'DomainDnsZones.contoso.com', systemFlags: '5' },
  { dn: `CN=7b2f…,${partitions}`, nCName: 'DC=ForestDnsZones,DC=contoso,DC=com', dnsRoot: 'ForestDnsZones.contoso.com', systemFlags: '5' },
  { dn: `CN=NEWDOM,${partitions}`, nCName: 'DC=new,DC=contoso,DC=com', dnsRoot: 'new.contoso.com', nETBIOSName: 'NEWDOM', systemFlags: '3', enabled: 'FALSE' },
];

describe('the forest a domain controller belongs to', () => {
  it('lists every domain of the forest from its crossRefs, the root first, children with their parent', () => {
    const domains = domainsFromCrossRefs(crossRefs, 'DC=contoso,DC=com');
    assert.deepEqual(domains, [
      { dnsName: 'contoso.com', netbiosName: 'CONTOSO', namingContext: 'DC=contoso,DC=com', forestRoot: true },
      { dnsName: 'apac.contoso.com', netbiosName: 'APAC', namingContext: 'DC=apac,DC=contoso,DC=com', parent: 'contoso.com', forestRoot: false },
      { dnsName: 'emea.contoso.com', netbiosName: 'EMEA', namingContext: 'DC=emea,DC=contoso,DC=com', parent: 'contoso.com', forestRoot: false },
      { dnsName: 'fabrikam.com', netbiosName: 'FABRIKAM', namingContext: 'DC=fabrikam,DC=com', forestRoot: false },
    ]);
  });

  it('a single-domain forest is its root domain only (the configuration, schema and DNS partitions are not domains)', () => {
    const single = crossRefs.filter((c) => !/EMEA|APAC|FABRIKAM|NEWDOM/.test(c.dn));
    assert.deepEqual(domainsFromCrossRefs(single, 'DC=contoso,DC=com').map((d) => d.dnsName), ['contoso.com']);
  });

  it('finds a domain\'s controllers in DNS by priority, then weight; none when DNS does not answer', async () => {
    const asked: string[] = [];
    const dcs = await findDomainControllers('emea.contoso.com', async (name) => {
      asked.push(name);
      return [
        { name: 'dc3.emea.contoso.com.', port: 389, priority: 10, weight: 100 },
        { name: 'dc1.emea.contoso.com', port: 389, priority: 0, weight: 50 },
        { name: 'dc2.emea.contoso.com', port: 389, priority: 0, weight: 100 },
      ];
    });
    assert.deepEqual(asked, ['_ldap._tcp.dc._msdcs.emea.contoso.com']);
    assert.deepEqual(dcs.map((d) => d.host), ['dc2.emea.contoso.com', 'dc1.emea.contoso.com', 'dc3.emea.contoso.com']);
    assert.deepEqual(await findDomainControllers('nowhere.test', async () => { throw Object.assign(new Error('queryTxt ENOTFOUND'), { code: 'ENOTFOUND' }); }), []);
  });
});
