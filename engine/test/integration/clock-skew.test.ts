/**
 * Clocks that disagree: Microsoft's (the emulated tenant's, which the lab moves) and this computer's
 * (msal's token cache judges lifetimes on it). A jump in the middle of an export makes Graph refuse
 * the token msal still holds: the engine gets a new one, sends the refused request again, and the run
 * completes with every object once. A certificate sign-in from a computer whose clock is off by more
 * than five minutes is refused by the identity platform: the run stops with an error that names the
 * clock, and once the clocks agree the next run brings every change.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generate } from 'selfsigned';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { appGraphClient } from '../../../lab/test/support/tenant.ts';
import { parseConfig } from '../../src/base/config.ts';
import { SECRET_CERTIFICATE_KEY, SECRET_CERTIFICATE_THUMBPRINT } from '../../src/run/session.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, managedInTenant, startHarness, type Harness } from '../support/engine-harness.ts';
import { adCursorKey, PRIMARY_SOURCE } from '../../src/store/keys.ts';

const USERS = 120;

describe('clock skew: Microsoft\'s clock and this computer\'s disagree', () => {
  let sandbox: AdSandbox;
  let harness: Harness;
  const users: Array<{ dn: string; upn: string }> = [];

  const managedUsers = (): Array<Record<string, unknown>> => managedInTenant(harness.tenant, 'user');
  const assertExact = (why: string): void => {
    const upns = managedUsers().map((u) => String(u['userPrincipalName']).toLowerCase());
    assert.equal(new Set(upns).size, upns.length, `no duplicate (${why})`);
    assert.deepEqual(upns.sort(), users.map((u) => u.upn).sort(), `the tenant holds exactly AD's users (${why})`);
  };
  const resetClock = (): void => {
    harness.tenant.state.tenant.clock.offsetMs = 0;
  };

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Clock Skew');
    for (let i = 0; i < USERS; i += 1) {
      const upn = `clock.user${i}@contoso.com`;
      users.push({ upn, dn: await sandbox.addUser(`Clock User ${i}`, { sAMAccountName: `clock${i}`, userPrincipalName: upn, displayName: `Clock User ${i}`, title: 'Before' }) });
    }
    harness = await startHarness({ config: { scope: { includedOuGuids: [await sandbox.guidOf(sandbox.ouDn)], excludedOuGuids: [] } } });
  });
  after(async () => {
    await harness?.close();
    await sandbox?.close();
  });

  it('completes a full sync when Graph\'s clock jumps 2 h ahead, then 4 h back, during the export', async () => {
    const seq = lastSeq(harness.tenant);
    const log = harness.tenant.state;
    const batches = (): number => log.requestLog(seq).filter((r) => r.method === 'POST' && r.path.startsWith('/v1.0/$batch')).length;
    const jumps = [{ afterBatches: 2, seconds: 2 * 3600 }, { afterBatches: 5, seconds: -4 * 3600 }];
    const watcher = setInterval(() => {
      while (jumps[0] && batches() >= jumps[0].afterBatches) log.advanceClock(jumps.shift()?.seconds ?? 0);
    }, 2);
    try {
      const run = await harness.sync('full');
      assert.deepEqual(jumps, [], 'both jumps happened during the export');
      assert.equal(run.status, 'succeeded', run.message);
      const entries = log.requestLog(seq);
      const refused = entries.filter((r) => r.status === 401);
      assert.equal(refused.length, 2, `one refusal per jump: ${refused.map((r) => `${r.method} ${r.path}`).join(', ')}`);
      for (const refusal of refused) {
        const after = entries.filter((r) => r.seq > refusal.seq && r.batchParent === undefined);
        assert.match(after[0]?.path ?? '', /\/oauth2\/v2\.0\/token/, 'a new token is asked for right after the refusal');
        assert.equal(after[1]?.method, refusal.method);
        assert.equal(after[1]?.path, refusal.path, 'the refused request is sent again');
        assert.ok((after[1]?.status ?? 0) < 400, `and now accepted (${after[1]?.status})`);
      }
      assert.equal(entries.filter((r) => r.batchParent !== undefined && r.status >= 400).length, 0, 'no operation failed');
      assert.match(run.message ?? '', /Microsoft Graph refused 2 access tokens as expired or not yet valid; a new token was acquired and each refused request sent again\./);
      assert.match(run.message ?? '', /This computer's clock is 2 h 0 min ahead of Microsoft's: set it right/, 'the clock difference is named');
      assertExact('after the jumps');
      const again = await harness.sync('full');
      assert.deepEqual(again.exported, {}, 'nothing left to do');
    } finally {
      clearInterval(watcher);
      resetClock();
    }
  });

  it('stops a certificate sign-in refused for a clock 1 h off with an error that names the clock; once the clocks agree the next run brings every change', async () => {
    // The application signs in with a certificate, as one registered by the Configuration Wizard does.
    const pems = await generate([{ name: 'commonName', value: 'Directory Sync (clock test)' }], { keySize: 2048, algorithm: 'sha256' });
    const der = new X509Certificate(pems.cert).raw;
    const c = harness.tenant.connection;
    const graph = appGraphClient(c);
    const app = await graph.api(`/applications(appId='${c.clientId}')`).select('id').get() as { id: string };
    await graph.api(`/applications/${app.id}`).patch({ keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify', key: der.toString('base64') }] });
    harness.store.secrets.set(SECRET_CERTIFICATE_KEY, pems.private);
    harness.store.secrets.set(SECRET_CERTIFICATE_THUMBPRINT, createHash('sha256').update(der).digest('hex'));
    harness.config = parseConfig({ ...harness.config, cloud: { ...harness.config.cloud, credential: 'certificate', certificatePem: pems.cert } }, 'the clock test');

    for (const user of users.slice(0, 10)) await sandbox.replace(user.dn, 'title', ['After']);
    const cursorBefore = harness.store.getCursor(adCursorKey(PRIMARY_SOURCE));
    assert.ok(cursorBefore, 'a DirSync cookie is kept');
    try {
      harness.tenant.state.advanceClock(3600);
      await assert.rejects(harness.sync('delta'), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'cloud-authentication');
        assert.match(error.message, /refused the application's certificate sign-in .*not within its valid time range\. This computer's clock is 1 h 0 min behind Microsoft Entra ID's \(its time: /);
        assert.match(error.message, /Set the clock right \(Windows Time service or NTP\), then run again\./);
        return true;
      });
      const failed = harness.store.listRuns(1)[0];
      assert.equal(failed?.status, 'failed');
      assert.match(failed?.message ?? '', /clock is 1 h 0 min behind/, 'the run history says why');
      assert.equal(harness.store.getCursor(adCursorKey(PRIMARY_SOURCE)), cursorBefore, 'the DirSync cookie did not move');
      assert.equal(managedUsers().filter((u) => u['jobTitle'] === 'After').length, 0, 'nothing was written');
    } finally {
      resetClock();
    }
    const run = await harness.sync('delta');
    assert.equal(run.status, 'succeeded', run.message);
    assert.equal(managedUsers().filter((u) => u['jobTitle'] === 'After').length, 10, 'every change of the failed run arrived');
    assertExact('after the certificate sign-in succeeded');
  });
});
