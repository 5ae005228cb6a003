/**
 * The Graph request pipeline shared by direct HTTP requests and `$batch` items: authentication, routing,
 * throttling (resource units and writes), permission check, handler (on a lagging replica or the primary
 * when eventual consistency is on), error envelope, common headers, request log.
 */
import { randomUUID } from 'node:crypto';
import { authenticate } from './auth.ts';
import type { GraphContext, GraphRequest, GraphResult, Principal } from './context.ts';
import { GraphHttpError, errorEnvelope } from './errors.ts';
import type { Json } from './model.ts';
import { authorize } from './permissions.ts';
import { pathSegments, type Route, type Router } from './router.ts';
import type { Tenant } from './tenant.ts';
import { throttledError, type ThrottleBudgets } from './throttling.ts';

export const JSON_CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export type GraphInput = {
  readonly method: string;
  /** Path and query after the host, starting with `/v1.0/`. */
  readonly url: string;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Raw body (HTTP) or already-parsed JSON (batch items). */
  readonly body: { readonly text: string } | { readonly json: Json } | undefined;
  readonly baseUrl: string;
  readonly batch?: { readonly parentRequestId: string; readonly itemId: string };
};

export type GraphOutput = {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly json?: Json;
  readonly text?: string;
  readonly principal?: Principal;
  readonly requestId: string;
  readonly resourceUnits?: number;
  readonly isWrite: boolean;
  readonly throttled: boolean;
};

export type BatchRunner = (ctx: GraphContext, runItem: (input: GraphInput) => Promise<GraphOutput>) => Promise<GraphResult>;

function resourceUnits(route: Route, query: URLSearchParams): number {
  let ru = route.cost.ru ?? 1;
  if (query.has('$select')) ru -= 1;
  if (query.has('$expand')) ru += 1;
  const top = Number(query.get('$top') ?? NaN);
  if (Number.isFinite(top) && top < 20) ru -= 1;
  return Math.max(1, ru);
}

function writeUnits(route: Route, req: GraphRequest, budgets: ThrottleBudgets): number {
  const w = route.cost.write;
  if (typeof w === 'function') return w(req, budgets);
  if (typeof w === 'number') return w;
  return req.method === 'GET' ? 0 : 1;
}

function parseBody(body: GraphInput['body']): Json | undefined {
  if (body === undefined) return undefined;
  if ('json' in body) return body.json;
  if (body.text.trim() === '') return undefined;
  try {
    return JSON.parse(body.text) as Json;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new GraphHttpError(400, 'BadRequest',
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
  }
}

export async function handleGraphRequest(tenant: Tenant, router: Router, input: GraphInput, runBatch: BatchRunner): Promise<GraphOutput> {
  const requestId = randomUUID();
  const clientRequestId = input.headers['client-request-id'] ?? requestId;
  const headers: Record<string, string> = {
    'request-id': requestId,
    'client-request-id': clientRequestId,
    'x-ms-ags-diagnostic': JSON.stringify({ ServerInfo: { DataCenter: 'Lab', Slice: 'E', Ring: '1', ScaleUnit: '000', RoleInstance: 'lab-tenant' } }),
    'OData-Version': '4.0',
    'Cache-Control': 'no-cache',
  };
  let principal: Principal | undefined;
  let ru: number | undefined;
  let isWrite = false;
  let throttled = false;
  try {
    tenant.purgeExpired();
    tenant.oldSync.advance();
    const url = new URL(input.url, input.baseUrl);
    const path = url.pathname.replace(/^\/v1\.0(?=\/|$)/i, '');
    const rawQuery = url.search.replace(/^\?/, '');
    const segments = pathSegments(path);
    principal = authenticate(tenant, input.headers['authorization']);
    const eventual = (input.headers['consistencylevel'] ?? '').toLowerCase() === 'eventual';
    const req: GraphRequest = {
      method: input.method.toUpperCase(), path, segments, query: url.searchParams, rawQuery, headers: input.headers,
      body: parseBody(input.body),
    };
    const ctx: GraphContext = {
      req, tenant, principal, baseUrl: input.baseUrl, graphUrl: `${input.baseUrl}/v1.0`, eventual,
      advanced: eventual && (url.searchParams.get('$count') ?? '').toLowerCase() === 'true', requestId, clientRequestId,
    };
    let result: GraphResult;
    if (segments.length === 1 && segments[0] === '$batch' && !input.batch) {
      if (req.method !== 'POST') throw new GraphHttpError(405, 'BadRequest', 'Specified HTTP method is not allowed for the request target.');
      result = await runBatch(ctx, (item) => handleGraphRequest(tenant, router, item, runBatch));
    } else {
      const { route, params } = router.match(req.method, segments);
      ru = resourceUnits(route, req.query);
      const writes = writeUnits(route, req, tenant.throttler.budgets);
      isWrite = writes > 0;
      const decision = tenant.throttler.check(principal.appId, ru, writes, tenant.store.liveCount('user'));
      headers['x-ms-resource-unit'] = String(ru);
      if (!decision.allowed) {
        throttled = true;
        throw throttledError(decision.retryAfterSeconds, decision.scope, decision.information);
      }
      if (decision.limitPercentage !== undefined) headers['x-ms-throttle-limit-percentage'] = decision.limitPercentage.toFixed(1);
      authorize(tenant, principal, route.permission);
      // Eventual consistency: the handler runs on a lagging replica or on the primary (a plain call when off).
      result = await tenant.consistency.serve(isWrite, () => route.handler(ctx, params));
    }
    Object.assign(headers, result.headers ?? {});
    headers['x-ms-resource-unit'] ??= '1';
    if (result.text !== undefined) {
      headers['Content-Type'] = 'text/plain';
      return { status: result.status, headers, text: result.text, principal, requestId, isWrite, throttled, ...(ru !== undefined ? { resourceUnits: ru } : {}) };
    }
    if (result.body !== undefined) headers['Content-Type'] = JSON_CONTENT_TYPE;
    return {
      status: result.status, headers, principal, requestId, isWrite, throttled,
      ...(result.body !== undefined ? { json: result.body } : {}), ...(ru !== undefined ? { resourceUnits: ru } : {}),
    };
  } catch (error) {
    if (!(error instanceof GraphHttpError)) throw error;
    Object.assign(headers, error.headers);
    headers['x-ms-resource-unit'] ??= '1';
    headers['Content-Type'] = 'application/json';
    return {
      status: error.status, headers, json: errorEnvelope(error, { requestId, clientRequestId, now: tenant.clock.now() }),
      requestId, isWrite, throttled, ...(principal ? { principal } : {}), ...(ru !== undefined ? { resourceUnits: ru } : {}),
    };
  }
}
