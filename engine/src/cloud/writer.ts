/**
 * The export writer: Graph `$batch` requests of 20, under the write governor, honouring Retry-After
 * inside batches (the SDK does not retry inner 429s), retrying transient failures, and treating
 * "already done" answers as success so that every operation is idempotent.
 */
import type { PlannedOperation } from '../contract/model.ts';
import type { CloudConnector } from './connector.ts';
import { delay, type WriteGovernor } from './governor.ts';
import { groupUniqueName, isReplicationRefusal } from './replication.ts';

export type GraphRequest = { readonly method: 'POST' | 'PATCH' | 'PUT' | 'DELETE'; readonly url: string; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> };

export type ExportItem = { readonly key: string; readonly operation: PlannedOperation; readonly request: GraphRequest };

export type ExportOutcome =
  | { readonly key: string; readonly status: 'confirmed'; readonly cloudId?: string; readonly note?: string }
  | { readonly key: string; readonly status: 'failed'; readonly httpStatus: number; readonly graphCode?: string; readonly message: string }
  /** Refused the way Graph refuses an object its replica has not seen yet (one created moments ago): sent again later. */
  | {
    readonly key: string; readonly status: 'lagging'; readonly httpStatus: number; readonly message: string;
    /** A create-user whose user an earlier attempt may have made: found by its anchor (or the id Graph named) and linked once readable. */
    readonly adopt?: boolean; readonly conflictingId?: string;
  };

type BatchResponse = { responses: Array<{ id: string; status: number; headers?: Record<string, string>; body?: unknown }> };
type GraphErrorBody = { error?: { code?: string; message?: string; details?: Array<{ code?: string; target?: string }> } };

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
      // An upsert on an alternate key made of the anchor: sent twice (a crash, a lookup that lagged), it updates the group the first made.
      return { method: 'PATCH', url: `/groups(uniqueName='${groupUniqueName(op.sourceAnchor)}')`, headers: { Prefer: 'create-if-missing' }, body: { ...op.properties } };
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

/** A create-user refused because an object already holds its UPN or immutable id, and the id of that user when Graph names it. */
function createUserConflict(op: PlannedOperation, status: number, body: GraphErrorBody | undefined): { readonly conflictingId?: string } | undefined {
  if (op.kind !== 'create-user' || status !== 400) return undefined;
  const details = body?.error?.details ?? [];
  const conflict = details.some((d) => d.code === 'ObjectConflict' && /^(userPrincipalName|onPremisesImmutableId)$/i.test(d.target ?? ''))
    || /Another object with the same value for property (userPrincipalName|onPremisesImmutableId)/i.test(body?.error?.message ?? '');
  if (!conflict) return undefined;
  const immutable = details.some((d) => d.code === 'ObjectConflict' && d.target === 'onPremisesImmutableId');
  const target = immutable ? details.find((d) => d.code === 'ConflictingObjects' && /^User_/i.test(d.target ?? ''))?.target : undefined;
  return target ? { conflictingId: target.slice('User_'.length).toLowerCase() } : {};
}

export type WriterOptions = {
  readonly maxAttempts?: number;
  readonly onProgress?: (done: number) => void;
  /** Whether a cloud object was created (or restored) by this product recently enough that replicas may not have it yet. */
  readonly recentlyCreated?: (cloudId: string) => boolean;
  /** Whether an earlier run sent this create and never heard whether Graph made it (the service stopped): its object may exist. */
  readonly sentBefore?: (op: PlannedOperation) => boolean;
};

/** The cloud objects an operation names: its own and the one it references. */
function objectsNamed(op: PlannedOperation): string[] {
  return [op.cloudId, op.member?.cloudId].filter((id): id is string => id !== undefined);
}

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
    // Items sent without a definitive answer (the connection dropped, a 5xx): Graph may have carried them out.
    const unanswered = new Set<string>();
    let pending = [...batch];
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      await this.governor.take(pending.length);
      const requests = pending.map((item, index) => ({
        id: String(index + 1), method: item.request.method, url: item.request.url,
        ...(item.request.body !== undefined ? { body: item.request.body, headers: { 'Content-Type': 'application/json', ...item.request.headers } }
          : item.request.headers ? { headers: item.request.headers } : {}),
      }));
      let response: BatchResponse;
      try {
        this.requestsSent += pending.length;
        response = (await this.cloud.graph.api('/$batch').post({ requests })) as BatchResponse;
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode ?? -1;
        if (status !== 429) for (const item of pending) unanswered.add(item.key);
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
          done.set(item.key, { key: item.key, status: 'confirmed', cloudId: body?.id,
            ...(answer.status === 204 && item.operation.kind === 'create-group' ? { note: 'the group existed: an earlier attempt created it' } : {}) });
          continue;
        }
        // A removal answered "not found" is done, lag or not: what a stale read planned to remove again is already gone.
        const note = alreadyDone(item.operation, answer.status, body);
        if (note) {
          done.set(item.key, { key: item.key, status: 'confirmed', note });
          continue;
        }
        const lagging = this.lagging(item, answer.status, body, unanswered.has(item.key));
        if (lagging) {
          done.set(item.key, lagging);
          continue;
        }
        const transient = answer.status === 429 || answer.status >= 500 || answer.status === 424;
        if (answer.status >= 500) unanswered.add(item.key);
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

  /**
   * A refusal that replication explains: a reference or target this product created moments ago that the
   * answering replica has not seen, or a create whose immutable id an object not yet visible already holds.
   */
  private lagging(item: ExportItem, status: number, body: GraphErrorBody | undefined, sentUnanswered: boolean): ExportOutcome | undefined {
    const message = body?.error?.message ?? `HTTP ${status}`;
    // A user that holds the create's identity may be the earlier attempt's only when an earlier attempt went unanswered.
    const conflict = createUserConflict(item.operation, status, body);
    if (conflict && (sentUnanswered || this.options.sentBefore?.(item.operation) === true)) {
      return { key: item.key, status: 'lagging', httpStatus: status, message, adopt: true, ...conflict };
    }
    const recent = this.options.recentlyCreated;
    if (!recent || !isReplicationRefusal(status, body?.error?.code, message)) return undefined;
    return objectsNamed(item.operation).some((id) => recent(id)) ? { key: item.key, status: 'lagging', httpStatus: status, message } : undefined;
  }
}
