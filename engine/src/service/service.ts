/**
 * The Directory Synchronization Service: owns the store, runs the schedule, and answers the control
 * API. It runs without any window; closing the wizard never stops synchronization.
 */
import type { HandoverReport, HandoverStatus } from '../contract/handover.ts';
import { adoptionFinished, detectOtherTool, readHandover, runsWaitForHandover } from '../run/handover.ts';
import { HandoverRefusedError } from '../errors/handover-errors.ts';
import { HandoverControl } from './handover-control.ts';
import { readinessChecks } from '../diagnostics/readiness.ts';
import type { AdConnectionInput, AdConnectionTest, CloudAndAdSecrets, CloudConnectionTest, CloudNetworkInput, ConfigPreview, OuSource, PreviewCategory, PreviewObject, ReadinessCheck, CloudRegistrationView, CloudSignInProgress, CloudSignInPrompt, ControlRequests, ExistingAppTest, ForestView, ObjectLookup, OuNode, OwnershipHolder, PlanDetails, RightsReport, RunProgress, ServiceAccountView, ServiceStatus } from '../contract/control-api.ts';
import type { MatchReportEntry, ObjectError, RunKind, RunSummary } from '../contract/model.ts';
import { AdConnector } from '../ad/connector.ts';
import { discoverForestOf, probeAdConnection, listOrganizationalUnits } from '../ad/probe.ts';
import type { WriteBudget } from '../cloud/governor.ts';
import { OwnershipGuard, readOwnership, type ServerIdentity } from '../cloud/ownership.ts';
import { beginAdminSignIn, checkAppCredential, registerDirectorySyncApp, registrationView, type AdminSignIn, type CloudSettings } from '../cloud/app-registration.ts';
import { testCloudConnection } from '../cloud/connection-test.ts';
import { testExistingApp } from '../cloud/existing-app.ts';
import { CloudNetwork } from '../cloud/network.ts';
import { DIRECTORY_SYNC_GRAPH_PERMISSIONS } from '../contract/permissions.ts';
import { ConfigError } from '../errors/config-error.ts';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { PreviewExpiredError, PreviewInProgressError } from '../errors/preview-errors.ts';
import { NotConfiguredError, RunInProgressError } from '../errors/run-errors.ts';
import type { Store } from '../store/store.ts';
import { parseConfig, storeFiles, type DirSyncConfig } from '../base/config.ts';
import { createLogger, type Logger } from '../base/logger.ts';
import type { EventHub } from './control-server.ts';
import { approvePlan, rejectPlan } from '../run/approval.ts';
import { cloudConnectorFor, cloudNetworkFor, openStore, proxyPasswordFor, readConfig, saveConfig, sessionFor, storeSecrets, SECRET_AD_PASSWORD, SECRET_CERTIFICATE_KEY, SECRET_CERTIFICATE_THUMBPRINT, SECRET_CLIENT_SECRET, SECRET_PROXY_PASSWORD } from '../run/session.ts';
import { createServiceAccount, rotateServiceAccountPassword, verifyServiceAccountRights } from '../ad/service-account.ts';
import { fullRunConfigHash, nextRun, type ScheduleDecision } from './scheduler.ts';
import { phaseEtaSeconds, runSync } from '../run/run.ts';
import { tenantSyncState } from '../run/tenant-state.ts';
import { domainStatuses } from '../run/sources.ts';
import { adCursorKey, CLOUD_REGISTRATION, PRIMARY_SOURCE, FULL_CONFIG_HASH, SERVER_ID, SERVICE_ACCOUNT, SERVICE_ACCOUNT_RIGHTS, forestPasswordSecret, forestServiceAccountKey,
  forestServiceAccountRightsKey } from '../store/keys.ts';
import { scopeEvaluator } from '../run/planning.ts';
import { listPreviewObjects, openPreviewStore, previewCounts, previewCountsByForest, previewFile, removePreviewFiles, removeStalePreviews } from '../run/preview.ts';
import { forestOf, primarySource, sourceOfDn } from '../base/config.ts';

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
  /** Wait between writing and re-reading the lease when claiming (default 3 s). */
  readonly ownershipSettleMs?: number;
  /** How often the lease is re-verified during exports (default 60 s). */
  readonly ownershipVerifySeconds?: number;
  /** This computer's name as the tenant sees it (ownership lease, app registration); default: the OS host name. */
  readonly hostName?: string;
  /** How long the wizard's app registration waits for its new permissions to reach a token (default 300 s). */
  readonly registrationReplicationSeconds?: number;
  /** How long a run waits, in all, for objects it created to replicate (default 2 min). */
  readonly replicationWaitMs?: number;
  /** How often a takeover's conversion is checked (default 60 s). */
  readonly handoverPollSeconds?: number;
  /** Called when a client asks the service to stop (stopService): the process then stops as on SIGTERM. */
  readonly onStopRequested?: () => void;
};


function describeHolder(holder: OwnershipHolder | null | undefined): string {
  if (!holder) return 'Nobody holds the tenant ownership lease and it could not be claimed: this server only plans.';
  return `Another server (${holder.hostName}, since ${holder.claimedAt}) holds the tenant ownership lease: this server only plans. Take over in the Configuration Wizard (or with \`dirsync ownership --take-over\`) if that server is gone.`;
}

export class DirSyncService implements ControlRequests {
  public readonly store: Store;
  public readonly log: Logger;
  private readonly clock: ServiceClock;
  private running?: { promise: Promise<RunSummary>; progress?: RunProgress; kind: RunKind; startedAt: number };
  private timer?: { cancel(): void };
  private next?: ScheduleDecision;
  private stopped = false;
  private phaseStarted = new Map<string, number>();
  private guard?: { readonly key: string; readonly guard: OwnershipGuard };
  /** The last configuration preview, kept for listPreviewObjects until the next preview or save. */
  private preview?: { readonly id: string; readonly store: Store; readonly file: string; readonly runId: number; readonly planId?: number };
  /** The preview being made, awaited by stop(); a save or a newer preview makes its generation stale. */
  private previewing?: Promise<unknown>;
  private previewGeneration = 0;
  /** Until then scheduled runs wait: the Configuration Wizard starts the first run after saving itself. */
  private holdScheduleUntil?: number;

  private readonly handover: HandoverControl;

  public constructor(private readonly options: ServiceOptions) {
    this.store = openStore(options.dataDir);
    this.log = createLogger({ logDir: storeFiles(options.dataDir).logs });
    this.clock = options.clock ?? systemClock;
    this.handover = new HandoverControl({
      store: this.store, log: this.log, now: () => this.clock.now(), config: () => this.config(),
      previewCopy: () => {
        const file = previewFile(this.options.dataDir, randomUUID());
        const copy = openPreviewStore(this.store, file, storeFiles(this.options.dataDir).key);
        return { store: copy, discard: () => {
          copy.close();
          removePreviewFiles(file);
        } };
      },
      startAdoptionRun: async () => {
        if (this.running || this.stopped || this.config()?.stagingMode) return false;
        await this.startRun({ kind: 'full', adoption: true });
        return true;
      },
      changed: () => {
        if (this.stopped) return;
        if (!this.running) this.schedule();
        void this.getStatus({}).then((status) => this.options.events.emit('onDidChangeStatus', status), () => undefined);
      },
    });
  }

  public start(): void {
    this.store.failAbandonedRuns('The service stopped before the run finished.');
    removeStalePreviews(this.options.dataDir);
    this.log.info({ dataDir: this.options.dataDir }, 'service started');
    this.schedule();
    // The tenant was synchronized by another tool when last seen: a switch may have been made just before a stop.
    if (this.config() && tenantSyncState(this.store)?.synchronized && !this.handover.following()) this.followHandover(true);
  }

  /** One step of a takeover the service follows (stop() waits for it). */
  private followHandover(look: boolean): void {
    if (this.stopped || this.handoverWork) return;
    this.handoverWork = this.handover.tick(look).catch((error: unknown) => this.log.warn({ err: error }, 'the takeover could not be followed'))
      .finally(() => { this.handoverWork = undefined; });
  }

  private handoverWork?: Promise<void>;
  /** Adoption runs that ended without adopting everything, in a row (backs the takeover's checks off). */
  private adoptionAttempts = 0;

  /** Stops scheduling; a run in progress stops after its current export page, and is waited for. */
  public async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.handoverWork;
    if (this.running) await this.running.promise.catch(() => undefined);
    this.previewGeneration += 1;
    if (this.previewing) await this.previewing.catch(() => undefined);
    this.discardPreview();
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
    if (config && !this.stopped && !config.stagingMode && this.handover.following()) {
      // A takeover the administrator switched: the conversion is checked (runs wait for it), then the adoption run starts.
      // An adoption run that could not adopt (another server's lease) is tried again less and less often, up to hourly.
      this.next = undefined;
      const poll = (this.options.handoverPollSeconds ?? 60) * Math.min(2 ** this.adoptionAttempts, 60);
      this.timer = this.clock.setTimer(() => this.followHandover(false), Math.min(poll, 3600) * 1000);
      return undefined;
    }
    if (!config || this.stopped || this.options.schedule === false) {
      this.next = undefined;
      return undefined;
    }
    const last = this.store.listRuns(1)[0];
    const decision = nextRun({
      now: this.clock.now(), intervalMinutes: config.schedule.intervalMinutes,
      lastRunEndedAt: last?.endedAt ? Date.parse(last.endedAt) : undefined,
      lastFullRunConfigHash: this.store.getCursor(FULL_CONFIG_HASH), configHash: fullRunConfigHash(config),
      lastFullRunAt: this.lastFullRunAt(), fullEveryHours: config.schedule.fullEveryHours,
    });
    const held = this.holdScheduleUntil !== undefined && this.holdScheduleUntil > decision.at ? { ...decision, at: this.holdScheduleUntil } : decision;
    this.next = held;
    this.timer = this.clock.setTimer(() => {
      if (this.running) {
        this.schedule();
        return;
      }
      void this.startRun({ kind: held.kind }).catch(() => this.schedule());
    }, Math.max(0, held.at - this.clock.now()));
    return held;
  }

  /** When the last full run that read every domain ended (one that could not read a domain does not count). */
  private lastFullRunAt(): number | undefined {
    const rows = this.store.db.prepare("SELECT ended_at AS endedAt, summary FROM runs WHERE kind = 'full' AND dry_run = 0 AND status != 'failed' AND ended_at IS NOT NULL ORDER BY id DESC LIMIT 20")
      .all() as Array<{ endedAt: string; summary: string | null }>;
    const complete = rows.find((row) => !((JSON.parse(row.summary ?? '{}') as { sources?: Array<{ error?: string }> }).sources ?? []).some((source) => source.error !== undefined));
    return complete ? Date.parse(complete.endedAt) : undefined;
  }

  private progress(p: RunProgress & { phase: RunProgress['phase'] }): void {
    const key = `${p.runId}:${p.phase}`;
    if (!this.phaseStarted.has(key)) this.phaseStarted.set(key, this.clock.now());
    const started = this.phaseStarted.get(key) as number;
    let total = p.total;
    if (total === undefined && p.phase === 'importing-ad') total = this.store.listRuns(20).find((r) => r.kind === 'full' && r.imported.ad > 0)?.imported.ad;
    // The export's own estimate knows the write budget; other phases go at their pace so far.
    const etaSeconds = p.etaSeconds ?? phaseEtaSeconds(p.done, total, (this.clock.now() - started) / 1000);
    const enriched: RunProgress = { ...p, total, etaSeconds };
    if (this.running) this.running.progress = enriched;
    this.options.events.emit('onDidProgress', enriched);
  }

  /** This server's identity for the ownership lease (made once, kept in the store). */
  private me(): ServerIdentity {
    let serverId = this.store.getCursor(SERVER_ID);
    if (!serverId) {
      serverId = randomUUID();
      this.store.setCursor(SERVER_ID, serverId);
    }
    return { serverId, hostName: this.options.hostName ?? hostname() };
  }

  private ownershipGuard(config: DirSyncConfig): OwnershipGuard {
    // The network is part of it: a proxy or an authority changed in the wizard is used at once, not after a restart.
    const key = `${config.cloud.tenantId}/${config.cloud.clientId}/${JSON.stringify(config.network)}/${config.cloud.trustedCaPem ?? ''}`;
    if (this.guard?.key !== key) {
      const connector = cloudConnectorFor(this.store, config);
      this.guard = { key, guard: new OwnershipGuard({ graph: connector.graph, tenantId: config.cloud.tenantId, me: this.me(),
        settleMs: this.options.ownershipSettleMs, verifyEverySeconds: this.options.ownershipVerifySeconds, now: () => this.clock.now() }) };
    }
    return this.guard.guard;
  }

  /**
   * Before a run that would write: the first server of a tenant takes the free lease; a server that
   * does not hold it plans only and says who does.
   */
  private async exportPermission(config: DirSyncConfig): Promise<{ mayExport?: () => boolean; confirmExport?: () => Promise<boolean>; planOnlyReason?: string }> {
    if (config.stagingMode) return {};
    const guard = this.ownershipGuard(config);
    const status = await guard.refresh().catch(() => guard.status());
    if (status.state === 'lost' && status.holder === null) {
      const claim = await guard.claim(false);
      if (!claim.claimed) return { planOnlyReason: describeHolder(claim.holder) };
    } else if (status.state !== 'owner') {
      return { planOnlyReason: status.holder ? describeHolder(status.holder) : 'This server could not confirm that it holds the tenant ownership lease: it only plans.' };
    }
    return {
      mayExport: guard.mayExport,
      confirmExport: async () => {
        await guard.refresh().catch(() => undefined);
        return guard.mayExport();
      },
    };
  }

  private readonly signIns = new Map<string, { sign: AdminSignIn; settings: CloudSettings; progress: CloudSignInProgress }>();

  /**
   * The network the wizard's cloud calls go through: the one typed on the Microsoft Entra page, else the saved
   * configuration's. A proxy password not typed again is the stored one, for the same proxy and user only.
   */
  private networkFor(input: CloudNetworkInput | undefined): CloudNetwork {
    const config = this.config();
    if (!input) return config ? cloudNetworkFor(this.store, config) : new CloudNetwork({ proxy: { mode: 'system' } });
    const proxyPassword = input.proxyPassword || proxyPasswordFor(this.store, input.proxy);
    try {
      return new CloudNetwork({ proxy: input.proxy, proxyPassword, trustedCaPem: input.trustedCaPem });
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  }

  public async testCloudConnection(args: Parameters<ControlRequests['testCloudConnection']>[0]): Promise<CloudConnectionTest> {
    let network: CloudNetwork;
    try {
      network = this.networkFor(args.network);
    } catch (error) {
      return { ok: false, reason: 'bad-proxy-setting', message: (error as Error).message };
    }
    try {
      return await testCloudConnection(args, network);
    } finally {
      await network.close();
    }
  }

  public async beginCloudSignIn(args: Parameters<ControlRequests['beginCloudSignIn']>[0]): Promise<CloudSignInPrompt> {
    const network = this.networkFor(args.network);
    const settings: CloudSettings = { instance: args.instance, authorityHost: args.authorityHost, graphBaseUrl: args.graphBaseUrl, network };
    const sign = await beginAdminSignIn({ ...settings, tenant: args.tenant }).catch(async (error: unknown) => {
      await network.close();
      throw error;
    });
    const signInId = randomUUID();
    this.signIns.set(signInId, { sign, settings, progress: { stage: 'waiting-for-administrator', message: 'Waiting for you to sign in…' } });
    return { signInId, userCode: sign.userCode, verificationUri: sign.verificationUri, message: sign.message, expiresAt: sign.expiresAt.toISOString() };
  }

  public async graphPermissions(_args: Record<string, never>): Promise<ReadonlyArray<string>> {
    return DIRECTORY_SYNC_GRAPH_PERMISSIONS;
  }

  public async testExistingApp(args: Parameters<ControlRequests['testExistingApp']>[0]): Promise<ExistingAppTest> {
    let clientSecret = args.clientSecret;
    if (clientSecret === undefined || clientSecret === '') {
      // A rerun keeps the stored secret of the app in use: only for that same app.
      const cloud = this.config()?.cloud;
      const same = cloud?.credential === 'secret' && cloud.clientId.toLowerCase() === args.clientId.toLowerCase() && cloud.tenantId.toLowerCase() === args.tenant.toLowerCase();
      clientSecret = same ? this.store.secrets.get(SECRET_CLIENT_SECRET) : undefined;
      if (!clientSecret) throw new ConfigError('Enter the client secret of the app registration to test it.');
    }
    const network = this.networkFor(args.network);
    try {
      return await testExistingApp({ instance: args.instance, authorityHost: args.authorityHost, graphBaseUrl: args.graphBaseUrl, network,
        tenant: args.tenant, clientId: args.clientId, clientSecret });
    } finally {
      await network.close();
    }
  }

  public async completeCloudSignIn(args: { readonly signInId: string }): Promise<CloudRegistrationView> {
    const pending = this.signIns.get(args.signInId);
    if (!pending) throw new NotConfiguredError('That sign-in is unknown or finished: start the sign-in again.');
    try {
      const session = await pending.sign.result;
      pending.progress = { stage: 'registering', message: 'Signed in. Registering Directory Sync in your tenant…' };
      const previous = this.config();
      const existingAppId = previous?.cloud.tenantId === session.tenantId ? previous.cloud.clientId : undefined;
      const registration = await registerDirectorySyncApp(session, { hostName: this.options.hostName ?? hostname(), existingAppId });
      const timeoutSeconds = this.options.registrationReplicationSeconds ?? 300;
      const checked = await checkAppCredential(registration, { ...pending.settings, timeoutSeconds, onWait: (waiting, elapsedSeconds) => {
        pending.progress = { stage: 'waiting-for-replication', elapsedSeconds,
          message: `${waiting}: ${elapsedSeconds} s so far (new registrations usually take seconds, at times minutes; Directory Sync waits up to ${Math.round(timeoutSeconds / 60)} min).` };
        this.log.info({ waiting, elapsedSeconds }, 'waiting for the app registration to replicate');
      } });
      pending.progress = { stage: 'finished', message: 'Directory Sync is registered.' };
      this.store.transaction(() => {
        this.store.secrets.set(SECRET_CERTIFICATE_KEY, registration.privateKeyPem);
        this.store.secrets.set(SECRET_CERTIFICATE_THUMBPRINT, registration.thumbprintSha256);
        this.store.setCursor(CLOUD_REGISTRATION, JSON.stringify({ instance: pending.settings.instance, authorityHost: pending.settings.authorityHost, graphBaseUrl: pending.settings.graphBaseUrl,
          tenantId: registration.tenantId, clientId: registration.appId, certificatePem: registration.certificatePem,
          tenantDisplayName: registration.tenantDisplayName, verifiedDomains: registration.verifiedDomains.map((d) => d.name), appDisplayName: registration.displayName,
          earlierRegistrations: registration.earlierRegistrations }));
      });
      await session.signOut();
      this.log.info({ appId: registration.appId, created: registration.created, tenantId: registration.tenantId, revokedPermissions: registration.revokedPermissions,
        warnings: registration.warnings }, 'app registration ready');
      const view = registrationView(registration);
      const other = view.tenantSynchronized ? await detectOtherTool(this.store, checked.connector, registration.organization, this.clock.now()) : undefined;
      return other ? { ...view, tenantSynchronized: { ...view.tenantSynchronized, ...other } } : view;
    } finally {
      this.signIns.delete(args.signInId);
      await pending.settings.network?.close();
    }
  }

  public async cloudSignInProgress(args: { readonly signInId: string }): Promise<CloudSignInProgress> {
    const pending = this.signIns.get(args.signInId);
    return pending?.progress ?? { stage: 'finished', message: 'That sign-in is finished.' };
  }

  public async cancelCloudSignIn(args: { readonly signInId: string }): Promise<{ cancelled: boolean }> {
    const pending = this.signIns.get(args.signInId);
    pending?.sign.cancel();
    this.signIns.delete(args.signInId);
    await pending?.settings.network?.close();
    return { cancelled: pending !== undefined };
  }

  public async getHandover(_args: Record<string, never>): Promise<HandoverStatus> {
    return this.handover.status();
  }

  public async handoverReport(_args: Record<string, never>): Promise<HandoverReport> {
    if (this.stopped) throw new PreviewInProgressError('The service is stopping: make the report again once it is back.');
    if (this.previewing) throw new PreviewInProgressError('A preview is already in progress; wait for it to finish.');
    const work = this.handover.report();
    this.previewing = work;
    try {
      return await work;
    } finally {
      this.previewing = undefined;
    }
  }

  public async beginHandoverSwitch(args: { readonly confirmation: string; readonly oldToolGone?: boolean }): Promise<CloudSignInPrompt> {
    return this.handover.beginSwitch(args);
  }

  public async completeHandoverSwitch(args: { readonly signInId: string }): Promise<HandoverStatus> {
    return this.handover.completeSwitch(args);
  }

  public async cancelHandoverSwitch(args: { readonly signInId: string }): Promise<{ cancelled: boolean }> {
    return { cancelled: this.handover.cancelSwitch(args.signInId) };
  }

  public async stopService(_args: Record<string, never>): Promise<{ stopping: true; runId?: number }> {
    const runId = this.running?.progress?.runId;
    this.log.info({ runId }, 'asked to stop');
    // Answer first; the process stops as on SIGTERM (the run in progress ends after its current page).
    setImmediate(() => {
      if (this.options.onStopRequested) this.options.onStopRequested();
      else void this.stop();
    });
    return { stopping: true, ...(runId !== undefined ? { runId } : {}) };
  }

  public async getOwnership(_args: Record<string, never>): Promise<{ thisServer: boolean; holder?: OwnershipHolder }> {
    const config = this.config();
    if (!config) throw new NotConfiguredError('Directory Sync is not configured yet.');
    const holder = await readOwnership(cloudConnectorFor(this.store, config).graph, config.cloud.tenantId);
    return { thisServer: holder?.serverId === this.me().serverId, holder: holder ?? undefined };
  }

  public async claimOwnership(args: { readonly takeOver: boolean }): Promise<{ claimed: boolean; holder?: OwnershipHolder }> {
    const config = this.config();
    if (!config) throw new NotConfiguredError('Directory Sync is not configured yet.');
    const result = await this.ownershipGuard(config).claim(args.takeOver);
    this.log.info({ claimed: result.claimed, takeOver: args.takeOver, holder: result.claimed ? undefined : result.holder?.hostName }, 'ownership lease claim');
    return result.claimed ? { claimed: true, holder: result.lease } : { claimed: false, holder: result.holder ?? undefined };
  }

  public async startRun(args: { readonly kind: RunKind; readonly dryRun?: boolean; readonly adoption?: boolean }): Promise<{ runId: number }> {
    if (this.stopped) throw new RunInProgressError('The service is stopping: start the run again once it is back.');
    const config = this.config();
    if (!config) throw new NotConfiguredError('Directory Sync is not configured yet: run the Configuration Wizard, or `dirsync init`.');
    if (this.running) throw new RunInProgressError(`A ${this.running.kind} run is in progress; wait for it to finish.`);
    const waiting = args.dryRun || args.adoption ? undefined : runsWaitForHandover(this.store);
    if (waiting) throw new HandoverRefusedError(waiting);
    this.timer?.cancel();
    // A full run is what the hold waits for; a delta run or a preview leaves it in place.
    if (!args.dryRun && args.kind === 'full') this.holdScheduleUntil = undefined;
    let resolveId: (id: number) => void = () => undefined;
    const started = new Promise<number>((resolve) => { resolveId = resolve; });
    // `running` is set before the first await: a second caller meanwhile is told a run is in progress.
    const promise = (async () => {
      const permission = args.dryRun ? {} : await this.exportPermission(config);
      if (permission.planOnlyReason) this.log.warn({ reason: permission.planOnlyReason }, 'not the owner of the tenant: planning only');
      const session = sessionFor(this.store, config, { writeBudget: this.options.writeBudget, replicationWaitMs: this.options.replicationWaitMs, log: this.log });
      return runSync(session, {
        kind: args.kind, dryRun: args.dryRun ?? false, adoption: args.adoption,
        // A stop (SIGTERM, `dirsync service stop`, WinSW's stop executable) ends the export after its current page.
        mayExport: () => !this.stopped && (permission.mayExport?.() ?? true),
        interruption: () => (this.stopped ? 'The service was asked to stop (a restart, an upgrade, or the computer shutting down): the run was interrupted after its current export page; the rest is planned again next run.' : undefined), confirmExport: permission.confirmExport, planOnlyReason: permission.planOnlyReason,
        onProgress: (p) => {
          resolveId(p.runId);
          this.progress(p);
        },
      });
    })();
    this.running = { promise, kind: args.kind, startedAt: this.clock.now() };
    promise.then((summary) => {
      // A full run that could not read every domain is not the full run the configuration needs (docs/forests.md).
      const everyDomainRead = !(summary.sources ?? []).some((source) => source.error !== undefined);
      if (summary.kind === 'full' && !summary.dryRun && summary.status !== 'failed' && everyDomainRead) this.store.setCursor(FULL_CONFIG_HASH, fullRunConfigHash(config));
      if (args.adoption) {
        // Adopted once a run exported its whole plan: not a plan-only run (staging, another server's lease), not one a stop
        // or a lost lease cut short (its unexported operations stay planned); the held orphans wait for approval anyway.
        const plan = summary.planId === undefined ? undefined : this.store.getPlan(summary.planId);
        const complete = plan !== undefined && plan.status !== 'previewed' && !this.stopped
          && this.store.listOperations(plan.id, { status: 'planned' }).length === 0;
        adoptionFinished(this.store, summary.id, summary.status === 'failed' || !complete, this.clock.now());
        this.adoptionAttempts = complete ? 0 : this.adoptionAttempts + 1;
      }
      const cutoff = new Date(this.clock.now() - config.historyDays * 86_400_000).toISOString();
      this.store.pruneRuns(cutoff);
      this.options.events.emit('onDidFinishRun', summary);
    }, () => undefined).finally(() => {
      this.running = undefined;
      // Stopping: the store closes once this run is over; nothing is scheduled any more.
      if (this.stopped) return;
      this.schedule();
      void this.getStatus({}).then((status) => this.options.events.emit('onDidChangeStatus', status), () => undefined);
    });
    const runId = await Promise.race([started, promise.then((s) => s.id)]);
    return { runId };
  }

  /** Waits for the run in progress (tests, shutdown). */
  public async waitForRun(): Promise<RunSummary | undefined> {
    return this.running?.promise;
  }

  private tenantSynchronized(): Pick<ServiceStatus, 'tenantSynchronized'> {
    const state = tenantSyncState(this.store);
    if (!state?.synchronized) return {};
    return { tenantSynchronized: { ...(state.lastSyncDateTime ? { lastSyncDateTime: state.lastSyncDateTime } : {}), objects: this.store.syncedCount() } };
  }

  public async getStatus(_args: Record<string, never>): Promise<ServiceStatus> {
    const config = this.config();
    const cursor = this.store.getCursor(adCursorKey(PRIMARY_SOURCE));
    const last = this.store.listRuns(1).find((r) => r.status !== 'running');
    const lease = config && !config.stagingMode ? this.guard?.guard.status() : undefined;
    const notOwner = lease?.state === 'lost';
    const handover = readHandover(this.store);
    return {
      serviceVersion: this.options.version ?? '0.1.0',
      configured: config !== undefined,
      stagingMode: config?.stagingMode ?? false,
      role: !config ? 'unconfigured' : config.stagingMode ? 'staging' : notOwner ? 'not-owner' : 'active',
      ownership: lease ? { thisServer: lease.state === 'owner', holder: lease.holder ?? undefined } : undefined,
      changeTracking: cursor ? AdConnector.cursorMode(cursor) : 'none',
      ...(config ? { domains: domainStatuses(this.store, config, last) } : {}),
      running: this.running?.progress,
      lastRun: last,
      nextRunAt: this.next ? new Date(this.next.at).toISOString() : undefined,
      scheduleMinutes: config?.schedule.intervalMinutes,
      pendingApprovals: this.store.plansWithStatus('pending-approval').map((p) => ({ planId: p.id, held: this.store.listOperations(p.id, { status: 'held' }).length, reasons: p.reasons })),
      managed: this.store.managedCount(),
      ...this.tenantSynchronized(),
      ...(handover ? { handover } : {}),
      warnings: this.warnings(config, cursor),
    };
  }

  private warnings(config: DirSyncConfig | undefined, cursor: string | undefined): string[] {
    const warnings: string[] = [];
    if (cursor && AdConnector.cursorMode(cursor) === 'usn') {
      warnings.push('The AD account cannot use DirSync (it lacks Replicating Directory Changes): changes are read by uSNChanged, and deletions are confirmed by full runs.');
    }
    const rights = this.store.getCursor(SERVICE_ACCOUNT_RIGHTS);
    if (rights && (JSON.parse(rights) as RightsReport).checks.some((c) => c.name === 'readDeletedObjects' && !c.ok)) {
      warnings.push(`The service account cannot see deleted objects through DirSync: deletions in AD are confirmed by the periodic full run (every ${config?.schedule.fullEveryHours ?? 24} h).`);
    }
    if (config && config.schedule.fullEveryHours === 0 && warnings.length > 0) warnings.push('Periodic full runs are turned off: deletions may never be found. Set schedule.fullEveryHours.');
    return warnings;
  }

  public async getReadiness(_args: Record<string, never>): Promise<ReadonlyArray<ReadinessCheck>> {
    return readinessChecks({ dataDir: this.options.dataDir, now: this.clock.now() });
  }

  public async testAdConnection(args: Parameters<ControlRequests['testAdConnection']>[0]): Promise<AdConnectionTest> {
    return probeAdConnection(args);
  }

  public async listOus(args: OuSource): Promise<ReadonlyArray<OuNode>> {
    if (args.bindDn !== undefined) return listOrganizationalUnits(args);
    // A forest being added: as the service account made for it (its connection from the wizard).
    if (args.forest !== undefined && args.url !== undefined) {
      const account = this.forestAccount(args.forest, 'create its service account on the Active Directory page');
      return listOrganizationalUnits({ url: args.url, tlsServerName: args.tlsServerName, trustedCaPem: args.trustedCaPem, bindDn: account.bindDn, password: account.password, baseDn: args.baseDn });
    }
    // Without credentials (the wizard rerun): as the configured service account of the domain.
    const account = this.serviceAccountConnection('enter the enterprise administrator\'s credentials on the Active Directory page', args.baseDn);
    return listOrganizationalUnits({ ...account, baseDn: args.baseDn });
  }

  public async discoverForest(args: AdConnectionInput): Promise<ForestView> {
    return discoverForestOf(args);
  }

  /** The service account of a forest added after the first, and its password (both stored by createServiceAccount). */
  private forestAccount(forest: string, fix: string): { readonly bindDn: string; readonly password: string } {
    const stored = this.store.getCursor(forestServiceAccountKey(forest));
    const password = this.store.secrets.get(forestPasswordSecret(forest));
    // Made by this wizard, or configured (an imported configuration): the account its sources are read as.
    const bindDn = stored ? (JSON.parse(stored) as { dn: string }).dn
      : this.config()?.sources.find((source) => source.passwordSecret === forestPasswordSecret(forest))?.ad.bindDn;
    if (!bindDn || !password) throw new NotConfiguredError(`No service account is stored for the forest ${forest}: ${fix}.`);
    return { bindDn, password };
  }

  public async previewConfig(args: { readonly config: Readonly<Record<string, unknown>>; readonly secrets?: CloudAndAdSecrets }): Promise<ConfigPreview> {
    if (this.stopped) throw new PreviewInProgressError('The service is stopping: preview again once it is back.');
    const config = this.withRegistrationFacts(parseConfig(args.config, 'the Configuration Wizard'));
    if (this.previewing) throw new PreviewInProgressError('A preview is already in progress; wait for it to finish.');
    this.discardPreview();
    const generation = ++this.previewGeneration;
    const work = this.makePreview(config, args.secrets, generation);
    this.previewing = work;
    try {
      return await work;
    } finally {
      this.previewing = undefined;
    }
  }

  private async makePreview(config: DirSyncConfig, secrets: CloudAndAdSecrets | undefined, generation: number): Promise<ConfigPreview> {
    const id = randomUUID();
    const file = previewFile(this.options.dataDir, id);
    let copy: Store | undefined;
    try {
      copy = openPreviewStore(this.store, file, storeFiles(this.options.dataDir).key);
      const scratch = copy;
      // Secrets typed in the wizard but not saved yet exist only in the copy, which is deleted afterwards.
      scratch.transaction(() => storeSecrets(scratch, secrets, config));
      const log = this.log.child({ previewId: id });
      log.info({ scopes: config.sources.map((source) => ({ domain: source.ad.baseDn, scope: source.scope })) }, 'configuration preview started');
      const run = await runSync(sessionFor(scratch, config, { log }), {
        kind: 'full', dryRun: true, recordOutOfScope: true, importChanges: true, scratchStore: true, onProgress: (p) => this.options.events.emit('onDidProgress', { ...p, preview: true }),
      });
      // A save (or stop) while it ran made it stale: nobody will read it.
      if (generation !== this.previewGeneration) throw new PreviewExpiredError('The configuration was saved while this preview ran: check again.');
      this.preview = { id, store: scratch, file, runId: run.id, planId: run.planId };
      const counts = previewCounts(scratch, run.id, run.planId);
      const forests = config.sources.length > 1 ? previewCountsByForest(scratch, run.id, run.planId, config) : undefined;
      log.info({ counts, forests }, 'configuration preview finished');
      return { previewId: id, run, counts, ...(forests ? { forests } : {}) };
    } catch (error) {
      copy?.close();
      removePreviewFiles(file);
      throw error;
    }
  }

  public async listPreviewObjects(args: { readonly previewId: string; readonly category: PreviewCategory; readonly offset?: number; readonly limit?: number }):
    Promise<{ total: number; objects: ReadonlyArray<PreviewObject> }> {
    const preview = this.preview;
    if (preview?.id !== args.previewId) throw new PreviewExpiredError('That preview is no longer available (a newer preview or a save replaced it): check again.');
    const limit = Math.min(Math.max(1, Math.trunc(args.limit ?? 100)), 1000);
    const offset = Math.max(0, Math.trunc(args.offset ?? 0));
    return listPreviewObjects(preview.store, preview.runId, preview.planId, args.category, { offset, limit });
  }

  private discardPreview(): void {
    if (!this.preview) return;
    this.preview.store.close();
    removePreviewFiles(this.preview.file);
    this.preview = undefined;
  }

  public async listRuns(args: { readonly limit?: number }): Promise<ReadonlyArray<RunSummary>> {
    return this.store.listRuns(args.limit ?? 50);
  }

  public async listErrors(args: { readonly runId?: number }): Promise<ReadonlyArray<ObjectError>> {
    const runId = args.runId ?? this.store.listRuns(1)[0]?.id;
    return runId === undefined ? [] : this.store.listErrors(runId);
  }

  public async matchReport(args: { readonly runId: number }): Promise<ReadonlyArray<MatchReportEntry>> {
    return this.store.listMatchReports(args.runId)
      .map((r) => ({ kind: r.category, objectType: r.objectType as MatchReportEntry['objectType'], dn: r.dn, sourceAnchor: '', reason: r.reason }));
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
    const permission = await this.exportPermission(config);
    if (config.stagingMode || permission.planOnlyReason) {
      throw new NotConfiguredError(config.stagingMode ? 'This server is in staging mode: it never exports, so it cannot apply an approval. Promote it to active first.' : `${permission.planOnlyReason}`);
    }
    const summary = await approvePlan(sessionFor(this.store, config, { writeBudget: this.options.writeBudget, replicationWaitMs: this.options.replicationWaitMs, log: this.log }), args.planId);
    this.options.events.emit('onDidFinishRun', summary);
    return summary;
  }

  public async rejectPlan(args: { readonly planId: number }): Promise<{ rejected: number }> {
    return { rejected: rejectPlan(this.store, args.planId) };
  }

  public async getConfig(_args: Record<string, never>): Promise<{ config?: Readonly<Record<string, unknown>>; secrets: ReadonlyArray<string>; serviceAccount?: ServiceAccountView;
    tenant?: { tenantDisplayName: string; verifiedDomains: ReadonlyArray<string>; appDisplayName: string } }> {
    const config = this.config();
    const names = [SECRET_AD_PASSWORD, SECRET_CLIENT_SECRET, SECRET_CERTIFICATE_KEY, SECRET_PROXY_PASSWORD].filter((n) => this.store.secrets.get(n) !== undefined);
    const forests = [...new Set((config?.sources ?? []).filter((source) => source.passwordSecret !== SECRET_AD_PASSWORD).map(forestOf))];
    const forestAccounts = Object.fromEntries(forests.flatMap((forest) => {
      const view = this.serviceAccountView(forest);
      return view ? [[forest, view]] : [];
    }));
    return { config, secrets: names, serviceAccount: this.serviceAccountView(), ...(forests.length > 0 ? { forestAccounts } : {}),
      tenant: config ? this.registeredTenant(config) : undefined };
  }

  /**
   * The earlier Directory Sync registrations the administrator's sign-in found, added to a configuration
   * that uses the app it registered (the wizard does not show them; they are kept as facts of the tenant).
   */
  private withRegistrationFacts(config: DirSyncConfig): DirSyncConfig {
    const stored = this.store.getCursor(CLOUD_REGISTRATION);
    if (!stored) return config;
    const registration = JSON.parse(stored) as { tenantId: string; clientId: string; earlierRegistrations?: DirSyncConfig['cloud']['earlierRegistrations'] };
    if (registration.clientId !== config.cloud.clientId || registration.tenantId !== config.cloud.tenantId) return config;
    const known = new Set(config.cloud.earlierRegistrations.map((r) => r.appId.toLowerCase()));
    const added = (registration.earlierRegistrations ?? []).filter((r) => !known.has(r.appId.toLowerCase()));
    return added.length === 0 ? config : { ...config, cloud: { ...config.cloud, earlierRegistrations: [...config.cloud.earlierRegistrations, ...added] } };
  }

  /** What the administrator's sign-in learnt of the tenant, while the configuration still uses that app. */
  private registeredTenant(config: DirSyncConfig): { tenantDisplayName: string; verifiedDomains: ReadonlyArray<string>; appDisplayName: string } | undefined {
    const stored = this.store.getCursor(CLOUD_REGISTRATION);
    if (!stored) return undefined;
    const registration = JSON.parse(stored) as { tenantId: string; clientId: string; tenantDisplayName?: string; verifiedDomains?: string[]; appDisplayName?: string };
    if (registration.clientId !== config.cloud.clientId || registration.tenantId !== config.cloud.tenantId || registration.tenantDisplayName === undefined) return undefined;
    return { tenantDisplayName: registration.tenantDisplayName, verifiedDomains: registration.verifiedDomains ?? [], appDisplayName: registration.appDisplayName ?? config.cloud.clientId };
  }

  private serviceAccountView(forest?: string): ServiceAccountView | undefined {
    const account = this.store.getCursor(forest === undefined ? SERVICE_ACCOUNT : forestServiceAccountKey(forest));
    if (!account) return undefined;
    const { dn, samAccountName, userPrincipalName, domainRights } = JSON.parse(account) as { dn: string; samAccountName: string; userPrincipalName?: string;
      domainRights?: ServiceAccountView['domainRights'] };
    const rights = this.store.getCursor(forest === undefined ? SERVICE_ACCOUNT_RIGHTS : forestServiceAccountRightsKey(forest));
    return { dn, samAccountName, userPrincipalName: userPrincipalName ?? samAccountName, created: false, ...(forest !== undefined ? { forest } : {}),
      ...(domainRights ? { domainRights } : {}), rights: rights ? JSON.parse(rights) as RightsReport : { bind: false, readDirectory: false, dirSync: false, checks: [] } };
  }

  public async saveConfig(args: { readonly config: Readonly<Record<string, unknown>>; readonly secrets?: CloudAndAdSecrets; readonly holdScheduleSeconds?: number }):
    Promise<{ fullRunNeeded: boolean }> {
    const config = this.withRegistrationFacts(parseConfig(args.config, 'the Configuration Wizard'));
    this.previewGeneration += 1;
    this.discardPreview();
    this.store.transaction(() => {
      saveConfig(this.store, this.options.dataDir, config);
      storeSecrets(this.store, args.secrets, config);
    });
    // The lease is read through the network of the configuration saved (a new proxy password among it).
    if (args.secrets?.proxyPassword) this.guard = undefined;
    this.log.info({ stagingMode: config.stagingMode, scope: primarySource(config).scope }, 'configuration saved');
    const fullRunNeeded = this.store.getCursor(FULL_CONFIG_HASH) !== fullRunConfigHash(config);
    const hold = Math.min(Math.max(0, args.holdScheduleSeconds ?? 0), 3600);
    this.holdScheduleUntil = hold > 0 ? this.clock.now() + hold * 1000 : undefined;
    if (!this.running) this.schedule();
    return { fullRunNeeded };
  }

  public async createServiceAccount(args: Parameters<ControlRequests['createServiceAccount']>[0]): Promise<ServiceAccountView> {
    const { forest, ...options } = args;
    const account = await createServiceAccount(options);
    // The first forest's account keeps the names it always had; an added forest's are its own.
    const secret = forest === undefined ? SECRET_AD_PASSWORD : forestPasswordSecret(forest);
    const view: ServiceAccountView = { dn: account.dn, samAccountName: account.samAccountName, userPrincipalName: account.userPrincipalName, created: account.created,
      rights: account.rights, ...(forest !== undefined ? { forest: forest.toLowerCase() } : {}), ...(account.domainRights.length > 0 ? { domainRights: account.domainRights } : {}) };
    this.store.transaction(() => {
      this.store.secrets.set(secret, account.password);
      const config = this.config();
      if (config) {
        // Every domain read with this password is read as the new account.
        const sources = config.sources.map((source) => (source.passwordSecret === secret ? { ...source, ad: { ...source.ad, bindDn: account.dn } } : source));
        saveConfig(this.store, this.options.dataDir, { ...config, sources, serviceAccountNames: [...new Set([...config.serviceAccountNames, account.samAccountName])] });
      }
      this.store.setCursor(forest === undefined ? SERVICE_ACCOUNT : forestServiceAccountKey(forest), JSON.stringify({ dn: view.dn, samAccountName: view.samAccountName,
        userPrincipalName: view.userPrincipalName, ...(view.domainRights ? { domainRights: view.domainRights } : {}) }));
      this.store.setCursor(forest === undefined ? SERVICE_ACCOUNT_RIGHTS : forestServiceAccountRightsKey(forest), JSON.stringify(account.rights));
    });
    this.log.info({ dn: account.dn, forest, created: account.created, rights: account.rights.checks.map((c) => [c.name, c.ok]),
      otherDomains: account.domainRights.map((d) => d.baseDn) }, 'service account ready');
    return view;
  }

  public async verifyServiceAccount(args: { readonly forest?: string }): Promise<RightsReport & { domainRights?: ReadonlyArray<{ baseDn: string; rights: RightsReport }> }> {
    const config = this.config();
    const secret = args.forest === undefined ? SECRET_AD_PASSWORD : forestPasswordSecret(args.forest);
    const sources = (config?.sources ?? []).filter((source) => source.passwordSecret === secret);
    const password = this.store.secrets.get(secret);
    const [first, ...others] = sources;
    if (!first || !password) throw new NotConfiguredError(`No service account is configured${args.forest ? ` for the forest ${args.forest}` : ''} yet: create it in the Configuration Wizard.`);
    const connection = (source: typeof first) => ({ url: source.ad.url, tlsServerName: source.ad.tlsServerName, trustedCaPem: source.ad.trustedCaPem,
      bindDn: source.ad.bindDn, password, baseDn: source.ad.baseDn });
    const rights = await verifyServiceAccountRights(connection(first));
    const domainRights = [];
    for (const source of others) domainRights.push({ baseDn: source.ad.baseDn, rights: await verifyServiceAccountRights(connection(source)) });
    this.store.setCursor(args.forest === undefined ? SERVICE_ACCOUNT_RIGHTS : forestServiceAccountRightsKey(args.forest), JSON.stringify(rights));
    return { ...rights, ...(domainRights.length > 0 ? { domainRights } : {}) };
  }

  /** How the configured service account connects (its password from the store); `fix` says what to do without one. */
  private serviceAccountConnection(fix: string, baseDn?: string): AdConnectionInput & { readonly baseDn: string } {
    const config = this.config();
    const source = config ? (baseDn !== undefined ? sourceOfDn(config.sources, baseDn) : undefined) ?? primarySource(config) : undefined;
    const password = source ? this.store.secrets.get(source.passwordSecret) : undefined;
    if (!source || !password) throw new NotConfiguredError(`No service account is configured yet: ${fix}.`);
    const { ad } = source;
    return { url: ad.url, tlsServerName: ad.tlsServerName, trustedCaPem: ad.trustedCaPem, bindDn: ad.bindDn, password, baseDn: ad.baseDn };
  }

  public async rotateServiceAccountPassword(args: { readonly adminBindDn: string; readonly adminPassword: string; readonly forest?: string }): Promise<{ rotated: true }> {
    const config = this.config();
    if (!config) throw new NotConfiguredError('Directory Sync is not configured yet.');
    const secret = args.forest === undefined ? SECRET_AD_PASSWORD : forestPasswordSecret(args.forest);
    const source = config.sources.find((s) => s.passwordSecret === secret);
    if (!source) throw new NotConfiguredError(`No domain of the forest ${args.forest ?? forestOf(primarySource(config))} is configured.`);
    const password = await rotateServiceAccountPassword({ url: source.ad.url, trustedCaPem: source.ad.trustedCaPem, tlsServerName: source.ad.tlsServerName,
      adminBindDn: args.adminBindDn, adminPassword: args.adminPassword, accountDn: source.ad.bindDn });
    this.store.secrets.set(secret, password);
    this.log.info({ dn: source.ad.bindDn, forest: args.forest }, 'service account password rotated');
    return { rotated: true };
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
    const ops = entry ? this.store.operationsOfObject(entry.guid) : [];
    const exported = ops.find((o) => o.status === 'confirmed');
    const latestPlanRun = ops[0]?.runId;
    return {
      query: q,
      ad: entry ? { dn: entry.dn, guid: entry.guid, objectClass: entry.objectClass, attributes: entry.attributes, inScope: scope?.inScope ?? false,
        scopeReason: scope && !scope.inScope ? scope.reason : undefined } : undefined,
      cloud: cloud ? { id: cloud.id, properties: cloud.properties } : undefined,
      planned: ops.filter((o) => o.runId === latestPlanRun && o.status !== 'confirmed').map((o) => o.operation),
      lastExport: exported ? { runId: exported.runId, kind: exported.operation.kind, status: exported.status } : undefined,
      errors: entry && lastRun ? this.store.listErrors(lastRun.id).filter((e) => e.adGuid === entry.guid) : [],
    };
  }
}
