/**
 * Export (steps 9–10): sends a plan's operations in priority order through the $batch writer. Each
 * operation is recorded as sent before it goes out and confirmed after, so a crash never loses or
 * repeats a change: an unconfirmed create is looked up by its anchor before it is sent again.
 */
import { randomBytes } from 'node:crypto';
import type { ObjectError, PlannedOperation } from '../contract/model.ts';
import type { CloudConnector } from '../cloud/connector.ts';
import { WriteGovernor, defaultWriteBudget, type WriteBudget } from '../cloud/governor.ts';
import { GraphWriter, requestFor, type ExportItem } from '../cloud/writer.ts';
import type { CloudObject } from '../sync/cloud-object.ts';
import { guardError, syncedCounterparts } from '../sync/create-guard.ts';
import { exportPriority } from '../sync/plan.ts';
import { syncedLookups } from './planning.ts';
import type { OperationStatus, Store, StoredOperation } from '../store/store.ts';

export type ExportResult = { readonly exported: Record<string, number>; readonly failed: number; readonly skipped: number; readonly failedAdGuids: ReadonlyArray<string> };

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
        id: cloudId, objectType: op.objectType, properties, managedAnchor: op.sourceAnchor,
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
        store.upsertCloudObjects([{ ...current, properties, softDeleted: false,
          managedAnchor: anchorKey && typeof properties[anchorKey] === 'string' ? (properties[anchorKey] as string) : current.managedAnchor,
          immutableId: typeof properties['onPremisesImmutableId'] === 'string' ? properties['onPremisesImmutableId'] : current.immutableId,
          userPrincipalName: typeof properties['userPrincipalName'] === 'string' ? properties['userPrincipalName'] : current.userPrincipalName,
          mail: typeof properties['mail'] === 'string' ? properties['mail'] : properties['mail'] === null ? undefined : current.mail }], runId);
      }
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
          store.setOperationStatus(stored.planId, stored.seq, 'failed', 'not confirmed before the service stopped; planned again');
        }
      });
    } else {
      store.setOperationStatus(stored.planId, stored.seq, 'failed', 'not confirmed before the service stopped; planned again');
    }
    recovered += 1;
  }
  return recovered;
}

export async function exportPlan(input: {
  readonly store: Store;
  readonly cloud: CloudConnector;
  readonly writer: GraphWriter;
  readonly planId: number;
  readonly runId: number;
  readonly statuses: ReadonlyArray<OperationStatus>;
  readonly onProgress?: (done: number) => void;
  /** Checked before each page: false stops the export (e.g. the ownership lease was lost). */
  readonly mayContinue?: () => boolean;
}): Promise<ExportResult> {
  const { store, planId, runId } = input;
  const exported: Record<string, number> = {};
  const failedAdGuids: string[] = [];
  let failed = 0;
  let skipped = 0;
  let done = 0;
  const lookups = syncedLookups(store);
  const guardChecks = store.hasSyncedObjects();
  // Pages never mix priorities: every create is confirmed before the first membership change.
  for (const page of store.operationsToExport(planId, input.statuses, 200)) {
    if (input.mayContinue && !input.mayContinue()) break;
    const byPriority = new Map<number, StoredOperation[]>();
    for (const stored of page) {
      const priority = exportPriority(stored.operation);
      byPriority.set(priority, [...(byPriority.get(priority) ?? []), stored]);
    }
    for (const group of [...byPriority.keys()].sort((a, b) => a - b).map((k) => byPriority.get(k) as StoredOperation[])) {
      const items: ExportItem[] = [];
      const errors: ObjectError[] = [];
      store.transaction(() => {
        for (const stored of group) {
          const refused = guardChecks ? createGuardRefusal(store, stored.operation, lookups) : undefined;
          if (refused) {
            store.setOperationStatus(stored.planId, stored.seq, 'failed', refused.reason);
            errors.push(refused);
            failed += 1;
            continue;
          }
          const resolved = resolveIds(store, stored.operation);
          if (typeof resolved === 'string') {
            store.setOperationStatus(stored.planId, stored.seq, 'skipped', resolved);
            skipped += 1;
            continue;
          }
          store.setOperationStatus(stored.planId, stored.seq, 'sent', undefined, resolved);
          items.push({ key: `${stored.planId}:${stored.seq}`, operation: resolved, request: requestFor(resolved, input.cloud.graphBaseUrl, { password: randomPassword() }) });
        }
      });
      const outcomes = await input.writer.send(items);
      store.transaction(() => {
        outcomes.forEach((outcome, index) => {
          const item = items[index] as ExportItem;
          const [plan, seq] = item.key.split(':').map(Number) as [number, number];
          if (outcome.status === 'confirmed') {
            applyConfirmed(store, item.operation, outcome.cloudId ?? item.operation.cloudId, runId);
            store.setOperationStatus(plan, seq, 'confirmed', outcome.note);
            exported[item.operation.kind] = (exported[item.operation.kind] ?? 0) + 1;
          } else {
            failed += 1;
            if (item.operation.adGuid) failedAdGuids.push(item.operation.adGuid);
            store.setOperationStatus(plan, seq, 'failed', `${outcome.httpStatus} ${outcome.graphCode ?? ''} ${outcome.message}`.trim());
            errors.push({ dn: item.operation.dn ?? item.operation.sourceAnchor, adGuid: item.operation.adGuid, objectType: item.operation.objectType,
              code: `export-${item.operation.kind}`, reason: `Microsoft Entra ID refused ${item.operation.kind}: ${outcome.message}`,
              hint: 'Correct the value in Active Directory (or the conflict in the tenant); the next run tries again.' });
          }
        });
        store.addErrors(runId, errors);
      });
      done += items.length;
      input.onProgress?.(done);
    }
  }
  return { exported, failed, skipped, failedAdGuids };
}

/**
 * Exports a plan's operations of the given statuses under a write governor of the session's budget:
 * what a run does with its plan, and what an approval does with the operations it approved.
 */
export async function exportOperations(session: { readonly store: Store; readonly writeBudget?: WriteBudget }, cloud: CloudConnector, input: {
  readonly planId: number;
  readonly runId: number;
  readonly statuses: ReadonlyArray<OperationStatus>;
  readonly onProgress?: (done: number) => void;
  readonly mayContinue?: () => boolean;
}): Promise<{ readonly result: ExportResult; readonly writer: GraphWriter }> {
  const writer = new GraphWriter(cloud, new WriteGovernor(session.writeBudget ?? defaultWriteBudget));
  const result = await exportPlan({ store: session.store, cloud, writer, ...input });
  return { result, writer };
}
