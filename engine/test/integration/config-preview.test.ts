import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { after, before, describe, it } from 'node:test';
import type { ControlEvents, PreviewCategory, PreviewObject, RunProgress } from '../../src/contract/control-api.ts';
import { controlClient, subscribeControl, RemoteError, type ControlEndpoint } from '../../src/service/control-client.ts';
import { startService, type RunningService } from '../../src/service/daemon.ts';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { createAdSandbox, type AdSandbox } from '../support/ad-sandbox.ts';
import { lastSeq, startHarness, TIME_SCALE, writesSince, type Harness } from '../support/engine-harness.ts';

/**
 * The Readiness page's preview: a candidate configuration is validated, matched and planned against
 * the live AD and tenant before it is saved, and nothing — tenant, history, configuration — changes.
 */
describe('configuration preview (previewConfig)', () => {
  let sandbox: AdSandbox;
  let harness: Harness;
  let running: RunningService;
  let endpoint: ControlEndpoint;
  let includedOu: string;
  let outsideOu: string;
  const progress: RunProgress[] = [];
  let unsubscribe: () => void;

  async function allObjects(previewId: string, category: PreviewCategory): Promise<PreviewObject[]> {
    const api = controlClient(endpoint);
    const objects: PreviewObject[] = [];
    for (;;) {
      const page = await api.listPreviewObjects({ previewId, category, offset: objects.length, limit: 1000 });
      objects.push(...page.objects);
      if (page.objects.length === 0 || objects.length >= page.total) return objects;
    }
  }

  /** The saved configuration with another scope, as the wizard would send it. */
  async function candidate(includedOuGuids: ReadonlyArray<string>): Promise<Record<string, unknown>> {
    const { config } = await controlClient(endpoint).getConfig({});
    const saved = config as { sources: Array<{ scope: Record<string, unknown> }> };
    return { ...saved, sources: saved.sources.map((source) => ({ ...source, scope: { ...source.scope, includedOuGuids } })) };
  }

  before(async () => {
    sandbox = await createAdSandbox(await sharedAd(), 'Test Config Preview');
    includedOu = await sandbox.addOu('Included');
    outsideOu = await sandbox.addOu('Outside');
    for (let i = 0; i < 3; i += 1) {
      await sandbox.addUser(`Preview In ${i}`, { sAMAccountName: `previewin${i}`, userPrincipalName: `preview.in${i}@contoso.com`, displayName: `Preview In ${i}` }, includedOu);
    }
    for (let i = 0; i < 2; i += 1) {
      await sandbox.addUser(`Preview Out ${i}`, { sAMAccountName: `previewout${i}`, userPrincipalName: `preview.out${i}@contoso.com`, displayName: `Preview Out ${i}` }, outsideOu);
    }
    await sandbox.addUser('Preview Bad', { sAMAccountName: 'previewbad', userPrincipalName: 'preview.bad@fabrikam.com', displayName: 'Preview Bad' }, includedOu);
    harness = await startHarness({ scopeOuGuids: [await sandbox.guidOf(sandbox.ouDn)], config: { deletionThreshold: { count: 500, percent: 10 } } });
    const first = await harness.sync('full');
    assert.equal(first.exported['create-user'], 5, 'the whole sandbox is synchronized first');
    harness.store.close();
    // A clock that never moves: no scheduled run interferes.
    const frozen = { now: () => Date.now(), setTimer: () => ({ cancel: () => undefined }) };
    running = await startService({ dataDir: harness.dataDir, clock: frozen, browser: { serveRenderer: false }, ownershipSettleMs: 50,
      writeBudget: { writes: 3000, windowSeconds: 150 / TIME_SCALE } });
    endpoint = { socketPath: running.socket.socketPath as string };
    unsubscribe = subscribeControl(endpoint, <E extends keyof ControlEvents>(event: E, data: ControlEvents[E]) => {
      if (event === 'onDidProgress') progress.push(data as RunProgress);
    });
  });
  after(async () => {
    unsubscribe?.();
    await running?.stop();
    await harness?.tenant.close();
    await sandbox?.close();
  });

  it('reports what a narrower scope would match, skip, leave out and delete, writing nothing anywhere', async () => {
    const api = controlClient(endpoint);
    const runsBefore = await api.listRuns({ limit: 100 });
    const configBefore = (await api.getConfig({})).config;
    const seq = lastSeq(harness.tenant);

    const preview = await api.previewConfig({ config: await candidate([await sandbox.guidOf(includedOu)]) });

    assert.deepEqual({ ...preview.counts, 'out-of-scope': undefined }, { create: 0, matched: 3, conflict: 0, blocked: 0, invalid: 1, delete: 2, 'out-of-scope': undefined });
    assert.ok(preview.counts['out-of-scope'] > 1000, `the rest of the seeded domain is out of scope (${preview.counts['out-of-scope']})`);
    assert.equal(preview.run.dryRun, true);
    assert.ok(preview.run.id > 1_000_000_000, 'a preview never reuses the id of a run of the history');
    assert.equal(preview.run.held, 2, 'two of five managed users is over the 10 % threshold: the deletions would be held');

    const matched = await allObjects(preview.previewId, 'matched');
    assert.deepEqual(matched.map((o) => o.dn).sort(), [0, 1, 2].map((i) => `CN=Preview In ${i},${includedOu}`));
    assert.ok(matched.every((o) => o.detail === 'already synchronized'), 'objects synchronized before are linked');
    const invalid = await allObjects(preview.previewId, 'invalid');
    assert.equal(invalid.length, 1);
    assert.equal(invalid[0]?.dn, `CN=Preview Bad,${includedOu}`);
    assert.equal(invalid[0]?.detail, 'userPrincipalName');
    assert.match(invalid[0]?.reason ?? '', /fabrikam\.com/);
    assert.ok(invalid[0]?.hint, 'an invalid object says what to do');
    const deletions = await allObjects(preview.previewId, 'delete');
    assert.deepEqual(deletions.map((o) => o.dn).sort(), [0, 1].map((i) => `CN=Preview Out ${i},${outsideOu}`));
    assert.ok(deletions.every((o) => /no longer in scope/.test(o.reason) && /held/.test(o.detail ?? '')));
    const outside = await allObjects(preview.previewId, 'out-of-scope');
    assert.equal(outside.length, preview.counts['out-of-scope'], 'the list pages through every object it counts');
    const outsideUser = outside.find((o) => o.dn === `CN=Preview Out 0,${outsideOu}`);
    assert.match(outsideUser?.reason ?? '', /outside the organizational units in scope/);

    // The snapshot is the store without its history: the first run's operations and reports stay behind.
    const snapshot = new Database(join(harness.dataDir, `preview-${preview.previewId}.db`), { readonly: true });
    try {
      const count = (sql: string): number => (snapshot.prepare(sql).get() as { n: number }).n;
      assert.equal(count("SELECT count(*) AS n FROM plan_operations o JOIN plans p ON p.id = o.plan_id WHERE p.status = 'applied'"), 0);
      assert.ok(count('SELECT count(*) AS n FROM plan_operations') > 0, 'the preview\'s own plan is there');
      assert.equal(count('SELECT count(*) AS n FROM links'), 5, 'the links of the objects synchronized are copied');
      assert.ok(count('SELECT count(*) AS n FROM runs WHERE dry_run = 0') >= 1, 'the runs are copied (their ids go on from there)');
    } finally {
      snapshot.close();
    }
    assert.deepEqual(writesSince(harness.tenant, seq), [], 'a preview writes nothing to the tenant');
    assert.deepEqual(await api.listRuns({ limit: 100 }), runsBefore, 'a preview is not a run of the history');
    assert.deepEqual((await api.getConfig({})).config, configBefore, 'a preview saves nothing');
    assert.ok(progress.some((p) => p.preview === true && p.phase === 'importing-ad'), 'the preview reports its progress, marked as a preview');
    assert.ok(progress.every((p) => p.preview === true), 'no run of the history started');
  });

  it('sees new objects as creations, forgets an older preview, and leaves no file behind once saved', async () => {
    const api = controlClient(endpoint);
    const older = await api.previewConfig({ config: await candidate([await sandbox.guidOf(includedOu)]) });
    await sandbox.addUser('Preview New', { sAMAccountName: 'previewnew', userPrincipalName: 'preview.new@contoso.com', displayName: 'Preview New' }, includedOu);
    const config = await candidate([await sandbox.guidOf(includedOu)]);
    const preview = await api.previewConfig({ config });
    assert.equal(preview.counts.create, 1);
    assert.deepEqual((await allObjects(preview.previewId, 'create')).map((o) => o.dn), [`CN=Preview New,${includedOu}`]);
    // The store had read this domain from this domain controller: the preview read its changes (the new user among them), not the domain whole.
    assert.ok(preview.run.imported.ad >= 1 && preview.run.imported.ad < preview.counts['out-of-scope'],
      `the preview read ${preview.run.imported.ad} changed objects of a domain of more than ${preview.counts['out-of-scope']}`);
    await assert.rejects(api.listPreviewObjects({ previewId: older.previewId, category: 'create' }), (e: unknown) => e instanceof RemoteError && /no longer available/.test(e.message));
    assert.ok(readdirSync(harness.dataDir).some((n) => n.startsWith('preview-')), 'the preview is kept while the wizard reads it');

    await api.saveConfig({ config });
    assert.deepEqual(readdirSync(harness.dataDir).filter((n) => n.startsWith('preview-')), [], 'saving discards the preview');
    await assert.rejects(api.listPreviewObjects({ previewId: preview.previewId, category: 'create' }), RemoteError);
  });

  it('finds objects that share a mail address in its own copy of the store, the second reported with the first', async () => {
    const api = controlClient(endpoint);
    const twins: string[] = [];
    for (const name of ['Preview Twin A', 'Preview Twin B']) {
      const account = name.replace(/ /g, '').toLowerCase();
      twins.push(await sandbox.addUser(name, { sAMAccountName: account, userPrincipalName: `${account}@contoso.com`, mail: 'preview.twin@contoso.com', displayName: name }, includedOu));
    }
    try {
      const preview = await api.previewConfig({ config: await candidate([await sandbox.guidOf(includedOu)]) });
      // The first by DN keeps the address (as a run decides), the other is reported with it.
      const invalid = await allObjects(preview.previewId, 'invalid');
      const reported = invalid.find((o) => o.dn === twins[1]);
      assert.ok(reported, `${twins[1]} is reported as invalid: ${JSON.stringify(invalid)}`);
      assert.equal(reported.detail, 'mail');
      assert.ok(reported.reason.includes(`"preview.twin@contoso.com" is also used by ${twins[0]}`), reported.reason);
      const creates = (await allObjects(preview.previewId, 'create')).map((o) => o.dn);
      assert.ok(creates.includes(twins[0] as string) && !creates.includes(twins[1] as string), `only the first twin would be created: ${creates.join('; ')}`);
    } finally {
      for (const dn of twins) await sandbox.remove(dn);
    }
  });

  it('reads the domain whole when the candidate filters it with another LDAP filter', async () => {
    const api = controlClient(endpoint);
    const base = await candidate([await sandbox.guidOf(includedOu)]);
    const sources = (base as { sources: Array<{ scope: Record<string, unknown> }> }).sources;
    const filtered = { ...base, sources: sources.map((source) => ({ ...source, scope: { ...source.scope, ldapFilter: '(!(sAMAccountName=previewin0))' } })) };
    const preview = await api.previewConfig({ config: filtered });
    assert.ok(preview.run.imported.ad > preview.counts['out-of-scope'], `a whole read (${preview.run.imported.ad} objects), not the changes`);
    // The filter leaves that user unread: as the first run under it would, the preview deletes its cloud user.
    const deleted = (await allObjects(preview.previewId, 'delete')).find((o) => o.dn === `CN=Preview In 0,${includedOu}`);
    assert.match(deleted?.reason ?? '', /deleted in Active Directory/);
    assert.ok(!(await allObjects(preview.previewId, 'matched')).some((o) => o.dn === `CN=Preview In 0,${includedOu}`));
  });

  it('refuses a candidate configuration that is not valid, saying what to change', async () => {
    const api = controlClient(endpoint);
    const config = { ...(await candidate([])), deletionThreshold: { count: -1, percent: 10 } };
    await assert.rejects(api.previewConfig({ config }), (e: unknown) => e instanceof RemoteError && /deletionThreshold/.test(e.message));
  });

  it('reads the OU tree as the configured service account when the wizard has no administrator credentials', async () => {
    const tree = await controlClient(endpoint).listOus({ baseDn: sandbox.ouDn });
    assert.equal(tree[0]?.dn, sandbox.ouDn);
    assert.deepEqual(tree[0]?.children.map((n) => n.name), ['Included', 'Outside']);
  });
  it('holds scheduled runs while the wizard goes on to start the run itself, and not beyond', async () => {
    const api = controlClient(endpoint);
    const changed = await candidate([await sandbox.guidOf(outsideOu)]);
    await api.saveConfig({ config: changed, holdScheduleSeconds: 600 });
    const held = await api.getStatus({});
    const wait = Date.parse(held.nextRunAt ?? '') - Date.now();
    assert.ok(wait > 590_000 && wait <= 600_000, `a changed scope would run a full sync at once; the wizard holds it for 10 min (${wait} ms)`);
    await api.saveConfig({ config: changed });
    const now = Date.parse((await api.getStatus({})).nextRunAt ?? '') - Date.now();
    assert.ok(now <= 1000, `without a hold the full run is due at once (${now} ms)`);
  });
  it('drops a preview that a save overtakes, leaving no file behind', async () => {
    const api = controlClient(endpoint);
    const config = await candidate([await sandbox.guidOf(includedOu)]);
    const preview = api.previewConfig({ config });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await assert.rejects(api.previewConfig({ config }), (e: unknown) => e instanceof RemoteError && e.code === 'preview-in-progress', 'one preview at a time');
    await api.saveConfig({ config });
    await assert.rejects(preview, (e: unknown) => e instanceof RemoteError && e.code === 'preview-expired');
    assert.deepEqual(readdirSync(harness.dataDir).filter((n) => n.startsWith('preview-')), []);
  });
});
