/**
 * A sync run, step by step (ARCHITECTURE.md "A sync run"): lock, import AD, import cloud, plan, gate,
 * export, confirm and record. One run at a time; a crashed holder's lock is reclaimed.
 */
import type { RunPhase, RunProgress } from '../contract/control-api.ts';
import type { RunKind, RunSummary, TenantSynchronized } from '../contract/model.ts';
import { AdConnector } from '../ad/connector.ts';
import type { CloudConnector, Organization } from '../cloud/connector.ts';
import { WriteGovernor, defaultWriteBudget, type WriteBudget } from '../cloud/governor.ts';
import { GraphWriter } from '../cloud/writer.ts';
import { RunInProgressError } from '../errors/run-errors.ts';
import { storeErrorOf } from '../errors/store-error.ts';
import type { Store } from '../store/store.ts';
import type { DirSyncConfig } from './config.ts';
import { osLog, type Logger } from './logger.ts';
import { exportPlan, recoverUnconfirmed } from './exporter.ts';
import { buildPlan } from './planner.ts';

export type { RunPhase, RunProgress } from '../contract/control-api.ts';

export type EngineSession = {
  readonly store: Store;
  readonly config: DirSyncConfig;
  connectAd(): Promise<AdConnector>;
  cloud(): CloudConnector;
  readonly writeBudget?: WriteBudget;
  readonly log?: Logger;
};

export type RunOptions = {
  readonly kind: RunKind;
  readonly dryRun: boolean;
  /** Also report every object out of scope, with why (configuration previews; a domain's worth of rows). */
  readonly recordOutOfScope?: boolean;
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
 * The ETA of an export: the write budget bounds its pace (each operation is one write), so while
 * it runs at half the budget's rate or more, the rest takes what the budget allows; a slower export
 * (a slow tenant) goes at its own pace so far. Measured by `npm run bench`: the pace-so-far
 * estimate alone was 30–40% high early on, as creates are slower than the membership changes after
 * them.
 */
export function exportEtaSeconds(done: number, total: number, elapsedSeconds: number, budget: WriteBudget): number | undefined {
  if (!(done > 0 && total > done && elapsedSeconds > 0)) return undefined;
  const budgetRate = budget.writes / budget.windowSeconds;
  const rate = done / elapsedSeconds;
  return Math.round((total - done) / (rate >= budgetRate / 2 ? budgetRate : rate));
}

export const AD_CURSOR = 'ad.changes';
export const PLAN_WATERMARK = 'plan.watermark';
/** How many objects were in scope at the last run that planned: the shrinking-scope guard compares with it. */
export const IN_SCOPE_COUNT = 'scope.inScopeCount';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How often a run writes its heartbeat into the run lock. */
const HEARTBEAT_MS = 30_000;
/** A heartbeat older than this, by the wall clock, makes the holder suspect. */
const STALE_AFTER_MS = 10 * 60_000;

export type RunLockOptions = {
  /** How long to watch a silent holder's heartbeat before taking over (default: a heartbeat interval and 10 s). */
  readonly watchMs?: number;
  readonly heartbeatMs?: number;
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` holding the run lock: one run at a time per store. A holder that looks silent by the
 * wall clock but whose process lives is watched for one heartbeat interval before it is taken over,
 * so that a clock jumping forward never lets a second run start beside a live one; a holder that
 * truly stopped (a hung process, or a reused process id) is taken over after that wait.
 */
export async function withRunLock<T>(store: Store, work: () => Promise<T>, options: RunLockOptions = {}): Promise<T> {
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  let lock = store.acquireRunLock(undefined, STALE_AFTER_MS, isAlive);
  if (!lock.acquired && lock.silent) {
    await sleep(options.watchMs ?? heartbeatMs + 10_000);
    if (store.takeOverRunLock(undefined, lock.silent)) lock = { acquired: true };
  }
  if (!lock.acquired) {
    throw new RunInProgressError(`Another synchronization run is in progress (process ${lock.holder.pid} on ${lock.holder.host}, since ${lock.holder.since}). Wait for it to finish.`);
  }
  store.failAbandonedRuns('The process running it stopped before it finished.');
  const heartbeat = setInterval(() => {
    try {
      store.heartbeatRunLock();
    } catch {
      // A full disk: the run itself meets the same error and stops with it.
    }
  }, heartbeatMs);
  heartbeat.unref();
  return work().finally(() => {
    clearInterval(heartbeat);
    try {
      store.releaseRunLock();
    } catch {
      // Not released (a full disk): a later run reclaims it once its holder is gone or its heartbeat stale.
    }
  });
}

export async function runSync(session: EngineSession, options: RunOptions): Promise<RunSummary> {
  const { store, config } = session;
  return withRunLock(store, async () => {
    let kind: RunKind = options.kind;
    const cursor = store.getCursor(AD_CURSOR);
    const watermark = Number(store.getCursor(PLAN_WATERMARK) ?? '0');
    let message: string | undefined;
    if (kind === 'delta' && (!cursor || watermark === 0)) {
      kind = 'full';
      message = 'No earlier full run: this run is a full run.';
    }
    const runId = store.startRun(kind, options.dryRun);
    const log = session.log?.child({ runId });
    let lastPhase: RunPhase | undefined;
    let phaseStartedAt = performance.now();
    const budget = session.writeBudget ?? defaultWriteBudget;
    const progress = (phase: RunPhase, done: number, total?: number, note?: string): void => {
      if (phase !== lastPhase) {
        log?.info({ phase }, `phase ${phase}`);
        phaseStartedAt = performance.now();
      }
      lastPhase = phase;
      const etaSeconds = phase === 'exporting' && total !== undefined ? exportEtaSeconds(done, total, (performance.now() - phaseStartedAt) / 1000, budget) : undefined;
      options.onProgress?.({ runId, phase, done, total, message: note, ...(etaSeconds !== undefined ? { etaSeconds } : {}) });
    };
    log?.info({ kind, dryRun: options.dryRun }, 'run started');
    if (!options.dryRun) osLog('info', `Directory Sync: ${kind} run ${runId} started.`);
    store.heartbeatRunLock(runId);
    let adImported = 0;
    let cloudImported = 0;
    const ad = await session.connectAd().catch((error: unknown) => {
      store.finishRun(runId, 'failed', emptySummary(), (error as Error).message);
      log?.error({ code: (error as { code?: string }).code }, `run failed: ${(error as Error).message}`);
      osLog('error', `Directory Sync: run ${runId} failed: ${(error as Error).message}`);
      throw error;
    });
    try {
      const cloud = session.cloud();
      const refusalsBefore = cloud.tokenRefusals.count;
      progress('starting', 0);
      const organization = await cloud.organization();
      const tenantSynchronized = organization.onPremisesSyncEnabled === true;
      store.setCursor(TENANT_SYNC_STATE, JSON.stringify(tenantSyncStateOf(organization)));
      const domains = { verified: organization.verifiedDomains.map((d) => d.name.toLowerCase()) };
      const writes = !options.dryRun && !config.stagingMode && !options.planOnlyReason;
      const anchorProperty = writes ? await cloud.ensureAnchorExtension() : cloud.anchorProperty();
      if (writes) await recoverUnconfirmed(store, cloud, runId);

      // Import AD.
      progress('importing-ad', 0);
      if (kind === 'full') {
        const startCursor = await ad.currentCursor();
        for await (const page of ad.fullImport()) {
          store.transaction(() => store.upsertAdEntries(page, runId));
          adImported += page.length;
          progress('importing-ad', adImported);
        }
        store.transaction(() => {
          store.markUnseenAdObjectsDeleted(runId);
          if (!options.dryRun) store.setCursor(AD_CURSOR, startCursor);
        });
      } else {
        for await (const batch of ad.deltaImport(cursor as string)) {
          store.transaction(() => {
            store.upsertAdEntries(batch.changed, runId);
            store.markAdObjectsDeleted(batch.deletedGuids, runId);
            if (!options.dryRun) store.setCursor(AD_CURSOR, batch.cursor);
          });
          adImported += batch.changed.length + batch.deletedGuids.length;
          progress('importing-ad', adImported);
        }
      }
      if (AdConnector.cursorMode(store.getCursor(AD_CURSOR) ?? JSON.stringify({ mode: 'dirsync' })) === 'usn') {
        message = [message, 'The account cannot use DirSync (it lacks Replicating Directory Changes): changes are read by uSNChanged, and deletions are confirmed by full runs.'].filter(Boolean).join(' ');
      }

      // Import cloud (full runs; delta runs trust the store).
      if (kind === 'full') {
        progress('importing-cloud', 0);
        const admins = await cloud.administratorIds();
        for await (const page of cloud.readUsers(admins)) {
          store.transaction(() => store.upsertCloudObjects(page, runId));
          cloudImported += page.length;
          progress('importing-cloud', cloudImported);
        }
        for await (const page of cloud.readGroups()) {
          store.transaction(() => store.upsertCloudObjects(page, runId));
          cloudImported += page.length;
          for (const group of page) {
            if (!group.managedAnchor) continue;
            const members = await cloud.groupMemberIds(group.id);
            store.transaction(() => store.replaceCloudMembers(group.id, members));
          }
          progress('importing-cloud', cloudImported);
        }
        store.removeUnseenCloudObjects(runId);
      }

      // Plan and gate.
      progress('planning', 0);
      const plan = buildPlan({
        store, config, runId, mode: kind === 'full' ? { kind: 'full' } : { kind: 'delta', changedAfterRun: watermark },
        domains, anchorProperty, inScopeBefore: inScopeBefore(store), dryRun: options.dryRun, recordMatches: options.dryRun, recordOutOfScope: options.recordOutOfScope,
        tenantSynchronized,
      });
      // A held plan keeps the old count, so that approving or rejecting is the only way past the guard.
      if (!options.dryRun && !config.stagingMode && plan.held === 0) store.setCursor(IN_SCOPE_COUNT, String(plan.inScope));
      const plannedTotal = Object.values(plan.planned).reduce((a, b) => a + b, 0);
      const baseSummary = { imported: { ad: adImported, cloud: cloudImported }, planned: plan.planned, held: plan.held, errors: plan.errors,
        outOfScope: plan.outOfScope, notWritable: plan.notWritable, inScope: plan.inScope, planId: plan.planId, matchReport: plan.matchReport, heldReasons: plan.heldReasons,
        ...(tenantSynchronized ? { tenantSynchronized: organization.onPremisesLastSyncDateTime ? { lastSyncDateTime: organization.onPremisesLastSyncDateTime } : {} } : {}) };

      const lostLease = !options.dryRun && !config.stagingMode && !options.planOnlyReason && options.confirmExport !== undefined && !(await options.confirmExport());
      const planOnlyReason = options.planOnlyReason ?? (lostLease ? 'This server no longer holds the tenant ownership lease: it only plans.' : undefined);
      if (options.dryRun || config.stagingMode || planOnlyReason) {
        store.setPlanStatus(plan.planId, 'previewed');
        const why = options.dryRun ? 'Preview only: nothing was written to the tenant.'
          : config.stagingMode ? 'Staging mode: nothing was written to the tenant.' : `${planOnlyReason} Nothing was written to the tenant.`;
        store.finishRun(runId, plan.errors > 0 ? 'completed-with-errors' : 'succeeded', { ...baseSummary, exported: {} },
          [message, why, cloud.tokenRefusals.note(refusalsBefore)].filter(Boolean).join(' '));
        log?.info({ planned: plan.planned, held: plan.held, errors: plan.errors }, 'preview finished');
        progress('done', plannedTotal);
        return store.getRun(runId) as RunSummary;
      }

      // Export.
      progress('exporting', 0, plannedTotal - plan.held);
      store.setPlanStatus(plan.planId, 'applying');
      const governor = new WriteGovernor(session.writeBudget ?? defaultWriteBudget);
      const writer = new GraphWriter(cloud, governor);
      const result = await exportPlan({ store, cloud, writer, planId: plan.planId, runId, statuses: ['planned'],
        onProgress: (done) => progress('exporting', done, plannedTotal - plan.held), mayContinue: options.mayExport });
      const stopped = options.mayExport !== undefined && !options.mayExport();
      store.transaction(() => {
        if (plan.held > 0) {
          for (const pending of store.plansWithStatus('pending-approval')) store.setPlanStatus(pending.id, 'superseded');
          store.setPlanStatus(plan.planId, 'pending-approval');
        } else {
          store.setPlanStatus(plan.planId, 'applied');
        }
        if (!stopped) {
          store.setCursor(PLAN_WATERMARK, String(runId));
          // Objects whose export failed, or that were refused for what another object holds (a conflict
          // that the deletion of the other may have just resolved), are planned again by the next delta run.
          const bump = store.db.prepare('UPDATE ad_objects SET changed_run = ? WHERE guid = ?');
          for (const guid of [...result.failedAdGuids, ...plan.retryAdGuids]) bump.run(runId + 1, guid);
        }
      });
      const errors = plan.errors + result.failed;
      const status = plan.held > 0 ? 'waiting-for-approval' : errors > 0 ? 'completed-with-errors' : 'succeeded';
      const notes = [message, plan.held > 0 ? plan.heldReasons.join(' ') : undefined, stopped ? 'Export stopped before the end: the rest is planned again next run.' : undefined,
        writer.throttledResponses > 0 ? `Microsoft Graph throttled ${writer.throttledResponses} requests; each was retried after its Retry-After.` : undefined,
        cloud.tokenRefusals.note(refusalsBefore)];
      store.finishRun(runId, status, { ...baseSummary, errors, exported: result.exported, throttled: writer.throttledResponses, writeRequests: writer.requestsSent }, notes.filter(Boolean).join(' ') || undefined);
      log?.info({ status, exported: result.exported, held: plan.held, errors, throttled: writer.throttledResponses,
        tokensRefused: cloud.tokenRefusals.count - refusalsBefore, clockOffsetSeconds: cloud.tokenRefusals.clockOffsetSeconds }, 'run finished');
      osLog(status === 'completed-with-errors' ? 'error' : 'info', `Directory Sync: run ${runId} finished: ${status}; exported ${JSON.stringify(result.exported)}, held ${plan.held}, errors ${errors}.`);
      progress('done', plannedTotal);
      return store.getRun(runId) as RunSummary;
    } catch (caught) {
      const error = storeErrorOf(caught, store.location) as Error;
      try {
        store.finishRun(runId, 'failed', { ...emptySummary(), imported: { ad: adImported, cloud: cloudImported } }, error.message);
      } catch {
        // The store cannot record it (its disk is full): the run stays unfinished, and the next run marks it failed.
      }
      log?.error({ code: (error as { code?: string }).code }, `run failed: ${(error as Error).message}`);
      osLog('error', `Directory Sync: run ${runId} failed: ${(error as Error).message}`);
      throw error;
    } finally {
      await ad.close();
    }
  });
}

/** The first thing the CLI says in a tenant another tool synchronizes. */
export function synchronizedTenantNote(state: TenantSynchronized): string {
  const last = state.lastSyncDateTime ? ` (its last synchronization: ${state.lastSyncDateTime})` : '';
  return `This tenant is synchronized by another tool${last}: Entra Connect, Cloud Sync or DirSync. `
    + 'Its synchronized users and groups are never written nor created again, and nothing new is created until an administrator approves it.';
}

/** What the tenant last said of its own synchronization (organization onPremisesSyncEnabled), for status. */
export const TENANT_SYNC_STATE = 'tenant.syncState';

export type TenantSyncState = { readonly synchronized: boolean; readonly lastSyncDateTime?: string; readonly checkedAt: string };

/** What the last run learned of the tenant's own synchronization, if any run asked. */
export function tenantSyncState(store: Store): TenantSyncState | undefined {
  const value = store.getCursor(TENANT_SYNC_STATE);
  return value === undefined ? undefined : (JSON.parse(value) as TenantSyncState);
}

export function tenantSyncStateOf(organization: Organization): TenantSyncState {
  return { synchronized: organization.onPremisesSyncEnabled === true, ...(organization.onPremisesLastSyncDateTime ? { lastSyncDateTime: organization.onPremisesLastSyncDateTime } : {}),
    checkedAt: new Date().toISOString() };
}

function inScopeBefore(store: Store): number | undefined {
  const value = store.getCursor(IN_SCOPE_COUNT);
  return value === undefined ? undefined : Number(value);
}

function emptySummary(): Omit<RunSummary, 'id' | 'kind' | 'dryRun' | 'status' | 'startedAt' | 'endedAt'> {
  return { imported: { ad: 0, cloud: 0 }, planned: {}, exported: {}, held: 0, errors: 0, outOfScope: 0 };
}
