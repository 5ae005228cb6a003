/**
 * The emulated tenant's HTTPS server on loopback: identity endpoints, Graph v1.0, lab control; fault
 * injection (including dropped connections) in front of them; request log; optional persistence.
 */
import { parseOldSync, type OldSyncSettings, type OldSyncState } from './old-sync.ts';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { existsSync } from 'node:fs';
import type { TenantConnection } from '../connection.ts';
import { defaultCaDir, ensureLabCa, issueServerCertificate } from './ca.ts';
import { errorEnvelope } from './errors.ts';
import { faultError } from './fault-responses.ts';
import type { FaultRule, FaultRuleInput } from './faults.ts';
import { handleGraphRequest, type GraphOutput } from './graph.ts';
import { handleIdentityRequest, isIdentityPath, approveDeviceCode } from './identity.ts';
import { handleLabControl } from './lab-control.ts';
import type { Json, JsonObject } from './model.ts';
import { Persistence, readSnapshot } from './persistence.ts';
import { runBatch } from './batch.ts';
import type { RequestLogEntry } from './request-log.ts';
import { createGraphRouter } from './routes.ts';
import { buildTenant, type TenantSeed } from './seed.ts';
import { parseConsistency, type ConsistencyOptions, type ConsistencyState, type PendingReplication } from './consistency.ts';
import { DirectoryStore } from './store.ts';
import { Tenant, type TenantSnapshot } from './tenant.ts';
import { DEFAULT_BUDGETS, type ThrottleBudgets } from './throttling.ts';

export type TenantOptions = {
  /** 0 = random (default); a persisted state remembers its port and reuses it when this is undefined. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  readonly tenantId?: string;
  /** Load the state from this file at start and save it (debounced) on change and at close. */
  readonly persistFile?: string;
  /** Throttling windows are divided by it (default 1). */
  readonly timeScale?: number;
  /** Override write / resource-unit quotas (e.g. a tiny write budget for tests). */
  readonly budgets?: Partial<ThrottleBudgets>;
  /** Replaces fields of the default seed (verified domains, users, groups, ...). */
  readonly seed?: TenantSeed;
  /** Directory of the lab CA (`ca.pem`, `ca-key.pem`); default `$DIRSYNC_TENANT_CA_DIR` or `<repo>/.lab/ca`. */
  readonly certDir?: string;
  /** Seed of the fault-injection PRNG (ratio-based faults are reproducible). */
  readonly faultSeed?: number;
  /** Eventual consistency (lab/tenant/README.md); undefined = strongly consistent. */
  readonly consistency?: ConsistencyOptions;
  /**
   * Accept connections only from these source addresses (e.g. a proxy's `tcp_outgoing_address` 127.0.0.3):
   * any other peer's connection is closed before TLS, as a firewall would drop it. Undefined = every peer.
   */
  readonly acceptFrom?: ReadonlyArray<string>;
};

export type TenantDump = JsonObject;

/** In-process access for tests (the same operations as `/_lab`). */
export type TenantControl = {
  requestLog(sinceSeq?: number): ReadonlyArray<RequestLogEntry>;
  clearRequestLog(): void;
  dump(): TenantDump;
  injectFaults(rule: FaultRuleInput): FaultRule;
  clearFaults(): void;
  reset(seed?: TenantSeed): void;
  approveDeviceCode(userCode: string, upn?: string, password?: string): void;
  /** Pending device codes' user codes (newest last). */
  pendingUserCodes(): ReadonlyArray<string>;
  advanceClock(seconds: number): void;
  now(): Date;
  setBudgets(budgets: Partial<ThrottleBudgets>): void;
  /** Eventual consistency on (settings), changed, or off (undefined); throws on invalid settings. Same as `PUT /_lab/consistency`. */
  setConsistency(options: ConsistencyOptions | undefined): void;
  /** Same as `GET /_lab/consistency`. */
  consistency(): ConsistencyState;
  /** What is not replicated yet (`GET /_lab/consistency/pending`). */
  pendingReplication(): PendingReplication;
  /** The old sync server (running, cycle) and the switch's conversion pace: same as `PUT /_lab/old-sync`. */
  setOldSync(settings: Partial<OldSyncSettings>): OldSyncState;
  /** Same as `GET /_lab/old-sync`. */
  oldSync(): OldSyncState;
  readonly globalAdminPassword: string;
  /** The tenant itself (store, clock, ...) for white-box assertions. */
  readonly tenant: Tenant;
};

export type TenantServer = {
  readonly connection: TenantConnection;
  readonly port: number;
  readonly state: TenantControl;
  /** Connections closed because their peer was not in `acceptFrom`. */
  refusedPeers(): number;
  close(): Promise<void>;
};

function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('Request body too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function lowerHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function dumpTenant(tenant: Tenant): JsonObject {
  const store = tenant.store;
  const byType: Record<string, Json[]> = {};
  for (const obj of store.allObjects()) {
    const key = obj.deletedAt === null ? obj.type : 'deletedItems';
    const entry: JsonObject = { id: obj.id, '@odata.type': `#microsoft.graph.${obj.type}`, ...obj.props };
    if (obj.members.length > 0) entry['members'] = [...obj.members];
    if (obj.owners.length > 0) entry['owners'] = [...obj.owners];
    if (typeof obj.internal['managerId'] === 'string') entry['managerId'] = obj.internal['managerId'];
    if (obj.extensions.length > 0) entry['extensions'] = obj.extensions.map((e) => ({ extensionName: e.extensionName, creatorAppId: e.creatorAppId, ...e.data }));
    (byType[key] ??= []).push(entry);
  }
  return {
    tenantId: tenant.settings.tenantId,
    displayName: tenant.settings.displayName,
    now: new Date(tenant.clock.now()).toISOString(),
    seq: store.seq,
    objects: byType,
    appRoleAssignments: JSON.parse(JSON.stringify(store.appRoleAssignments)) as Json,
    extensionProperties: JSON.parse(JSON.stringify(store.extensionProperties)) as Json,
    tombstones: store.tombstones.length,
  };
}

/** Consistency settings checked as `PUT /_lab/consistency` checks them (an Error with the same message). */
function validConsistency(options: ConsistencyOptions | undefined): ConsistencyOptions | undefined {
  if (options === undefined) return undefined;
  const parsed = parseConsistency(options);
  if ('error' in parsed) throw new Error(`Invalid consistency settings: ${parsed.error}`);
  return parsed.options;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolveListen, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolveListen(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** The chain with its authority, as servers send their intermediates: a wizard that does not trust it yet can show whom to trust. */
function chainOf(certPem: string, caPem: string): string {
  return `${certPem.trim()}\n${caPem.trim()}\n`;
}

/** Keeps connections alive 5 s; closes, before TLS, every connection whose peer is not one of `addresses` (as a firewall would drop it). */
function guardConnections(server: Server, addresses: ReadonlyArray<string> | undefined): () => number {
  server.keepAliveTimeout = 5000;
  let refused = 0;
  if (!addresses) return () => refused;
  const allowed = new Set(addresses.map((a) => a.replace(/^::ffff:/, '')));
  server.on('connection', (socket: Socket) => {
    if (!allowed.has((socket.remoteAddress ?? '').replace(/^::ffff:/, ''))) {
      refused += 1;
      socket.destroy();
    }
  });
  return () => refused;
}

/** The tenant of a persisted state, or a new one built from the seed. */
function openTenant(options: TenantOptions, snapshot: TenantSnapshot | undefined): Tenant {
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new Error('timeScale must be a positive number.');
  const consistency = validConsistency(options.consistency);
  const common = {
    budgets: { ...DEFAULT_BUDGETS, ...(options.budgets ?? {}) }, timeScale,
    ...(options.faultSeed !== undefined ? { faultSeed: options.faultSeed } : {}), ...(consistency ? { consistency } : {}),
  };
  if (snapshot) {
    return new Tenant({
      settings: snapshot.settings, store: new DirectoryStore(snapshot.store), signingKeyPem: snapshot.signingKeyPem, clockOffsetMs: snapshot.clockOffsetMs, ...common,
    });
  }
  const built = buildTenant(options.seed, { ...(options.tenantId ? { tenantId: options.tenantId } : {}), now: Date.now() });
  return new Tenant({ settings: built.settings, store: built.store, ...common });
}

export async function startTenantServer(options: TenantOptions = {}): Promise<TenantServer> {
  const host = options.host ?? '127.0.0.1';
  const ca = await ensureLabCa(options.certDir ?? defaultCaDir());
  const certificate = await issueServerCertificate(ca, [host]);
  const snapshot = options.persistFile && existsSync(options.persistFile) ? readSnapshot(options.persistFile) : undefined;
  const tenant = openTenant(options, snapshot);
  const router = createGraphRouter();
  let port = 0;
  const persistence = options.persistFile ? new Persistence(options.persistFile, () => tenant.snapshot(port)) : undefined;
  if (persistence) tenant.onChange = () => persistence.schedule();

  const reset = (seed?: TenantSeed): void => {
    const s = tenant.settings;
    const built = buildTenant({
      ...(seed ?? options.seed ?? {}),
      tenantId: s.tenantId,
      labControlKey: s.labControlKey,
      app: { ...(seed?.app ?? options.seed?.app ?? {}), clientId: s.clientId, clientSecret: s.clientSecret },
      globalAdmin: { ...(seed?.globalAdmin ?? options.seed?.globalAdmin ?? {}), userPrincipalName: s.globalAdminUpn, password: s.globalAdminPassword },
    }, { now: tenant.clock.now() });
    tenant.clock.offsetMs = 0;
    tenant.faults.clear();
    tenant.log.clear();
    tenant.replaceStore(built.store);
  };

  const respond = (res: ServerResponse, status: number, headers: Record<string, string>, body: string | undefined): void => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { Date: new Date(tenant.clock.now()).toUTCString(), ...headers, ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = lowerHeaders(req);
    const baseUrl = `https://${headers['host'] ?? `${host}:${port}`}`;
    const url = new URL(req.url ?? '/', baseUrl);
    const bodyText = await readBody(req);
    const path = url.pathname;
    if (path === '/_lab' || path.startsWith('/_lab/')) {
      const out = handleLabControl(tenant, { reset, dump: () => dumpTenant(tenant) }, method, url, headers['authorization'], bodyText);
      respond(res, out.status, out.body !== undefined ? { 'Content-Type': 'application/json; charset=utf-8' } : {}, out.body !== undefined ? JSON.stringify(out.body) : undefined);
      return;
    }
    const log = (entry: Partial<RequestLogEntry> & { status: number }): void => {
      tenant.log.add({
        time: new Date(started).toISOString(), method, path: `${url.pathname}${url.search}`, isWrite: false, requestId: '',
        durationMs: Date.now() - started, ...entry,
      });
    };
    const isGraph = /^\/v1\.0(\/|$)/i.test(path);
    const before = tenant.faults.match({ method, path, batchItem: false, phase: 'before' });
    if (before?.mode === 'latency') await sleep(before.latencyMs ?? 1000);
    if (before?.mode === 'drop') {
      log({ status: 0, fault: 'drop' });
      req.socket.destroy();
      return;
    }
    const beforeError = before ? faultError(before) : undefined;
    if (before && beforeError) {
      const requestId = randomUUID();
      const clientRequestId = headers['client-request-id'] ?? requestId;
      const body = isGraph || !isIdentityPath(path)
        ? errorEnvelope(beforeError, { requestId, clientRequestId, now: tenant.clock.now() })
        : { error: 'temporarily_unavailable', error_description: `AADSTS50196: The server is temporarily unavailable (lab fault ${before.mode}).`, error_codes: [50196], correlation_id: clientRequestId };
      log({ status: beforeError.status, fault: before.mode, requestId });
      respond(res, beforeError.status, { 'Content-Type': 'application/json', 'request-id': requestId, 'client-request-id': clientRequestId, ...beforeError.headers }, JSON.stringify(body));
      return;
    }
    let status: number;
    let outHeaders: Record<string, string>;
    let outBody: string | undefined;
    let graph: GraphOutput | undefined;
    if (isGraph) {
      graph = await handleGraphRequest(tenant, router, {
        method, url: `${url.pathname}${url.search}`, headers, body: bodyText === '' ? undefined : { text: bodyText }, baseUrl,
      }, runBatch);
      status = graph.status;
      outHeaders = graph.headers;
      outBody = graph.json !== undefined ? JSON.stringify(graph.json) : graph.text;
    } else if (isIdentityPath(path)) {
      const out = handleIdentityRequest(tenant, { method, url, headers, bodyText, baseUrl });
      status = out.status;
      outHeaders = out.headers;
      outBody = out.body;
    } else if (/^\/beta(\/|$)/i.test(path)) {
      status = 400;
      outHeaders = { 'Content-Type': 'application/json' };
      outBody = JSON.stringify({ error: { code: 'BadRequest', message: 'The lab tenant emulates Microsoft Graph v1.0 only.' } });
    } else {
      status = 404;
      outHeaders = { 'Content-Type': 'application/json' };
      outBody = JSON.stringify({ error: { code: 'NotFound', message: `No such endpoint: ${path}` } });
    }
    const after = tenant.faults.match({ method, path, batchItem: false, phase: 'after' });
    const common = {
      requestId: graph?.requestId ?? '', isWrite: graph?.isWrite ?? false,
      ...(headers['client-request-id'] ? { clientRequestId: headers['client-request-id'] } : {}),
      ...(graph?.principal ? { appId: graph.principal.appId } : {}),
      ...(graph?.principal?.kind === 'user' ? { userId: graph.principal.userId } : {}),
      ...(graph?.resourceUnits !== undefined ? { resourceUnits: graph.resourceUnits } : {}),
      ...(graph?.throttled ? { throttled: true } : {}),
    };
    if (after?.mode === 'drop') {
      log({ ...common, status: 0, fault: 'drop' });
      req.socket.destroy();
      return;
    }
    if (after?.mode === 'latency') await sleep(after.latencyMs ?? 1000);
    const afterError = after ? faultError(after) : undefined;
    if (after && afterError) {
      const requestId = graph?.requestId ?? randomUUID();
      status = afterError.status;
      outHeaders = { ...outHeaders, 'Content-Type': 'application/json', ...afterError.headers };
      outBody = JSON.stringify(errorEnvelope(afterError, { requestId, clientRequestId: headers['client-request-id'] ?? requestId, now: tenant.clock.now() }));
    }
    log({ ...common, status, ...(after && afterError ? { fault: after.mode } : {}) });
    respond(res, status, outHeaders, outBody);
  };

  const server = createServer({ cert: chainOf(certificate.certPem, ca.certPem), key: certificate.keyPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('[lab tenant] internal error', error);
      respond(res, 500, { 'Content-Type': 'application/json' },
        JSON.stringify({ error: { code: 'InternalServerError', message: error instanceof Error ? error.message : String(error) } }));
    });
  });
  const refusedPeers = guardConnections(server, options.acceptFrom);
  const preferred = options.port ?? snapshot?.port ?? 0;
  try {
    port = await listen(server, preferred, host);
  } catch (error) {
    if (options.port !== undefined || preferred === 0 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    port = await listen(server, 0, host);
  }
  persistence?.flush();

  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const origin = `https://${urlHost}:${port}`;
  const s = tenant.settings;
  const connection: TenantConnection = {
    tenantId: s.tenantId,
    tenantDisplayName: s.displayName,
    initialDomain: s.initialDomain,
    verifiedDomains: tenant.verifiedDomains().map((d) => d.name),
    clientId: s.clientId,
    clientSecret: s.clientSecret,
    authorityHost: origin,
    authority: `${origin}/${s.tenantId}`,
    tokenEndpoint: `${origin}/${s.tenantId}/oauth2/v2.0/token`,
    openIdConfiguration: `${origin}/${s.tenantId}/v2.0/.well-known/openid-configuration`,
    graphBaseUrl: `${origin}/`,
    tenantCaCertFile: ca.certFile,
    labControlUrl: `${origin}/_lab`,
    labControlKey: s.labControlKey,
    globalAdminUpn: s.globalAdminUpn, globalAdminPassword: s.globalAdminPassword,
  };

  let closed = false;
  const control: TenantControl = {
    requestLog: (since = 0) => tenant.log.list(since),
    clearRequestLog: () => tenant.log.clear(),
    dump: () => dumpTenant(tenant),
    injectFaults: (rule) => tenant.faults.add(rule),
    clearFaults: () => tenant.faults.clear(),
    reset,
    approveDeviceCode: (userCode, upn, password) => {
      approveDeviceCode(tenant, userCode, upn ?? s.globalAdminUpn, password);
    },
    pendingUserCodes: () => [...tenant.deviceCodes.values()].filter((d) => !d.redeemed && d.approvedUserId === undefined).map((d) => d.userCode),
    advanceClock: (seconds) => {
      tenant.clock.advance(seconds);
      tenant.forcePurge();
      tenant.onChange();
    },
    now: () => new Date(tenant.clock.now()),
    setBudgets: (partial) => {
      tenant.throttler.budgets = { ...tenant.throttler.budgets, ...partial };
      tenant.throttler.reset();
    },
    setConsistency: (c) => tenant.setConsistency(validConsistency(c)),
    consistency: () => tenant.consistencyState(),
    pendingReplication: () => tenant.pendingReplication(),
    setOldSync: (settings) => {
      const parsed = parseOldSync(settings);
      if (typeof parsed === 'string') throw new Error(parsed);
      tenant.oldSync.configure(parsed);
      tenant.onChange();
      return tenant.oldSync.state();
    },
    oldSync: () => tenant.oldSync.state(),
    globalAdminPassword: s.globalAdminPassword,
    tenant,
  };

  return {
    connection,
    port,
    state: control,
    refusedPeers,
    close: async () => {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      persistence?.flush();
    },
  };
}
