/**
 * JSON batching (graph-reference.md §7): at most 20 requests, unique case-insensitive ids, relative
 * URLs, Content-Type required with a body, dependsOn → 424 when a dependency failed, responses in a
 * shuffled order, outer 200; each item goes through the full pipeline (auth, throttling: inner 429s
 * carry Retry-After in their own headers).
 */
import { randomUUID } from 'node:crypto';
import type { GraphContext, GraphResult } from './context.ts';
import { GraphHttpError, errorEnvelope } from './errors.ts';
import { faultError } from './fault-responses.ts';
import { seededRandom } from '../seeded-random.ts';
import type { GraphInput, GraphOutput } from './graph.ts';
import type { Json, JsonObject } from './model.ts';

function batchError(message: string): GraphHttpError {
  return new GraphHttpError(400, 'BadRequest', message);
}

type BatchItem = { id: string; method: string; url: string; headers: Record<string, string>; body: Json | undefined; dependsOn: string[] };

function parseItems(body: Json | undefined): BatchItem[] {
  if (body === null || body === undefined || typeof body !== 'object' || Array.isArray(body) || !Array.isArray(body['requests'])) {
    throw batchError('Invalid batch payload format.');
  }
  const requests = body['requests'];
  if (requests.length === 0) throw batchError('Invalid batch payload format.');
  if (requests.length > 20) throw batchError('Number of requests inside batch exceeds the limit.');
  const seen = new Set<string>();
  return requests.map((raw, index) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw batchError('Invalid batch payload format.');
    const id = typeof raw['id'] === 'string' || typeof raw['id'] === 'number' ? String(raw['id']) : '';
    if (id === '') throw batchError(`The request at position ${index} has no id.`);
    if (seen.has(id.toLowerCase())) throw batchError(`Batch request contains a duplicate request id: '${id}'. Request ids must be unique.`);
    seen.add(id.toLowerCase());
    const method = typeof raw['method'] === 'string' ? raw['method'].toUpperCase() : '';
    if (!['GET', 'POST', 'PATCH', 'PUT', 'DELETE'].includes(method)) throw batchError(`Invalid method for request id '${id}'.`);
    const url = typeof raw['url'] === 'string' ? raw['url'] : '';
    if (url === '') throw batchError(`Invalid URL for request id '${id}'.`);
    if (/^[a-z]+:\/\//i.test(url)) throw batchError(`Invalid URL for request id '${id}': batch request URLs must be relative.`);
    const headers: Record<string, string> = {};
    const rawHeaders = raw['headers'];
    if (rawHeaders !== null && typeof rawHeaders === 'object' && !Array.isArray(rawHeaders)) {
      for (const [k, v] of Object.entries(rawHeaders)) headers[k.toLowerCase()] = String(v);
    }
    const itemBody = raw['body'];
    if (itemBody !== undefined && itemBody !== null && headers['content-type'] === undefined) {
      throw batchError(`Write request id : ${id} does not contain Content-Type header or body.`);
    }
    const deps = raw['dependsOn'];
    const dependsOn = Array.isArray(deps) ? deps.map((d) => String(d)) : [];
    return { id, method, url, headers, body: itemBody === null ? undefined : itemBody, dependsOn };
  }).map((item, _i, all) => {
    for (const dep of item.dependsOn) {
      const target = all.findIndex((x) => x.id.toLowerCase() === dep.toLowerCase());
      const self = all.indexOf(item);
      if (target < 0 || target >= self) throw batchError(`Request id '${item.id}' depends on '${dep}', which is not an earlier request of the batch.`);
    }
    return item;
  });
}

function shuffled<T>(items: T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  if (out.length > 1 && out.every((v, i) => v === items[i])) out.push(out.shift() as T);
  return out;
}

let batchCounter = 0;

export async function runBatch(ctx: GraphContext, runItem: (input: GraphInput) => Promise<GraphOutput>): Promise<GraphResult> {
  const items = parseItems(ctx.req.body);
  const tenant = ctx.tenant;
  const statuses = new Map<string, number>();
  const responses: JsonObject[] = [];
  let resourceUnits = 0;
  for (const item of items) {
    const started = Date.now();
    const path = item.url.startsWith('/') ? item.url : `/${item.url}`;
    const url = /^\/v1\.0(\/|$)/i.test(path) ? path : `/v1.0${path}`;
    const failedDep = item.dependsOn.find((d) => (statuses.get(d.toLowerCase()) ?? 0) >= 400);
    let output: { status: number; headers: Record<string, string>; json?: Json; text?: string; requestId: string; resourceUnits?: number; isWrite: boolean; throttled: boolean; principal?: GraphOutput['principal'] };
    let faultName: string | undefined;
    if (failedDep !== undefined) {
      const requestId = randomUUID();
      const error = new GraphHttpError(424, 'FailedDependency', `The request depends on request '${failedDep}', which failed.`);
      output = { status: 424, headers: { 'Content-Type': 'application/json' }, json: errorEnvelope(error, { requestId, clientRequestId: requestId, now: tenant.clock.now() }), requestId, isWrite: false, throttled: false };
    } else {
      const before = tenant.faults.match({ method: item.method, path: url, batchItem: true, phase: 'before' });
      const beforeError = before ? faultError(before) : undefined;
      if (before && beforeError) {
        faultName = before.mode;
        const requestId = randomUUID();
        output = {
          status: beforeError.status, headers: { 'Content-Type': 'application/json', ...beforeError.headers },
          json: errorEnvelope(beforeError, { requestId, clientRequestId: requestId, now: tenant.clock.now() }), requestId, isWrite: false, throttled: false,
        };
      } else {
        const headers: Record<string, string> = { ...item.headers };
        const auth = ctx.req.headers['authorization'];
        if (auth !== undefined) headers['authorization'] = auth;
        output = await runItem({
          method: item.method, url, headers, body: item.body === undefined ? undefined : { json: item.body }, baseUrl: ctx.baseUrl,
          batch: { parentRequestId: ctx.requestId, itemId: item.id },
        });
        const after = tenant.faults.match({ method: item.method, path: url, batchItem: true, phase: 'after' });
        const afterError = after ? faultError(after) : undefined;
        if (after && afterError) {
          faultName = after.mode;
          output = {
            ...output, status: afterError.status, headers: { ...output.headers, ...afterError.headers },
            json: errorEnvelope(afterError, { requestId: output.requestId, clientRequestId: output.requestId, now: tenant.clock.now() }),
          };
        }
      }
    }
    statuses.set(item.id.toLowerCase(), output.status);
    resourceUnits += output.resourceUnits ?? 0;
    const headers: JsonObject = {};
    for (const [k, v] of Object.entries(output.headers)) if (k !== 'x-ms-ags-diagnostic' && k !== 'client-request-id') headers[k] = v;
    const response: JsonObject = { id: item.id, status: output.status, headers };
    if (output.json !== undefined) response['body'] = output.json;
    else if (output.text !== undefined) response['body'] = output.text;
    responses.push(response);
    const principal = output.principal;
    tenant.log.add({
      time: new Date(started).toISOString(), method: item.method, path: url, status: output.status, isWrite: output.isWrite,
      requestId: output.requestId, batchParent: ctx.requestId, batchItemId: item.id, durationMs: Date.now() - started,
      ...(principal ? { appId: principal.appId } : {}), ...(principal?.kind === 'user' ? { userId: principal.userId } : {}),
      ...(output.resourceUnits !== undefined ? { resourceUnits: output.resourceUnits } : {}),
      ...(output.throttled ? { throttled: true } : {}), ...(faultName ? { fault: faultName } : {}),
    });
  }
  batchCounter += 1;
  return { status: 200, headers: { 'x-ms-resource-unit': String(Math.max(1, resourceUnits)) }, body: { responses: shuffled(responses, batchCounter) } };
}
