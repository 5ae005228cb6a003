/**
 * Delta queries (graph-reference.md §6) for users and groups.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { TenantServer } from '../tenant/index.ts';
import { STRONG_PASSWORD, appGraphClient, graphError, startTestTenant, unique } from './support/tenant.ts';

type Item = Record<string, unknown> & { id: string; '@removed'?: { reason: string } };
type DeltaPage = { value: Item[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };

describe('tenant delta', () => {
  let server: TenantServer;
  let client: Client;
  /** Follows nextLinks to the end of a round; returns all items and the deltaLink. */
  const round = async (url: string, prefer?: string): Promise<{ items: Item[]; deltaLink: string; pages: number }> => {
    const items: Item[] = [];
    let next: string | undefined = url;
    let pages = 0;
    for (;;) {
      const request = client.api(next);
      if (prefer) request.header('Prefer', prefer);
      const page = await request.get() as DeltaPage;
      pages += 1;
      items.push(...page.value);
      if (page['@odata.nextLink']) {
        next = page['@odata.nextLink'];
        continue;
      }
      assert.ok(page['@odata.deltaLink']);
      return { items, deltaLink: page['@odata.deltaLink'], pages };
    }
  };
  const createUser = async (): Promise<Item> => {
    const alias = unique('dl');
    return client.api('/users').post({
      accountEnabled: true, displayName: alias, mailNickname: alias, userPrincipalName: `${alias}@contoso.com`, passwordProfile: { password: STRONG_PASSWORD },
    }) as Promise<Item>;
  };

  before(async () => {
    server = await startTestTenant();
    client = appGraphClient(server.connection);
    for (let i = 0; i < 5; i += 1) await createUser();
  });
  after(async () => {
    await server.close();
  });

  it('runs users rounds: pages, deltaLink, changes, soft and hard deletions', async () => {
    const initial = await round('/users/delta?$select=displayName,userPrincipalName,jobTitle', 'odata.maxpagesize=3');
    assert.ok(initial.pages >= 3);
    assert.match(initial.deltaLink, /^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/users\/delta\?\$deltatoken=/);
    const total = await client.api('/users/$count').header('ConsistencyLevel', 'eventual').get() as string;
    assert.equal(initial.items.length, Number(total));
    assert.ok(initial.items.every((u) => typeof u.id === 'string' && 'displayName' in u && !('mail' in u)));

    const added = await createUser();
    const changed = initial.items.find((u) => u['displayName'] === 'Megan Bowen');
    assert.ok(changed);
    await client.api(`/users/${changed.id}`).patch({ jobTitle: 'Director' });
    const removed = await createUser();
    const purged = await createUser();
    const second = await round(initial.deltaLink);
    const secondIds = new Set(second.items.map((u) => u.id));
    assert.ok(secondIds.has(added.id) && secondIds.has(changed.id) && secondIds.has(removed.id));
    assert.equal(second.items.find((u) => u.id === changed.id)?.['jobTitle'], 'Director');

    await client.api(`/users/${removed.id}`).delete();
    await client.api(`/users/${purged.id}`).delete();
    await client.api(`/directory/deletedItems/${purged.id}`).delete();
    const third = await round(second.deltaLink);
    assert.deepEqual(third.items.find((u) => u.id === removed.id)?.['@removed'], { reason: 'changed' });
    assert.deepEqual(third.items.find((u) => u.id === purged.id)?.['@removed'], { reason: 'deleted' });
    assert.equal(third.items.length, 2);
  });

  it('tracks only the selected properties and honours Prefer: return=minimal', async () => {
    const start = await round('/users/delta?$select=displayName,jobTitle');
    const user = await createUser();
    const afterCreate = await round(start.deltaLink);
    await client.api(`/users/${user.id}`).patch({ city: 'Bergen' });
    const unselected = await round(afterCreate.deltaLink);
    assert.equal(unselected.items.length, 0, 'a change to a property outside $select does not surface the object');
    await client.api(`/users/${user.id}`).patch({ jobTitle: 'Pilot' });
    const minimal = await round(unselected.deltaLink, 'return=minimal');
    assert.deepEqual(minimal.items, [{ id: user.id, jobTitle: 'Pilot' }]);
  });

  it('starts from now with $deltatoken=latest', async () => {
    const latest = await client.api('/users/delta?$deltatoken=latest').get() as DeltaPage;
    assert.deepEqual(latest.value, []);
    assert.ok(latest['@odata.deltaLink']);
    const user = await createUser();
    const next = await round(latest['@odata.deltaLink'] ?? '');
    assert.deepEqual(next.items.map((u) => u.id), [user.id]);
  });

  it('reports group membership changes in members@delta', async () => {
    const member = await createUser();
    const other = await createUser();
    const group = await client.api('/groups').post({
      displayName: 'Delta group', mailEnabled: false, mailNickname: unique('dg'), securityEnabled: true,
      'members@odata.bind': [`https://graph.microsoft.com/v1.0/directoryObjects/${member.id}`],
    }) as Item;
    const initial = await round('/groups/delta');
    const entry = initial.items.find((g) => g.id === group.id);
    assert.deepEqual(entry?.['members@delta'], [{ '@odata.type': '#microsoft.graph.user', id: member.id }]);
    await client.api(`/groups/${group.id}/members/${member.id}/$ref`).delete();
    await client.api(`/groups/${group.id}/members/$ref`).post({ '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${other.id}` });
    const next = await round(initial.deltaLink);
    const changed = next.items.find((g) => g.id === group.id);
    const members = changed?.['members@delta'] as Item[];
    assert.deepEqual(members.find((m) => m.id === member.id), { '@odata.type': '#microsoft.graph.user', id: member.id, '@removed': { reason: 'deleted' } });
    assert.deepEqual(members.find((m) => m.id === other.id), { '@odata.type': '#microsoft.graph.user', id: other.id });
  });

  it('expires delta tokens after seven days (410 with a Location to restart)', async () => {
    const start = await round('/users/delta?$select=displayName');
    server.state.advanceClock(8 * 24 * 3600);
    // Eight days on, the token msal cached is long expired at the tenant: sign in anew.
    const error = await graphError(appGraphClient(server.connection).api(start.deltaLink).get());
    assert.equal(error.statusCode, 410);
    assert.equal(error.code, 'syncStateNotFound');
    assert.match(String(error.headers?.get('location')), /\/v1\.0\/users\/delta\?\$deltatoken=$/);
  });
});
