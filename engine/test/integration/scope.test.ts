import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { startHarness, type Harness } from '../support/engine-harness.ts';

describe('scope by LDAP filter and by group', () => {
  let sandbox: AdSandbox;
  let harness: Harness | undefined;
  const dns: Record<string, string> = {};

  const managedNames = (h: Harness): string[] => {
    const dump = h.tenant.state.dump() as { objects: Record<string, Array<Record<string, unknown>>> };
    const anchor = `extension_${h.tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`;
    return (dump.objects['user'] ?? []).filter((u) => typeof u[anchor] === 'string').map((u) => String(u['displayName'])).sort();
  };

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Scope');
    for (const [name, department] of [['Sue Sales', 'Sales'], ['Eli Eng', 'Engineering'], ['Sam Sales', 'Sales']] as const) {
      dns[name] = await sandbox.addUser(name, { sAMAccountName: name.replace(' ', '').toLowerCase(), userPrincipalName: `${name.replace(' ', '.').toLowerCase()}@contoso.com`, displayName: name, department });
    }
    dns['Pilot'] = await sandbox.addGroup('Pilot Group', [dns['Sue Sales'] as string, dns['Eli Eng'] as string]);
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('synchronizes only the objects the LDAP filter selects', async () => {
    harness = await startHarness({ config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [], ldapFilter: '(department=Sales)' } } });
    await harness.sync('full');
    assert.deepEqual(managedNames(harness), ['Sam Sales', 'Sue Sales']);
    await harness.close();
    harness = undefined;
  });

  it('synchronizes only the members of the scoping group', async () => {
    harness = await startHarness({ config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [], groupGuid: await sandbox.guidOf(dns['Pilot'] as string) } } });
    await harness.sync('full');
    assert.deepEqual(managedNames(harness), ['Eli Eng', 'Sue Sales']);
  });
});
