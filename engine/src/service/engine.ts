/**
 * Opens the engine over a data directory: the store, the configuration, the secrets, and connectors
 * built from them. The CLI, the service and the tests all start here.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudAndAdSecrets } from '../contract/control-api.ts';
import type { PlannedOperation, RunSummary } from '../contract/model.ts';
import { AdConnector } from '../ad/connector.ts';
import { CloudConnector, type CloudCredential } from '../cloud/connector.ts';
import { WriteGovernor, defaultWriteBudget, type WriteBudget } from '../cloud/governor.ts';
import { GraphWriter } from '../cloud/writer.ts';
import { ConfigError } from '../errors/config-error.ts';
import { NotConfiguredError, PlanStateError } from '../errors/run-errors.ts';
import { Store } from '../store/store.ts';
import { parseConfig, storeFiles, type DirSyncConfig } from './config.ts';
import type { Logger } from './logger.ts';
import { exportPlan } from './exporter.ts';
import { scopeEvaluator, type ScopeEvaluator } from './planner.ts';
import { withRunLock, type EngineSession } from './sync-run.ts';

export const SECRET_AD_PASSWORD = 'ad.password';
export const SECRET_CLIENT_SECRET = 'cloud.clientSecret';
export const SECRET_CERTIFICATE_KEY = 'cloud.certificateKey';
export const SECRET_CERTIFICATE_THUMBPRINT = 'cloud.certificateThumbprintSha256';

/** Stores the secrets given (the wizard hands each over once); those not given stay as they are. */
export function storeSecrets(store: Store, secrets: CloudAndAdSecrets | undefined): void {
  if (secrets?.adPassword) store.secrets.set(SECRET_AD_PASSWORD, secrets.adPassword);
  if (secrets?.clientSecret) store.secrets.set(SECRET_CLIENT_SECRET, secrets.clientSecret);
  if (secrets?.certificateKeyPem) store.secrets.set(SECRET_CERTIFICATE_KEY, secrets.certificateKeyPem);
  if (secrets?.certificateThumbprintSha256) store.secrets.set(SECRET_CERTIFICATE_THUMBPRINT, secrets.certificateThumbprintSha256);
}

export function openStore(dataDir: string): Store {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const files = storeFiles(dataDir);
  return Store.open(files.store, files.key);
}

export function readConfig(store: Store): DirSyncConfig | undefined {
  const json = store.readConfigJson();
  return json === undefined ? undefined : parseConfig(JSON.parse(json), 'the state store');
}

export function requireConfig(store: Store): DirSyncConfig {
  const config = readConfig(store);
  if (!config) throw new NotConfiguredError('Directory Sync is not configured yet: run the Configuration Wizard, or `dirsync init`.');
  return config;
}

/** The file the CLI points NODE_EXTRA_CA_CERTS at when the configuration trusts an extra CA for the cloud. */
export function cloudCaFile(dataDir: string): string {
  return join(dataDir, 'cloud-ca.pem');
}

export function saveConfig(store: Store, dataDir: string, config: DirSyncConfig): void {
  store.writeConfigJson(JSON.stringify(config));
  const caFile = cloudCaFile(dataDir);
  if (config.cloud.trustedCaPem) writeFileSync(caFile, config.cloud.trustedCaPem, { mode: 0o644 });
  else if (existsSync(caFile)) writeFileSync(caFile, '');
}

function cloudCredential(store: Store, config: DirSyncConfig): CloudCredential {
  if (config.cloud.credential === 'secret') {
    const clientSecret = store.secrets.get(SECRET_CLIENT_SECRET);
    if (!clientSecret) throw new ConfigError('The client secret of the application is not stored: enter it again with `dirsync init --client-secret …` or the Configuration Wizard.');
    return { kind: 'secret', clientSecret };
  }
  const privateKeyPem = store.secrets.get(SECRET_CERTIFICATE_KEY);
  const thumbprintSha256 = store.secrets.get(SECRET_CERTIFICATE_THUMBPRINT);
  if (!privateKeyPem || !thumbprintSha256) throw new ConfigError('The certificate credential of the application is not stored: run the Configuration Wizard again.');
  return { kind: 'certificate', privateKeyPem, thumbprintSha256, certificatePem: config.cloud.certificatePem };
}

export function cloudConnectorFor(store: Store, config: DirSyncConfig): CloudConnector {
  return new CloudConnector({
    instance: config.cloud.instance, tenantId: config.cloud.tenantId, clientId: config.cloud.clientId,
    credential: cloudCredential(store, config), authorityHost: config.cloud.authorityHost, graphBaseUrl: config.cloud.graphBaseUrl,
    earlierRegistrations: config.cloud.earlierRegistrations.filter((r) => r.appId.toLowerCase() !== config.cloud.clientId.toLowerCase()),
  });
}

export function adConnect(store: Store, config: DirSyncConfig): Promise<AdConnector> {
  const password = store.secrets.get(SECRET_AD_PASSWORD);
  if (!password) return Promise.reject(new ConfigError('The password of the AD account is not stored: enter it again with `dirsync init --ad-password …` or the Configuration Wizard.'));
  return AdConnector.connect({
    url: config.ad.url, bindDn: config.ad.bindDn, password, baseDn: config.ad.baseDn, trustedCaPem: config.ad.trustedCaPem,
    tlsServerName: config.ad.tlsServerName, pageSize: config.ad.pageSize, ldapFilter: config.scope.ldapFilter,
  });
}

export function sessionFor(store: Store, config: DirSyncConfig, options: { writeBudget?: WriteBudget; log?: Logger } = {}): EngineSession {
  let cloud: CloudConnector | undefined;
  return {
    store, config, writeBudget: options.writeBudget, log: options.log,
    connectAd: () => adConnect(store, config),
    cloud: () => (cloud ??= cloudConnectorFor(store, config)),
  };
}

/**
 * Approves a plan's held operations and exports them now. A held deletion whose object came back
 * into scope since is skipped, not applied.
 */
export async function approvePlan(session: EngineSession, planId: number): Promise<RunSummary> {
  const { store } = session;
  const plan = store.getPlan(planId);
  if (!plan) throw new PlanStateError(`There is no plan ${planId}. \`dirsync status\` lists the plans waiting for approval.`);
  if (plan.status !== 'pending-approval') throw new PlanStateError(`Plan ${planId} is ${plan.status}, not waiting for approval: only the newest plan with held operations can be approved.`);
  return withRunLock(store, async () => {
    const runId = store.startRun('delta', false);
    const inScope = scopeEvaluator(store, session.config);
    let stale = 0;
    store.transaction(() => {
      for (const held of store.listOperations(planId, { status: 'held' })) {
        const why = staleHeldOperation(store, held.operation, inScope);
        if (why !== undefined) {
          store.setOperationStatus(planId, held.seq, 'skipped', why);
          stale += 1;
        } else {
          store.setOperationStatus(planId, held.seq, 'approved');
        }
      }
      store.setPlanStatus(planId, 'approved');
    });
    try {
      const cloud = session.cloud();
      const writer = new GraphWriter(cloud, new WriteGovernor(session.writeBudget ?? defaultWriteBudget));
      const result = await exportPlan({ store, cloud, writer, planId, runId, statuses: ['approved'] });
      store.setPlanStatus(planId, 'applied');
      store.finishRun(runId, result.failed > 0 ? 'completed-with-errors' : 'succeeded', {
        imported: { ad: 0, cloud: 0 }, planned: store.operationCounts(planId, ['confirmed', 'failed']), exported: result.exported, held: 0,
        errors: result.failed, outOfScope: 0, planId,
      }, `Approved plan ${planId}.${stale > 0 ? ` ${stale} held operations no longer applied and were skipped.` : ''}`);
      return store.getRun(runId) as RunSummary;
    } catch (error) {
      store.finishRun(runId, 'failed', { imported: { ad: 0, cloud: 0 }, planned: {}, exported: {}, held: 0, errors: 0, outOfScope: 0, planId }, (error as Error).message);
      throw error;
    }
  });
}

/** Why a held operation no longer applies when its plan is approved, or undefined when it still does. */
function staleHeldOperation(store: Store, op: PlannedOperation, inScope: ScopeEvaluator): string | undefined {
  const entry = op.adGuid ? store.getAdEntry(op.adGuid) : undefined;
  const inScopeNow = entry !== undefined && !entry.deleted && inScope(entry).inScope;
  if (op.kind === 'delete-user' || op.kind === 'delete-group') {
    if (inScopeNow) return 'the object is back in scope in Active Directory';
    return op.cloudId !== undefined && store.getCloudObject(op.cloudId) !== undefined ? undefined : 'the cloud object is already gone';
  }
  if (op.kind === 'create-user' || op.kind === 'create-group') {
    if (!inScopeNow) return 'the object is no longer in scope in Active Directory';
    return op.adGuid !== undefined && store.getLink(op.adGuid)?.cloudId !== undefined ? 'the object exists in the tenant already' : undefined;
  }
  // Membership and manager changes held with the creates they need: the export skips them if those are missing.
  return undefined;
}

export function rejectPlan(store: Store, planId: number): number {
  const plan = store.getPlan(planId);
  if (!plan || plan.status !== 'pending-approval') throw new PlanStateError(`Plan ${planId} is not waiting for approval.`);
  return store.transaction(() => {
    const n = store.setHeldOperations(planId, 'held', 'rejected');
    store.setPlanStatus(planId, 'rejected');
    return n;
  });
}
