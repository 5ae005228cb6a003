import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CloudRegistrationView } from '../../src/contract/control-api.ts';
import type { RunSummary } from '../../src/contract/model.ts';
import { startService, type RunningService } from '../../src/service/daemon.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { startHarness, TIME_SCALE, type Harness } from '../support/engine-harness.ts';

type Obj = Record<string, unknown> & { id: string };

/**
 * The seed's procedure for moving to another computer — install there, run the Configuration Wizard,
 * sign in — registers a second app, "Directory Sync (<new host>)", with an anchor property of its own.
 * The groups the first installation created carry only the first app's anchor (a group has no
 * immutable id): the second must find them through the first registration and adopt them.
 */
describe('a second installation with an app registration of its own', () => {
  let sandbox: AdSandbox;
  /** The lab's AD and a tenant of this test's own; its configuration is the template both installations start from. */
  let lab: Harness;
  const services: RunningService[] = [];
  let registrations: CloudRegistrationView[] = [];

  const objects = (type: 'user' | 'group'): Obj[] => ((lab.tenant.state.dump() as { objects: Record<string, Obj[]> }).objects[type] ?? []);
  const anchorOf = (appId: string): string => `extension_${appId.replace(/-/g, '')}_sourceAnchor`;

  /**
   * A new installation on `hostName` (an empty data directory), configured as the wizard does it: an administrator signs
   * in with the device code, the service registers its own app, and the configuration is saved with the AD password.
   */
  async function install(hostName: string): Promise<{ running: RunningService; registration: CloudRegistrationView }> {
    const running = await startService({ dataDir: mkdtempSync(join(tmpdir(), `dirsync-${hostName}-`)), hostName, schedule: false, ownershipSettleMs: 50, writeBudget: { writes: 3000, windowSeconds: 150 / TIME_SCALE } });
    services.push(running);
    const t = lab.tenant.connection;
    const prompt = await running.service.beginCloudSignIn({ instance: 'custom', tenant: t.tenantId, authorityHost: t.authorityHost, graphBaseUrl: t.graphBaseUrl });
    lab.tenant.state.approveDeviceCode(prompt.userCode, t.globalAdminUpn);
    const registration = await running.service.completeCloudSignIn({ signInId: prompt.signInId });
    const cloud = { ...lab.config.cloud, clientId: registration.appId, credential: 'certificate', certificatePem: registration.certificatePem };
    await running.service.saveConfig({ config: { ...lab.config, cloud }, secrets: { adPassword: lab.ad.adminPassword } });
    return { running, registration };
  }

  async function fullRun(running: RunningService, dryRun = false): Promise<RunSummary> {
    const { runId } = await running.service.startRun({ kind: 'full', dryRun });
    for (;;) {
      const run = (await running.service.listRuns({ limit: 5 })).find((r) => r.id === runId);
      if (run && run.status !== 'running') return run;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Second Installation');
    const users: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      users.push(await sandbox.addUser(`Second Install ${i}`, { sAMAccountName: `secondinst${i}`, userPrincipalName: `second.install${i}@contoso.com`, displayName: `Second Install ${i}` }));
    }
    const team = await sandbox.addGroup('Second Install Team', users.slice(0, 2));
    await sandbox.addGroup('Second Install All', [...users.slice(2), team]);
    await sandbox.addGroup('Second Install Empty', []);
    lab = await startHarness({ scopeOuGuids: [await sandbox.guidOf(sandbox.ouDn)] });
  });
  after(async () => {
    for (const running of services) await running.stop();
    await lab?.close();
    await sandbox?.close();
  });

  it('the first installation registers "Directory Sync (dirsync-old)" and creates the users and groups', async () => {
    const { running, registration } = await install('dirsync-old');
    registrations = [registration];
    assert.equal(registration.displayName, 'Directory Sync (dirsync-old)');
    assert.equal((await running.service.claimOwnership({ takeOver: false })).claimed, true);
    const run = await fullRun(running);
    assert.equal(run.status, 'succeeded', run.message);
    assert.deepEqual([run.exported['create-user'], run.exported['create-group']], [4, 3]);
    await running.stop();
  });

  it('the second registers its own app, finds the first registration, and adopts every group and user: nothing is created', async () => {
    const groupsBefore = objects('group').filter((g) => typeof g[anchorOf(registrations[0]?.appId ?? '')] === 'string');
    assert.equal(groupsBefore.length, 3);
    const { running, registration } = await install('dirsync-new');
    assert.equal(registration.displayName, 'Directory Sync (dirsync-new)');
    assert.notEqual(registration.appId, registrations[0]?.appId, 'a registration of its own');
    assert.deepEqual(registration.earlierRegistrations, [{ appId: registrations[0]?.appId, displayName: 'Directory Sync (dirsync-old)' }], registration.warnings.join(' '));
    assert.equal((await running.service.claimOwnership({ takeOver: true })).claimed, true);

    // The match report (what `dirsync match` shows) names the registration each object came from.
    const preview = await fullRun(running, true);
    const report = await running.service.matchReport({ runId: preview.id });
    const groupReasons = report.filter((r) => r.objectType === 'group').map((r) => `${r.kind}: ${r.reason}`);
    assert.equal(groupReasons.length, 3);
    assert.ok(groupReasons.every((reason) => /^hard-match: .*earlier registration Directory Sync \(dirsync-old\)/.test(reason)), groupReasons.join('\n'));

    const run = await fullRun(running);
    assert.equal(run.status, 'succeeded', run.message);
    assert.equal(run.exported['create-group'] ?? 0, 0, '0 groups created');
    assert.equal(run.exported['create-user'] ?? 0, 0, '0 users created');
    assert.equal(run.matchReport?.['hard-match'], 7, 'every group and user adopted');

    const groupsAfter = objects('group').filter((g) => /^Second Install/.test(String(g['displayName'])));
    assert.equal(groupsAfter.length, 3, 'each group exists once');
    assert.ok(groupsAfter.every((g) => typeof g[anchorOf(registration.appId)] === 'string'), 'every group now carries the new app\'s anchor');
    const again = await fullRun(running);
    assert.deepEqual(again.exported, {}, 'the next full run writes nothing');
  });
});
