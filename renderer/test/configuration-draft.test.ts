import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceAccountView } from '../../engine/src/contract/control-api.ts';
import { buildConfig, domainScope, draftDomains, draftFromSaved, isSavedDomain, type CloudDraft, type SavedConfig, type SavedSource, type ScopeDraft } from '../src/pages/configure/configuration-draft.ts';

const account: ServiceAccountView = { dn: 'CN=MSOL_0123456789ab,CN=Users,DC=contoso,DC=com', samAccountName: 'MSOL_0123456789ab',
  userPrincipalName: 'MSOL_0123456789ab@contoso.com', created: false, rights: { bind: true, readDirectory: true, dirSync: true, checks: [] } };

/** A saved configuration with everything the wizard does not show set away from its default. */
const saved: SavedConfig = {
  version: 2,
  sources: [{
    id: 'primary',
    ad: { url: 'ldaps://dc1.contoso.com', trustedCaPem: 'AD-CA', bindDn: account.dn, baseDn: 'DC=contoso,DC=com', pageSize: 250 },
    scope: { includedOuGuids: ['ou-sales'], excludedOuGuids: ['ou-sales-archive'], groupGuid: 'pilot-group', ldapFilter: '(department=Sales)' },
    passwordSecret: 'ad.password',
  }],
  cloud: { instance: 'custom', tenantId: '11111111-2222-3333-4444-555555555555', clientId: '66666666-7777-8888-9999-000000000000', credential: 'secret',
    authorityHost: 'https://login.example', graphBaseUrl: 'https://graph.example/', trustedCaPem: 'CLOUD-CA' },
  deletionThreshold: { count: 50, percent: 5 },
  schedule: { intervalMinutes: 15, fullEveryHours: 6 },
  stagingMode: true,
  serviceAccountNames: ['MSOL_0123456789ab', 'MSOL_old000000000'],
  matching: { softMatchUpn: true, softMatchMail: false },
  attributeFlow: { user: { department: null } },
  historyDays: 90,
  network: { proxy: { mode: 'url', url: 'http://proxy.contoso.com:8080', username: 'svc-proxy' } },
};

describe('the Configuration Wizard draft', () => {
  it('opens a rerun on the saved configuration, page by page', () => {
    const draft = draftFromSaved(saved, account);
    assert.equal(draft.cloud?.inUse, true);
    assert.equal(draft.cloud?.credential, 'secret');
    assert.equal(draft.ad?.inUse, true);
    assert.equal(draft.ad?.serviceAccount, account);
    assert.deepEqual(draft.scope, { includedOuGuids: ['ou-sales'], ldapFilter: '(department=Sales)' });
    assert.deepEqual(draft.options, { deletionThreshold: { count: 50, percent: 5 }, intervalMinutes: 15, stagingMode: true });
    assert.equal(draft.cloud?.tenantDisplayName, undefined, 'an app of your own: the tenant is shown by id');
    const registered = draftFromSaved(saved, account, { tenantDisplayName: 'Contoso', verifiedDomains: ['contoso.com'], appDisplayName: 'Directory Sync (dc1)' });
    assert.equal(registered.cloud?.tenantDisplayName, 'Contoso');
    assert.deepEqual(registered.cloud?.verifiedDomains, ['contoso.com']);
    assert.equal(registered.cloud?.appDisplayName, 'Directory Sync (dc1)');
  });

  it('gives back exactly the saved configuration when nothing is changed', () => {
    // As the service receives it: JSON, where an undefined property is no property.
    assert.deepEqual(JSON.parse(JSON.stringify(buildConfig(draftFromSaved(saved, account)))), saved);
  });

  it('keeps what the wizard does not show when the administrator changes what it does', () => {
    const draft = draftFromSaved(saved, account);
    const config = buildConfig({ ...draft, scope: { includedOuGuids: ['ou-marketing'] }, options: { deletionThreshold: { count: 10, percent: 1 }, intervalMinutes: 60, stagingMode: false } });
    const source = (config?.['sources'] as Array<Record<string, unknown>>)[0];
    assert.deepEqual(source?.['scope'], { includedOuGuids: ['ou-marketing'], excludedOuGuids: ['ou-sales-archive'], groupGuid: 'pilot-group', ldapFilter: undefined });
    assert.equal(source?.['passwordSecret'], 'ad.password', 'the source keeps what the wizard does not show');
    assert.deepEqual(config?.['schedule'], { intervalMinutes: 60, fullEveryHours: 6 });
    assert.deepEqual(config?.['matching'], saved['matching']);
    assert.deepEqual(config?.['attributeFlow'], saved['attributeFlow']);
    assert.equal(config?.['historyDays'], 90);
    assert.equal((config?.['cloud'] as { trustedCaPem?: string }).trustedCaPem, 'CLOUD-CA', 'a CA trusted for a custom cloud survives the rerun');
    assert.equal((source?.['ad'] as { pageSize?: number }).pageSize, 250);
  });

  it('starts the scope afresh, and forgets the old service accounts, for another domain', () => {
    const draft = draftFromSaved(saved, account);
    const other: ServiceAccountView = { ...account, dn: 'CN=MSOL_fedcba987654,CN=Users,DC=fabrikam,DC=com', samAccountName: 'MSOL_fedcba987654' };
    const config = buildConfig({ ...draft, ad: { url: 'ldaps://dc1.fabrikam.com', baseDn: 'DC=fabrikam,DC=com', serviceAccount: other }, scope: undefined });
    const source = (config?.['sources'] as Array<Record<string, unknown>>)[0];
    assert.deepEqual(source?.['scope'], { includedOuGuids: [], excludedOuGuids: [] });
    assert.deepEqual(config?.['serviceAccountNames'], ['MSOL_fedcba987654']);
    assert.equal((source?.['ad'] as { bindDn: string }).bindDn, other.dn);
  });

  it('switching to another cloud, or to a certificate, drops the old cloud settings', () => {
    const draft = draftFromSaved(saved, account);
    const config = buildConfig({ ...draft, cloud: { instance: 'global', tenantId: 'contoso.onmicrosoft.com', clientId: '12345678-1234-1234-1234-123456789012',
      credential: 'certificate', certificatePem: 'CERT', verifiedDomains: ['contoso.com'] } });
    const cloud = config?.['cloud'] as Record<string, unknown>;
    assert.equal(cloud['trustedCaPem'], 'CLOUD-CA', 'authorities trusted on the network section belong to the network, not to the cloud instance');
    assert.equal(cloud['authorityHost'], undefined);
    assert.equal(cloud['certificatePem'], 'CERT');
  });

  it('carries the network section: the proxy chosen and the authorities trusted, the proxy password apart', () => {
    const draft = draftFromSaved(saved, account);
    assert.deepEqual(draft.network, { proxy: saved['network']?.proxy, trustedCaPem: 'CLOUD-CA' });
    const config = buildConfig({ ...draft, network: { proxy: { mode: 'none' }, trustedCaPem: 'INSPECTION-CA' } });
    assert.deepEqual(config?.['network'], { proxy: { mode: 'none' } });
    assert.equal((config?.['cloud'] as Record<string, unknown>)['trustedCaPem'], 'INSPECTION-CA');
    assert.ok(!/proxyPassword/i.test(JSON.stringify(config)), 'no proxy password in the configuration');
  });

  it('is incomplete until both connections are made', () => {
    assert.equal(buildConfig({}), undefined);
    assert.equal(buildConfig({ cloud: draftFromSaved(saved, account).cloud }), undefined);
  });
});

const fabrikamAccount: ServiceAccountView = { dn: 'CN=MSOL_fab000000001,CN=Users,DC=fabrikam,DC=com', samAccountName: 'MSOL_fab000000001',
  userPrincipalName: 'MSOL_fab000000001@fabrikam.com', created: true, forest: 'fabrikam.com', rights: { bind: true, readDirectory: true, dirSync: true, checks: [] } };

/** Two forests as the service saves them: contoso.com with its child domain emea, and fabrikam.com added after it. */
const savedForests: SavedConfig = {
  ...saved,
  sources: [
    saved.sources[0] as SavedSource,
    { id: 'emea.contoso.com', forest: 'contoso.com', ad: { url: 'ldaps://dc1.emea.contoso.com:636', trustedCaPem: 'AD-CA', bindDn: account.dn, baseDn: 'DC=emea,DC=contoso,DC=com', pageSize: 1000 },
      scope: { includedOuGuids: ['ou-emea'], excludedOuGuids: [] }, passwordSecret: 'ad.password' },
    { id: 'fabrikam.com', forest: 'fabrikam.com', ad: { url: 'ldaps://dc1.fabrikam.com:636', trustedCaPem: 'FABRIKAM-CA', bindDn: fabrikamAccount.dn, baseDn: 'DC=fabrikam,DC=com', pageSize: 1000 },
      scope: { includedOuGuids: ['ou-fabrikam-staff'], excludedOuGuids: ['ou-fabrikam-archive'], ldapFilter: '(department=Sales)' }, passwordSecret: 'ad.password/fabrikam.com' },
  ],
  serviceAccountNames: ['MSOL_0123456789ab', 'MSOL_old000000000', 'MSOL_fab000000001'],
};

const cloudDraft: CloudDraft = { instance: 'global', tenantId: 'contoso.onmicrosoft.com', clientId: '12345678-1234-1234-1234-123456789012', credential: 'certificate',
  certificatePem: 'CERT', verifiedDomains: ['contoso.com'] };

type Source = { id: string; forest?: string; passwordSecret?: string; ad: Record<string, unknown>; scope: Record<string, unknown> };

describe('the Configuration Wizard draft with several domains and forests', () => {
  it('makes a source of every ticked domain of every forest: ids, forests, password secrets and scopes', () => {
    const config = buildConfig({
      cloud: cloudDraft,
      ad: { url: 'ldaps://dc1.contoso.com:636', trustedCaPem: 'AD-CA', baseDn: 'DC=contoso,DC=com', serviceAccount: account, forest: 'contoso.com',
        domains: [{ dnsName: 'EMEA.contoso.com', netbiosName: 'EMEA', baseDn: 'DC=emea,DC=contoso,DC=com', url: 'ldaps://dc1.emea.contoso.com:636', trustedCaPem: 'AD-CA' }] },
      forests: [{ forest: 'fabrikam.com', url: 'ldaps://dc1.fabrikam.com:636', trustedCaPem: 'FABRIKAM-CA', baseDn: 'DC=fabrikam,DC=com', serviceAccount: fabrikamAccount }],
      scope: { includedOuGuids: ['ou-sales'], domains: { 'dc=emea,dc=contoso,dc=com': { includedOuGuids: ['ou-emea'] }, 'dc=fabrikam,dc=com': { includedOuGuids: [] } } },
    });
    assert.deepEqual(JSON.parse(JSON.stringify(config?.['sources'])) as Source[], [
      { id: 'primary', ad: { url: 'ldaps://dc1.contoso.com:636', trustedCaPem: 'AD-CA', bindDn: account.dn, baseDn: 'DC=contoso,DC=com' },
        scope: { includedOuGuids: ['ou-sales'], excludedOuGuids: [] } },
      { id: 'emea.contoso.com', forest: 'contoso.com', passwordSecret: 'ad.password',
        ad: { url: 'ldaps://dc1.emea.contoso.com:636', trustedCaPem: 'AD-CA', bindDn: account.dn, baseDn: 'DC=emea,DC=contoso,DC=com' },
        scope: { includedOuGuids: ['ou-emea'], excludedOuGuids: [] } },
      { id: 'fabrikam.com', forest: 'fabrikam.com', passwordSecret: 'ad.password/fabrikam.com',
        ad: { url: 'ldaps://dc1.fabrikam.com:636', trustedCaPem: 'FABRIKAM-CA', bindDn: fabrikamAccount.dn, baseDn: 'DC=fabrikam,DC=com' },
        scope: { includedOuGuids: [], excludedOuGuids: [] } },
    ]);
    assert.deepEqual(config?.['serviceAccountNames'], ['MSOL_0123456789ab', 'MSOL_fab000000001'], 'every forest\'s account is this installation\'s, never synchronized');
  });

  it('names the forest of the first forest\'s domains when the domain controller given is in a child domain', () => {
    const config = buildConfig({ cloud: cloudDraft, ad: { url: 'ldaps://dc1.emea.contoso.com:636', baseDn: 'DC=emea,DC=contoso,DC=com', serviceAccount: account, forest: 'contoso.com' } });
    const [source] = config?.['sources'] as Source[];
    assert.equal(source?.forest, 'contoso.com');
    assert.equal(source?.passwordSecret, undefined, 'the first forest keeps the default secret');
  });

  it('opens a rerun of two forests on both, every domain with its scope and each forest with its account', () => {
    const draft = draftFromSaved(savedForests, account, undefined, { 'fabrikam.com': fabrikamAccount });
    assert.equal(draft.ad?.inUse, true);
    assert.equal(draft.ad?.forest, 'contoso.com');
    assert.deepEqual(draft.ad?.domains?.map((d) => [d.dnsName, d.url]), [['emea.contoso.com', 'ldaps://dc1.emea.contoso.com:636']]);
    assert.equal(draft.forests?.length, 1);
    assert.equal(draft.forests?.[0]?.forest, 'fabrikam.com');
    assert.equal(draft.forests?.[0]?.inUse, true);
    assert.equal(draft.forests?.[0]?.serviceAccount, fabrikamAccount);
    assert.equal(draft.forests?.[0]?.trustedCaPem, 'FABRIKAM-CA');
    assert.deepEqual(draft.scope, { includedOuGuids: ['ou-sales'], ldapFilter: '(department=Sales)', domains: {
      'dc=emea,dc=contoso,dc=com': { includedOuGuids: ['ou-emea'], ldapFilter: undefined },
      'dc=fabrikam,dc=com': { includedOuGuids: ['ou-fabrikam-staff'], ldapFilter: '(department=Sales)' } } });
    assert.deepEqual(draftDomains(draft).map((d) => [d.dnsName, d.forest, d.forestIndex]),
      [['contoso.com', 'contoso.com', 0], ['emea.contoso.com', 'contoso.com', 0], ['fabrikam.com', 'fabrikam.com', 1]]);
  });

  it('gives back exactly the saved configuration of two forests when nothing is changed', () => {
    const draft = draftFromSaved(savedForests, account, undefined, { 'fabrikam.com': fabrikamAccount });
    assert.deepEqual(JSON.parse(JSON.stringify(buildConfig(draft))), savedForests);
    // Without the added forest's account view (an older service), its account is the DN its sources are read as.
    assert.deepEqual(JSON.parse(JSON.stringify(buildConfig(draftFromSaved(savedForests, account)))), savedForests);
  });

  it('keeps each domain\'s scope and settings through the Scope page, and removes a forest taken away', () => {
    const draft = draftFromSaved(savedForests, account, undefined, { 'fabrikam.com': fabrikamAccount });
    const config = buildConfig({ ...draft, scope: { ...draft.scope as ScopeDraft, domains: { ...draft.scope?.domains, 'dc=fabrikam,dc=com': { includedOuGuids: ['ou-fabrikam-groups'] } } } });
    const fabrikam = (config?.['sources'] as Source[])[2];
    assert.deepEqual(fabrikam?.scope, { includedOuGuids: ['ou-fabrikam-groups'], excludedOuGuids: ['ou-fabrikam-archive'], ldapFilter: undefined });
    assert.equal(fabrikam?.id, 'fabrikam.com');
    assert.equal(fabrikam?.ad['pageSize'], 1000);

    const withoutFabrikam = buildConfig({ ...draft, forests: [] });
    assert.deepEqual((withoutFabrikam?.['sources'] as Source[]).map((s) => s.id), ['primary', 'emea.contoso.com']);
    assert.deepEqual(JSON.parse(JSON.stringify(withoutFabrikam?.['sources'])), savedForests.sources.slice(0, 2));
  });

  it('builds today\'s configuration for a forest of one domain', () => {
    const config = buildConfig({
      cloud: cloudDraft,
      ad: { url: 'ldaps://dc1.contoso.com:636', baseDn: 'DC=contoso,DC=com', serviceAccount: account, forest: 'contoso.com', domains: [] },
      scope: { includedOuGuids: ['ou-sales'] },
    });
    assert.deepEqual(JSON.parse(JSON.stringify(config)), {
      version: 2,
      sources: [{ id: 'primary', ad: { url: 'ldaps://dc1.contoso.com:636', bindDn: account.dn, baseDn: 'DC=contoso,DC=com' }, scope: { includedOuGuids: ['ou-sales'], excludedOuGuids: [] } }],
      cloud: { instance: 'global', tenantId: 'contoso.onmicrosoft.com', clientId: '12345678-1234-1234-1234-123456789012', credential: 'certificate', certificatePem: 'CERT' },
      serviceAccountNames: ['MSOL_0123456789ab'],
    });
  });

  it('finds the first forest\'s domains by their naming context when its domain controller is now in another of its domains', () => {
    // A rerun where the first forest is given an emea DC (the root DC retired): each domain keeps its id (its cookie) and scope.
    const draft = draftFromSaved(savedForests, account, undefined, { 'fabrikam.com': fabrikamAccount });
    const ad = { ...draft.ad as NonNullable<typeof draft.ad>, url: 'ldaps://dc1.emea.contoso.com:636', baseDn: 'DC=emea,DC=contoso,DC=com',
      domains: [{ dnsName: 'contoso.com', netbiosName: 'CONTOSO', baseDn: 'DC=contoso,DC=com', url: 'ldaps://dc1.contoso.com', trustedCaPem: 'AD-CA' }] };
    const moved = { ...draft, ad, scope: undefined };
    const emea = draftDomains(moved)[0];
    assert.equal(emea?.dnsName, 'emea.contoso.com');
    assert.deepEqual(domainScope(moved, emea as NonNullable<typeof emea>), { includedOuGuids: ['ou-emea'], ldapFilter: undefined });
    const sources = buildConfig(moved)?.['sources'] as Source[];
    assert.deepEqual(sources.map((source) => [source.id, source.ad['baseDn'], source.scope['includedOuGuids'], source.scope['excludedOuGuids']]), [
      ['emea.contoso.com', 'DC=emea,DC=contoso,DC=com', ['ou-emea'], []],
      ['primary', 'DC=contoso,DC=com', ['ou-sales'], ['ou-sales-archive']],
      ['fabrikam.com', 'DC=fabrikam,DC=com', ['ou-fabrikam-staff'], ['ou-fabrikam-archive']],
    ]);
  });

  it('gives a domain ticked on a rerun the filter the others have, never none', () => {
    const draft = draftFromSaved(saved, account);
    const withApac = { ...draft, scope: undefined, ad: { ...draft.ad as NonNullable<typeof draft.ad>,
      domains: [{ dnsName: 'apac.contoso.com', netbiosName: 'APAC', baseDn: 'DC=apac,DC=contoso,DC=com', url: 'ldaps://dc1.apac.contoso.com' }] } };
    const [first, apac] = draftDomains(withApac);
    assert.equal(domainScope(withApac, first as NonNullable<typeof first>).ldapFilter, '(department=Sales)');
    assert.deepEqual(domainScope(withApac, apac as NonNullable<typeof apac>), { includedOuGuids: [], ldapFilter: '(department=Sales)' });
    assert.equal(isSavedDomain(withApac, apac as NonNullable<typeof apac>), false);
  });
});
