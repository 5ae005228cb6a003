/**
 * The export writer: Graph `$batch` requests of 20, under the write governor, honouring Retry-After
 * inside batches (the SDK does not retry inner 429s), retrying transient failures, and treating
 * "already done" answers as success so that every operation is idempotent.
 *
 * Memberships added to one group go together: up to 20 in one `PATCH /groups/{id}` with
 * `members@odata.bind` (graph-reference.md §3.3), one write request instead of 20. Graph adds them
 * all or none; a refusal that names a member (404) fails that one and sends the rest again, any other
 * refusal splits the slice in halves down to single `$ref` adds, whose answers say which member was
 * already there (confirmed), gone or of a type the group cannot hold (failed). A slice only ever
 * shrinks, so the fallback ends; each membership gets one outcome.
 */
import type { PlannedOperation } from '../contract/model.ts';
import type { CloudConnector } from './connector.ts';
import { delay, type WriteGovernor } from './governor.ts';
import { groupUniqueName, isReplicationRefusal } from './replication.ts';

export type GraphRequest = { readonly method: 'POST' | 'PATCH' | 'PUT' | 'DELETE'; readonly url: string; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> };

/**
 * One operation to send. A group's create may carry its first members (`members`: their additions,
 * members resolved), sent in its body (graph-reference.md §3.2: up to 20 relationships at creation).
 */
export type ExportItem = { readonly key: string; readonly operation: PlannedOperation; readonly request: GraphRequest; readonly members?: ReadonlyArray<ExportItem> };

/** Members added in one `members@odata.bind` request at most (graph-reference.md §3.3). */
export const MAX_MEMBERS_PER_BIND = 20;

/**
 * One request to Graph: a single operation's, or several memberships of one group bound together.
 * `verify`: refused because a member is already there; which ones is read before the rest is sent.
 * `verified`: read once already; refused again, the slice is halved instead of read again.
 */
type WriteUnit = { readonly items: ReadonlyArray<ExportItem>; readonly request: GraphRequest; readonly verify?: boolean; readonly verified?: boolean };

/** Values in one `in (…)` of a `$filter` (Graph's default limit is 15). */
const MAX_IN_VALUES = 15;

/** What a kind of write request is counted as: each operation's kind, and `add-members` for several bound in one. */
export type WriteRequestKind = PlannedOperation['kind'] | 'add-members';

export type ExportOutcome =
  | { readonly key: string; readonly status: 'confirmed'; readonly cloudId?: string; readonly note?: string }
  | { readonly key: string; readonly status: 'failed'; readonly httpStatus: number; readonly graphCode?: string; readonly message: string }
  /** A member that rode on its group's create, which was refused or found the group made already: sent on its own. */
  | { readonly key: string; readonly status: 'deferred'; readonly message: string }
  /** Refused the way Graph refuses an object its replica has not seen yet (one created moments ago): sent again later. */
  | {
    readonly key: string; readonly status: 'lagging'; readonly httpStatus: number; readonly message: string;
    /** A create-user whose user an earlier attempt may have made: found by its anchor (or the id Graph named) and linked once readable. */
    readonly adopt?: boolean; readonly conflictingId?: string;
  };

type BatchResponse = { responses: Array<{ id: string; status: number; headers?: Record<string, string>; body?: unknown }> };
type GraphErrorBody = { error?: { code?: string; message?: string; details?: Array<{ code?: string; target?: string }> } };

function requiredId(op: PlannedOperation, value: string | undefined, what: string): string {
  if (!value) throw new Error(`${op.kind} of ${op.dn ?? op.sourceAnchor} has no ${what} cloud id`);
  return value;
}

/** The `@odata.id` / `@odata.bind` reference to a directory object. */
function directoryObjectUrl(graphBaseUrl: string, id: string): string {
  return `${graphBaseUrl}v1.0/directoryObjects/${encodeURIComponent(id)}`;
}

/** The Graph request that carries out one operation (ids already resolved). */
export function requestFor(op: PlannedOperation, graphBaseUrl: string, extra: { password?: string } = {}): GraphRequest {
  const id = (value: string | undefined, what: string): string => encodeURIComponent(requiredId(op, value, what));
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
      return { method: 'POST', url: `/groups/${id(op.cloudId, 'group')}/members/$ref`, body: { '@odata.id': directoryObjectUrl(graphBaseUrl, requiredId(op, op.member?.cloudId, 'member')) } };
    case 'remove-member':
      return { method: 'DELETE', url: `/groups/${id(op.cloudId, 'group')}/members/${id(op.member?.cloudId, 'member')}/$ref` };
    case 'set-manager':
      return { method: 'PUT', url: `/users/${id(op.cloudId, 'user')}/manager/$ref`, body: { '@odata.id': directoryObjectUrl(graphBaseUrl, requiredId(op, op.member?.cloudId, 'manager')) } };
    case 'remove-manager':
      return { method: 'DELETE', url: `/users/${id(op.cloudId, 'user')}/manager/$ref` };
  }
}

/** The request that adds several members to one group at once (atomic: all or none). */
export function bindRequestFor(items: ReadonlyArray<ExportItem>, graphBaseUrl: string): GraphRequest {
  const group = items[0]?.operation.cloudId;
  if (!group || items.some((i) => i.operation.kind !== 'add-member' || i.operation.cloudId !== group || !i.operation.member?.cloudId)) {
    throw new Error('members bound together must be additions to one group, every id resolved');
  }
  return { method: 'PATCH', url: `/groups/${encodeURIComponent(group)}`,
    body: { 'members@odata.bind': items.map((i) => directoryObjectUrl(graphBaseUrl, i.operation.member?.cloudId as string)) } };
}

/** A group's create with its first members bound in its body (one request; all or none). */
function createWithMembers(item: ExportItem, graphBaseUrl: string): WriteUnit {
  const members = item.members ?? [];
  if (members.length > MAX_MEMBERS_PER_BIND || members.some((m) => m.operation.kind !== 'add-member' || !m.operation.member?.cloudId)) {
    throw new Error('a group\'s create carries at most 20 additions of members, every member resolved');
  }
  const binds = members.map((m) => directoryObjectUrl(graphBaseUrl, m.operation.member?.cloudId as string));
  return { items: [item, ...members], request: { ...item.request, body: { ...(item.request.body as object), 'members@odata.bind': binds } } };
}

/** Whether a request creates a group with members in its body. */
const createsWithMembers = (unit: WriteUnit): boolean => unit.items.length > 1 && (unit.items[0] as ExportItem).operation.kind === 'create-group';

/** How many members a request binds: all of a slice's, or those a group's create carries. */
const membersBound = (unit: WriteUnit): number => (unit.items.length > 1 ? (createsWithMembers(unit) ? unit.items.length - 1 : unit.items.length) : 0);

/** A slice of one group's additions as one request: bound when several, the single `$ref` add when one; none when empty. */
function sliceUnits(items: ReadonlyArray<ExportItem>, graphBaseUrl: string, verified = false): WriteUnit[] {
  if (items.length === 0) return [];
  return [items.length === 1 ? { items, request: (items[0] as ExportItem).request }
    : { items, request: bindRequestFor(items, graphBaseUrl), ...(verified ? { verified } : {}) }];
}

/** A refused slice in two halves, sent again. */
function halves(items: ReadonlyArray<ExportItem>, graphBaseUrl: string, verified: boolean | undefined): WriteUnit[] {
  const half = Math.ceil(items.length / 2);
  return [...sliceUnits(items.slice(0, half), graphBaseUrl, verified), ...sliceUnits(items.slice(half), graphBaseUrl, verified)];
}

/**
 * The requests for a list of operations: the additions to each group bound in slices of up to 20 (in
 * their order), every other operation alone.
 */
export function writeUnitsFor(items: ReadonlyArray<ExportItem>, graphBaseUrl: string): WriteUnit[] {
  const units: WriteUnit[] = [];
  const open = new Map<string, ExportItem[]>();
  const flush = (slice: ExportItem[]): void => {
    units.push(...sliceUnits(slice, graphBaseUrl));
  };
  for (const item of items) {
    const op = item.operation;
    if (op.kind === 'create-group' && item.members && item.members.length > 0) {
      units.push(createWithMembers(item, graphBaseUrl));
      continue;
    }
    if (op.kind !== 'add-member' || !op.cloudId || !op.member?.cloudId) {
      units.push({ items: [item], request: item.request });
      continue;
    }
    const slice = open.get(op.cloudId) ?? [];
    slice.push(item);
    open.set(op.cloudId, slice);
    if (slice.length === MAX_MEMBERS_PER_BIND) {
      flush(slice);
      open.delete(op.cloudId);
    }
  }
  for (const slice of open.values()) flush(slice);
  return units;
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
  /** Write requests sent (inner requests of `$batch`; a request sent again counts again). */
  public requestsSent = 0;
  /** The same, by kind (`add-members`: several memberships of one group in one request). */
  public readonly requestsByKind: Partial<Record<WriteRequestKind, number>> = {};
  /** What the requests sent cost against the write budget (requests, or ⌈N/k⌉ for a bind when the budget charges per member). */
  public writeUnitsSent = 0;
  /** How many `members@odata.bind` requests carried 2, 3, … 20 members (index = members). */
  public readonly membersPerBind: number[] = Array.from({ length: MAX_MEMBERS_PER_BIND + 1 }, () => 0);

  public constructor(private readonly cloud: CloudConnector, private readonly governor: WriteGovernor, private readonly options: WriterOptions = {}) {}

  /**
   * Sends the items (any number) in batches of 20 requests, memberships of a group bound together; returns
   * one outcome per item and per member a create carried, in that order (each item, then its members).
   */
  public async send(items: ReadonlyArray<ExportItem>): Promise<ExportOutcome[]> {
    const done = new Map<string, ExportOutcome>();
    await this.sendUnits(writeUnitsFor(items, this.cloud.graphBaseUrl), done);
    return items.flatMap((item) => [item, ...(item.members ?? [])])
      .map((item) => done.get(item.key) ?? { key: item.key, status: 'failed', httpStatus: -1, message: 'no answer in the batch response' });
  }

  private async sendUnits(units: ReadonlyArray<WriteUnit>, done: Map<string, ExportOutcome>): Promise<void> {
    let reported = done.size;
    for (let i = 0; i < units.length; i += 20) {
      const again = await this.verifyMembers(await this.sendBatch(units.slice(i, i + 20), done), done);
      // A refused slice of members, smaller each time: sent again until each has its own answer.
      if (again.length > 0) await this.sendUnits(again, done);
      if (done.size > reported) {
        reported = done.size;
        this.options.onProgress?.(done.size);
      }
    }
  }

  /** What a request costs against the write budget: one (graph-reference.md §8.1), or ⌈N/k⌉ for N members bound when the budget says so. */
  private costOf(unit: WriteUnit): number {
    const perWrite = this.governor.membersPerBindWrite;
    const bound = membersBound(unit);
    return bound > 1 && perWrite !== undefined ? Math.ceil(bound / perWrite) : 1;
  }

  private count(units: ReadonlyArray<WriteUnit>): void {
    this.requestsSent += units.length;
    for (const unit of units) {
      this.writeUnitsSent += this.costOf(unit);
      const kind: WriteRequestKind = unit.items.length > 1 && !createsWithMembers(unit) ? 'add-members' : (unit.items[0] as ExportItem).operation.kind;
      this.requestsByKind[kind] = (this.requestsByKind[kind] ?? 0) + 1;
      const bound = membersBound(unit);
      if (bound > 0) this.membersPerBind[bound] = (this.membersPerBind[bound] ?? 0) + 1;
    }
  }

  /** Sends up to 20 requests in one `$batch`, retrying what was throttled or failed on the way; returns the refused slices to send again. */
  private async sendBatch(batch: ReadonlyArray<WriteUnit>, done: Map<string, ExportOutcome>): Promise<WriteUnit[]> {
    const maxAttempts = this.options.maxAttempts ?? 8;
    // Items sent without a definitive answer (the connection dropped, a 5xx): Graph may have carried them out.
    const unanswered = new Set<string>();
    const again: WriteUnit[] = [];
    let pending = [...batch];
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      await this.governor.take(pending.reduce((sum, unit) => sum + this.costOf(unit), 0));
      const requests = pending.map((unit, index) => ({
        id: String(index + 1), method: unit.request.method, url: unit.request.url,
        ...(unit.request.body !== undefined ? { body: unit.request.body, headers: { 'Content-Type': 'application/json', ...unit.request.headers } }
          : unit.request.headers ? { headers: unit.request.headers } : {}),
      }));
      let response: BatchResponse;
      try {
        this.count(pending);
        response = (await this.cloud.graph.api('/$batch').post({ requests })) as BatchResponse;
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode ?? -1;
        if (status !== 429) for (const unit of pending) for (const item of unit.items) unanswered.add(item.key);
        if (attempt >= maxAttempts || (status >= 400 && status < 500 && status !== 429)) {
          for (const unit of pending) for (const item of unit.items) done.set(item.key, { key: item.key, status: 'failed', httpStatus: status, message: (error as Error).message });
          break;
        }
        if (status === 429) this.governor.pause(5);
        await delay(Math.min(30_000, 500 * 2 ** attempt));
        continue;
      }
      const retry: WriteUnit[] = [];
      let retryAfter = 0;
      for (const answer of response.responses) {
        const unit = pending[Number(answer.id) - 1];
        if (!unit) continue;
        const body = answer.body as (GraphErrorBody & { id?: string }) | undefined;
        const transient = answer.status === 429 || answer.status >= 500 || answer.status === 424;
        if (answer.status >= 500) for (const item of unit.items) unanswered.add(item.key);
        if (transient && attempt < maxAttempts) {
          if (answer.status === 429) {
            this.throttledResponses += 1;
            const header = Object.entries(answer.headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
            retryAfter = Math.max(retryAfter, Number(header ?? 5) || 5);
          }
          retry.push(unit);
          continue;
        }
        if (createsWithMembers(unit)) again.push(...this.answerCreate(unit, answer.status, body, unanswered.has((unit.items[0] as ExportItem).key), done));
        else if (unit.items.length > 1) again.push(...this.answerBound(unit, answer.status, body, done));
        else this.answerOne(unit.items[0] as ExportItem, answer.status, body, unanswered.has((unit.items[0] as ExportItem).key), done);
      }
      if (retry.length > 0) {
        if (retryAfter > 0) this.governor.pause(retryAfter);
        else await delay(Math.min(30_000, 500 * 2 ** attempt));
      }
      pending = retry;
    }
    return again;
  }

  /** One operation's answer. */
  private answerOne(item: ExportItem, status: number, body: (GraphErrorBody & { id?: string }) | undefined, sentUnanswered: boolean, done: Map<string, ExportOutcome>): void {
    if (status >= 200 && status < 300) {
      done.set(item.key, { key: item.key, status: 'confirmed', cloudId: body?.id,
        ...(status === 204 && item.operation.kind === 'create-group' ? { note: 'the group existed: an earlier attempt created it' } : {}) });
      return;
    }
    // A removal answered "not found" is done, lag or not: what a stale read planned to remove again is already gone.
    const note = alreadyDone(item.operation, status, body);
    if (note) {
      done.set(item.key, { key: item.key, status: 'confirmed', note });
      return;
    }
    const lagging = this.lagging(item, status, body, sentUnanswered);
    if (lagging) {
      done.set(item.key, lagging);
      return;
    }
    done.set(item.key, { key: item.key, status: 'failed', httpStatus: status, graphCode: body?.error?.code, message: body?.error?.message ?? `HTTP ${status}` });
  }

  /**
   * The answer to a group's create that carried its first members. Created: the members are confirmed with
   * the new group's id. Found made already (an earlier attempt), or refused: the members are sent on their
   * own afterwards (an addition already there is then answered as done), and a refused create goes again
   * alone, so that a member it could not take never keeps the group from being created.
   */
  private answerCreate(unit: WriteUnit, status: number, body: (GraphErrorBody & { id?: string }) | undefined, sentUnanswered: boolean, done: Map<string, ExportOutcome>): WriteUnit[] {
    const [create, ...members] = unit.items as [ExportItem, ...ExportItem[]];
    const ok = status >= 200 && status < 300;
    if (ok) this.answerOne(create, status, body, sentUnanswered, done);
    for (const member of members) {
      done.set(member.key, ok && status === 201 && body?.id ? { key: member.key, status: 'confirmed', cloudId: body.id }
        : { key: member.key, status: 'deferred', message: ok ? 'the group existed' : `the group's create with its first members was refused: ${body?.error?.message ?? `HTTP ${status}`}` });
    }
    return ok ? [] : [{ items: [create], request: create.request }];
  }

  /**
   * The answer to several members bound at once. Added: all confirmed. Refused as a replica refuses what
   * it has not seen, while the group or a member was created moments ago: all wait for replication, as
   * each alone would. Refused naming one member (404): that one fails, the rest go again. Refused
   * because one is already a member: read which (verifyMembers). Any other refusal (one of a type the
   * group cannot hold): the slice goes again in halves.
   */
  private answerBound(unit: WriteUnit, status: number, body: GraphErrorBody | undefined, done: Map<string, ExportOutcome>): WriteUnit[] {
    if (status >= 200 && status < 300) {
      for (const item of unit.items) done.set(item.key, { key: item.key, status: 'confirmed' });
      return [];
    }
    const message = body?.error?.message ?? `HTTP ${status}`;
    const recent = this.options.recentlyCreated;
    const namedMissing = status === 404 ? unit.items.find((i) => i.operation.member?.cloudId && message.toLowerCase().includes(i.operation.member.cloudId.toLowerCase())) : undefined;
    if (!namedMissing && recent && isReplicationRefusal(status, body?.error?.code, message) && unit.items.some((i) => objectsNamed(i.operation).some((id) => recent(id)))) {
      for (const item of unit.items) done.set(item.key, { key: item.key, status: 'lagging', httpStatus: status, message });
      return [];
    }
    if (namedMissing) {
      this.answerOne(namedMissing, status, body, false, done);
      return sliceUnits(unit.items.filter((i) => i !== namedMissing), this.cloud.graphBaseUrl, unit.verified);
    }
    if (status === 400 && /already exist/i.test(message) && !unit.verified) return [{ ...unit, verify: true }];
    return halves(unit.items, this.cloud.graphBaseUrl, unit.verified);
  }

  /**
   * Slices refused because a member is already in the group: the group's members among them are read
   * (`$filter=id in (…)`, no write), those present are done, and the rest is sent again once. A read that
   * fails, or a replica that has not seen a recent addition, ends in halves as any other refusal.
   */
  private async verifyMembers(units: ReadonlyArray<WriteUnit>, done: Map<string, ExportOutcome>): Promise<WriteUnit[]> {
    const out: WriteUnit[] = [];
    for (const unit of units) {
      if (!unit.verify) {
        out.push(unit);
        continue;
      }
      const group = (unit.items[0] as ExportItem).operation.cloudId as string;
      const present = await this.membersPresent(group, unit.items.map((i) => i.operation.member?.cloudId as string));
      if (!present) {
        out.push(...halves(unit.items, this.cloud.graphBaseUrl, true));
        continue;
      }
      for (const item of unit.items) {
        if (present.has((item.operation.member?.cloudId as string).toLowerCase())) done.set(item.key, { key: item.key, status: 'confirmed', note: 'already a member' });
      }
      out.push(...sliceUnits(unit.items.filter((i) => !present.has((i.operation.member?.cloudId as string).toLowerCase())), this.cloud.graphBaseUrl, true));
    }
    return out;
  }

  /** Which of these objects are members of the group (read in filters of 15); undefined when Graph would not say. */
  private async membersPresent(groupId: string, memberIds: ReadonlyArray<string>): Promise<Set<string> | undefined> {
    const present = new Set<string>();
    try {
      for (let i = 0; i < memberIds.length; i += MAX_IN_VALUES) {
        const ids = memberIds.slice(i, i + MAX_IN_VALUES).map((id) => `'${id}'`).join(',');
        const page = (await this.cloud.graph.api(`/groups/${encodeURIComponent(groupId)}/members`).header('ConsistencyLevel', 'eventual')
          .query({ $count: 'true', $select: 'id', $filter: `id in (${ids})` }).get()) as { value?: Array<{ id?: string }> };
        for (const member of page.value ?? []) if (member.id) present.add(member.id.toLowerCase());
      }
    } catch {
      return undefined;
    }
    return present;
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
    // Graph names the object it did not find: only that one's age says whether a replica may lag behind it.
    const named = objectsNamed(item.operation);
    const missing = named.filter((id) => message.toLowerCase().includes(id.toLowerCase()));
    return (missing.length > 0 ? missing : named).some((id) => recent(id)) ? { key: item.key, status: 'lagging', httpStatus: status, message } : undefined;
  }
}
