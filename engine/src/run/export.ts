/**
 * Export (steps 9–10): sends a plan's operations in priority order through the $batch writer. Each
 * operation is recorded as sent before it goes out and confirmed after, so a crash never loses or
 * repeats a change: an unconfirmed create is looked up by its anchor before it is sent again.
 */
import { randomBytes } from 'node:crypto';
import type { ObjectError, PlannedOperation } from '../contract/model.ts';
import type { CloudConnector } from '../cloud/connector.ts';
import { WriteGovernor, defaultWriteBudget, type WriteBudget } from '../cloud/governor.ts';
import { delay } from '../cloud/governor.ts';
import { DEFAULT_REPLICATION_WAIT_MS, UNANSWERED_CREATE_WINDOW_MS, groupUniqueName, isRecentWrite, replicationBackoffMs } from '../cloud/replication.ts';
import { GraphWriter, MAX_MEMBERS_PER_BIND, requestFor, type ExportItem, type ExportOutcome } from '../cloud/writer.ts';
import type { CloudObject } from '../sync/cloud-object.ts';
import { guardError, syncedCounterparts } from '../sync/create-guard.ts';
import { exportPriority } from '../sync/plan.ts';
import { syncedLookups } from './planning.ts';
import type { OperationStatus, Store, StoredOperation } from '../store/store.ts';
import { unansweredCreateKey } from '../store/keys.ts';

export type ExportResult = {
  readonly exported: Record<string, number>;
  readonly failed: number;
  readonly skipped: number;
  readonly failedAdGuids: ReadonlyArray<string>;
  /** Changes still waiting, at the end, for Microsoft Entra ID to replicate objects created moments ago: the next run sends them. */
  readonly waiting: number;
  /** The AD objects the next run plans again: those still waiting, and users adopted as an earlier attempt made them. */
  readonly waitingAdGuids: ReadonlyArray<string>;
  /** Changes that waited for replication and were then sent. */
  readonly waitedForReplication: number;
};

/** A password no one knows: Graph needs one to create a user, and cannot carry AD's. */
function randomPassword(): string {
  const raw = randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '');
  return `Ds!${raw.slice(0, 20)}a9Z`;
}

/** A confirmed PATCH as Graph applies it: top-level properties replaced, complex ones (extension attributes) merged key by key. */
export function applyPropertyChanges(current: Readonly<Record<string, unknown>>, changes: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const properties: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(changes)) {
    properties[k] = v !== null && typeof v === 'object' && !Array.isArray(v) ? { ...(properties[k] as object | undefined), ...(v as object) } : v;
  }
  return properties;
}

function applyConfirmed(store: Store, op: PlannedOperation, cloudId: string | undefined, runId: number): void {
  switch (op.kind) {
    case 'create-user':
    case 'create-group': {
      if (!cloudId) return;
      const properties = { ...(op.properties ?? {}) };
      const object: CloudObject = {
        id: cloudId, objectType: op.objectType, properties, managedAnchor: op.sourceAnchor, createdAt: new Date().toISOString(),
        immutableId: op.objectType === 'user' ? op.sourceAnchor : undefined,
        userPrincipalName: typeof properties['userPrincipalName'] === 'string' ? properties['userPrincipalName'] : undefined,
        mail: typeof properties['mail'] === 'string' ? properties['mail'] : undefined,
        displayName: typeof properties['displayName'] === 'string' ? properties['displayName'] : undefined,
      };
      store.upsertCloudObjects([object], runId);
      if (op.adGuid && op.dn) store.setLink({ adGuid: op.adGuid, sourceAnchor: op.sourceAnchor, objectType: op.objectType, cloudId, state: 'linked', dn: op.dn }, runId);
      return;
    }
    case 'update-user':
    case 'update-group':
    case 'restore-user': {
      const id = op.cloudId as string;
      const current = store.getCloudObject(id);
      if (current) {
        const properties = applyPropertyChanges(current.properties, op.properties ?? {});
        const anchorKey = Object.keys(properties).find((k) => k.startsWith('extension_') && k.endsWith('_sourceAnchor'));
        store.upsertCloudObjects([{ ...current, properties, softDeleted: false, ...(op.kind === 'restore-user' ? { createdAt: new Date().toISOString() } : {}),
          managedAnchor: anchorKey && typeof properties[anchorKey] === 'string' ? (properties[anchorKey] as string) : current.managedAnchor,
          immutableId: typeof properties['onPremisesImmutableId'] === 'string' ? properties['onPremisesImmutableId'] : current.immutableId,
          userPrincipalName: typeof properties['userPrincipalName'] === 'string' ? properties['userPrincipalName'] : current.userPrincipalName,
          mail: typeof properties['mail'] === 'string' ? properties['mail'] : properties['mail'] === null ? undefined : current.mail }], runId);
      }
      // A migrated object taking this cloud object over: the link of the object it replaces goes first (one link per cloud object).
      if (op.takesOverFrom !== undefined && store.getLink(op.takesOverFrom)?.cloudId === id) store.removeLink(op.takesOverFrom);
      if (op.adGuid && op.dn) store.setLink({ adGuid: op.adGuid, sourceAnchor: op.sourceAnchor, objectType: op.objectType, cloudId: id, state: 'linked', dn: op.dn }, runId);
      return;
    }
    case 'delete-user':
    case 'delete-group':
      if (op.cloudId) store.removeCloudObject(op.cloudId);
      if (op.adGuid) store.removeLink(op.adGuid);
      else if (op.cloudId) {
        const link = store.linkByCloudId(op.cloudId);
        if (link) store.removeLink(link.adGuid);
      }
      return;
    case 'add-member':
      if (op.cloudId && op.member?.cloudId) store.addCloudMember(op.cloudId, op.member.cloudId);
      return;
    case 'remove-member':
      if (op.cloudId && op.member?.cloudId) store.removeCloudMember(op.cloudId, op.member.cloudId);
      return;
    case 'set-manager':
    case 'remove-manager': {
      const current = op.cloudId ? store.getCloudObject(op.cloudId) : undefined;
      if (!current) return;
      const { managerId: _previous, ...rest } = current;
      store.upsertCloudObjects([op.kind === 'set-manager' && op.member?.cloudId ? { ...rest, managerId: op.member.cloudId } : rest], runId);
      return;
    }
  }
}

/** Fills in cloud ids known only now (objects created earlier in this export). */
function resolveIds(store: Store, op: PlannedOperation): PlannedOperation | string {
  let resolved = op;
  if (!resolved.cloudId && resolved.adGuid) {
    const link = store.getLink(resolved.adGuid);
    if (link?.cloudId) resolved = { ...resolved, cloudId: link.cloudId };
  }
  if (resolved.member && !resolved.member.cloudId) {
    const link = store.linkByAnchor(resolved.member.sourceAnchor);
    if (link?.cloudId) resolved = { ...resolved, member: { ...resolved.member, cloudId: link.cloudId } };
    else return `the ${resolved.kind === 'set-manager' ? 'manager' : 'member'} ${resolved.member.dn ?? resolved.member.sourceAnchor} does not exist in the tenant (its own export failed or is waiting)`;
  }
  if ((resolved.kind === 'add-member' || resolved.kind === 'remove-member') && !resolved.cloudId) {
    return `the group ${resolved.dn ?? resolved.sourceAnchor} does not exist in the tenant (its own export failed or is waiting)`;
  }
  if ((resolved.kind === 'set-manager' || resolved.kind === 'remove-manager') && !resolved.cloudId) {
    return `the user ${resolved.dn ?? resolved.sourceAnchor} does not exist in the tenant (its own export failed or is waiting)`;
  }
  return resolved;
}

/**
 * The create guard once more, right before a create is sent (an approved plan may be days old): a create
 * whose identity equals an object another tool synchronizes is refused with both identities.
 */
function createGuardRefusal(store: Store, op: PlannedOperation, lookups: ReturnType<typeof syncedLookups>): ObjectError | undefined {
  if (op.kind !== 'create-user' && op.kind !== 'create-group') return undefined;
  const desired = { objectType: op.objectType, sourceAnchor: op.sourceAnchor, adGuid: op.adGuid ?? '', dn: op.dn ?? op.sourceAnchor, properties: op.properties ?? {} };
  const sid = op.adGuid ? store.getAdEntry(op.adGuid)?.sid : undefined;
  const counterparts = syncedCounterparts(desired, sid, lookups);
  return counterparts.length > 0 ? guardError(desired, sid, counterparts) : undefined;
}

/** Operations sent by a run that died before confirming them: find out what happened. */
export async function recoverUnconfirmed(store: Store, cloud: CloudConnector, runId: number): Promise<number> {
  let recovered = 0;
  for (const stored of store.unconfirmedOperations()) {
    const op = stored.operation;
    if (op.kind === 'create-user' || op.kind === 'create-group') {
      const found = await cloud.findByAnchor(op.objectType, op.sourceAnchor);
      store.transaction(() => {
        if (found) {
          store.upsertCloudObjects([found], runId);
          if (op.adGuid && op.dn) store.setLink({ adGuid: op.adGuid, sourceAnchor: op.sourceAnchor, objectType: op.objectType, cloudId: found.id, state: 'linked', dn: op.dn }, runId);
          store.setOperationStatus(stored.planId, stored.seq, 'confirmed', 'confirmed after a restart: found by its anchor');
        } else {
          // Its object may exist and not be replicated yet: a create sent again that meets its UPN finds it (export).
          store.setCursor(unansweredCreateKey(op.sourceAnchor), new Date().toISOString());
          store.setOperationStatus(stored.planId, stored.seq, 'failed', 'not confirmed before the service stopped, and not found by its anchor (it may not be replicated yet); planned again');
        }
      });
    } else {
      store.setOperationStatus(stored.planId, stored.seq, 'failed', 'not confirmed before the service stopped; planned again');
    }
    recovered += 1;
  }
  return recovered;
}

export type ExportInput = {
  readonly store: Store;
  readonly cloud: CloudConnector;
  readonly writer: GraphWriter;
  readonly planId: number;
  readonly runId: number;
  readonly statuses: ReadonlyArray<OperationStatus>;
  /** Operations done so far, and the write requests (in write-budget units) sent for them. */
  readonly onProgress?: (done: number, writesSent: number) => void;
  /** Checked before each page: false stops the export (e.g. the ownership lease was lost). */
  readonly mayContinue?: () => boolean;
  /** How long, in all, to wait for objects still replicating before leaving their changes to the next run. */
  readonly replicationWaitMs?: number;
};

/**
 * An operation that waits for replication: a change Graph refused because a replica had not seen an object
 * created moments ago (`resend`), a group upsert that found the group an earlier attempt made but not its id
 * (`find-group`), or a user create refused because a user not yet visible holds its immutable id (`adopt-user`).
 */
type Waiting = { readonly item: ExportItem; readonly need: 'resend' | 'find-group' | 'adopt-user'; readonly conflictingId?: string };

/** One export's bookkeeping: counts, errors, and what waits for replication. */
class ExportLedger {
  public readonly exported: Record<string, number> = {};
  public readonly failedAdGuids: string[] = [];
  public readonly waitingAdGuids: string[] = [];
  public failed = 0;
  public skipped = 0;
  public waiting: Waiting[] = [];
  /** Operations that waited for replication at least once, and how many of them were sent once it came. */
  public readonly waited = new Set<string>();
  public waitedThenDone = 0;
  /** Anchors of creates that wait: the changes that reference them wait with them. */
  public readonly waitingAnchors = new Set<string>();

  public constructor(private readonly store: Store, private readonly runId: number) {}

  public confirm(item: ExportItem, cloudId: string | undefined, note: string | undefined): void {
    const [plan, seq] = item.key.split(':').map(Number) as [number, number];
    // A member that rode on its group's create learns the group's id from the create's answer.
    const op = item.operation.kind === 'add-member' && !item.operation.cloudId && cloudId ? { ...item.operation, cloudId } : item.operation;
    applyConfirmed(this.store, op, cloudId ?? op.cloudId, this.runId);
    this.store.setOperationStatus(plan, seq, 'confirmed', note, op === item.operation ? undefined : op);
    this.exported[item.operation.kind] = (this.exported[item.operation.kind] ?? 0) + 1;
    if (this.waited.has(item.key)) this.waitedThenDone += 1;
  }

  public fail(item: ExportItem, reason: string, errors: ObjectError[], code = `export-${item.operation.kind}`): void {
    const [plan, seq] = item.key.split(':').map(Number) as [number, number];
    this.failed += 1;
    if (item.operation.adGuid) this.failedAdGuids.push(item.operation.adGuid);
    this.store.setOperationStatus(plan, seq, 'failed', reason);
    errors.push({ dn: item.operation.dn ?? item.operation.sourceAnchor, adGuid: item.operation.adGuid, objectType: item.operation.objectType,
      code, reason: `Microsoft Entra ID refused ${item.operation.kind}: ${reason}`,
      hint: 'Correct the value in Active Directory (or the conflict in the tenant); the next run tries again.' });
  }

  public wait(waiting: Waiting): void {
    this.waited.add(waiting.item.key);
    this.waiting.push(waiting);
    if (waiting.need !== 'resend') this.waitingAnchors.add(waiting.item.operation.sourceAnchor);
  }

  /** What an outcome of the writer means for the operation. */
  public record(item: ExportItem, outcome: ExportOutcome, errors: ObjectError[]): void {
    if (outcome.status === 'confirmed') {
      if (item.operation.kind === 'create-group' && !outcome.cloudId) this.wait({ item, need: 'find-group' });
      else this.confirm(item, outcome.cloudId, outcome.note);
    } else if (outcome.status === 'deferred') {
      throw new Error(`${item.key} was deferred: its sender sends it again`);
    } else if (outcome.status === 'lagging') {
      this.wait(outcome.adopt ? { item, need: 'adopt-user', ...(outcome.conflictingId ? { conflictingId: outcome.conflictingId } : {}) } : { item, need: 'resend' });
    } else {
      this.fail(item, `${outcome.httpStatus} ${outcome.graphCode ?? ''} ${outcome.message}`.trim(), errors);
    }
  }

  /** A user an earlier, unanswered attempt created, found once replicated: linked as it is, and compared with AD by the next run. */
  public adopt(item: ExportItem, found: CloudObject): void {
    const [plan, seq] = item.key.split(':').map(Number) as [number, number];
    const op = item.operation;
    this.store.upsertCloudObjects([{ ...found, createdAt: found.createdAt ?? new Date().toISOString() }], this.runId);
    if (op.adGuid && op.dn) this.store.setLink({ adGuid: op.adGuid, sourceAnchor: op.sourceAnchor, objectType: op.objectType, cloudId: found.id, state: 'linked', dn: op.dn }, this.runId);
    this.store.deleteCursor(unansweredCreateKey(op.sourceAnchor));
    this.store.setOperationStatus(plan, seq, 'confirmed', 'created by an earlier attempt whose answer was lost; found once Microsoft Entra ID replicated it');
    this.exported[op.kind] = (this.exported[op.kind] ?? 0) + 1;
    this.waitedThenDone += 1;
    if (op.adGuid) this.waitingAdGuids.push(op.adGuid);
  }

  /** After the last wait: what still waits is left to the next run, said as waiting, not as an error. */
  public leaveToNextRun(): number {
    for (const { item, need } of this.waiting) {
      // The next run's create meets the same UPN: it must know that an earlier attempt may have made the user (kept from the first time it was said).
      if (need === 'adopt-user' && this.store.getCursor(unansweredCreateKey(item.operation.sourceAnchor)) === undefined) {
        this.store.setCursor(unansweredCreateKey(item.operation.sourceAnchor), new Date().toISOString());
      }
      const [plan, seq] = item.key.split(':').map(Number) as [number, number];
      this.store.setOperationStatus(plan, seq, 'skipped', `waiting for Microsoft Entra ID to replicate ${item.operation.dn ?? item.operation.sourceAnchor} `
        + 'or an object it references, created moments ago: the next run sends it');
      if (item.operation.adGuid) this.waitingAdGuids.push(item.operation.adGuid);
    }
    const left = this.waiting.length;
    this.waiting = [];
    return left;
  }
}

/** Whether an operation names an object whose create waits for replication. */
function referencesWaiting(op: PlannedOperation, anchors: ReadonlySet<string>): boolean {
  return anchors.has(op.sourceAnchor) || (op.member !== undefined && anchors.has(op.member.sourceAnchor));
}

/**
 * Operations read and sent per page: a stop (the service asked to stop, the lease lost) takes effect
 * between pages, so a page must take seconds, not minutes, at the write budget: 200 creates or
 * updates (~10 s at ~19 writes/s), or 2,000 membership and manager changes (memberships go 20 to a
 * request: ~100 requests, full `$batch`es of 20). A group's additions split between two pages cost
 * one more request.
 */
export const EXPORT_PAGE = 200;
export const MEMBERSHIP_EXPORT_PAGE = 2000;
const MEMBERSHIP_PRIORITY = exportPriority({ kind: 'add-member', objectType: 'group', sourceAnchor: '', reason: '' });

/** The page size after an operation of this priority. */
export function exportPageSize(afterPriority: number): number {
  return afterPriority >= MEMBERSHIP_PRIORITY ? MEMBERSHIP_EXPORT_PAGE : EXPORT_PAGE;
}

/** What an export keeps from page to page. */
type ExportState = {
  readonly input: ExportInput; readonly ledger: ExportLedger; readonly lookups: ReturnType<typeof syncedLookups>; readonly guardChecks: boolean; done: number;
  /** Additions of the page being sent that rode on their group's create (later pages no longer list them: they are not planned any more). */
  readonly carried: Set<string>;
};

/**
 * Resolves, records as sent, and sends operations of one priority; a group's create carries its first
 * members (`initialMembers`: additions of this plan, by the group's anchor) whose members exist already.
 * Returns the members that rode on a create and must be sent on their own (deferred).
 */
async function sendOperations(state: ExportState, operations: ReadonlyArray<StoredOperation>, initialMembers = new Map<string, StoredOperation[]>()): Promise<StoredOperation[]> {
  const { input, ledger } = state;
  const { store, runId } = input;
  const items: ExportItem[] = [];
  const errors: ObjectError[] = [];
  const carried = new Map<string, StoredOperation>();
  store.transaction(() => {
    for (const stored of operations) {
      if (state.carried.has(`${stored.planId}:${stored.seq}`)) continue;
      const resolved = resolveForExport(state, stored, errors);
      if (!resolved) continue;
      const request = requestFor(resolved, input.cloud.graphBaseUrl, { password: randomPassword() });
      const members: ExportItem[] = [];
      for (const addition of resolved.kind === 'create-group' ? initialMembers.get(resolved.sourceAnchor) ?? [] : []) {
        const member = resolveIds(store, { ...addition.operation, cloudId: 'pending' });
        if (typeof member === 'string' || referencesWaiting(addition.operation, ledger.waitingAnchors)) continue;
        const operation = { ...member, cloudId: undefined };
        store.setOperationStatus(addition.planId, addition.seq, 'sent', undefined, operation);
        const key = `${addition.planId}:${addition.seq}`;
        carried.set(key, addition);
        state.carried.add(key);
        members.push({ key, operation, request: { method: 'POST', url: '' } });
      }
      store.setOperationStatus(stored.planId, stored.seq, 'sent', undefined, resolved);
      items.push({ key: `${stored.planId}:${stored.seq}`, operation: resolved, request, ...(members.length > 0 ? { members } : {}) });
    }
  });
  const sent = items.flatMap((item) => [item, ...(item.members ?? [])]);
  const outcomes = await input.writer.send(items);
  const deferred: StoredOperation[] = [];
  store.transaction(() => {
    outcomes.forEach((outcome, index) => {
      const item = sent[index] as ExportItem;
      if (outcome.status === 'deferred') deferred.push(carried.get(item.key) as StoredOperation);
      else ledger.record(item, outcome, errors);
    });
    store.addErrors(runId, errors);
  });
  state.done += sent.length;
  input.onProgress?.(state.done, input.writer.writeUnitsSent);
  return deferred;
}

/** An operation with every id it needs, or undefined when it cannot go now (refused by the create guard, waiting, or skipped: recorded). */
function resolveForExport(state: ExportState, stored: StoredOperation, errors: ObjectError[]): PlannedOperation | undefined {
  const { store } = state.input;
  const refused = state.guardChecks ? createGuardRefusal(store, stored.operation, state.lookups) : undefined;
  if (refused) {
    store.setOperationStatus(stored.planId, stored.seq, 'failed', refused.reason);
    errors.push(refused);
    state.ledger.failed += 1;
    return undefined;
  }
  const resolved = resolveIds(store, stored.operation);
  if (typeof resolved !== 'string') return resolved;
  if (referencesWaiting(stored.operation, state.ledger.waitingAnchors)) {
    store.setOperationStatus(stored.planId, stored.seq, 'sent', 'waiting for an object to replicate');
    state.ledger.wait({ item: { key: `${stored.planId}:${stored.seq}`, operation: stored.operation, request: { method: 'POST', url: '' } }, need: 'resend' });
    return undefined;
  }
  store.setOperationStatus(stored.planId, stored.seq, 'skipped', resolved);
  state.ledger.skipped += 1;
  return undefined;
}

export async function exportPlan(input: ExportInput): Promise<ExportResult> {
  const { store, planId } = input;
  const ledger = new ExportLedger(store, input.runId);
  const state: ExportState = { input, ledger, lookups: syncedLookups(store), guardChecks: store.hasSyncedObjects(), done: 0, carried: new Set() };
  // Pages never mix priorities: every create is confirmed before the first membership change.
  for (const page of store.operationsToExport(planId, input.statuses, exportPageSize)) {
    if (input.mayContinue && !input.mayContinue()) break;
    state.carried.clear();
    const byPriority = new Map<number, StoredOperation[]>();
    for (const stored of page) {
      const priority = exportPriority(stored.operation);
      byPriority.set(priority, [...(byPriority.get(priority) ?? []), stored]);
    }
    for (const group of [...byPriority.keys()].sort((a, b) => a - b).map((k) => byPriority.get(k) as StoredOperation[])) {
      // Groups are created after the users of the same page, so that their first members exist and ride in their create.
      const groupCreates = group.filter((s) => s.operation.kind === 'create-group');
      await sendOperations(state, groupCreates.length > 0 ? group.filter((s) => s.operation.kind !== 'create-group') : group);
      if (groupCreates.length === 0) continue;
      const initial = store.firstMemberAdditions(planId, groupCreates.map((s) => s.operation.sourceAnchor), input.statuses, MAX_MEMBERS_PER_BIND);
      const deferred = await sendOperations(state, groupCreates, initial);
      if (deferred.length > 0) {
        // Sent now on their own, and still not again when the page comes to its memberships.
        const keys = deferred.map((s) => `${s.planId}:${s.seq}`);
        for (const key of keys) state.carried.delete(key);
        await sendOperations(state, deferred);
        for (const key of keys) state.carried.add(key);
      }
    }
  }
  if (!input.mayContinue || input.mayContinue()) await settleWaiting(input, ledger, state.done);
  const waiting = ledger.leaveToNextRun();
  return { exported: ledger.exported, failed: ledger.failed, skipped: ledger.skipped, failedAdGuids: ledger.failedAdGuids,
    waiting, waitingAdGuids: ledger.waitingAdGuids, waitedForReplication: ledger.waitedThenDone };
}

/** Finds the object a waiting create made, once a replica has it; undefined while none does. */
async function findCreated(cloud: CloudConnector, waiting: Waiting): Promise<CloudObject | undefined> {
  if (waiting.need === 'find-group') return cloud.groupByUniqueName(groupUniqueName(waiting.item.operation.sourceAnchor));
  const found = waiting.conflictingId ? await cloud.byId('user', waiting.conflictingId) : await cloud.findByAnchor('user', waiting.item.operation.sourceAnchor);
  // Only the user that carries this object's anchor is the earlier attempt's; another holding the UPN is a conflict, said by the next run.
  return found && (found.immutableId === waiting.item.operation.sourceAnchor || found.managedAnchor === waiting.item.operation.sourceAnchor) ? found : undefined;
}

/**
 * Waits, with a growing pause and a bound, for the objects created moments ago to reach the replicas, and
 * sends what waited for them; the rest is left to the next run.
 */
async function settleWaiting(input: ExportInput, ledger: ExportLedger, done: number): Promise<void> {
  const { store, cloud } = input;
  const deadline = performance.now() + (input.replicationWaitMs ?? DEFAULT_REPLICATION_WAIT_MS);
  for (let attempt = 1; ledger.waiting.length > 0; attempt += 1) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) return;
    await delay(replicationBackoffMs(attempt, remaining));
    // The lease lost, or the service stopping, while waiting: what waits is left to the next run.
    if (input.mayContinue && !input.mayContinue()) return;
    const waiting = ledger.waiting;
    ledger.waiting = [];
    const errors: ObjectError[] = [];
    for (const entry of waiting.filter((w) => w.need !== 'resend')) {
      const found = await findCreated(cloud, entry);
      if (!found) {
        ledger.waiting.push(entry);
        continue;
      }
      store.transaction(() => {
        if (found.onPremisesSyncEnabled) {
          ledger.fail(entry.item, `the user ${found.id} that holds its immutable id is synchronized by another tool`, errors, 'match-beside-synchronized');
          return;
        }
        if (entry.need === 'adopt-user') ledger.adopt(entry.item, found);
        else ledger.confirm(entry.item, found.id, 'the group existed: an earlier attempt created it; found once Microsoft Entra ID replicated it');
        ledger.waitingAnchors.delete(entry.item.operation.sourceAnchor);
      });
    }
    const items: ExportItem[] = [];
    for (const entry of waiting.filter((w) => w.need === 'resend')) {
      const resolved = resolveIds(store, entry.item.operation);
      if (typeof resolved === 'string') {
        ledger.waiting.push(entry);
        continue;
      }
      items.push({ ...entry.item, operation: resolved, request: requestFor(resolved, cloud.graphBaseUrl, { password: randomPassword() }) });
    }
    const outcomes = await input.writer.send(items);
    store.transaction(() => {
      outcomes.forEach((outcome, index) => ledger.record(items[index] as ExportItem, outcome, errors));
      store.addErrors(input.runId, errors);
    });
    input.onProgress?.(done + ledger.waitedThenDone, input.writer.writeUnitsSent);
  }
}

/** What waiting for Microsoft Entra ID's replicas did in this run: said, never counted as an error. */
export function replicationNote(result: { readonly waiting: number; readonly waitedForReplication: number }): string | undefined {
  const parts = [
    result.waitedForReplication > 0 ? `${result.waitedForReplication} changes waited for Microsoft Entra ID to replicate objects created moments ago, then were sent.` : undefined,
    result.waiting > 0 ? `${result.waiting} changes still wait for Microsoft Entra ID to replicate objects created moments ago: the next run sends them.` : undefined,
  ];
  return parts.filter(Boolean).join(' ') || undefined;
}

/**
 * Exports a plan's operations of the given statuses under a write governor of the session's budget:
 * what a run does with its plan, and what an approval does with the operations it approved.
 */
export async function exportOperations(session: { readonly store: Store; readonly writeBudget?: WriteBudget; readonly replicationWaitMs?: number }, cloud: CloudConnector, input: {
  readonly planId: number;
  readonly runId: number;
  readonly statuses: ReadonlyArray<OperationStatus>;
  readonly onProgress?: (done: number, writesSent: number) => void;
  readonly mayContinue?: () => boolean;
}): Promise<{ readonly result: ExportResult; readonly writer: GraphWriter }> {
  const { store } = session;
  const writer = new GraphWriter(cloud, new WriteGovernor(session.writeBudget ?? defaultWriteBudget),
    { recentlyCreated: (cloudId) => isRecentWrite(store.getCloudObject(cloudId)?.createdAt),
      sentBefore: (op) => op.kind === 'create-user' && isRecentWrite(store.getCursor(unansweredCreateKey(op.sourceAnchor)), Date.now(), UNANSWERED_CREATE_WINDOW_MS) });
  const result = await exportPlan({ store, cloud, writer, ...input, ...(session.replicationWaitMs !== undefined ? { replicationWaitMs: session.replicationWaitMs } : {}) });
  return { result, writer };
}
