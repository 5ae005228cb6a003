/**
 * Faults around a sync: the tenant answering 429 storms, 500, 503, slowly, or dropping connections
 * on 10% of requests (inside $batch too); the DC dropping the connection in the middle of a page of
 * the import. Each run completes, or stops cleanly with a clear error and resumable state; once the
 * faults stop, the next run brings the tenant exactly to AD's state, with no duplicate. The tenant lags
 * (each write reaches other requests 0.1–2 s later) throughout, as Microsoft Entra ID does.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { openStore } from '../../src/run/session.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { managedInTenant, startHarness, untilReplicated, type Harness } from '../support/engine-harness.ts';
import { adCursorKey, PRIMARY_SOURCE } from '../../src/store/keys.ts';
import { withPrimarySource } from '../../src/base/config.ts';

const USERS = 150;

/** A TCP relay to the DC that, when armed, cuts both sides after a number of bytes from the DC. */
function cuttingRelay(target: URL): Promise<{ server: Server; port: number; cutAfter(bytes: number): void; cuts: () => number }> {
  let cutAt: number | undefined;
  let cuts = 0;
  const server = createServer((client: Socket) => {
    const upstream = connect(Number(target.port || 636), target.hostname === 'localhost' ? '127.0.0.1' : target.hostname);
    let relayed = 0;
    upstream.on('data', (chunk: Buffer) => {
      relayed += chunk.length;
      if (cutAt !== undefined && relayed > cutAt) {
        cutAt = undefined;
        cuts += 1;
        client.write(chunk.subarray(0, chunk.length / 2));
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    resolve({ server, port: address.port, cutAfter: (bytes) => { cutAt = bytes; }, cuts: () => cuts });
  }));
}

describe('faults: the tenant and the DC misbehaving', () => {
  let sandbox: AdSandbox;
  let harness: Harness;
  const upns: string[] = [];

  const managed = (): Array<Record<string, unknown>> => managedInTenant(harness.tenant, 'user');
  const assertExact = (why: string): void => {
    const inTenant = managed().map((u) => String(u['userPrincipalName']).toLowerCase());
    assert.equal(new Set(inTenant).size, inTenant.length, `no duplicate (${why})`);
    assert.deepEqual(inTenant.sort(), [...upns].sort(), `the tenant holds exactly AD's users (${why})`);
    const group = ((harness.tenant.state.dump() as { objects: Record<string, Array<{ displayName?: string; members?: string[] }>> }).objects['group'] ?? [])
      .find((g) => g.displayName === 'Fault Group');
    assert.equal(group?.members?.length, USERS, `every membership (${why})`);
  };

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Faults');
    const dns: string[] = [];
    for (let i = 0; i < USERS; i += 1) {
      const upn = `fault.user${i}@contoso.com`;
      upns.push(upn);
      dns.push(await sandbox.addUser(`Fault User ${i}`, { sAMAccountName: `fault${i}`, userPrincipalName: upn, displayName: `Fault User ${i}`, title: 'Before' }));
    }
    await sandbox.addGroup('Fault Group', dns);
    // Real Entra ID is eventually consistent (docs/eventual-consistency.md): the faults come on top of a lagging tenant.
    harness = await startHarness({ config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] } },
      tenant: { consistency: { lagMs: { min: 100, max: 2000 }, seed: 31 } } });
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('completes a full sync while 10% of Graph requests get 429, 500, 503, a slow answer or a dropped connection', async () => {
    const rules = [
      { mode: '429', retryAfterSeconds: 1 }, { mode: '500' }, { mode: '503', retryAfterSeconds: 1 }, { mode: 'latency', latencyMs: 400 }, { mode: 'drop' },
    ] as const;
    for (const rule of rules) harness.tenant.state.injectFaults({ ...rule, ratio: 0.02, pathPrefix: '/v1.0/', includeBatchItems: rule.mode !== 'latency' && rule.mode !== 'drop' });
    // A run either completes (some operations may fail once their retries are exhausted: they are planned
    // again, never lost) or stops with a clear error (a read it cannot do without); the next run goes on.
    const stops: string[] = [];
    let succeeded = false;
    for (let attempt = 0; attempt < 8 && !succeeded; attempt += 1) {
      try {
        const run = await harness.sync(attempt === 0 ? 'full' : 'delta');
        assert.notEqual(run.status, 'failed', run.message);
        succeeded = run.status === 'succeeded';
      } catch (error) {
        assert.match((error as Error).message, /Microsoft Graph|tenant|sign in|token/i, `a clear error: ${(error as Error).message}`);
        stops.push((error as Error).message);
      }
    }
    const hits = harness.tenant.state.requestLog().filter((r) => r.fault !== undefined).length;
    harness.tenant.state.clearFaults();
    assert.ok(hits > 5, `faults were injected (${hits})`);
    assert.ok(succeeded, `a run succeeded in spite of the faults (stops: ${stops.join(' | ')})`);
    assert.deepEqual(stops, [], 'no run stopped: reads are retried on 500, 502 and dropped connections, writes by the export writer');
    assertExact('after the faults');
    await untilReplicated(harness.tenant);
    const again = await harness.sync('full');
    assert.deepEqual(again.exported, {}, 'nothing left to do');
  });

  it('stops cleanly when the DC drops the connection mid-page, and the next run resumes from where it stood', async () => {
    const adUrl = new URL(harness.ad.ldapsUrl);
    const relay = await cuttingRelay(adUrl);
    try {
      for (const upn of upns.slice(0, 20)) await sandbox.replace(`CN=Fault User ${upn.match(/\d+/)?.[0]},${sandbox.ouDn}`, 'title', ['After']);
      const viaRelay = withPrimarySource(harness.config, (source) => ({ ...source, ad: { ...source.ad, url: `ldaps://${adUrl.hostname}:${relay.port}` } }));
      harness.config = viaRelay;
      relay.cutAfter(20_000);
      const cursorBefore = harness.store.getCursor(adCursorKey(PRIMARY_SOURCE));
      assert.ok(cursorBefore, 'a DirSync cookie is kept');
      await assert.rejects(harness.sync('full'), (error: Error) => {
        assert.match(error.message, /connection|closed|socket|reset|ECONNRESET|timed out/i, `a clear error: ${error.message}`);
        return true;
      });
      assert.equal(relay.cuts(), 1, 'the connection was cut in the middle of the import');
      const last = harness.store.listRuns(1)[0];
      assert.equal(last?.status, 'failed');
      assert.ok(last?.message && last.message.length > 10, 'the run records why it failed');
      assert.equal(harness.store.getCursor(adCursorKey(PRIMARY_SOURCE)), cursorBefore, 'the DirSync cookie did not move past what was not imported');
      // The store is intact and usable: reopen it as a restarted service would.
      harness.store.close();
      harness.store = openStore(harness.dataDir);
      const resumed = await harness.sync('delta');
      assert.equal(resumed.status, 'succeeded', resumed.message);
      const titles = managed().filter((u) => u['jobTitle'] === 'After').length;
      assert.equal(titles, 20, 'every change made before the cut arrived');
      assertExact('after the DC cut');
    } finally {
      relay.server.close();
    }
  });
});
