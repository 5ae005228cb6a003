import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, startHarness, writesSince, type Harness } from '../support/engine-harness.ts';

type CloudObject = { id: string; displayName?: string; userPrincipalName?: string; accountEnabled?: boolean; jobTitle?: string; members?: string[]; [k: string]: unknown };

describe('delta sync exports only what changed in AD', () => {
  let sandbox: AdSandbox;
  let harness: Harness;
  let ouA: string;
  let ouB: string;
  let excluded: string;
  let group: string;
  const users: Record<string, string> = {};

  const user = (name: string, parent: string) => sandbox.addUser(name, {
    sAMAccountName: `delta${name}`, userPrincipalName: `delta.${name.toLowerCase()}@contoso.com`, displayName: `Delta ${name}`, givenName: name, sn: 'Delta',
  }, parent);

  function cloud(): { users: CloudObject[]; groups: CloudObject[] } {
    const dump = harness.tenant.state.dump() as { objects: Record<string, CloudObject[]> };
    const anchor = `extension_${harness.tenant.connection.clientId.replace(/-/g, '')}_sourceAnchor`;
    return {
      users: (dump.objects['user'] ?? []).filter((u) => typeof u[anchor] === 'string'),
      groups: (dump.objects['group'] ?? []).filter((g) => typeof g[anchor] === 'string'),
    };
  }
  const cloudUser = (name: string) => cloud().users.find((u) => u.displayName === `Delta ${name}`);

  async function deltaWrites(): Promise<string[]> {
    const seq = lastSeq(harness.tenant);
    const run = await harness.sync('delta');
    assert.equal(run.kind, 'delta');
    assert.notEqual(run.status, 'failed', run.message);
    return writesSince(harness.tenant, seq).map((w) => `${w.method} ${w.path.replace(/[0-9a-f-]{36}/g, '{id}')}`);
  }

  before(async () => {
    const ad = await sharedAd();
    sandbox = await createAdSandbox(ad, 'Test Delta Sync');
    ouA = await sandbox.addOu('A');
    ouB = await sandbox.addOu('B');
    excluded = await sandbox.addOu('Excluded');
    for (const name of ['Ann', 'Ben', 'Cat', 'Dan']) users[name] = await user(name, ouA);
    group = await sandbox.addGroup('Delta Team', [users['Ann'] as string, users['Ben'] as string]);
    harness = await startHarness({
      scopeOuGuids: [await sandbox.guidOf(sandbox.ouDn)],
      config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [await sandbox.guidOf(excluded)] },
        deletionThreshold: { count: 500, percent: 100 } },
    });
    const first = await harness.sync('full');
    assert.equal(first.exported['create-user'], 4);
    assert.equal(first.exported['create-group'], 1);
    assert.equal(first.exported['add-member'], 2);
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('creates a user added in AD with one write', async () => {
    users['Eve'] = await user('Eve', ouA);
    assert.deepEqual(await deltaWrites(), ['POST /v1.0/users']);
    assert.ok(cloudUser('Eve'));
  });

  it('updates only the changed attribute of a modified user', async () => {
    await sandbox.replace(users['Ann'] as string, 'title', ['Head of Delta']);
    assert.deepEqual(await deltaWrites(), ['PATCH /v1.0/users/{id}']);
    assert.equal(cloudUser('Ann')?.jobTitle, 'Head of Delta');
  });

  it('writes nothing for a rename or a move between OUs in scope', async () => {
    const renamed = `CN=Benjamin,${ouA}`;
    await sandbox.rename(users['Ben'] as string, renamed);
    users['Ben'] = renamed;
    const moved = `CN=Cat,${ouB}`;
    await sandbox.rename(users['Cat'] as string, moved);
    users['Cat'] = moved;
    assert.deepEqual(await deltaWrites(), []);
  });

  it('renames in the cloud when the display name changes', async () => {
    await sandbox.replace(users['Dan'] as string, 'displayName', ['Delta Daniel']);
    assert.deepEqual(await deltaWrites(), ['PATCH /v1.0/users/{id}']);
    assert.ok(cloud().users.some((u) => u.displayName === 'Delta Daniel'));
  });

  it('disables in the cloud a user disabled in AD', async () => {
    await sandbox.replace(users['Ann'] as string, 'userAccountControl', ['546']);
    assert.deepEqual(await deltaWrites(), ['PATCH /v1.0/users/{id}']);
    assert.equal(cloudUser('Ann')?.accountEnabled, false);
  });

  it('adds and removes group members as $ref changes', async () => {
    await sandbox.addValues(group, 'member', [users['Cat'] as string]);
    await sandbox.deleteValues(group, 'member', [users['Ben'] as string]);
    assert.deepEqual((await deltaWrites()).sort(), ['DELETE /v1.0/groups/{id}/members/{id}/$ref', 'POST /v1.0/groups/{id}/members/$ref']);
    const team = cloud().groups.find((g) => g.displayName === 'Delta Team');
    const ids = new Set(team?.members ?? []);
    assert.equal(ids.has(cloudUser('Cat')?.id ?? ''), true);
    assert.equal(ids.has(cloud().users.find((u) => u.userPrincipalName === 'delta.ben@contoso.com')?.id ?? ''), false);
  });

  it('deletes in the cloud a user moved out of scope, and one deleted in AD', async () => {
    const eveId = cloudUser('Eve')?.id;
    await sandbox.rename(users['Eve'] as string, `CN=Eve,${excluded}`);
    const danId = cloud().users.find((u) => u.displayName === 'Delta Daniel')?.id;
    await sandbox.remove(users['Dan'] as string);
    assert.deepEqual((await deltaWrites()).sort(), ['DELETE /v1.0/users/{id}', 'DELETE /v1.0/users/{id}']);
    const ids = new Set(cloud().users.map((u) => u.id));
    assert.equal(ids.has(eveId ?? ''), false);
    assert.equal(ids.has(danId ?? ''), false);
  });

  it('refuses a new user whose mail an unchanged user already has, and creates it once the mail is its own', async () => {
    await sandbox.replace(users['Ann'] as string, 'mail', ['shared.delta@contoso.com']);
    assert.deepEqual(await deltaWrites(), ['PATCH /v1.0/users/{id}']);
    users['Fay'] = await user('Fay', ouA);
    await sandbox.replace(users['Fay'] as string, 'mail', ['Shared.Delta@contoso.com']);
    const seq = lastSeq(harness.tenant);
    const refused = await harness.sync('delta');
    assert.deepEqual(writesSince(harness.tenant, seq), [], 'Fay is not created while her mail is Ann\'s');
    const errors = harness.store.listErrors(refused.id);
    assert.deepEqual(errors.map((e) => [e.dn, e.code]), [[users['Fay'], 'duplicate-mail']]);
    assert.match(errors[0]?.reason ?? '', /also used by CN=Ann,/);
    await sandbox.replace(users['Fay'] as string, 'mail', ['fay.delta@contoso.com']);
    assert.deepEqual(await deltaWrites(), ['POST /v1.0/users']);
  });

  it('plans a delta from the objects that changed, without reading the others', async () => {
    const reads: Array<number | undefined> = [];
    const candidates = harness.store.adSyncCandidates.bind(harness.store);
    const everything = harness.store.adSyncCandidatesLinked.bind(harness.store);
    harness.store.adSyncCandidates = (options = {}) => {
      reads.push(options.changedAfterRun);
      return candidates(options);
    };
    // A full pass reads every object with its link.
    harness.store.adSyncCandidatesLinked = (pageSize) => {
      reads.push(undefined);
      return everything(pageSize);
    };
    try {
      await sandbox.replace(users['Cat'] as string, 'title', ['Cataloguer']);
      assert.deepEqual(await deltaWrites(), ['PATCH /v1.0/users/{id}']);
      assert.ok(reads.length > 0 && reads.every((run) => run !== undefined), `every read of the AD connector space is of changed objects (${reads.join(', ')})`);
      // The in-scope table the delta kept counts what a full pass counts: Ann, Benjamin, Cat, Fay and the group.
      assert.equal(harness.store.countInScope(), 5);
      reads.length = 0;
      // A renamed OU may move scope under objects that did not change: that delta reads them all.
      await sandbox.rename(ouB, ouB.replace(/^OU=B,/, 'OU=B2,'));
      ouB = ouB.replace(/^OU=B,/, 'OU=B2,');
      users['Cat'] = `CN=Cat,${ouB}`;
      assert.deepEqual(await deltaWrites(), []);
      assert.ok(reads.some((run) => run === undefined), 'a container changed: the whole connector space is read');
      assert.equal(harness.store.countInScope(), 5);
    } finally {
      harness.store.adSyncCandidates = candidates;
      harness.store.adSyncCandidatesLinked = everything;
    }
  });

  it('writes nothing when nothing changed', async () => {
    assert.deepEqual(await deltaWrites(), []);
  });
});
