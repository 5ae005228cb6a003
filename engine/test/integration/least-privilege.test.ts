/**
 * Least privilege in the tenant: the app registration asks for exactly the Microsoft Graph
 * application permissions Directory Sync uses. With all of them full syncs (users, a group and its
 * members, administrators read, the ownership lease, the anchor extension) succeed; without any one of them, something it does is refused. (The AD side — the MSOL_
 * account's rights — is proven in service-account.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ENGINE_APP_ROLES } from '../../../lab/tenant/seed.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { DIRECTORY_SYNC_GRAPH_PERMISSIONS } from '../../src/cloud/app-registration.ts';
import { claimOwnership } from '../../src/cloud/ownership.ts';
import { cloudConnectorFor } from '../../src/run/session.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { startHarness } from '../support/engine-harness.ts';

describe('least privilege: the Graph permissions Directory Sync asks for are the ones it uses', () => {
  let sandbox: AdSandbox;
  let ouGuid: string;

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Least Privilege');
    const members: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      members.push(await sandbox.addUser(`Least User ${i}`, { sAMAccountName: `least${i}`, userPrincipalName: `least.user${i}@contoso.com`, displayName: `Least User ${i}` }));
    }
    await sandbox.addGroup('Least Group', members);
    ouGuid = await sandbox.guidOf(sandbox.ouDn);
  });
  after(async () => {
    await sandbox?.close();
  });

  /** A full sync by an app holding `roles`, then a full run again (nothing to do): what went wrong, if anything. */
  async function syncWith(roles: ReadonlyArray<string>): Promise<string | undefined> {
    const harness = await startHarness({ config: { scope: { includedOuGuids: [ouGuid], excludedOuGuids: [] } }, tenant: { seed: { app: { roles } } } });
    try {
      // The ownership lease: claimed before the first run, as the service does.
      const graph = cloudConnectorFor(harness.store, harness.config).graph;
      const claim = await claimOwnership(graph, harness.config.cloud.tenantId, { serverId: 'least-1', hostName: 'least-host' }, { takeOver: false, settleMs: 50 });
      if (!claim.claimed) return `ownership lease not claimed: ${JSON.stringify(claim)}`;
      for (const label of ['first full run', 'second full run']) {
        const run = await harness.sync('full');
        if (run.status !== 'succeeded') return `${label} ${run.status}: ${run.message ?? ''} ${JSON.stringify(harness.store.listErrors(run.id).map((e) => e.reason)).slice(0, 300)}`;
      }
      return undefined;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await harness.close();
    }
  }

  it('asks for the permissions the lab tenant grants its app, no more, no fewer', () => {
    assert.deepEqual([...DIRECTORY_SYNC_GRAPH_PERMISSIONS].sort(), [...ENGINE_APP_ROLES].sort());
  });

  it('synchronizes with exactly those permissions', async () => {
    assert.equal(await syncWith(DIRECTORY_SYNC_GRAPH_PERMISSIONS), undefined);
  });

  for (const permission of DIRECTORY_SYNC_GRAPH_PERMISSIONS) {
    it(`is refused something it does without ${permission}`, async () => {
      const problem = await syncWith(DIRECTORY_SYNC_GRAPH_PERMISSIONS.filter((p) => p !== permission));
      assert.ok(problem !== undefined, `nothing failed without ${permission}: it is not needed`);
    });
  }
});
