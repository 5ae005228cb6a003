/**
 * `dirsync`: the command line of Directory Sync. Every command takes --data-dir and --json.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { RunSummary } from '../contract/model.ts';
import { AdConnector } from '../ad/connector.ts';
import { EngineError } from '../errors/engine-error.ts';
import { ConfigError } from '../errors/config-error.ts';
import { storeErrorOf } from '../errors/store-error.ts';
import { RunInProgressError } from '../errors/run-errors.ts';
import { parseConfig, defaultDataDir, storeFiles, type DirSyncConfig } from '../base/config.ts';
import { createLogger } from '../base/logger.ts';
import { cloudConnectorFor, openStore, readConfig, requireConfig, saveConfig, sessionFor,
  SECRET_AD_PASSWORD, SECRET_CLIENT_SECRET, storeProxyPassword } from '../run/session.ts';
import { approvePlan, rejectPlan } from '../run/approval.ts';
import { runSync, type RunProgress } from '../run/run.ts';
import { synchronizedTenantNote, tenantSyncState } from '../run/tenant-state.ts';
import { readHandover, runsWaitForHandover } from '../run/handover.ts';
import { HandoverRefusedError } from '../errors/handover-errors.ts';
import { adCursorKey, PRIMARY_SOURCE } from '../store/keys.ts';
import { adSourcesOf, domainStatuses, type AdSource } from '../run/sources.ts';
import type { DomainStatus } from '../contract/control-api.ts';
import { callControl, RemoteError, subscribeControl, type ControlEndpoint } from '../service/control-client.ts';
import { AccessError, accessErrorOf } from '../errors/access-error.ts';
import { defaultSocketPath, startService } from '../service/daemon.ts';
import { controlKeyFile } from '../base/locations.ts';
import type { Store } from '../store/store.ts';
import { exportConfiguration, exportHasSecrets, importConfiguration } from '../service/config-transfer.ts';
import { runDoctor } from '../diagnostics/doctor.ts';
import { ExitCode } from './exit-codes.ts';
import { registerHandoverCommands } from './handover-command.ts';
import { registerWindowsCommands } from './windows-command.ts';
import { readPassphrase } from './prompt.ts';
import { limitHeapGrowth } from '../base/heap.ts';
import { primarySource } from '../base/config.ts';

limitHeapGrowth();

const PASSPHRASE_ENV = 'DIRSYNC_EXPORT_PASSPHRASE';

type GlobalOptions = { dataDir: string; json: boolean };

const program = new Command('dirsync')
  .description('Directory Sync: one-way synchronization from Active Directory to Microsoft Entra ID.')
  .addOption(new Option('--data-dir <dir>', 'where the state store, key and logs live').default(defaultDataDir()))
  .option('--json', 'print machine-readable JSON', false)
  .showHelpAfterError();

function globals(): GlobalOptions {
  return program.opts<GlobalOptions>();
}

function labConnectionFile(option: unknown): string {
  const file = typeof option === 'string' ? option : `${process.env['DIRSYNC_LAB_DIR'] ?? '.lab'}/connection.json`;
  if (!existsSync(file)) throw new ConfigError(`The lab's connection file ${file} does not exist: start the lab with \`npm run lab\` first.`);
  return file;
}

function print(value: unknown, text: () => string): void {
  if (globals().json) console.log(JSON.stringify(value, null, 2));
  else console.log(text());
}

function withStore<T>(work: (store: Store) => Promise<T> | T): Promise<T> {
  const store = openStore(globals().dataDir);
  return Promise.resolve(work(store)).finally(() => store.close());
}

/** A failure to reach the service that means it is not running: nothing listens, or it never started here (no control key yet). */
function meansNotRunning(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'control-key-missing';
}

/** Whether the service's Unix socket is there, or this account may not look (an AccessError). */
function socketPresence(socketPath: string): 'present' | 'absent' | AccessError {
  try {
    statSync(socketPath);
    return 'present';
  } catch (error) {
    const refused = accessErrorOf(error, socketPath);
    return refused instanceof AccessError ? refused : 'absent';
  }
}

/**
 * The running service's local socket, when a service is running for this data directory; undefined when none is.
 * A channel this account may not use (the socket's folder, the control key) or a process that does not prove it
 * is the service is an error said as such — never "not running", and never a fallback to the store.
 */
async function serviceEndpoint(dataDir: string): Promise<ControlEndpoint | undefined> {
  const socketPath = defaultSocketPath(dataDir);
  const presence = process.platform === 'win32' ? 'present' : socketPresence(socketPath);
  if (presence instanceof AccessError) throw presence;
  if (presence === 'absent') return undefined;
  const endpoint = { socketPath, keyFile: controlKeyFile(socketPath, dataDir) };
  const outcome = await Promise.race([
    callControl(endpoint, 'getStatus', {}).then(() => undefined, (error: unknown) => error),
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 2000).unref()),
  ]);
  if (outcome === undefined) return endpoint;
  // Anything but "not running" the channel says is said as it is.
  if (meansNotRunning(outcome)) return undefined;
  if (outcome instanceof RemoteError && ['control-key-unreadable', 'server-not-verified', 'client-not-verified'].includes(outcome.code)) throw new AccessError(outcome.message);
  if (outcome instanceof RemoteError && outcome.code === 'control-key-damaged') throw outcome;
  const refused = accessErrorOf(outcome, socketPath);
  if (refused instanceof AccessError) throw refused;
  return undefined;
}

/** Asks the service to run and waits for the run to finish, showing its progress. */
async function runThroughService(endpoint: ControlEndpoint, kind: 'full' | 'delta', dryRun: boolean): Promise<RunSummary> {
  const show = progressPrinter();
  let runId: number | undefined;
  const early: RunSummary[] = [];
  let settle: (summary: RunSummary) => void = () => undefined;
  const finished = new Promise<RunSummary>((resolve) => { settle = resolve; });
  const unsubscribe = subscribeControl(endpoint, (event, data) => {
    if (event === 'onDidProgress' && show && (data as RunProgress).runId === runId && (data as RunProgress).preview !== true) show(data as RunProgress);
    if (event === 'onDidFinishRun') {
      const summary = data as RunSummary;
      if (runId === undefined) early.push(summary);
      else if (summary.id === runId) settle(summary);
    }
  });
  try {
    runId = (await callControl(endpoint, 'startRun', { kind, dryRun })).runId;
    const already = early.find((s) => s.id === runId);
    if (already) return already;
    return await finished;
  } finally {
    unsubscribe();
  }
}

function counts(record: Readonly<Record<string, number | undefined>>): string {
  const entries = Object.entries(record).filter(([, n]) => (n ?? 0) > 0);
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ${n}`).join(', ');
}

function describeRun(run: RunSummary): string {
  const lines = [
    ...(run.tenantSynchronized ? [`${synchronizedTenantNote(run.tenantSynchronized)}`] : []),
    `Run ${run.id} (${run.kind}${run.dryRun ? ', preview' : ''}): ${run.status}`,
    `  imported   AD ${run.imported.ad}${run.sources ? ` (${run.sources.map((s) => `${s.domain} ${s.error !== undefined ? 'NOT READ' : s.imported}`).join(', ')})` : ''}, cloud ${run.imported.cloud}`,
    `  in scope   ${run.inScope ?? '-'}   out of scope ${run.outOfScope}   not writable through Graph ${run.notWritable ?? 0}`,
    `  planned    ${counts(run.planned)}`,
    `  exported   ${counts(run.exported)}`,
  ];
  if (run.held > 0) lines.push(`  held       ${run.held} operations wait for approval (${(run.heldReasons ?? []).join(' ')}): dirsync approve ${run.planId}`);
  if (run.errors > 0) lines.push(`  errors     ${run.errors} objects skipped: dirsync errors --run ${run.id}`);
  if (run.foreignMembers) lines.push(`  foreign    ${run.foreignMembers} group members from another forest (foreign security principals), reported per group, not written: dirsync match`);
  for (const source of run.sources ?? []) if (source.error !== undefined) lines.push(`  domain     ${source.domain} (forest ${source.forest}) could not be read: ${source.error} — its objects were left as they are`);
  if (run.waitingOnErrors) lines.push(`  waiting    ${run.waitingOnErrors} membership and manager changes wait for objects in error (not planned; listed in the plan)`);
  if (run.writeRequests) {
    const bound = (run.membersPerBind ?? []).reduce((sum, n, size) => sum + n * size, 0);
    lines.push(`  writes     ${run.writeRequests} requests to Microsoft Graph${bound > 0 ? ` (${bound} memberships sent up to 20 to a request)` : ''}`);
  }
  if (run.throttled) lines.push(`  throttled  ${run.throttled} requests (retried)`);
  if (run.message) lines.push(`  ${run.message}`);
  return lines.join('\n');
}

function exitCodeFor(run: RunSummary): number {
  if (run.status === 'failed') return ExitCode.failed;
  if (run.status === 'waiting-for-approval') return ExitCode.waitingForApproval;
  if (run.status === 'completed-with-errors') return ExitCode.objectErrors;
  return ExitCode.ok;
}

function progressPrinter(): ((p: RunProgress) => void) | undefined {
  if (!process.stderr.isTTY || globals().json) return undefined;
  let last = Number.NEGATIVE_INFINITY;
  return (p) => {
    const now = performance.now();
    if (now - last < 200 && p.phase !== 'done') return;
    last = now;
    const total = p.total !== undefined ? `/${p.total}` : '';
    process.stderr.write(`\r${p.phase.padEnd(16)} ${p.done}${total}        ${p.phase === 'done' ? '\n' : ''}`);
  };
}

function readSecretOption(value: string | undefined, envName: string): string | undefined {
  return value ?? process.env[envName];
}

/** `--proxy system|none|<url>` and `--proxy-user` as the configuration's proxy setting. */
function proxySettingOf(proxy: string, user: string | undefined): Record<string, unknown> {
  if (proxy === 'system' || proxy === 'none') {
    if (user) throw new ConfigError(`--proxy-user goes with a proxy given as http://host:port, not with --proxy ${proxy}.`);
    return { mode: proxy };
  }
  return { mode: 'url', url: proxy, ...(user ? { username: user } : {}) };
}

program.command('init')
  .description('write the configuration from flags (or from the lab) and test both connections')
  .option('--lab [file]', 'take every connection detail from the lab (.lab/connection.json)')
  .option('--ad-url <url>', 'ldaps://dc.example.com:636')
  .option('--ad-bind-dn <dn>', 'the account to read AD as (DN or user@domain)')
  .option('--ad-password <password>', 'its password (or DIRSYNC_AD_PASSWORD)')
  .option('--base-dn <dn>', 'the domain naming context, e.g. DC=contoso,DC=com')
  .option('--ad-ca-file <pem>', 'trust this CA for the DC\'s LDAPS certificate')
  .option('--ad-tls-name <name>', 'the name on the DC\'s certificate, if not the URL\'s host')
  .option('--cloud <instance>', 'global, usgov, china or custom', 'global')
  .option('--tenant-id <id>')
  .option('--client-id <id>')
  .option('--client-secret <secret>', 'the application\'s client secret (or DIRSYNC_CLIENT_SECRET)')
  .option('--authority-host <url>', 'custom instance: https authority host')
  .option('--graph-url <url>', 'custom instance: Graph base URL')
  .option('--cloud-ca-file <pem>', 'trust this CA for the cloud\'s TLS (a custom instance, or a proxy that inspects TLS)')
  .option('--proxy <proxy>', 'how to reach the cloud: system (the system\'s proxy), none, or http://host:port', 'system')
  .option('--proxy-user <name>', 'the proxy\'s user name, when it asks for one')
  .option('--proxy-password <password>', 'its password (or DIRSYNC_PROXY_PASSWORD)')
  .option('--ou <guid...>', 'objectGUIDs of the OUs in scope (default: the whole domain)')
  .option('--soft-match-upn', 'take over cloud users with the same UPN (never administrators)', false)
  .option('--soft-match-mail', 'take over cloud users with the same primary address', false)
  .option('--deletion-threshold <count>', 'hold deletions above this many objects of a type', '500')
  .option('--deletion-threshold-percent <percent>', 'hold deletions above this share of the managed objects of a type', '10')
  .option('--staging', 'staging mode: plan, never export', false)
  .option('--no-test', 'do not test the connections')
  .action(async (o: Record<string, string | boolean | string[] | undefined>) => {
    const { dataDir } = globals();
    let raw: Record<string, unknown>;
    let adPassword = readSecretOption(o['adPassword'] as string | undefined, 'DIRSYNC_AD_PASSWORD');
    let clientSecret = readSecretOption(o['clientSecret'] as string | undefined, 'DIRSYNC_CLIENT_SECRET');
    const scope = { includedOuGuids: (o['ou'] as string[] | undefined) ?? [], excludedOuGuids: [] };
    const common = {
      version: 1, scope,
      matching: { softMatchUpn: o['softMatchUpn'] === true, softMatchMail: o['softMatchMail'] === true },
      deletionThreshold: { count: Number(o['deletionThreshold']), percent: Number(o['deletionThresholdPercent']) },
      stagingMode: o['staging'] === true,
      network: { proxy: proxySettingOf(o['proxy'] as string, o['proxyUser'] as string | undefined) },
    };
    const proxyPassword = readSecretOption(o['proxyPassword'] as string | undefined, 'DIRSYNC_PROXY_PASSWORD');
    if (o['lab'] !== undefined) {
      const file = labConnectionFile(o['lab']);
      const lab = JSON.parse(readFileSync(file, 'utf8')) as { ad: Record<string, string>; tenant: Record<string, string> };
      raw = {
        ...common,
        ad: { url: lab.ad['ldapsUrl'], tlsServerName: lab.ad['dcHostName'], trustedCaPem: readFileSync(String(lab.ad['caCertFile']), 'utf8'),
          bindDn: lab.ad['adminBindDn'], baseDn: lab.ad['baseDn'] },
        cloud: { instance: 'custom', tenantId: lab.tenant['tenantId'], clientId: lab.tenant['clientId'], credential: 'secret',
          authorityHost: lab.tenant['authorityHost'], graphBaseUrl: lab.tenant['graphBaseUrl'], trustedCaPem: readFileSync(String(lab.tenant['tenantCaCertFile']), 'utf8') },
      };
      adPassword ??= lab.ad['adminPassword'];
      clientSecret ??= lab.tenant['clientSecret'];
    } else {
      raw = {
        ...common,
        ad: { url: o['adUrl'], bindDn: o['adBindDn'], baseDn: o['baseDn'], tlsServerName: o['adTlsName'],
          trustedCaPem: o['adCaFile'] ? readFileSync(String(o['adCaFile']), 'utf8') : undefined },
        cloud: { instance: o['cloud'], tenantId: o['tenantId'], clientId: o['clientId'], credential: 'secret',
          authorityHost: o['authorityHost'], graphBaseUrl: o['graphUrl'], trustedCaPem: o['cloudCaFile'] ? readFileSync(String(o['cloudCaFile']), 'utf8') : undefined },
      };
    }
    const config: DirSyncConfig = parseConfig(raw, 'the command line');
    if (!adPassword) throw new ConfigError('The AD account\'s password is missing: pass --ad-password or set DIRSYNC_AD_PASSWORD.');
    if (!clientSecret) throw new ConfigError('The application\'s client secret is missing: pass --client-secret or set DIRSYNC_CLIENT_SECRET.');
    await withStore(async (store) => {
      store.transaction(() => {
        saveConfig(store, dataDir, config);
        store.secrets.set(SECRET_AD_PASSWORD, adPassword as string);
        store.secrets.set(SECRET_CLIENT_SECRET, clientSecret as string);
        if (proxyPassword) storeProxyPassword(store, config.network.proxy, proxyPassword);
      });
      const result: Record<string, unknown> = { configured: true, dataDir };
      if (o['test'] !== false) {
        const ad = await sessionFor(store, config).connectAd(adSourcesOf(config)[0] as AdSource);
        const dirSync = await ad.canUseDirSync();
        await ad.close();
        const cloud = cloudConnectorFor(store, config);
        const org = await cloud.organization();
        result['ad'] = { ok: true, dirSync };
        result['cloud'] = { ok: true, tenant: org.displayName, verifiedDomains: org.verifiedDomains.map((d) => d.name) };
      }
      print(result, () => [`Configuration saved in ${dataDir}.`,
        result['ad'] ? `Active Directory: connected${(result['ad'] as { dirSync: boolean }).dirSync ? ' (DirSync available)' : ' (no DirSync right: changes will be read by uSNChanged)'}.` : '',
        result['cloud'] ? `Microsoft Entra ID: signed in to ${(result['cloud'] as { tenant: string }).tenant} (verified domains: ${(result['cloud'] as { verifiedDomains: string[] }).verifiedDomains.join(', ')}).` : '',
      ].filter(Boolean).join('\n'));
    });
  });

program.command('sync')
  .description('run a synchronization now (delta by default)')
  .option('--full', 'full run: re-read AD and the tenant, find orphans', false)
  .option('--dry-run', 'plan only: write nothing to the tenant', false)
  .action(async (o: { full: boolean; dryRun: boolean }) => {
    const endpoint = await serviceEndpoint(globals().dataDir);
    const run = endpoint
      ? await runThroughService(endpoint, o.full ? 'full' : 'delta', o.dryRun)
      : await withStore(async (store) => {
        const config = requireConfig(store);
        const waiting = o.dryRun ? undefined : runsWaitForHandover(store);
        if (waiting) throw new HandoverRefusedError(waiting);
        return runSync(sessionFor(store, config, { log: createLogger({ logDir: storeFiles(globals().dataDir).logs }) }), { kind: o.full ? 'full' : 'delta', dryRun: o.dryRun, onProgress: progressPrinter() });
      });
    print(run, () => describeRun(run));
    process.exitCode = exitCodeFor(run);
  });

function describeOperations(store: Store, planId: number): string {
  const lines: string[] = [];
  for (const stored of store.listOperations(planId)) {
    const op = stored.operation;
    const what = op.kind.endsWith('member') ? `${op.kind} ${op.member?.dn ?? op.member?.sourceAnchor} ${op.kind === 'add-member' ? 'to' : 'from'} ${op.dn}`
      : op.kind === 'set-manager' ? `${op.kind} ${op.member?.dn ?? op.member?.sourceAnchor} for ${op.dn}` : `${op.kind} ${op.dn ?? op.displayName ?? op.sourceAnchor}`;
    const changes = op.kind.startsWith('update') && op.properties ? ` [${Object.keys(op.properties).join(', ')}]` : '';
    lines.push(stored.status === 'skipped' ? `WAITING ${what} — ${stored.error ?? ''}` : `${stored.status === 'held' ? 'HELD ' : ''}${what}${changes} — ${op.reason}`);
  }
  return lines.join('\n');
}

program.command('plan')
  .description('preview what the next run would change, with the reason for each operation')
  .option('--full', 'plan a full run', false)
  .action(async (o: { full: boolean }) => {
    await withStore(async (store) => {
      const config = requireConfig(store);
      const run = await runSync(sessionFor(store, config), { kind: o.full ? 'full' : 'delta', dryRun: true, onProgress: progressPrinter() });
      const operations = run.planId ? store.listOperations(run.planId).map((s) => ({ status: s.status, ...s.operation })) : [];
      print({ run, operations }, () => `${describeRun(run)}\n\n${run.planId ? describeOperations(store, run.planId) || 'Nothing to change.' : ''}`);
      process.exitCode = run.status === 'failed' ? ExitCode.failed : ExitCode.ok;
    });
  });

program.command('approve')
  .description('approve the deletions held in a plan and export them now')
  .argument('<plan>', 'the plan id (dirsync status shows it)')
  .action(async (planId: string) => {
    const endpoint = await serviceEndpoint(globals().dataDir);
    const run = endpoint
      ? await callControl(endpoint, 'approvePlan', { planId: Number(planId) })
      : await withStore(async (store) => approvePlan(sessionFor(store, requireConfig(store)), Number(planId)));
    print(run, () => describeRun(run));
    process.exitCode = exitCodeFor(run);
  });

program.command('reject')
  .description('reject the deletions held in a plan')
  .argument('<plan>', 'the plan id')
  .action(async (planId: string) => {
    const endpoint = await serviceEndpoint(globals().dataDir);
    const n = endpoint ? (await callControl(endpoint, 'rejectPlan', { planId: Number(planId) })).rejected : await withStore((store) => rejectPlan(store, Number(planId)));
    print({ rejected: n }, () => `Rejected ${n} held operations of plan ${planId}. They are planned (and held) again if the objects are still gone on the next run.`);
  });

program.command('status')
  .description('configuration, last run, and plans waiting for approval')
  .action(async () => {
    await withStore((store) => {
      const config = readConfig(store);
      const last = store.listRuns(1)[0];
      const pending = store.plansWithStatus('pending-approval').map((p) => ({ ...p, held: store.listOperations(p.id, { status: 'held' }).map((s) => s.operation) }));
      const cursor = store.getCursor(adCursorKey(PRIMARY_SOURCE));
      const changeTracking = cursor ? (AdConnector.cursorMode(cursor) === 'dirsync' ? 'DirSync' : 'uSNChanged (the account lacks Replicating Directory Changes)') : 'none yet (the first run is full)';
      const tenant = tenantSyncState(store);
      const handover = readHandover(store);
      const domains = config ? domainStatuses(store, config, last) : [];
      const status = { configured: config !== undefined, stagingMode: config?.stagingMode ?? false, tenant, changeTracking, domains, lastRun: last, pendingApprovals: pending,
        managed: store.managedCount(), links: store.linkCount(),
        synchronizedByAnotherTool: store.syncedCount(), handover };
      print(status, () => [
        ...(tenant?.synchronized ? [`${synchronizedTenantNote(tenant)} In the tenant: ${status.synchronizedByAnotherTool.user} users and ${status.synchronizedByAnotherTool.group} groups it synchronizes (as of the last full run). To take over from it: dirsync handover status.`] : []),
        ...(handover ? [`Takeover: ${handover.phase}${handover.phase === 'done' ? ` (adopted by run ${handover.adoptionRunId ?? '?'})` : ` since ${handover.switchedAt}`}: dirsync handover status.`] : []),
        config ? `Configured: AD ${primarySource(config).ad.url} (${primarySource(config).ad.baseDn})${domains.length > 1 ? ` and ${domains.length - 1} more domains` : ''} → tenant ${config.cloud.tenantId}${config.stagingMode ? ' — STAGING MODE: plans only, never exports' : ''}` : 'Not configured: run `dirsync init` or the Configuration Wizard.',
        ...(domains.length > 1 ? ['Domains:', ...domains.map(describeDomain)] : [`Change tracking: ${changeTracking}`]),
        `Managed in the tenant: ${status.managed.user} users, ${status.managed.group} groups`,
        last ? `Last run: ${describeRun(last)}` : 'No run yet.',
        ...pending.map((p) => `Plan ${p.id} waits for approval: ${p.held.length} operations held. ${p.reasons.join(' ')}\n${p.held.map((op) => `  ${op.kind} ${op.dn ?? op.displayName ?? op.sourceAnchor} — ${op.reason}`).join('\n')}\n  Approve: dirsync approve ${p.id}   Reject: dirsync reject ${p.id}`),
      ].join('\n'));
    });
  });

/** One domain of `dirsync status`: forest, DC, objects, change tracking, and the last run's failure to read it. */
function describeDomain(d: DomainStatus): string {
  const tracking = d.changeTracking === 'dirsync' ? 'DirSync' : d.changeTracking === 'usn' ? 'uSNChanged' : 'not read yet';
  return `  ${d.domain} (forest ${d.forest}) from ${d.url}: ${d.objects} objects; changes by ${tracking}${d.lastError ? `\n    The last run could not read it: ${d.lastError}` : ''}`;
}

program.command('history')
  .description('recent runs with their counts')
  .option('--limit <n>', 'how many runs', '20')
  .action(async (o: { limit: string }) => {
    await withStore((store) => {
      const runs = store.listRuns(Number(o.limit));
      print(runs, () => runs.map((r) => `${String(r.id).padStart(5)}  ${r.startedAt}  ${r.kind.padEnd(5)} ${r.dryRun ? 'preview ' : ''}${r.status.padEnd(22)} exported ${counts(r.exported)}; errors ${r.errors}; held ${r.held}${r.writeRequests ? `; ${r.writeRequests} write requests` : ''}`).join('\n') || 'No run yet.');
    });
  });

program.command('errors')
  .description('per-object errors of a run (default: the last one)')
  .option('--run <id>', 'the run id')
  .action(async (o: { run?: string }) => {
    await withStore((store) => {
      const runId = o.run !== undefined ? Number(o.run) : store.listRuns(1)[0]?.id;
      const errors = runId !== undefined ? store.listErrors(runId) : [];
      print(errors, () => errors.map((e) => `${e.dn}\n  ${e.attribute ?? ''}${e.value !== undefined ? ` = "${e.value}"` : ''}: ${e.reason}\n  Fix: ${e.hint}`).join('\n') || 'No errors.');
    });
  });

program.command('match')
  .description('the match report: what a run would create, hard-match, soft-match, and what is in conflict or blocked')
  .action(async () => {
    await withStore(async (store) => {
      const config = requireConfig(store);
      const run = await runSync(sessionFor(store, config), { kind: 'full', dryRun: true, onProgress: progressPrinter() });
      const reports = store.listMatchReports(run.id);
      const notWritable = store.listReports(run.id, 'not-writable');
      const foreignMembers = store.listReports(run.id, 'foreign-member');
      print({ counts: run.matchReport, objects: reports, notWritable, foreignMembers }, () => [
        `Match report (${counts(run.matchReport ?? {})}; not writable through Graph ${notWritable.length}; members from another forest ${foreignMembers.length})`,
        ...reports.map((r) => `  ${r.category.padEnd(16)} ${r.dn} — ${r.reason}`),
        ...notWritable.map((r) => `  not-writable     ${r.dn} — ${r.reason}`),
        ...foreignMembers.map((r) => `  foreign-member   ${r.dn} — ${r.reason}`),
      ].join('\n'));
    });
  });

const serviceCommand = program.command('service').description('the Directory Synchronization Service');
serviceCommand.command('run')
  .description('run the service in the foreground (what the service manager starts): schedule, control socket, optional browser mode')
  .option('--browser', 'also serve the wizard in browser mode on 127.0.0.1', false)
  .option('--port <port>', 'browser mode port (default: any free port)')
  .option('--no-schedule', 'maintenance: answer the control API and run only when asked, not on schedule')
  .option('--handover-poll <seconds>', 'how often a takeover\'s conversion is checked', '60')
  .action(async (o: { browser: boolean; port?: string; schedule: boolean; handoverPoll: string }) => {
    const { dataDir } = globals();
    const handoverPollSeconds = Number(o.handoverPoll);
    if (!Number.isFinite(handoverPollSeconds) || handoverPollSeconds <= 0) throw new ConfigError(`--handover-poll must be a number of seconds above 0, not "${o.handoverPoll}".`);
    let stopRequested: () => void = () => undefined;
    const running = await startService({ dataDir, schedule: o.schedule, handoverPollSeconds, browser: o.browser ? { port: o.port ? Number(o.port) : undefined } : undefined,
      onStopRequested: () => stopRequested() });
    const lines = [`Directory Synchronization Service running (data ${dataDir}, control socket ${running.socket.socketPath}).`];
    if (running.browser) lines.push(`Browser mode: open ${running.browser.url}?token=${running.browser.token} on this computer.`);
    const status = await running.service.getStatus({});
    lines.push(!o.schedule ? 'Schedule off (--no-schedule): runs start only when asked.'
      : status.configured ? `Next run: ${status.nextRunAt ?? 'not scheduled'}.` : 'Not configured yet: run the Configuration Wizard.');
    print({ socketPath: running.socket.socketPath, browserUrl: running.browser?.url, token: running.browser?.token }, () => lines.join('\n'));
    await new Promise<void>((resolve) => {
      const stop = () => void running.stop().then(resolve);
      stopRequested = stop;
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  });

serviceCommand.command('busy')
  .description('for installers: exit 5 while a run is in progress, 0 when none is (or the service is not running), 1 when the service answers but cannot say (fail closed)')
  .action(async () => {
    const { dataDir } = globals();
    const socketPath = defaultSocketPath(dataDir);
    const socketState = process.platform === 'win32' ? 'present' : socketPresence(socketPath);
    if (socketState === 'absent') {
      print({ busy: false, running: false }, () => 'The Directory Synchronization Service is not running: no run is in progress.');
      return;
    }
    if (socketState instanceof AccessError) {
      print({ busy: null, error: socketState.message }, () => `Whether a run is in progress cannot be told: ${socketState.message}`);
      process.exitCode = ExitCode.failed;
      return;
    }
    let status;
    try {
      status = await callControl({ socketPath, keyFile: controlKeyFile(socketPath, dataDir) }, 'getStatus', {});
    } catch (error) {
      if (meansNotRunning(error)) {
        print({ busy: false, running: false }, () => 'The Directory Synchronization Service is not running: no run is in progress.');
        return;
      }
      // The service answered, or something did, but could not say (not verified, key unreadable): never assume it is idle.
      print({ busy: null, error: (error as Error).message }, () => `Whether a run is in progress cannot be told: ${(error as Error).message}`);
      process.exitCode = ExitCode.failed;
      return;
    }
    const run = status.running;
    print({ busy: run !== undefined, running: true, run: run ?? null }, () => run
      ? `Run ${run.runId} is in progress (${run.phase}${run.total ? `, ${run.done}/${run.total}` : ''}).` : 'The service runs; no run is in progress.');
    if (run) process.exitCode = ExitCode.busy;
  });

serviceCommand.command('stop')
  .description('stop the running service gracefully: a run in progress ends after its current page and records why (WinSW\'s stop executable on Windows)')
  .option('--wait <seconds>', 'how long to wait for it to exit', '280')
  .action(async (o: { wait: string }) => {
    const { dataDir } = globals();
    const endpoint = await serviceEndpoint(dataDir);
    if (!endpoint) {
      print({ stopped: true, running: false }, () => 'The Directory Synchronization Service is not running for this data directory.');
      return;
    }
    const answer = await callControl(endpoint, 'stopService', {});
    const deadline = Date.now() + Number(o.wait) * 1000;
    while (Date.now() < deadline && (await serviceEndpoint(dataDir)) !== undefined) await new Promise((r) => setTimeout(r, 250));
    const stopped = (await serviceEndpoint(dataDir)) === undefined;
    print({ stopped, runId: answer.runId ?? null }, () => stopped
      ? `The Directory Synchronization Service stopped${answer.runId !== undefined ? ` (run ${answer.runId} was interrupted after its current page; the rest is planned again next run)` : ''}.`
      : `The service is still stopping after ${o.wait} s: it waits for the page it is exporting.`);
    if (!stopped) process.exitCode = ExitCode.failed;
  });

const configCommand = program.command('config').description('show, export or import the configuration');
configCommand.command('show').action(async () => {
  await withStore((store) => {
    const config = requireConfig(store);
    print(config, () => JSON.stringify(config, null, 2));
  });
});
configCommand.command('export').argument('<file>')
  .description('write the configuration to a file, to move to another computer; --with-secrets adds the secrets under a passphrase')
  .option('--with-secrets', 'include the service account password and the app credential, encrypted under a passphrase (DIRSYNC_EXPORT_PASSPHRASE or typed)', false)
  .action(async (file: string, options: { withSecrets: boolean }) => {
    const passphrase = options.withSecrets ? await readPassphrase(PASSPHRASE_ENV, 'to encrypt the secrets in the export', true) : undefined;
    await withStore((store) => {
      const exported = exportConfiguration(store, passphrase === undefined ? {} : { passphrase });
      writeFileSync(file, JSON.stringify(exported, null, 2) + '\n', { mode: 0o600 });
      print({ exported: file, secrets: exported.secrets !== null }, () => exported.secrets !== null
        ? `Configuration and secrets written to ${file}; the secrets are encrypted under your passphrase. On the new computer: dirsync config import ${file}`
        : `Configuration written to ${file} (secrets are not included: enter them again after importing, or export with --with-secrets).`);
    });
  });
configCommand.command('import').argument('<file>').description('read a configuration exported on another computer (and its secrets, with the passphrase)').action(async (file: string) => {
  const passphrase = exportHasSecrets(file) ? await readPassphrase(PASSPHRASE_ENV, `to decrypt the secrets in ${file}`, false) : undefined;
  await withStore((store) => {
    const result = importConfiguration(store, globals().dataDir, file, passphrase === undefined ? {} : { passphrase });
    const from = result.exportedFrom ? ` (exported on ${result.exportedFrom.hostName} by Directory Sync ${result.exportedFrom.productVersion})` : '';
    print({ imported: file, secrets: result.secretNames }, () => result.secretNames.length > 0
      ? `Configuration and ${result.secretNames.length} secrets imported from ${file}${from}. Next: start the service, take over the tenant with \`dirsync ownership --take-over\`, then run dirsync sync --full.`
      : `Configuration imported from ${file}${from}. Enter the secrets with dirsync init, then run dirsync sync --full.`);
  });
});

program.command('doctor')
  .description('check everything support would ask for — versions, service, store, secrets, AD and tenant connections, certificates, rights, ownership, last run — and say what to fix')
  .action(async () => {
    const { dataDir } = globals();
    const report = await runDoctor({ dataDir, service: await serviceEndpoint(dataDir) });
    const mark = { ok: 'ok     ', warning: 'WARNING', failed: 'FAILED ', skipped: 'skipped' } as const;
    print(report, () => [
      ...report.checks.flatMap((c) => [`${mark[c.status]}  ${c.title}: ${c.detail}`, ...(c.fix ? [`         fix: ${c.fix}`] : [])]),
      '',
      report.failed > 0 ? `${report.failed} failed, ${report.warnings} warnings.` : report.warnings > 0 ? `No failures, ${report.warnings} warnings.` : 'Everything checked is healthy.',
    ].join('\n'));
    if (report.failed > 0) process.exitCode = ExitCode.failed;
  });

program.command('ownership')
  .description('which server holds the tenant (the one allowed to write to it); --claim or --take-over makes it this one')
  .option('--claim', 'claim the tenant if no other server holds it', false)
  .option('--take-over', 'take the tenant over from the server that holds it (that server stops writing at its next run)', false)
  .action(async (options: { claim: boolean; takeOver: boolean }) => {
    const endpoint = await serviceEndpoint(globals().dataDir);
    if (!endpoint) throw new ConfigError('The Directory Synchronization Service is not running for this data directory: start it (dirsync service run, or the system service), then run this again.');
    if (!options.claim && !options.takeOver) {
      const { thisServer, holder } = await callControl(endpoint, 'getOwnership', {});
      print({ thisServer, holder: holder ?? null }, () => holder === undefined
        ? 'No server holds the tenant: claim it with dirsync ownership --claim.'
        : `${thisServer ? 'This server' : `Another server, ${holder.hostName} (server id ${holder.serverId})`} holds the tenant since ${holder.claimedAt} (generation ${holder.generation}).`);
      return;
    }
    const result = await callControl(endpoint, 'claimOwnership', { takeOver: options.takeOver });
    print(result, () => result.claimed
      ? `This server now holds the tenant${options.takeOver ? ': the previous holder stops writing at its next run' : ''}.`
      : `${result.holder?.hostName ?? 'Another server'} (server id ${result.holder?.serverId ?? '?'}) holds the tenant: take it over with dirsync ownership --take-over.`);
    if (!result.claimed) process.exitCode = ExitCode.failed;
  });

registerHandoverCommands(program, { dataDir: () => globals().dataDir, print, serviceEndpoint, withStore });
registerWindowsCommands(program, { dataDir: () => globals().dataDir, print });

try {
  await program.parseAsync(process.argv);
} catch (caught) {
  const error = accessErrorOf(storeErrorOf(caught, globals().dataDir), globals().dataDir);
  if (error instanceof EngineError) {
    if (globals().json) console.log(JSON.stringify({ error: error.toJSON() }, null, 2));
    else console.error(`dirsync: ${error.message}`);
    process.exitCode = error instanceof ConfigError ? ExitCode.usage : error instanceof RunInProgressError ? ExitCode.busy : ExitCode.failed;
  } else {
    throw error;
  }
}
