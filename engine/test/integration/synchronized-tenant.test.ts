import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../../../lab/connection.ts';
import { entraConnectSeed, scopeDnOf } from '../../../lab/tenant/connect-seed.ts';
import type { TenantSeed } from '../../../lab/tenant/seed.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, startHarness, writesSince, type Harness } from '../support/engine-harness.ts';

type Obj = Record<string, unknown> & { id: string };

/** The `dirsync` command on a data directory, as an administrator runs it. */
async function dirsync(dataDir: string, args: ReadonlyArray<string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'engine', 'bin', 'dirsync.js'), '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)));
  return { code, stdout, stderr };
}

/**
 * A tenant Entra Connect synchronizes from the lab's AD (the lab's Entra Connect seed): every user and
 * security group of OU=Contoso exists as a synchronized cloud object. Directory Sync must block them
 * all, create no duplicate, add no member to a synchronized group, and create what has no synchronized
 * counterpart only after an administrator approves it.
 */
describe('a tenant another tool synchronizes', () => {
  let harness: Harness;
  let sandbox: AdSandbox;
  let seed: TenantSeed;
  let syncedGroupIds: Set<string>;
  const newObjects: Record<string, string> = {};

  const objects = (type: 'user' | 'group'): Obj[] => ((harness.tenant.state.dump() as { objects: Record<string, Obj[]> }).objects[type] ?? []);

  before(async () => {
    const ad = await sharedAd();
    seed = await entraConnectSeed(ad);
    sandbox = await createAdSandbox(ad, 'Test Synchronized Tenant');
    newObjects['user'] = await sandbox.addUser('Newcomer Nia', { sAMAccountName: 'newcomernia', userPrincipalName: 'newcomer.nia@contoso.com', displayName: 'Newcomer Nia' });
    newObjects['group'] = await sandbox.addGroup('Newcomers', [newObjects['user']]);
    const contoso = await sandbox.guidOf(scopeDnOf(ad));
    harness = await startHarness({ tenant: { seed }, scopeOuGuids: [contoso, await sandbox.guidOf(sandbox.ouDn)] });
    syncedGroupIds = new Set(objects('group').filter((g) => g['onPremisesSyncEnabled'] === true).map((g) => g.id));
    assert.ok(syncedGroupIds.size >= 20, `the seed holds the lab's synchronized security groups (${syncedGroupIds.size})`);
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('counts every synchronized group and user as blocked in the match report, and plans to create none of them', async () => {
    const preview = await harness.sync('full', true);
    assert.deepEqual(preview.tenantSynchronized, { lastSyncDateTime: (seed.organization as { onPremisesLastSyncDateTime: string }).onPremisesLastSyncDateTime });
    const blocked = harness.store.listReports(preview.id, 'blocked');
    // Mail-enabled groups are not writable through Graph at all: they are reported as such, not matched.
    const seededGroups = (seed.groups ?? []).filter((g) => g.props?.['mailEnabled'] !== true);
    const seededUsers = seed.users?.filter((u) => u.props?.['onPremisesSyncEnabled'] === true) ?? [];
    assert.equal(blocked.filter((r) => r.objectType === 'group').length, seededGroups.length, 'every synchronized security group is blocked');
    // Users with values Entra refuses are reported as invalid before any match; every other synchronized user is blocked.
    const invalidUsers = new Set(harness.store.listErrors(preview.id).filter((e) => e.objectType === 'user').map((e) => e.dn));
    assert.equal(blocked.filter((r) => r.objectType === 'user').length + invalidUsers.size, seededUsers.length, 'every synchronized user is blocked or invalid');
    assert.ok(blocked.every((r) => /synchronized by another tool/.test(r.reason)), blocked.find((r) => !/synchronized by another tool/.test(r.reason))?.reason);
    assert.ok(blocked.some((r) => r.objectType === 'group' && /SID S-1-5-21-/.test(r.reason)), 'groups are recognised by their SID');
    assert.equal(preview.matchReport?.['create'], 2, 'only the two sandbox objects have no synchronized counterpart');
    assert.equal(harness.store.listErrors(preview.id).filter((e) => e.code.startsWith('match-')).length, 0, 'objects another tool synchronizes are reported, not errors');
  });

  it('dirsync status and dirsync plan say first, and plainly, that another tool synchronizes the tenant', async () => {
    const status = await dirsync(harness.dataDir, ['status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout.split('\n')[0] ?? '', /^This tenant is synchronized by another tool \(its last synchronization: .*\): Entra Connect, Cloud Sync or DirSync\. .* In the tenant: \d+ users and \d+ groups it synchronizes/);
    const json = JSON.parse((await dirsync(harness.dataDir, ['--json', 'status'])).stdout) as { tenant: { synchronized: boolean }; synchronizedByAnotherTool: { group: number } };
    assert.equal(json.tenant.synchronized, true);
    assert.equal(json.synchronizedByAnotherTool.group, syncedGroupIds.size);
    const plan = await dirsync(harness.dataDir, ['plan', '--full']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout.split('\n')[0] ?? '', /^This tenant is synchronized by another tool/);
    assert.match(plan.stdout, /HELD create-group CN=Newcomers,/);
  });

  it('creates nothing beside the synchronized objects and adds no member to them; the two new objects wait for approval', async () => {
    const seq = lastSeq(harness.tenant);
    const run = await harness.sync('full');
    assert.equal(run.status, 'waiting-for-approval', run.message);
    assert.equal(run.exported['create-group'] ?? 0, 0);
    assert.equal(run.exported['create-user'] ?? 0, 0);
    assert.match(run.heldReasons?.[0] ?? '', /^This tenant is synchronized by another tool .*2 objects that have no synchronized counterpart/);
    // The ownership lease (organization) and the app's own anchor property are the only writes: no directory object.
    const writes = writesSince(harness.tenant, seq).filter((w) => !/\/organization|\/applications\//.test(w.path));
    assert.deepEqual(writes.map((w) => `${w.method} ${w.path}`), [], 'nothing at all is written to the tenant before the approval');
    const held = harness.store.listOperations(run.planId as number, { status: 'held' }).map((s) => s.operation);
    assert.deepEqual(held.map((op) => op.kind).sort(), ['add-member', 'create-group', 'create-user']);
    assert.ok(held.every((op) => op.gated === true));
  });

  it('after the approval creates exactly the objects with no synchronized counterpart, and the tenant\'s group names stay unique', async () => {
    const run = await harness.sync('full');
    const seq = lastSeq(harness.tenant);
    const approved = await harness.approve(run.planId as number);
    assert.equal(approved.status, 'succeeded', `${approved.message} ${JSON.stringify(harness.store.listErrors(approved.id))}`);
    assert.deepEqual(approved.exported, { 'create-user': 1, 'create-group': 1, 'add-member': 1 });
    const memberWrites = writesSince(harness.tenant, seq).filter((w) => /\/members/.test(w.path));
    assert.ok(memberWrites.every((w) => ![...syncedGroupIds].some((id) => w.path.includes(id))), 'no member is added to a synchronized group');
    const names = objects('group').map((g) => String(g['displayName']).toLowerCase());
    const twice = names.filter((n, i) => names.indexOf(n) !== i);
    assert.deepEqual(twice, [], 'no group name exists twice in the tenant');
    const next = await harness.sync('full');
    assert.equal(next.held, 0, 'nothing waits any more');
    assert.deepEqual(next.exported, {}, 'a full run after that writes nothing');
  });

  it('refuses, with both identities, to create a group that a synchronized group\'s name and alias already name', async () => {
    const synced = objects('group').find((g) => syncedGroupIds.has(g.id)) as Obj;
    // Named by displayName, so that its own account name (from the cn) never collides with the synchronized group's AD object.
    const twin = await sandbox.addGroup('Twin Of A Synchronized Group', []);
    await sandbox.replace(twin, 'displayName', [String(synced['displayName'])]);
    // Samba has no mailNickname: the alias comes from sAMAccountName, which must differ from the synchronized group's own
    // AD object; a dot (which a mail alias cannot hold, so it is removed) makes it a different account with the same alias.
    const alias = String(synced['mailNickname']);
    await sandbox.replace(twin, 'sAMAccountName', [`${alias.slice(0, 1)}.${alias.slice(1)}`]);
    const run = await harness.sync('full');
    assert.equal(run.exported['create-group'] ?? 0, 0);
    const error = harness.store.listErrors(run.id).find((e) => e.dn === twin);
    assert.equal(error?.code, 'match-beside-synchronized');
    assert.match(error?.reason ?? '', new RegExp(`${synced.id}`));
    assert.match(error?.reason ?? '', /SID S-1-5-21-\d+-\d+-\d+-\d+/, 'the AD object\'s SID is named');
    assert.equal(harness.store.listOperations(run.planId as number).filter((s) => s.operation.adGuid !== undefined && s.operation.dn === twin).length, 0);
  });
});
