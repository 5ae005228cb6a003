import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright';
import type { AdConnection } from '../lab/connection.ts';
import { DRIFTED, entraConnectSeed, scopeDnOf } from '../lab/tenant/connect-seed.ts';
import type { TenantSeed } from '../lab/tenant/seed.ts';
import { sharedAd } from '../lab/test/support/shared-lab.ts';
import { TakeoverPage } from './pages/takeover.page.ts';
import { saveScreenshot } from './support/browser.ts';
import { onToFinish, throughWizardToReadiness } from './support/complete-wizard.ts';
import { startWizardSession, type WizardSession } from './support/wizard-session.ts';

type Obj = Record<string, unknown> & { id: string };

const ORPHANS = 2;

/**
 * The takeover in Chromium (docs/takeover.md): in a tenant Entra Connect synchronizes from the lab's AD (with
 * orphans and drifted attributes), the administrator configures Directory Sync, opens the takeover from the
 * Operations view, reads the report, is refused the switch while the old server still runs, switches once it
 * has stopped, follows the conversion, and sees the adoption write exactly what the report announced.
 */
describe('taking over from Entra Connect in the wizard', () => {
  let session: WizardSession | undefined;
  let page: Page;
  let ad: AdConnection;
  let seed: TenantSeed;
  let takeover: TakeoverPage;
  const counts: Record<string, number> = {};
  const accounts: Array<string | undefined> = [];

  const objects = (type: 'user' | 'group'): Obj[] => ((session as WizardSession).tenant.state.dump() as { objects: Record<string, Obj[]> }).objects[type] ?? [];

  before(async () => {
    ad = await sharedAd();
    seed = await entraConnectSeed(ad, { orphans: ORPHANS, driftEvery: 200, serverName: 'AADC02' });
    session = await startWizardSession('takeover', { tenantSeed: seed, handoverPollSeconds: 1 });
    session.tenant.state.setOldSync({ running: true, cycleMs: 2000, conversionPerSecond: 200 });
    page = session.page;
    takeover = new TakeoverPage(page);
  });
  after(async () => {
    await session?.close(accounts);
  });

  it('configures Directory Sync in the synchronized tenant and opens the takeover from the Operations view', async () => {
    const s = session as WizardSession;
    const { accountDn, notices } = await throughWizardToReadiness(page, s, ad, scopeDnOf(ad), 'takeover-01');
    accounts.push(accountDn);
    const users = (seed.users ?? []).filter((u) => u.props?.['onPremisesSyncEnabled'] === true).length;
    assert.match(notices[0] ?? '', new RegExp(`^This tenant is synchronized by another tool: Microsoft Entra Connect \\(or the older DirSync\\) on the server AADC02, ${users} users and 24 groups, last on .* \\(it still runs\\)\\. .*open the Takeover page`));
    const finish = await onToFinish(page);
    await finish.finish();
    await finish.waitForResult();
    await page.getByRole('button', { name: 'Open the Operations view' }).click();
    await page.getByTestId('open-takeover').click();
    await takeover.heading().filter({ hasText: 'Take over from Entra Connect' }).waitFor();
    await takeover.waitForOldTool(false);
    assert.match(await takeover.oldToolName().textContent() ?? '', /Microsoft Entra Connect \(or the older DirSync\) on the server AADC02/);
    assert.match(await takeover.summary().textContent() ?? '', /It still runs/);
    await saveScreenshot(page, 'takeover-02-detected');
    assert.deepEqual(s.consoleErrors, []);
  });

  it('shows the report: adoptions with their attribute changes, orphans held, what changes for users', async () => {
    await takeover.makeReport();
    for (const key of ['adopt', 'adoptWithChanges', 'create', 'orphan', 'conflict', 'blocked', 'memberChanges', 'managerChanges']) counts[key] = await takeover.count(key);
    const drifted = (seed.users ?? []).filter((u) => u.props?.['jobTitle'] === DRIFTED.jobTitle).length;
    assert.ok(counts['adopt'] !== undefined && counts['adopt'] > 1800, `adopted ${counts['adopt']}`);
    assert.equal(counts['adoptWithChanges'], drifted, 'the drifted users are the ones with attribute changes');
    assert.equal(counts['create'], 0);
    assert.equal(counts['orphan'], ORPHANS);
    assert.equal(counts['memberChanges'], 0);
    const rows = await takeover.listed('adopt').allTextContents();
    assert.equal(rows.length, drifted);
    assert.ok(rows.every((r) => r.includes(`jobTitle: "${DRIFTED.jobTitle}" →`)), rows[0]);
    assert.equal(await takeover.listed('orphan').count(), ORPHANS);
    assert.match((await takeover.notes().allTextContents()).join(' '), /password changes made in Active Directory no longer reach Microsoft Entra ID/);
    await saveScreenshot(page, 'takeover-03-report');
  });

  it('refuses to switch while the old server still synchronizes', async () => {
    const status = await (session as WizardSession).service.service.getHandover({});
    await takeover.switchOff(status.confirmation);
    await takeover.error().waitFor();
    assert.match(await takeover.error().textContent() ?? '', /still synchronizes this tenant/);
    assert.equal((session as WizardSession).tenant.state.pendingUserCodes().length, 0, 'no sign-in was started');
  });

  it('switches once the old server has stopped, shows the conversion, and adopts exactly what the report announced', async () => {
    const s = session as WizardSession;
    s.tenant.state.setOldSync({ running: false });
    await takeover.waitForOldTool(true);
    const usersBefore = objects('user').length;
    const status = await s.service.service.getHandover({});
    await takeover.switchOff(status.confirmation);
    s.tenant.state.approveDeviceCode(await takeover.userCode(), s.tenant.connection.globalAdminUpn);
    await takeover.waitForPhase('converting', 60_000).catch(() => undefined);
    if (await takeover.remaining().count() > 0) assert.match(await takeover.remaining().textContent() ?? '', /\d+ of \d+ objects still to convert/);
    await saveScreenshot(page, 'takeover-04-converting');
    await takeover.waitForPhase('done');
    const done = await takeover.done().textContent() ?? '';
    const runId = Number(/run (\d+)/.exec(done)?.[1]);
    const adoption = (await s.service.service.listRuns({ limit: 10 })).find((r) => r.id === runId);
    assert.ok(adoption, done);
    assert.equal((adoption.exported['update-user'] ?? 0) + (adoption.exported['update-group'] ?? 0), counts['adopt'], 'every adoption the report announced, no more');
    assert.equal(adoption.exported['create-user'] ?? 0, counts['create']);
    assert.equal(adoption.held, ORPHANS, 'the orphans wait for approval');
    assert.equal(objects('user').length, usersBefore, 'no user created or deleted');
    assert.deepEqual(objects('user').filter((u) => u['jobTitle'] === DRIFTED.jobTitle).map((u) => u['userPrincipalName']), []);
    await saveScreenshot(page, 'takeover-05-done');
    await page.getByTestId('to-operations').click();
    await page.locator('[data-testid="handover-status"][data-phase="done"]').waitFor();
    assert.deepEqual(s.consoleErrors, []);
  });
});
