/**
 * The export writer: Graph `$batch` requests of 20, under the write governor, honouring Retry-After
 * inside batches (the SDK does not retry inner 429s), retrying transient failures, and treating
 * "already done" answers as success so that every operation is idempotent.
 */
import type { PlannedOperation } from '../contract/model.ts';
import type { CloudConnector } from './connector.ts';
import { delay, type WriteGovernor } from './governor.ts';

export type GraphRequest = { readonly method: 'POST' | 'PATCH' | 'PUT' | 'DELETE'; readonly url: string; readonly body?: unknown };

export type ExportItem = { readonly key: string; readonly operation: PlannedOperation; readonly request: GraphRequest };

export type ExportOutcome =
  | { readonly key: string; readonly status: 'confirmed'; readonly cloudId?: string; readonly note?: string }
  | { readonly key: string; readonly status: 'failed'; readonly httpStatus: number; readonly graphCode?: string; readonly message: string };

type BatchResponse = { responses: Array<{ id: string; status: number; headers?: Record<string, string>; body?: unknown }> };
type GraphErrorBody = { error?: { code?: string; message?: string } };

/** The Graph request that carries out one operation (ids already resolved). */
export function requestFor(op: PlannedOperation, graphBaseUrl: string, extra: { password?: string } = {}): GraphRequest {
  const id = (value: string | undefined, what: string): string => {
    if (!value) throw new Error(`${op.kind} of ${op.dn ?? op.sourceAnchor} has no ${what} cloud id`);
    return encodeURIComponent(value);
  };
  switch (op.kind) {
    case 'create-user':
      return { method: 'POST', url: '/users', body: { ...op.properties, passwordProfile: { password: extra.password, forceChangePasswordNextSignIn: true } } };
    case 'create-group':
      return { method: 'POST', url: '/groups', body: { ...op.properties } };
    case 'update-user':
      return { method: 'PATCH', url: `/users/${id(op.cloudId, 'user')}`, body: op.properties };
    case 'update-group':
      return { method: 'PATCH', url: `/groups/${id(op.cloudId, 'group')}`, body: op.properties };
    case 'delete-user':
      return { method: 'DELETE', url: `/users/${id(op.cloudId, 'user')}` };
    case 'delete-group':
      return { method: 'DELETE', url: `/groups/${id(op.cloudId, 'group')}` };
    case 'restore-user':
      return { method: 'POST', url: `/directory/deletedItems/${id(op.cloudId, 'user')}/restore` };
    case 'add-member':
      return { method: 'POST', url: `/groups/${id(op.cloudId, 'group')}/members/$ref`, body: { '@odata.id': `${graphBaseUrl}v1.0/directoryObjects/${id(op.member?.cloudId, 'member')}` } };
    case 'remove-member':
      return { method: 'DELETE', url: `/groups/${id(op.cloudId, 'group')}/members/${id(op.member?.cloudId, 'member')}/$ref` };
    case 'set-manager':
      return { method: 'PUT', url: `/users/${id(op.cloudId, 'user')}/manager/$ref`, body: { '@odata.id': `${graphBaseUrl}v1.0/directoryObjects/${id(op.member?.cloudId, 'manager')}` } };
    case 'remove-manager':
      return { method: 'DELETE', url: `/users/${id(op.cloudId, 'user')}/manager/$ref` };
  }
}

function alreadyDone(op: PlannedOperation, status: number, body: GraphErrorBody | undefined): string | undefined {
  const message = body?.error?.message ?? '';
  if (op.kind === 'add-member' && status === 400 && /already exist/i.test(message)) return 'already a member';
  if ((op.kind === 'remove-member' || op.kind === 'remove-manager' || op.kind === 'delete-user' || op.kind === 'delete-group') && status === 404) return 'already gone';
  return undefined;
}

export type WriterOptions = { readonly maxAttempts?: number; readonly onProgress?: (done: number) => void };

export class GraphWriter {
  public throttledResponses = 0;
  public requestsSent = 0;

  public constructor(private readonly cloud: CloudConnector, private readonly governor: WriteGovernor, private readonly options: WriterOptions = {}) {}

  /** Sends the items (any number) in batches of 20; returns one outcome per item. */
  public async send(items: ReadonlyArray<ExportItem>): Promise<ExportOutcome[]> {
    const outcomes: ExportOutcome[] = [];
    for (let i = 0; i < items.length; i += 20) {
      outcomes.push(...(await this.sendBatch(items.slice(i, i + 20))));
      this.options.onProgress?.(outcomes.length);
    }
    return outcomes;
  }

  private async sendBatch(batch: ReadonlyArray<ExportItem>): Promise<ExportOutcome[]> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    const done = new Map<string, ExportOutcome>();
    let pending = [...batch];
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      await this.governor.take(pending.length);
      const requests = pending.map((item, index) => ({
        id: String(index + 1), method: item.request.method, url: item.request.url,
        ...(item.request.body !== undefined ? { body: item.request.body, headers: { 'Content-Type': 'application/json' } } : {}),
      }));
      let response: BatchResponse;
      try {
        this.requestsSent += pending.length;
        response = (await this.cloud.graph.api('/$batch').post({ requests })) as BatchResponse;
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode ?? -1;
        if (attempt >= maxAttempts || (status >= 400 && status < 500 && status !== 429)) {
          for (const item of pending) done.set(item.key, { key: item.key, status: 'failed', httpStatus: status, message: (error as Error).message });
          break;
        }
        if (status === 429) this.governor.pause(5);
        await delay(Math.min(30_000, 500 * 2 ** attempt));
        continue;
      }
      const retry: ExportItem[] = [];
      let retryAfter = 0;
      for (const answer of response.responses) {
        const item = pending[Number(answer.id) - 1];
        if (!item) continue;
        const body = answer.body as (GraphErrorBody & { id?: string }) | undefined;
        if (answer.status >= 200 && answer.status < 300) {
          done.set(item.key, { key: item.key, status: 'confirmed', cloudId: body?.id });
          continue;
        }
        const note = alreadyDone(item.operation, answer.status, body);
        if (note) {
          done.set(item.key, { key: item.key, status: 'confirmed', note });
          continue;
        }
        const transient = answer.status === 429 || answer.status >= 500 || answer.status === 424;
        if (transient && attempt < maxAttempts) {
          if (answer.status === 429) {
            this.throttledResponses += 1;
            const header = Object.entries(answer.headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
            retryAfter = Math.max(retryAfter, Number(header ?? 5) || 5);
          }
          retry.push(item);
          continue;
        }
        done.set(item.key, { key: item.key, status: 'failed', httpStatus: answer.status, graphCode: body?.error?.code, message: body?.error?.message ?? `HTTP ${answer.status}` });
      }
      if (retry.length > 0) {
        if (retryAfter > 0) this.governor.pause(retryAfter);
        else await delay(Math.min(30_000, 500 * 2 ** attempt));
      }
      pending = retry;
    }
    return batch.map((item) => done.get(item.key) ?? { key: item.key, status: 'failed', httpStatus: -1, message: 'no answer in the batch response' });
  }
}
