import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { startTenantServer, type TenantServer } from '../../../lab/tenant/index.ts';
import { beginAdminSignIn, checkAppCredential, registerDirectorySyncApp, type CloudSettings } from '../../src/cloud/app-registration.ts';
import { CloudConnector } from '../../src/cloud/connector.ts';
import {
  OWNERSHIP_EXTENSION_NAME, OwnershipGuard, claimOwnership, readOwnership, releaseOwnership, verifyOwnership, type ServerIdentity,
} from '../../src/cloud/ownership.ts';
import { OwnershipLostError } from '../../src/errors/ownership-errors.ts';

const SERVER_A: ServerIdentity = { serverId: '7c1e0a52-2f55-4f1c-9a57-1f0c6b1d0a01', hostName: 'sync-a.contoso.com' };
const SERVER_B: ServerIdentity = { serverId: '0b9d8c3e-6a44-4d2b-8e61-5a7f2c9e0b02', hostName: 'sync-b.contoso.com' };
const SETTLE_MS = 50;

describe('tenant ownership lease', () => {
  let tenant: TenantServer;
  let tenantId: string;
  /** Server A signs in as the lab's engine application (client secret). */
  let graphA: Client;
  /** Server B signs in as its own registered application (certificate), as a second installation would. */
  let graphB: Client;

  const extensionRecord = (): Record<string, unknown> | undefined => {
    const objects = (tenant.state.dump() as { objects: Record<string, Array<{ extensions?: Array<Record<string, unknown>> }>> }).objects;
    return objects['organization']?.[0]?.extensions?.find((e) => e['extensionName'] === OWNERSHIP_EXTENSION_NAME);
  };

  before(async () => {
    tenant = await startTenantServer();
    const c = tenant.connection;
    tenantId = c.tenantId;
    const cloud: CloudSettings = { instance: 'custom', authorityHost: c.authorityHost, graphBaseUrl: c.graphBaseUrl };
    graphA = new CloudConnector({ ...cloud, tenantId, clientId: c.clientId, credential: { kind: 'secret', clientSecret: c.clientSecret } }).graph;
    const signIn = await beginAdminSignIn(cloud);
    tenant.state.approveDeviceCode(signIn.userCode, c.globalAdminUpn);
    const admin = await signIn.result;
    try {
      const registration = await registerDirectorySyncApp(admin, { hostName: SERVER_B.hostName });
      graphB = (await checkAppCredential(registration, { ...cloud, timeoutSeconds: 10, retryDelayMs: 200 })).connector.graph;
    } finally {
      await admin.signOut();
    }
  });
  after(async () => {
    await tenant?.close();
  });

  it('lets the first server claim a lease nobody holds', async () => {
    assert.equal(await readOwnership(graphA, tenantId), null);
    const result = await claimOwnership(graphA, tenantId, SERVER_A, { takeOver: false, settleMs: SETTLE_MS });
    assert.ok(result.claimed);
    assert.equal(result.lease.serverId, SERVER_A.serverId);
    assert.equal(result.lease.hostName, SERVER_A.hostName);
    assert.equal(result.lease.generation, 1);
    assert.deepEqual(await readOwnership(graphB, tenantId), result.lease, 'the other server reads the same lease');
    assert.equal(await verifyOwnership(graphA, tenantId, SERVER_A), 'owner');
  });

  it('returns the holder to a second server that does not take over, and leaves the lease alone', async () => {
    const before = await readOwnership(graphA, tenantId);
    const result = await claimOwnership(graphB, tenantId, SERVER_B, { takeOver: false, settleMs: SETTLE_MS });
    assert.ok(!result.claimed);
    assert.equal(result.holder.hostName, SERVER_A.hostName, 'the wizard can say "held by sync-a.contoso.com since …"');
    assert.equal(result.holder.claimedAt, before?.claimedAt);
    assert.deepEqual(await readOwnership(graphA, tenantId), before);
  });

  it('lets the second server take over; the first server\'s verify reports it lost and its guard stops exporting', async () => {
    let now = Date.parse('2026-03-02T08:00:00Z');
    const guardA = new OwnershipGuard({ graph: graphA, tenantId, me: SERVER_A, verifyEverySeconds: 30, now: () => now, elapsed: () => now });
    assert.equal(guardA.mayExport(), false, 'not verified yet: fail closed');
    assert.equal((await guardA.refresh()).state, 'owner');
    assert.equal(guardA.mayExport(), true);

    const result = await claimOwnership(graphB, tenantId, SERVER_B, { takeOver: true, settleMs: SETTLE_MS });
    assert.ok(result.claimed);
    assert.equal(result.lease.generation, 2, 'a take-over increases the generation');
    assert.deepEqual(await verifyOwnership(graphA, tenantId, SERVER_A), { lost: result.lease });

    const seq = tenant.state.requestLog().at(-1)?.seq ?? 0;
    now += 10_000;
    assert.equal(guardA.mayExport(), true, 'within verifyEverySeconds the cached answer stands');
    assert.equal(tenant.state.requestLog(seq).filter((r) => r.path.includes('/extensions')).length, 0, 'and costs no Graph request');
    now += 25_000;
    guardA.mayExport();
    await guardA.settled();
    assert.equal(guardA.mayExport(), false);
    assert.equal(guardA.status().state, 'lost');
    assert.equal(guardA.status().holder?.hostName, SERVER_B.hostName);
    assert.throws(() => guardA.assertMayExport(), (error: unknown) =>
      error instanceof OwnershipLostError && error.code === 'ownership-lost' && error.holder?.serverId === SERVER_B.serverId && error.message.includes(SERVER_B.hostName));
  });

  it('writes the whole record on every heartbeat, keeping the generation', async () => {
    let now = Date.now();
    const guardB = new OwnershipGuard({ graph: graphB, tenantId, me: SERVER_B, verifyEverySeconds: 30, heartbeatEverySeconds: 60, now: () => now, elapsed: () => now });
    await guardB.refresh();
    const before = await readOwnership(graphB, tenantId);
    now += 61_000;
    await guardB.refresh();
    const renewed = await readOwnership(graphB, tenantId);
    assert.equal(renewed?.generation, before?.generation);
    assert.equal(renewed?.claimedAt, before?.claimedAt);
    assert.equal(renewed?.heartbeatAt, new Date(now).toISOString());
    const record = extensionRecord();
    for (const field of ['serverId', 'hostName', 'generation', 'claimedAt', 'heartbeatAt']) assert.notEqual(record?.[field], undefined, `${field} survives the PATCH`);
  });

  it('keeps re-verifying on time when the wall clock is set back an hour, and so sees a take-over', async () => {
    let wall = Date.now();
    let elapsed = 0;
    const guardB = new OwnershipGuard({ graph: graphB, tenantId, me: SERVER_B, verifyEverySeconds: 30, now: () => wall, elapsed: () => elapsed });
    assert.equal((await guardB.refresh()).state, 'owner');
    const takeover = await claimOwnership(graphA, tenantId, SERVER_A, { takeOver: true, settleMs: SETTLE_MS });
    assert.ok(takeover.claimed);
    wall -= 3600_000;
    elapsed += 35_000;
    guardB.mayExport();
    await guardB.settled();
    assert.equal(guardB.mayExport(), false, 'an hour set back on the wall clock does not postpone the verification');
    assert.equal(guardB.status().holder?.serverId, SERVER_A.serverId);
    // Back to B, as the next tests expect.
    assert.ok((await claimOwnership(graphB, tenantId, SERVER_B, { takeOver: true, settleMs: SETTLE_MS })).claimed);
  });

  it('does not release another server\'s lease, and releases its own', async () => {
    const notMine = await releaseOwnership(graphA, tenantId, SERVER_A);
    assert.ok(!notMine.released);
    assert.equal(notMine.holder?.serverId, SERVER_B.serverId);
    assert.equal((await readOwnership(graphA, tenantId))?.serverId, SERVER_B.serverId);

    assert.deepEqual(await releaseOwnership(graphB, tenantId, SERVER_B), { released: true });
    assert.equal(await readOwnership(graphA, tenantId), null);
    assert.deepEqual(await verifyOwnership(graphB, tenantId, SERVER_B), { lost: null });
  });

  it('lets exactly one of two servers claiming an unheld lease at the same moment win (a create answered 409 reads again)', async () => {
    // Both reads are held back, so both servers see no lease and both try to create it.
    tenant.state.injectFaults({ mode: 'latency', latencyMs: 1000, pathPrefix: '/v1.0/organization', methods: ['GET'], count: 2 });
    const seq = tenant.state.requestLog().at(-1)?.seq ?? 0;
    const [a, b] = await Promise.all([
      claimOwnership(graphA, tenantId, SERVER_A, { takeOver: false, settleMs: 200 }),
      claimOwnership(graphB, tenantId, SERVER_B, { takeOver: false, settleMs: 200 }),
    ]);
    assert.equal([a, b].filter((r) => r.claimed).length, 1, JSON.stringify([a, b]));
    const winner = a.claimed ? a.lease : b.claimed ? b.lease : undefined;
    const loser = !a.claimed ? a : !b.claimed ? b : undefined;
    assert.ok(winner && loser && !loser.claimed);
    assert.deepEqual(loser.holder, winner);
    assert.deepEqual(await readOwnership(graphA, tenantId), winner);
    // Normally both creates are sent and the second gets 409 (on a starved machine the second read may already see the lease).
    const creates = tenant.state.requestLog(seq).filter((r) => r.method === 'POST' && r.path.includes('/extensions')).map((r) => r.status).sort();
    assert.ok(creates.length >= 1 && creates[0] === 201 && creates.slice(1).every((status) => status === 409), JSON.stringify(creates));
    assert.deepEqual(await releaseOwnership(winner.serverId === SERVER_A.serverId ? graphA : graphB, tenantId, winner.serverId === SERVER_A.serverId ? SERVER_A : SERVER_B), { released: true });
  });

  it('backs off when another server overwrites its claim before the confirming re-read', async () => {
    const slowA = claimOwnership(graphA, tenantId, SERVER_A, { takeOver: true, settleMs: 3000 });
    const deadline = Date.now() + 2500;
    while ((await readOwnership(graphB, tenantId))?.serverId !== SERVER_A.serverId) {
      assert.ok(Date.now() < deadline, 'server A wrote its claim');
      await new Promise((r) => setTimeout(r, 20));
    }
    const b = await claimOwnership(graphB, tenantId, SERVER_B, { takeOver: true, settleMs: SETTLE_MS });
    assert.ok(b.claimed, 'the later writer wins');
    const a = await slowA;
    assert.ok(!a.claimed, 'the earlier writer sees the later write and does not claim');
    assert.equal(a.holder.serverId, SERVER_B.serverId);
    assert.deepEqual(await releaseOwnership(graphB, tenantId, SERVER_B), { released: true });
  });

  it('treats a lease record in another shape as held, replaceable only by taking over', async () => {
    await graphA.api(`/organization/${tenantId}/extensions`).post({ '@odata.type': 'microsoft.graph.openTypeExtension', extensionName: OWNERSHIP_EXTENSION_NAME, owner: 'legacy-tool' });
    const refused = await claimOwnership(graphB, tenantId, SERVER_B, { takeOver: false, settleMs: SETTLE_MS });
    assert.ok(!refused.claimed);
    assert.equal(refused.holder.hostName, 'an unknown server');
    const taken = await claimOwnership(graphB, tenantId, SERVER_B, { takeOver: true, settleMs: SETTLE_MS });
    assert.ok(taken.claimed);
    assert.equal(extensionRecord()?.['owner'], undefined, 'the PATCH replaced the whole bag');
    assert.equal(extensionRecord()?.['serverId'], SERVER_B.serverId);
  });

  it('waits out a replica that has not seen its own claim yet, instead of taking it for another server\'s lease', async () => {
    // Microsoft Entra ID is eventually consistent: the confirming re-read is answered by a replica 2 s behind.
    tenant.state.setConsistency({ lagMs: { min: 2000, max: 2000 }, seed: 5 });
    try {
      const taken = await claimOwnership(graphA, tenantId, SERVER_A, { takeOver: true, settleMs: SETTLE_MS });
      assert.ok(taken.claimed, `server A holds the lease (not: ${JSON.stringify(taken)})`);
      assert.equal(taken.lease.serverId, SERVER_A.serverId);
      assert.equal(extensionRecord()?.['serverId'], SERVER_A.serverId);
    } finally {
      tenant.state.setConsistency(undefined);
    }
  });
});
