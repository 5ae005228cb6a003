/**
 * A sync run, step by step (docs/architecture.md "A run"): lock, read the tenant, import AD, import
 * the cloud, plan and gate, then export (or stop at the plan), and record. Each phase is a function
 * below; `failRun` is the one place a run fails.
 */
import type { RunPhase, RunProgress } from '../contract/control-api.ts';
import type { RunKind, RunSummary, SourceRunSummary } from '../contract/model.ts';
import { AllSourcesUnreachableError } from '../errors/ad-errors.ts';
import { AdConnector } from '../ad/connector.ts';
import { tenantSynchronizedOf, type CloudConnector } from '../cloud/connector.ts';
import { defaultWriteBudget, WRITE_BUDGET_SHARE, type WriteBudget } from '../cloud/governor.ts';
import { adCursorKey, IN_SCOPE_COUNT, PLAN_WATERMARK } from '../store/keys.ts';
import type { Store } from '../store/store.ts';
import type { DirSyncConfig } from '../base/config.ts';
import { osLog, type Logger } from '../base/logger.ts';
import { MEMBERSHIP_EXPORT_PAGE, exportOperations, recoverUnconfirmed, replicationNote } from './export.ts';
import { MAX_MEMBERS_PER_BIND, type GraphWriter } from '../cloud/writer.ts';
import { isRecentWrite } from '../cloud/replication.ts';
import { buildPlan, type PlanOutcome } from './planning.ts';
import { failRun, type RunCounts } from './run-failure.ts';
import { withRunLock } from './run-lock.ts';
import { adSourcesOf, type AdSource } from './sources.ts';
import { readConfig } from './session.ts';
import { recordTenantSyncState } from './tenant-state.ts';
import { asConverted, assumeConverted, plansOldToolOrphans } from './handover.ts';

export type { RunPhase, RunProgress } from '../contract/control-api.ts';

export type EngineSession = {
  readonly store: Store;
  readonly config: DirSyncConfig;
  connectAd(source: AdSource): Promise<AdConnector>;
  cloud(): CloudConnector;
  readonly writeBudget?: WriteBudget;
  /** How long, in all, a run waits for the objects it created to reach Graph's replicas (default 2 min). */
  readonly replicationWaitMs?: number;
  readonly log?: Logger;
};

export type RunOptions = {
  readonly kind: RunKind;
  readonly dryRun: boolean;
  /** Also report every object out of scope, with why (configuration previews; a domain's worth of rows). */
  readonly recordOutOfScope?: boolean;
  /**
   * A full plan on the store brought up to date by what changed (configuration previews on a copy of the store): each domain
   * the store has read before is read by its change stream (a domain new to it whole), and the tenant's users and groups are
   * read whole without their members (a preview counts objects, not memberships).
   */
  readonly importChanges?: boolean;
  /** The store is a copy made for this dry run (previews): its in-scope table may be rebuilt, so duplicates are found in SQL, not in memory. */
  readonly scratchStore?: boolean;
  /**
   * A takeover preview (dry runs on a copy of the store only): the tenant as Microsoft's conversion will leave
   * it — no object synchronized by another tool — so the plan shows what the adoption run would do.
   */
  readonly takeoverPreview?: boolean;
  /** The takeover's adoption run: said in its message, so history shows the handover as its own step. */
  readonly adoption?: boolean;
  /** Why the export stopped early when mayExport said no (the service asked to stop), to record with the run. */
  readonly interruption?: () => string | undefined;
  readonly onProgress?: (progress: RunProgress) => void;
  /** Called before each export page: false stops exporting (lease lost, shutdown). */
  readonly mayExport?: () => boolean;
  /** Plan, never export, and say why (another server holds the ownership lease). */
  readonly planOnlyReason?: string;
  /** Asked right before exporting (after a long import the lease is checked afresh); false: plan only. */
  readonly confirmExport?: () => Promise<boolean>;
};

/**
 * The ETA the product shows for a phase: the rest of the phase at the rate so far (seconds), or
 * undefined while it cannot be estimated.
 */
export function phaseEtaSeconds(done: number, total: number | undefined, elapsedSeconds: number): number | undefined {
  return total !== undefined && done > 0 && total > done && elapsedSeconds > 0 ? Math.round(((total - done) * elapsedSeconds) / done) : undefined;
}

/**
 * The ETA of an export, in write requests (memberships go up to 20 to a request): the rest goes at
 * the pace so far, never faster than the governor's share of the write budget allows. (Counted in operations, with a
 * membership a request, the budget's pace was the better guess; with memberships bound, a request
 * of 20 members takes the tenant longer than a create, and the pace so far is what `npm run bench`
 * found within its ±15%.)
 */
export function exportEtaSeconds(done: number, total: number, elapsedSeconds: number, budget: WriteBudget): number | undefined {
  if (!(done > 0 && total > done && elapsedSeconds > 0)) return undefined;
  const budgetRate = (budget.writes * WRITE_BUDGET_SHARE) / budget.windowSeconds;
  return Math.round((total - done) / Math.min(done / elapsedSeconds, budgetRate));
}

/** What an export sent to Graph: write requests in all and by kind, and how many members each `members@odata.bind` carried. */
export function writeCounts(writer: GraphWriter): Pick<RunSummary, 'writeRequests' | 'writeRequestsByKind' | 'membersPerBind'> {
  const binds = writer.membersPerBind.some((n) => n > 0) ? { membersPerBind: [...writer.membersPerBind] } : {};
  return { writeRequests: writer.requestsSent, writeRequestsByKind: { ...writer.requestsByKind }, ...binds };
}

/** What a run knows as it goes: set up by `startRun`, passed from phase to phase. */
type RunContext = {
  readonly session: EngineSession;
  readonly options: RunOptions;
  readonly runId: number;
  readonly kind: RunKind;
  /** The last run whose plan covered every change (delta runs plan what changed after it). */
  readonly watermark: number;
  /** The directory sources, each with where its change stream was read to. */
  readonly sources: ReadonlyArray<{ readonly source: AdSource; readonly cursor: string | undefined }>;
  /** What each source gave this run: how many objects, or why it could not be read (docs/forests.md). */
  readonly sourceOutcomes: Map<string, SourceRunSummary>;
  readonly log?: Logger;
  readonly counts: RunCounts;
  readonly notes: string[];
  progress(phase: RunPhase, done: number, total?: number, note?: string, writes?: { readonly sent: number; readonly expected: number }): void;
};

/** What a run learns of the tenant before it reads anything else. */
type TenantFacts = {
  readonly domains: { readonly verified: ReadonlyArray<string> };
  readonly anchorProperty: string;
  readonly summary: Pick<RunSummary, 'tenantSynchronized'>;
};

export async function runSync(session: EngineSession, options: RunOptions): Promise<RunSummary> {
  return withRunLock(session.store, async () => {
    const run = startRun(session, options);
    // Every source is reached before anything else is done. With one domain, a DC that cannot be reached fails the run at
    // once; with several, only its own part (its objects stay as they are, none deleted), unless no domain can be reached.
    const connections = new Map<string, AdConnector>();
    try {
      for (const { source } of run.sources) {
        try {
          connections.set(source.id, await session.connectAd(source));
        } catch (error) {
          if (run.sources.length === 1) throw error;
          sourceFailed(run, source, error);
        }
      }
      if (connections.size === 0) throw new AllSourcesUnreachableError([...run.sourceOutcomes.values()]);
    } catch (error) {
      await Promise.all([...connections.values()].map((c) => c.close()));
      return failRun(session.store, run.runId, error, run.counts, run.log);
    }
    try {
      const cloud = session.cloud();
      const refusalsBefore = cloud.tokenRefusals.count;
      run.progress('starting', 0);
      const tenant = await readTenant(run, cloud);
      for (const { source, cursor } of run.sources) {
        const connection = connections.get(source.id);
        if (connection) await importSource(run, source, cursor, connection);
      }
      if (unreadSources(run).length === run.sources.length) throw new AllSourcesUnreachableError(unreadSources(run));
      if (run.kind === 'full') await importCloud(run, cloud);
      if (options.takeoverPreview) {
        if (!options.dryRun) throw new Error('A takeover preview is a dry run on a copy of the store.');
        assumeConverted(session.store);
      }
      if (options.adoption) run.notes.push('Takeover: this run adopts the objects the old tool synchronized, by their anchors.');
      const plan = planRun(run, tenant);
      const planOnly = await planOnlyReason(run);
      // Tokens Graph refused (clocks that disagree) are said last, whatever the run did.
      const refused = { count: () => cloud.tokenRefusals.count - refusalsBefore, note: () => cloud.tokenRefusals.note(refusalsBefore) };
      const summary = planOnly !== undefined ? finishWithPlan(run, plan, tenant, planOnly, refused.note()) : await exportRun(run, cloud, plan, tenant, refused);
      run.progress('done', plannedTotal(plan));
      return summary;
    } catch (caught) {
      return failRun(session.store, run.runId, caught, run.counts, run.log);
    } finally {
      await Promise.all([...connections.values()].map((c) => c.close()));
    }
  });
}

/** Imports one source; with several, a source that fails midway fails only its own part (what it gave is kept, its cursor stays). */
async function importSource(run: RunContext, source: AdSource, cursor: string | undefined, connection: AdConnector): Promise<void> {
  const before = run.counts.ad;
  try {
    await importAd(run, source, cursor, connection);
    run.sourceOutcomes.set(source.id, { ...describeSource(source), imported: run.counts.ad - before });
  } catch (error) {
    if (run.sources.length === 1) throw error;
    sourceFailed(run, source, error, run.counts.ad - before);
  }
}

function describeSource(source: AdSource): Omit<SourceRunSummary, 'imported'> {
  return { id: source.id, domain: source.domain, forest: source.forest };
}

/** A domain that could not be read: said in the run's errors (by its naming context), its notes and its summary. */
function sourceFailed(run: RunContext, source: AdSource, error: unknown, imported = 0): void {
  const reason = error instanceof Error ? error.message : String(error);
  run.sourceOutcomes.set(source.id, { ...describeSource(source), imported, error: reason });
  run.log?.warn({ source: source.id, domain: source.domain, err: reason }, 'domain could not be read');
  run.session.store.addErrors(run.runId, [{
    dn: source.connection.baseDn, code: 'domain-unreachable',
    reason: `The domain ${source.domain} (forest ${source.forest}, ${source.connection.url}) could not be read: ${reason}`,
    hint: 'Its objects are left as they are (none is deleted) and its changes are read when it answers again. Check that its domain controller runs and is reachable (dirsync doctor).',
  }]);
  run.notes.push(`The domain ${source.domain} could not be read (${reason}): its objects were left as they are, none deleted; its changes are read when it answers again.`);
}

/** Domains that could not be read in this run. */
function unreadSources(run: RunContext): ReadonlyArray<SourceRunSummary> {
  return [...run.sourceOutcomes.values()].filter((s) => s.error !== undefined);
}

/** Records the run's start: a delta with no full run before it is a full run. */
function startRun(session: EngineSession, options: RunOptions): RunContext {
  const { store } = session;
  const sources = adSourcesOf(session.config).map((source) => ({ source, cursor: store.getCursor(adCursorKey(source.id)) }));
  const watermark = Number(store.getCursor(PLAN_WATERMARK) ?? '0');
  const notes: string[] = [];
  let kind: RunKind = options.kind;
  if (kind === 'delta' && (sources.some((s) => !s.cursor) || watermark === 0)) {
    kind = 'full';
    notes.push('No earlier full run: this run is a full run.');
  }
  const runId = store.startRun(kind, options.dryRun);
  const log = session.log?.child({ runId });
  const budget = session.writeBudget ?? defaultWriteBudget;
  let lastPhase: RunPhase | undefined;
  let phaseStartedAt = performance.now();
  const progress = (phase: RunPhase, done: number, total?: number, note?: string, writes?: { readonly sent: number; readonly expected: number }): void => {
    if (phase !== lastPhase) {
      log?.info({ phase }, `phase ${phase}`);
      phaseStartedAt = performance.now();
    }
    lastPhase = phase;
    const elapsed = (performance.now() - phaseStartedAt) / 1000;
    // Export's time is its write requests' (memberships go 20 to a request), not its operations'.
    const etaSeconds = phase !== 'exporting' ? undefined : writes ? exportEtaSeconds(writes.sent, writes.expected, elapsed, budget)
      : total !== undefined ? exportEtaSeconds(done, total, elapsed, budget) : undefined;
    options.onProgress?.({ runId, phase, done, total, message: note, ...(etaSeconds !== undefined ? { etaSeconds } : {}) });
  };
  log?.info({ kind, dryRun: options.dryRun }, 'run started');
  if (!options.dryRun) osLog('info', `Directory Sync: ${kind} run ${runId} started.`);
  store.heartbeatRunLock(runId);
  return { session, options, runId, kind, watermark, sources, sourceOutcomes: new Map(), log, counts: { ad: 0, cloud: 0 }, notes, progress };
}

/** Whether this run may write: not a preview, not staging, not told to plan only. */
function mayWrite(run: RunContext): boolean {
  return !run.options.dryRun && !run.session.config.stagingMode && !run.options.planOnlyReason;
}

/** The organization (verified domains; whether another tool synchronizes it), the anchor property, and what a crash left unconfirmed. */
async function readTenant(run: RunContext, cloud: CloudConnector): Promise<TenantFacts> {
  const { store } = run.session;
  const read = await cloud.organization();
  const organization = run.options.takeoverPreview ? asConverted(read) : read;
  if (!run.options.takeoverPreview) recordTenantSyncState(store, organization);
  const anchorProperty = mayWrite(run) ? await cloud.ensureAnchorExtension() : cloud.anchorProperty();
  if (mayWrite(run)) await recoverUnconfirmed(store, cloud, run.runId);
  const tenantSynchronized = tenantSynchronizedOf(organization);
  return { domains: { verified: organization.verifiedDomains.map((d) => d.name.toLowerCase()) }, anchorProperty,
    summary: tenantSynchronized ? { tenantSynchronized } : {} };
}

/** Import one source: a paged search on full runs, DirSync on delta runs; its cursor moves with the data it covers. */
async function importAd(run: RunContext, source: AdSource, cursor: string | undefined, ad: AdConnector): Promise<void> {
  const { store } = run.session;
  const cursorKey = adCursorKey(source.id);
  run.progress('importing-ad', 0);
  if (run.kind !== 'full') {
    await importAdChanges(run, source, cursor as string, ad);
  } else if (changesReadable(run, source, cursor)) {
    try {
      await importAdChanges(run, source, cursor, ad);
    } catch (error) {
      // A preview whose change stream fails (another account, a cookie too old) reads the domain whole, as it always could.
      run.log?.warn({ source: source.id, err: error instanceof Error ? error.message : String(error) }, 'the changes could not be read: reading the domain whole');
      await importAdWhole(run, source, ad);
    }
  } else {
    await importAdWhole(run, source, ad);
  }
  if (AdConnector.cursorMode(store.getCursor(cursorKey) ?? JSON.stringify({ mode: 'dirsync' })) === 'usn') {
    run.notes.push('The account cannot use DirSync (it lacks Replicating Directory Changes): changes are read by uSNChanged, and deletions are confirmed by full runs.');
  }
}

/** A paged search of the whole domain; what it did not see is gone from AD. */
async function importAdWhole(run: RunContext, source: AdSource, ad: AdConnector): Promise<void> {
  const { store } = run.session;
  const startCursor = await ad.currentCursor();
  for await (const page of ad.fullImport()) {
    store.transaction(() => store.upsertAdEntries(page, run.runId, source.id));
    run.counts.ad += page.length;
    run.progress('importing-ad', run.counts.ad);
  }
  store.transaction(() => {
    store.markUnseenAdObjectsDeleted(run.runId, source.id);
    if (!run.options.dryRun) store.setCursor(adCursorKey(source.id), startCursor);
  });
}

/** The domain's changes after its cursor (DirSync, else uSNChanged). */
async function importAdChanges(run: RunContext, source: AdSource, cursor: string, ad: AdConnector): Promise<void> {
  const { store } = run.session;
  const keepCursor = !run.options.dryRun;
  // A domain where nothing changed keeps its cursor as it was (a DirSync cookie carries the time it was made): the
  // cursor moves with the changes it covers, and a quiet domain's says so (docs/forests.md).
  let moved = false;
  for await (const batch of ad.deltaImport(cursor)) {
    moved ||= batch.changed.length > 0 || batch.deletedGuids.length > 0;
    store.transaction(() => {
      store.upsertAdEntries(batch.changed, run.runId, source.id);
      store.markAdObjectsDeleted(batch.deletedGuids, run.runId, source.id);
      if (keepCursor && moved) store.setCursor(adCursorKey(source.id), batch.cursor);
    });
    run.counts.ad += batch.changed.length + batch.deletedGuids.length;
    run.progress('importing-ad', run.counts.ad);
  }
}

/**
 * Whether a preview reads a domain by its changes: the store has read it by DirSync (whose tombstones say every deletion; the
 * uSNChanged fallback leaves deletions to full reads) from this very domain controller, under the naming context and LDAP
 * filter of the configuration it holds (a filter changed takes in objects never read).
 */
function changesReadable(run: RunContext, source: AdSource, cursor: string | undefined): cursor is string {
  if (!run.options.importChanges || cursor === undefined) return false;
  try {
    const stored = JSON.parse(cursor) as { mode?: string; url?: string };
    const saved = readConfig(run.session.store);
    const before = saved ? adSourcesOf(saved).find((s) => s.id === source.id) : undefined;
    return stored.mode === 'dirsync' && stored.url === source.connection.url && before !== undefined
      && before.connection.baseDn === source.connection.baseDn && before.scope.ldapFilter === source.scope.ldapFilter;
  } catch {
    return false;
  }
}

/** Import the tenant (full runs; delta runs trust the store): users, the recycle bin, groups and the members of managed groups. */
async function importCloud(run: RunContext, cloud: CloudConnector): Promise<void> {
  const { store } = run.session;
  run.progress('importing-cloud', 0);
  const admins = await cloud.administratorIds();
  for await (const page of cloud.readUsers(admins)) {
    store.transaction(() => store.upsertCloudObjects(page, run.runId));
    run.counts.cloud += page.length;
    run.progress('importing-cloud', run.counts.cloud);
  }
  for await (const page of cloud.readGroups()) {
    store.transaction(() => store.upsertCloudObjects(page, run.runId));
    run.counts.cloud += page.length;
    for (const group of page) {
      // Members of managed groups, and of groups a takeover adopts (they carry an on-premises SID; synchronized ones only in its preview).
      const adoptable = group.securityIdentifier !== undefined && (!group.onPremisesSyncEnabled || run.options.takeoverPreview === true);
      if ((!group.managedAnchor && !adoptable) || run.options.importChanges) continue;
      // undefined: the replica that answered has not seen the group yet; what the store knows stays.
      const members = await cloud.groupMemberIds(group.id);
      if (members) store.transaction(() => store.replaceCloudMembers(group.id, members));
    }
    run.progress('importing-cloud', run.counts.cloud);
  }
  // An object this product created moments ago may be missing from a lagging replica's listing: it is kept, never
  // taken for deleted (which would create it a second time).
  const { kept } = store.removeUnseenCloudObjects(run.runId, (object) => isRecentWrite(object.createdAt) && store.linkByCloudId(object.id) !== undefined);
  if (kept > 0) run.notes.push(`${kept} objects created moments ago are not yet listed by Microsoft Graph (its replicas lag): kept as they are.`);
}

/** Plan and gate every operation; the shrinking-scope guard's count moves only with a plan nothing holds. */
function planRun(run: RunContext, tenant: TenantFacts): PlanOutcome {
  const { store, config } = run.session;
  run.progress('planning', 0);
  const plan = buildPlan({
    store, config, runId: run.runId, mode: run.kind === 'full' ? { kind: 'full' } : { kind: 'delta', changedAfterRun: run.watermark },
    domains: tenant.domains, anchorProperty: tenant.anchorProperty, inScopeBefore: inScopeBefore(store), dryRun: run.options.dryRun, scratchStore: run.options.scratchStore === true,
    recordMatches: run.options.dryRun, recordOutOfScope: run.options.recordOutOfScope, tenantSynchronized: tenant.summary.tenantSynchronized !== undefined,
    oldToolOrphans: run.options.takeoverPreview === true || plansOldToolOrphans(store),
    unreadDomains: unreadSources(run).map((s) => s.domain), unreadForests: [...new Set(unreadSources(run).map((s) => s.forest))],
  });
  // A held plan keeps the old count, so that approving or rejecting is the only way past the guard.
  if (!run.options.dryRun && !config.stagingMode && plan.held === 0) store.setCursor(IN_SCOPE_COUNT, String(plan.inScope));
  return plan;
}

/** Why this run stops at its plan (a preview, staging mode, another server's lease), or undefined when it exports. */
async function planOnlyReason(run: RunContext): Promise<string | undefined> {
  const { options, session } = run;
  if (options.dryRun) return 'Preview only: nothing was written to the tenant.';
  if (session.config.stagingMode) return 'Staging mode: nothing was written to the tenant.';
  if (options.planOnlyReason) return `${options.planOnlyReason} Nothing was written to the tenant.`;
  // After a long import the lease is checked afresh.
  if (options.confirmExport !== undefined && !(await options.confirmExport())) {
    return 'This server no longer holds the tenant ownership lease: it only plans. Nothing was written to the tenant.';
  }
  return undefined;
}

function plannedTotal(plan: PlanOutcome): number {
  return Object.values(plan.planned).reduce((a, b) => a + b, 0);
}

function baseSummary(run: RunContext, plan: PlanOutcome, tenant: TenantFacts): Omit<RunSummary, 'id' | 'kind' | 'dryRun' | 'status' | 'startedAt' | 'endedAt' | 'exported'> {
  const several = run.sources.length > 1;
  return { imported: { ...run.counts }, planned: plan.planned, held: plan.held, errors: plan.errors + unreadSources(run).length, outOfScope: plan.outOfScope, notWritable: plan.notWritable,
    ...(several ? { sources: run.sources.map(({ source }) => run.sourceOutcomes.get(source.id) ?? { ...describeSource(source), imported: 0 }) } : {}),
    inScope: plan.inScope, planId: plan.planId, matchReport: plan.matchReport, heldReasons: plan.heldReasons,
    ...(plan.waitingOnErrors > 0 ? { waitingOnErrors: plan.waitingOnErrors } : {}), ...(plan.foreignMembers > 0 ? { foreignMembers: plan.foreignMembers } : {}), ...tenant.summary };
}

/** A run that stops at its plan: the plan stays previewed, and the run says why nothing was written. */
function finishWithPlan(run: RunContext, plan: PlanOutcome, tenant: TenantFacts, why: string, refusals: string | undefined): RunSummary {
  const { store } = run.session;
  store.setPlanStatus(plan.planId, 'previewed');
  const summary = baseSummary(run, plan, tenant);
  store.finishRun(run.runId, summary.errors > 0 ? 'completed-with-errors' : 'succeeded', { ...summary, exported: {} },
    [...run.notes, why, refusals].filter(Boolean).join(' '));
  run.log?.info({ planned: plan.planned, held: plan.held, errors: plan.errors }, 'preview finished');
  return store.getRun(run.runId) as RunSummary;
}

/** Export what flows, keep what is held for approval, and record the run. */
async function exportRun(run: RunContext, cloud: CloudConnector, plan: PlanOutcome, tenant: TenantFacts,
  refused: { readonly count: () => number; readonly note: () => string | undefined }): Promise<RunSummary> {
  const { store } = run.session;
  const total = plannedTotal(plan) - plan.held;
  const budget = run.session.writeBudget ?? defaultWriteBudget;
  const expected = store.expectedWriteRequests(plan.planId, ['planned'], MAX_MEMBERS_PER_BIND, budget.membersPerBindWrite, MEMBERSHIP_EXPORT_PAGE);
  run.progress('exporting', 0, total);
  store.setPlanStatus(plan.planId, 'applying');
  const { result, writer } = await exportOperations(run.session, cloud, { planId: plan.planId, runId: run.runId, statuses: ['planned'],
    onProgress: (done, sent) => run.progress('exporting', done, total, undefined, { sent, expected }), mayContinue: run.options.mayExport });
  const stopped = run.options.mayExport !== undefined && !run.options.mayExport();
  store.transaction(() => {
    if (plan.held > 0) {
      for (const pending of store.plansWithStatus('pending-approval')) store.setPlanStatus(pending.id, 'superseded');
      store.setPlanStatus(plan.planId, 'pending-approval');
    } else {
      store.setPlanStatus(plan.planId, 'applied');
    }
    if (!stopped) {
      store.setCursor(PLAN_WATERMARK, String(run.runId));
      // Objects whose export failed, or that were refused for what another object holds (a conflict
      // that the deletion of the other may have just resolved), are planned again by the next delta run.
      store.markChangedForNextRun([...result.failedAdGuids, ...result.waitingAdGuids, ...plan.retryAdGuids], run.runId + 1);
    }
  });
  const errors = plan.errors + unreadSources(run).length + result.failed;
  const status = plan.held > 0 ? 'waiting-for-approval' : errors > 0 ? 'completed-with-errors' : 'succeeded';
  const notes = [...run.notes, plan.held > 0 ? plan.heldReasons.join(' ') : undefined,
    stopped ? run.options.interruption?.() ?? 'Export stopped before the end: the rest is planned again next run.' : undefined,
    writer.throttledResponses > 0 ? `Microsoft Graph throttled ${writer.throttledResponses} requests; each was retried after its Retry-After.` : undefined,
    replicationNote(result), refused.note()];
  store.finishRun(run.runId, status, { ...baseSummary(run, plan, tenant), errors, exported: result.exported, throttled: writer.throttledResponses, ...writeCounts(writer) },
    notes.filter(Boolean).join(' ') || undefined);
  run.log?.info({ status, exported: result.exported, held: plan.held, errors, throttled: writer.throttledResponses,
    tokensRefused: refused.count(), clockOffsetSeconds: cloud.tokenRefusals.clockOffsetSeconds }, 'run finished');
  osLog(status === 'completed-with-errors' ? 'error' : 'info', `Directory Sync: run ${run.runId} finished: ${status}; exported ${JSON.stringify(result.exported)}, held ${plan.held}, errors ${errors}.`);
  return store.getRun(run.runId) as RunSummary;
}

function inScopeBefore(store: Store): number | undefined {
  const value = store.getCursor(IN_SCOPE_COUNT);
  return value === undefined ? undefined : Number(value);
}
