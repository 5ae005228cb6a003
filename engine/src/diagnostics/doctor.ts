/**
 * `dirsync doctor`: everything a support engineer would ask for, checked in one go, each with what
 * to fix. It only reads: a store of another schema version is reported, never migrated; nothing is
 * written to AD or the tenant.
 */
import { readWindowsSddl, unixAccess, windowsAccess, type AccessVerdict } from './data-dir-access.ts';
import { testCloudConnection } from '../cloud/connection-test.ts';
import type { CloudConnector } from '../cloud/connector.ts';
import type { CloudNetwork } from '../cloud/network.ts';
import { handoverStatus } from '../run/handover.ts';
import { SERVER_ID } from '../store/keys.ts';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, statSync, statfsSync } from 'node:fs';
import { platform, release } from 'node:os';
import { fetchCertificate } from '../ad/probe.ts';
import { verifyServiceAccountRights } from '../ad/service-account.ts';
import { readOwnership } from '../cloud/ownership.ts';
import type { ControlEndpoint } from '../service/control-client.ts';
import { callControl } from '../service/control-client.ts';
import { latestSchemaVersion, liveSchemaVersion } from '../store/database.ts';
import { Store } from '../store/store.ts';
import { keyFileProtection } from '../store/secrets.ts';
import { StoreError } from '../errors/store-error.ts';
import { bundledEngine } from '../app-root.ts';
import { productVersion } from '../version.ts';
import { storeFiles, type DirSyncConfig } from '../base/config.ts';
import { cloudConnectorFor, cloudNetworkFor, readConfig } from '../run/session.ts';
import { domainNameOf, primarySource } from '../base/config.ts';
import { adSourcesOf, type AdSource } from '../run/sources.ts';

export type DoctorStatus = 'ok' | 'warning' | 'failed' | 'skipped';
export type DoctorCheck = { readonly id: string; readonly title: string; readonly status: DoctorStatus; readonly detail: string; readonly fix?: string };
export type DoctorReport = { readonly checks: ReadonlyArray<DoctorCheck>; readonly failed: number; readonly warnings: number };

const DAY_MS = 24 * 3600 * 1000;
const CERTIFICATE_WARNING_DAYS = 30;

export type DoctorOptions = {
  readonly dataDir: string;
  /** The running service's control socket, if one answers. */
  readonly service?: ControlEndpoint;
  readonly now?: Date;
};

function check(id: string, title: string, status: DoctorStatus, detail: string, fix?: string): DoctorCheck {
  return { id, title, status, detail, ...(fix ? { fix } : {}) };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function certificateCheck(id: string, title: string, validTo: Date, subject: string, now: Date, fix: string): DoctorCheck {
  const days = Math.floor((validTo.getTime() - now.getTime()) / DAY_MS);
  if (days < 0) return check(id, title, 'failed', `${subject} expired on ${validTo.toISOString()}.`, fix);
  if (days < CERTIFICATE_WARNING_DAYS) return check(id, title, 'warning', `${subject} expires in ${days} days (${validTo.toISOString()}).`, fix);
  return check(id, title, 'ok', `${subject} is valid until ${validTo.toISOString()} (${days} days).`);
}

function serviceRegistration(): DoctorCheck {
  const title = 'Service registration';
  if (platform() === 'win32') {
    const sc = spawnSync('sc.exe', ['query', 'DirectorySync'], { encoding: 'utf8' });
    if (sc.error) return check('service-registration', title, 'skipped', `sc.exe could not run: ${sc.error.message}`);
    return sc.status === 0
      ? check('service-registration', title, 'ok', 'The Windows service "Directory Synchronization Service" is registered.')
      : check('service-registration', title, 'warning', 'The Windows service "Directory Synchronization Service" is not registered.', 'Run the Directory Sync installer again (Repair).');
  }
  const systemctl = spawnSync('systemctl', ['is-enabled', 'directory-sync.service'], { encoding: 'utf8' });
  if (systemctl.error) return check('service-registration', title, 'skipped', 'systemd is not available on this computer: the service is started by other means (dirsync service run).');
  const state = systemctl.stdout.trim();
  return state === 'enabled'
    ? check('service-registration', title, 'ok', 'directory-sync.service is enabled in systemd.')
    : check('service-registration', title, 'warning', `directory-sync.service is ${state || 'not installed'} in systemd.`, 'Install the package again, or: systemctl enable --now directory-sync.service');
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const now = options.now ?? new Date();
  const checks: DoctorCheck[] = [];
  const files = storeFiles(options.dataDir);
  checks.push(check('versions', 'Versions', 'ok', `Directory Sync ${productVersion} (${bundledEngine ? 'bundled engine' : 'engine run from its TypeScript sources'}), Node.js ${process.versions.node}, ${platform()} ${release()}, SQLite ${sqliteVersion()}.`));

  // Data directory and store.
  if (!existsSync(files.store)) {
    checks.push(check('store', 'State store', 'failed', `There is no state store at ${files.store}.`, 'Configure Directory Sync (Configuration Wizard or dirsync init), or give the right --data-dir.'));
    return finish(checks);
  }
  const access = dataDirAccess(options.dataDir);
  const free = freeBytes(options.dataDir);
  checks.push(!access.ok
    ? check('data-directory', 'Data directory', 'warning', access.detail, access.fix)
    : free !== undefined && free < 1024 ** 3
      ? check('data-directory', 'Data directory', 'warning', `Only ${(free / 1024 ** 2).toFixed(0)} MB are free on the disk of ${options.dataDir}.`, 'Free disk space: a full disk stops synchronization.')
      : check('data-directory', 'Data directory', 'ok', `${access.detail}${free !== undefined ? `, ${(free / 1024 ** 3).toFixed(1)} GB free` : ''}.`));

  const schema = liveSchemaVersion(files.store);
  const latest = latestSchemaVersion();
  if (schema > latest) {
    checks.push(check('store', 'State store', 'failed', `The store has schema ${schema}, newer than this version understands (${latest}).`, 'Install the newer version of Directory Sync again, or restore a backup of the store (backups/ in the data directory).'));
    return finish(checks);
  }
  const integrity = quickCheck(files.store);
  if (integrity !== 'ok') {
    checks.push(check('store', 'State store', 'failed', `The store's integrity check failed: ${integrity}.`, `Stop the service and restore the newest backup from ${options.dataDir}/backups, or move the store away and run a full synchronization.`));
    return finish(checks);
  }
  if (schema < latest) {
    checks.push(check('store', 'State store', 'warning', `The store has schema ${schema}; this version upgrades it to ${latest} when the service starts (a backup is kept first).`, 'Start the service to upgrade the store; the checks that need it were skipped.'));
    return finish(checks);
  }
  checks.push(check('store', 'State store', 'ok', `${files.store}: schema ${schema} (current), integrity ok.`));

  let store: Store;
  try {
    store = Store.open(files.store, files.key);
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    checks.push(check('secrets', 'Secrets and key file', 'failed', error.message, 'Restore the key file made on this computer with this store, or enter the secrets again (Configuration Wizard).'));
    return finish(checks);
  }
  try {
    checks.push(keyFileCheck(files.key, store));
    const config = readConfigSafely(store);
    if (typeof config === 'string') {
      checks.push(check('configuration', 'Configuration', 'failed', config, 'Run the Configuration Wizard again, or dirsync config import a good configuration.'));
      return finish(checks);
    }
    const domains = config.sources.length > 1 ? ` and ${config.sources.length - 1} more domains (${config.sources.slice(1).map((s) => domainNameOf(s.ad.baseDn)).join(', ')})` : '';
    checks.push(check('configuration', 'Configuration', 'ok', `AD ${primarySource(config).ad.url} as ${primarySource(config).ad.bindDn}${domains}; tenant ${config.cloud.tenantId} (${config.cloud.instance}); ${config.stagingMode ? 'staging mode' : 'active mode'}.`));
    checks.push(await serviceCheck(options.service));
    checks.push(serviceRegistration());
    checks.push(...await adChecks(store, config, now));
    checks.push(...await cloudChecks(store, config, now));
    checks.push(lastRunCheck(store, config, now));
  } finally {
    store.close();
  }
  return finish(checks);
}

function finish(checks: ReadonlyArray<DoctorCheck>): DoctorReport {
  return { checks, failed: checks.filter((c) => c.status === 'failed').length, warnings: checks.filter((c) => c.status === 'warning').length };
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}

/** Who can read the data directory: Unix permission bits, or on Windows its ACL (Node reports 0o666 for every Windows folder). */
function dataDirAccess(dir: string): AccessVerdict {
  if (process.platform !== 'win32') return unixAccess(dir, statSync(dir).mode & 0o777);
  try {
    return windowsAccess(dir, readWindowsSddl(dir));
  } catch (error) {
    return { ok: false, detail: `The permissions of ${dir} could not be read: ${(error as Error).message}.`, fix: 'Run dirsync doctor as an administrator.' };
  }
}

function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    // statfs is not available everywhere (older Windows builds): the check simply says less.
    return undefined;
  }
}

function quickCheck(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('PRAGMA quick_check').all() as Array<{ quick_check: string }>;
    return rows.map((r) => r.quick_check).join('; ');
  } catch (error) {
    return message(error);
  } finally {
    db.close();
  }
}

function keyFileCheck(keyFile: string, store: Store): DoctorCheck {
  const undecryptable = store.secrets.names().filter((name) => {
    try {
      store.secrets.get(name);
      return false;
    } catch {
      // The secret does not decrypt with this key: that is what the check reports.
      return true;
    }
  });
  if (undecryptable.length > 0) {
    return check('secrets', 'Secrets and key file', 'failed', `${undecryptable.join(', ')} cannot be decrypted with ${keyFile}.`, 'Restore the key file that belongs to this store, or enter the secrets again (Configuration Wizard, or dirsync config import with --with-secrets).');
  }
  const mode = statSync(keyFile).mode & 0o777;
  if (platform() !== 'win32' && (mode & 0o077) !== 0) {
    return check('secrets', 'Secrets and key file', 'warning', `The key file ${keyFile} can be read by others (mode ${mode.toString(8)}).`, `chmod 600 ${keyFile}`);
  }
  if (platform() === 'win32' && keyFileProtection(keyFile) === 'clear') {
    return check('secrets', 'Secrets and key file', 'warning', `The key file ${keyFile} is not protected by Windows DPAPI yet: a copy of the data folder would decrypt the secrets.`,
      'Restart the Directory Synchronization Service (it protects the key when it opens the store); if this stays, check that nothing else holds the file open.');
  }
  const held = keyFileProtection(keyFile) === 'protected' ? 'protected by Windows DPAPI (local machine): a copy on another computer does not decrypt' : `mode ${mode.toString(8)}`;
  return check('secrets', 'Secrets and key file', 'ok', `${store.secrets.names().length} secrets decrypt with the key file (${held}).`);
}

function readConfigSafely(store: Store): DirSyncConfig | string {
  try {
    return readConfig(store) ?? 'Directory Sync is not configured yet.';
  } catch (error) {
    return message(error);
  }
}

async function serviceCheck(endpoint: ControlEndpoint | undefined): Promise<DoctorCheck> {
  if (!endpoint) {
    return check('service', 'Directory Synchronization Service', 'warning', 'The service is not running for this data directory: nothing synchronizes on schedule.',
      platform() === 'win32' ? 'Start "Directory Synchronization Service" in Services.' : 'systemctl start directory-sync (or dirsync service run)');
  }
  try {
    const status = await callControl(endpoint, 'getStatus', {});
    const role = String(status.role);
    return check('service', 'Directory Synchronization Service', role === 'active' || role === 'staging' ? 'ok' : 'warning',
      `Running; role ${role}${status.nextRunAt ? `, next run ${status.nextRunAt}` : ''}.`,
      role === 'not-owner' ? 'Another server holds the tenant: take over with dirsync ownership --take-over if that server is gone.' : undefined);
  } catch (error) {
    return check('service', 'Directory Synchronization Service', 'failed', `The service's control socket does not answer: ${message(error)}.`, 'Restart the service.');
  }
}

/** Every configured domain is checked on its own: its DC's certificate, the sign-in, and the account's rights on its naming context. */
async function adChecks(store: Store, config: DirSyncConfig, now: Date): Promise<DoctorCheck[]> {
  const sources = adSourcesOf(config);
  const out: DoctorCheck[] = [];
  for (const source of sources) out.push(...await domainChecks(store, source, sources.length > 1, now));
  return out;
}

async function domainChecks(store: Store, source: AdSource, several: boolean, now: Date): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  const ad = source.connection;
  // One domain keeps the checks' names; several say which domain each is about.
  const named = (id: string, title: string): [string, string] => (several ? [`${id}/${source.domain}`, `${title} (${source.domain}, forest ${source.forest})`] : [id, title]);
  try {
    const certificate = await fetchCertificate(ad.url, ad.tlsServerName, ad.trustedCaPem);
    out.push(certificate.trusted
      ? certificateCheck(...named('ad-certificate', 'Domain controller certificate'), new Date(certificate.validTo), `The certificate of ${ad.url} (${certificate.subject}, SHA-256 ${certificate.fingerprintSha256})`, now,
        'Renew the domain controller\'s LDAPS certificate before it expires (then trust its CA again in the Configuration Wizard if it changed).')
      : check(...named('ad-certificate', 'Domain controller certificate'), 'failed', `The certificate of ${ad.url} (${certificate.subject}, SHA-256 ${certificate.fingerprintSha256}) is not trusted.`,
        'Trust the DC\'s CA on the Active Directory page of the Configuration Wizard (compare the fingerprint with the DC\'s).'));
  } catch (error) {
    out.push(check(...named('ad-connection', 'Active Directory connection'), 'failed', `Cannot reach ${ad.url}: ${message(error)}.`,
      `Check the DC name, that port 636 is open from this computer and that the DC is running${several ? ' (the other domains are still synchronized meanwhile)' : ''}.`));
    return out;
  }
  const password = store.secrets.get(source.passwordSecret);
  if (!password) {
    out.push(check(...named('ad-connection', 'Active Directory connection'), 'failed', `No password is stored for ${ad.bindDn}.`, 'Enter it on the Active Directory page of the Configuration Wizard.'));
    return out;
  }
  try {
    const rights = await verifyServiceAccountRights({ url: ad.url, bindDn: ad.bindDn, password, baseDn: ad.baseDn, trustedCaPem: ad.trustedCaPem, tlsServerName: ad.tlsServerName });
    const bind = rights.checks.find((c) => c.name === 'bind');
    out.push(rights.bind
      ? check(...named('ad-connection', 'Active Directory connection'), 'ok', bind?.detail ?? `Signed in as ${ad.bindDn}.`)
      : check(...named('ad-connection', 'Active Directory connection'), 'failed', bind?.detail ?? 'The sign-in was refused.', 'Rotate the service account password in the Configuration Wizard, or enter the right one.'));
    if (rights.bind) {
      const missing = rights.checks.filter((c) => !c.ok);
      const essential = missing.filter((c) => c.name === 'readDirectory');
      out.push(missing.length === 0
        ? check(...named('ad-rights', 'Service account rights'), 'ok', `${rights.checks.map((c) => c.name).join(', ')}: all granted${several ? ` on ${ad.baseDn}` : ''}.`)
        : check(...named('ad-rights', 'Service account rights'), essential.length > 0 ? 'failed' : 'warning', missing.map((c) => `${c.name}: ${c.detail}`).join(' '),
          'Run the rights self-test in the Configuration Wizard; it grants what the service account lacks.'));
    }
  } catch (error) {
    out.push(check(...named('ad-connection', 'Active Directory connection'), 'failed', message(error), 'Check the DC name, its certificate and that it is running.'));
  }
  return out;
}

/** The route to the cloud (the proxy) and the certificates trusted for it, the path checked step by step (docs/network.md). */
async function networkCheck(store: Store, config: DirSyncConfig): Promise<DoctorCheck> {
  let network: CloudNetwork;
  try {
    network = cloudNetworkFor(store, config);
  } catch (error) {
    return check('cloud-network', 'Network to Microsoft Entra ID', 'failed', message(error), 'Correct the proxy under "Advanced: network" on the Microsoft Entra page of the Configuration Wizard.');
  }
  try {
    const { instance, tenantId: tenant, authorityHost, graphBaseUrl } = config.cloud;
    const test = await testCloudConnection({ instance, tenant, authorityHost, graphBaseUrl }, network);
    const t = network.trustSources;
    const trusted = `certificates trusted: ${t.node} of Node.js, ${t.system} of the system's store, ${t.configured} chosen in the wizard`;
    return test.ok
      ? check('cloud-network', 'Network to Microsoft Entra ID', 'ok', `${test.endpoints.join(' and ')} reached through ${test.route}; ${trusted}.`)
      : check('cloud-network', 'Network to Microsoft Entra ID', 'failed', test.message, test.reason === 'tls-untrusted'
        ? 'Trust the authority on the Microsoft Entra page of the Configuration Wizard ("Advanced: network", Trust this certificate), or add it to the system\'s certificates.'
        : 'Check the proxy under "Advanced: network" on the Microsoft Entra page of the Configuration Wizard (see docs/network.md).');
  } finally {
    await network.close();
  }
}

async function cloudChecks(store: Store, config: DirSyncConfig, now: Date): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  if (config.cloud.credential === 'certificate' && config.cloud.certificatePem) {
    const certificate = new X509Certificate(config.cloud.certificatePem);
    out.push(certificateCheck('app-credential', 'App credential', new Date(certificate.validTo), `The app's certificate (${certificate.subject.replace(/\n/g, ', ')})`, now,
      'Run the Configuration Wizard again: signing in as a Global Administrator renews the app\'s certificate.'));
  }
  const network = await networkCheck(store, config);
  out.push(network);
  if (network.status === 'failed') return out;
  let connector;
  try {
    connector = cloudConnectorFor(store, config);
    const organization = await connector.organization();
    out.push(check('tenant-connection', 'Microsoft Entra connection', 'ok', `Signed in to ${organization.displayName} (${organization.id}) as app ${config.cloud.clientId}.`));
  } catch (error) {
    out.push(check('tenant-connection', 'Microsoft Entra connection', 'failed', message(error), 'Check this computer\'s internet access and clock; if the app\'s credential expired or was removed, run the Configuration Wizard again.'));
    return out;
  }
  const takeover = await takeoverCheck(store, connector, now);
  if (takeover) out.push(takeover);
  try {
    const holder = await readOwnership(connector.graph, config.cloud.tenantId);
    const me = store.getCursor(SERVER_ID);
    if (!holder) out.push(check('ownership', 'Tenant ownership', 'warning', 'No server holds the tenant: nothing is exported until one claims it.', 'Finish the Configuration Wizard with "Synchronize directories now", or: dirsync ownership --claim'));
    else if (holder.serverId === me) out.push(check('ownership', 'Tenant ownership', 'ok', `This server holds the tenant since ${holder.claimedAt} (generation ${holder.generation}).`));
    else out.push(check('ownership', 'Tenant ownership', config.stagingMode ? 'ok' : 'warning', `${holder.hostName} (server id ${holder.serverId}) holds the tenant since ${holder.claimedAt}: this server only plans.`,
      config.stagingMode ? undefined : 'If that server is gone: dirsync ownership --take-over'));
  } catch (error) {
    out.push(check('ownership', 'Tenant ownership', 'failed', `The ownership lease could not be read: ${message(error)}.`, 'Check the app\'s permissions (Organization.ReadWrite.All): run the Configuration Wizard again.'));
  }
  return out;
}

/** Another tool that synchronizes the tenant, or a takeover under way (docs/takeover.md); nothing when neither. */
async function takeoverCheck(store: Store, connector: CloudConnector, now: Date): Promise<DoctorCheck | undefined> {
  const title = 'Another synchronization tool';
  try {
    const status = await handoverStatus(store, connector, now.getTime());
    if (status.state?.phase === 'done') return check('takeover', title, 'ok', status.summary);
    if (status.state) return check('takeover', title, 'warning', status.summary, 'Nothing to do: the service follows the conversion and adopts the objects (dirsync handover status).');
    if (!status.tenantSynchronized) return undefined;
    return check('takeover', title, 'warning', `${status.summary} Directory Sync writes none of the objects it synchronizes.`,
      `To take over from it: dirsync handover report, then dirsync handover switch --confirm "${status.confirmation}" (or the Takeover page of the Operations view).`);
  } catch (error) {
    return check('takeover', title, 'warning', `Whether another tool synchronizes the tenant could not be read: ${message(error)}.`);
  }
}

function lastRunCheck(store: Store, config: DirSyncConfig, now: Date): DoctorCheck {
  const title = 'Last run';
  const last = store.listRuns(20).find((r) => !r.dryRun);
  const waiting = store.plansWithStatus('pending-approval');
  if (!last) return check('last-run', title, 'warning', 'Nothing has been synchronized yet.', 'Run dirsync sync --full, or finish the Configuration Wizard with "Synchronize directories now".');
  const ended = last.endedAt ?? last.startedAt;
  const ageMinutes = Math.round((now.getTime() - new Date(ended).getTime()) / 60_000);
  const detail = `Run ${last.id} (${last.kind}) ${last.status} at ${ended}, ${ageMinutes} minutes ago; ${last.errors} object errors.${last.message ? ` ${last.message}` : ''}`;
  if (last.status === 'failed') return check('last-run', title, 'failed', detail, 'Read the failure above and the log (logs/dirsync.log in the data directory); dirsync errors shows per-object errors.');
  if (waiting.length > 0) {
    return check('last-run', title, 'warning', `${detail} ${waiting.length} plan(s) with deletions wait for approval: ${waiting.map((p) => p.id).join(', ')}.`, `Review them: dirsync approve <plan> or dirsync reject <plan> (or the Operations view).`);
  }
  if (ageMinutes > 2 * config.schedule.intervalMinutes + 5) {
    return check('last-run', title, 'warning', detail, `No run for longer than twice the schedule (${config.schedule.intervalMinutes} minutes): check that the service runs.`);
  }
  if (last.errors > 0) return check('last-run', title, 'warning', detail, `dirsync errors --run ${last.id} lists each object with its fix.`);
  return check('last-run', title, 'ok', detail);
}
