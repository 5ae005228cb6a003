/**
 * The Directory Synchronization Service: owns the store, runs the schedule, and answers the control
 * API. It runs without any window; closing the wizard never stops synchronization.
 */
import type { AdConnectionTest, ControlRequests, ObjectLookup, OuNode, PlanDetails, RunProgress, ServiceStatus } from '../contract/control-api.ts';
import type { MatchReportEntry, ObjectError, RunKind, RunSummary } from '../contract/model.ts';
import { AdConnector } from '../ad/connector.ts';
import { probeAdConnection, listOrganizationalUnits } from '../ad/probe.ts';
import type { WriteBudget } from '../cloud/governor.ts';
import { NotConfiguredError, RunInProgressError } from '../errors/run-errors.ts';
import type { Store } from '../store/store.ts';
import { storeFiles, type DirSyncConfig } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import type { EventHub } from './control-server.ts';
import { approvePlan, openStore, readConfig, rejectPlan, sessionFor } from './engine.ts';
import { fullRunConfigHash, nextRun, type ScheduleDecision } from './scheduler.ts';
import { AD_CURSOR, runSync } from './sync-run.ts';
import { scopeEvaluator } from './planner.ts';

export type ServiceClock = {
  now(): number;
  setTimer(fn: () => void, ms: number): { cancel(): void };
};

export const systemClock: ServiceClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const handle = setTimeout(fn, Math.min(ms, 2 ** 31 - 1));
    return { cancel: () => clearTimeout(handle) };
  },
};

export type ServiceOptions = {
  readonly dataDir: string;
  readonly events: EventHub;
  readonly clock?: ServiceClock;
  readonly version?: string;
  readonly writeBudget?: WriteBudget;
  /** Off in tests that drive runs by hand. */
  readonly schedule?: boolean;
};

const FULL_CONFIG_HASH = 'schedule.fullRunConfigHash';

export class DirSyncService implements ControlRequests {
  public readonly store: Store;
  public readonly log: Logger;
  private readonly clock: ServiceClock;
  private running?: { promise: Promise<RunSummary>; progress?: RunProgress; kind: RunKind; startedAt: number };
  private timer?: { cancel(): void };
  private next?: ScheduleDecision;
  private stopped = false;
  private phaseStarted = new Map<string, number>();

  public constructor(private readonly options: ServiceOptions) {
    this.store = openStore(options.dataDir);
    this.log = createLogger({ logDir: storeFiles(options.dataDir).logs });
    this.clock = options.clock ?? systemClock;
  }

  public start(): void {
    this.store.failAbandonedRuns('The service stopped before the run finished.');
    this.log.info({ dataDir: this.options.dataDir }, 'service started');
    this.schedule();
  }

  /** Stops scheduling; waits for a run in progress to finish. */
  public async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    if (this.running) await this.running.promise.catch(() => undefined);
    this.log.info('service stopped');
    this.log.flush();
    this.store.close();
  }

  private config(): DirSyncConfig | undefined {
    return readConfig(this.store);
  }

  /** Plans the next scheduled run (and runs it when due). */
  public schedule(): ScheduleDecision | undefined {
    this.timer?.cancel();
    const config = this.config();
    if (!config || this.stopped || this.options.schedule === false) {
      this.next = undefined;
      return undefined;
    }
    const last = this.store.listRuns(1)[0];
    const decision = nextRun({
      now: this.clock.now(), intervalMinutes: config.schedule.intervalMinutes,
      lastRunEndedAt: last?.endedAt ? Date.parse(last.endedAt) : undefined,
      lastFullRunConfigHash: this.store.getCursor(FULL_CONFIG_HASH), configHash: fullRunConfigHash(config),
    });
    this.next = decision;
    this.timer = this.clock.setTimer(() => {
      if (this.running) {
        this.schedule();
        return;
      }
      void this.startRun({ kind: decision.kind }).catch(() => this.schedule());
    }, Math.max(0, decision.at - this.clock.now()));
    return decision;
  }

  private progress(p: RunProgress & { phase: RunProgress['phase'] }): void {
    const key = `${p.runId}:${p.phase}`;
    if (!this.phaseStarted.has(key)) this.phaseStarted.set(key, this.clock.now());
    const started = this.phaseStarted.get(key) as number;
    let total = p.total;
    if (total === undefined && p.phase === 'importing-ad') total = this.store.listRuns(20).find((r) => r.kind === 'full' && r.imported.ad > 0)?.imported.ad;
    const elapsed = (this.clock.now() - started) / 1000;
    const etaSeconds = total !== undefined && p.done > 0 && total > p.done && elapsed > 0 ? Math.round(((total - p.done) * elapsed) / p.done) : undefined;
    const enriched: RunProgress = { ...p, total, etaSeconds };
    if (this.running) this.running.progress = enriched;
    this.options.events.emit('onDidProgress', enriched);
  }

  public async startRun(args: { readonly kind: RunKind; readonly dryRun?: boolean }): Promise<{ runId: number }> {
    const config = this.config();
    if (!config) throw new NotConfiguredError('Directory Sync is not configured yet: run the Configuration Wizard, or `dirsync init`.');
    if (this.running) throw new RunInProgressError(`A ${this.running.kind} run is in progress; wait for it to finish.`);
    this.timer?.cancel();
    let resolveId: (id: number) => void = () => undefined;
    const started = new Promise<number>((resolve) => { resolveId = resolve; });
    const session = sessionFor(this.store, config, { writeBudget: this.options.writeBudget, log: this.log });
    const promise = runSync(session, {
      kind: args.kind, dryRun: args.dryRun ?? false,
      onProgress: (p) => {
        resolveId(p.runId);
        this.progress(p);
      },
    });
    this.running = { promise, kind: args.kind, startedAt: this.clock.now() };
    promise.then((summary) => {
      if (summary.kind === 'full' && !summary.dryRun && summary.status !== 'failed') this.store.setCursor(FULL_CONFIG_HASH, fullRunConfigHash(config));
      const cutoff = new Date(this.clock.now() - config.historyDays * 86_400_000).toISOString();
      this.store.pruneRuns(cutoff);
      this.options.events.emit('onDidFinishRun', summary);
    }, () => undefined).finally(() => {
      this.running = undefined;
      this.schedule();
      void this.getStatus({}).then((status) => this.options.events.emit('onDidChangeStatus', status));
    });
    const runId = await Promise.race([started, promise.then((s) => s.id)]);
    return { runId };
  }

  /** Waits for the run in progress (tests, shutdown). */
  public async waitForRun(): Promise<RunSummary | undefined> {
    return this.running?.promise;
  }

  public async getStatus(_args: Record<string, never>): Promise<ServiceStatus> {
    const config = this.config();
    const cursor = this.store.getCursor(AD_CURSOR);
    const last = this.store.listRuns(1).find((r) => r.status !== 'running');
    return {
      serviceVersion: this.options.version ?? '0.1.0',
      configured: config !== undefined,
      stagingMode: config?.stagingMode ?? false,
      role: !config ? 'unconfigured' : config.stagingMode ? 'staging' : 'active',
      changeTracking: cursor ? AdConnector.cursorMode(cursor) : 'none',
      running: this.running?.progress,
      lastRun: last,
      nextRunAt: this.next ? new Date(this.next.at).toISOString() : undefined,
      scheduleMinutes: config?.schedule.intervalMinutes,
      pendingApprovals: this.store.plansWithStatus('pending-approval').map((p) => ({ planId: p.id, held: this.store.listOperations(p.id, { status: 'held' }).length, reasons: p.reasons })),
      managed: this.store.managedCount(),
    };
  }

  public async testAdConnection(args: Parameters<ControlRequests['testAdConnection']>[0]): Promise<AdConnectionTest> {
    return probeAdConnection(args);
  }

  public async listOus(args: Parameters<ControlRequests['listOus']>[0]): Promise<ReadonlyArray<OuNode>> {
    return listOrganizationalUnits(args);
  }

  public async listRuns(args: { readonly limit?: number }): Promise<ReadonlyArray<RunSummary>> {
    return this.store.listRuns(args.limit ?? 50);
  }

  public async listErrors(args: { readonly runId?: number }): Promise<ReadonlyArray<ObjectError>> {
    const runId = args.runId ?? this.store.listRuns(1)[0]?.id;
    return runId === undefined ? [] : this.store.listErrors(runId);
  }

  public async matchReport(args: { readonly runId: number }): Promise<ReadonlyArray<MatchReportEntry>> {
    return this.store.listReports(args.runId).filter((r) => r.category !== 'not-writable')
      .map((r) => ({ kind: r.category as MatchReportEntry['kind'], objectType: r.objectType as MatchReportEntry['objectType'], dn: r.dn, sourceAnchor: '', reason: r.reason }));
  }

  public async getPlan(args: { readonly planId: number }): Promise<PlanDetails> {
    const plan = this.store.getPlan(args.planId);
    if (!plan) throw new NotConfiguredError(`There is no plan ${args.planId}.`);
    return { planId: plan.id, status: plan.status, reasons: plan.reasons,
      operations: this.store.listOperations(plan.id).map((s) => ({ ...s.operation, status: s.status, error: s.error })) };
  }

  public async approvePlan(args: { readonly planId: number }): Promise<RunSummary> {
    const config = this.config();
    if (!config) throw new NotConfiguredError('Directory Sync is not configured yet.');
    if (this.running) throw new RunInProgressError('A run is in progress; approve when it has finished.');
    const summary = await approvePlan(sessionFor(this.store, config, { writeBudget: this.options.writeBudget, log: this.log }), args.planId);
    this.options.events.emit('onDidFinishRun', summary);
    return summary;
  }

  public async rejectPlan(args: { readonly planId: number }): Promise<{ rejected: number }> {
    return { rejected: rejectPlan(this.store, args.planId) };
  }

  public async lookupObject(args: { readonly query: string }): Promise<ObjectLookup> {
    const q = args.query.trim();
    const row = this.store.db.prepare(`SELECT guid FROM ad_objects WHERE deleted = 0 AND (guid = @q OR dn = @q COLLATE NOCASE
      OR lower(json_extract(entry, '$.attributes.userprincipalname[0]')) = lower(@q) OR lower(json_extract(entry, '$.attributes.samaccountname[0]')) = lower(@q)
      OR lower(json_extract(entry, '$.attributes.mail[0]')) = lower(@q)) LIMIT 1`).get({ q }) as { guid: string } | undefined;
    const entry = row ? this.store.getAdEntry(row.guid) : undefined;
    const config = this.config();
    const link = entry ? this.store.getLink(entry.guid) : undefined;
    const cloud = link?.cloudId ? this.store.getCloudObject(link.cloudId) : undefined;
    const scope = entry && config ? scopeEvaluator(this.store, config)(entry) : undefined;
    const lastRun = this.store.listRuns(1)[0];
    const ops = entry ? this.store.db.prepare('SELECT p.run_id AS runId, o.operation, o.status FROM plan_operations o JOIN plans p ON p.id = o.plan_id WHERE o.ad_guid = ? ORDER BY o.plan_id DESC, o.seq').all(entry.guid) as Array<{ runId: number; operation: string; status: string }> : [];
    const exported = ops.find((o) => o.status === 'confirmed');
    const latestPlanRun = ops[0]?.runId;
    return {
      query: q,
      ad: entry ? { dn: entry.dn, guid: entry.guid, objectClass: entry.objectClass, attributes: entry.attributes, inScope: scope?.inScope ?? false, scopeReason: scope && !scope.inScope ? scope.reason : undefined } : undefined,
      cloud: cloud ? { id: cloud.id, properties: cloud.properties } : undefined,
      planned: ops.filter((o) => o.runId === latestPlanRun && o.status !== 'confirmed').map((o) => JSON.parse(o.operation)),
      lastExport: exported ? { runId: exported.runId, kind: (JSON.parse(exported.operation) as { kind: string }).kind, status: exported.status } : undefined,
      errors: entry && lastRun ? this.store.listErrors(lastRun.id).filter((e) => e.adGuid === entry.guid) : [],
    };
  }
}
