/**
 * Gate: deletions that could be a mistake wait for an administrator (ARCHITECTURE.md step 8).
 * Only gated operations wait; creates, updates and membership changes flow.
 */
import type { PlannedOperation, SyncObjectType } from '../contract/model.ts';

export type DeletionThreshold = {
  /** Hold when more than this many objects of one type would be deleted. */
  readonly count: number;
  /** Hold when more than this percentage of the managed objects of one type would be deleted. */
  readonly percent: number;
};

export const defaultDeletionThreshold: DeletionThreshold = { count: 500, percent: 10 };

export type GateInput = {
  readonly operations: ReadonlyArray<PlannedOperation>;
  /** Managed cloud objects per type before this run. */
  readonly managedCount: Readonly<Record<SyncObjectType, number>>;
  /** In-scope AD objects found by this run's import, and by the previous successful import (undefined on the first). */
  readonly inScopeNow: number;
  readonly inScopeBefore?: number;
  readonly threshold: DeletionThreshold;
  /** Source anchors of orphans (managed cloud objects with no AD source at all), found by full runs. */
  readonly orphanAnchors: ReadonlySet<string>;
};

export type GateResult = {
  /** Operations that proceed now (in the order given). */
  readonly proceed: ReadonlyArray<PlannedOperation>;
  /** Operations held for approval, marked gated. */
  readonly held: ReadonlyArray<PlannedOperation>;
  /** Why operations were held, in words for the administrator. */
  readonly reasons: ReadonlyArray<string>;
};

function isDeletion(op: PlannedOperation): boolean {
  return op.kind === 'delete-user' || op.kind === 'delete-group';
}

export function applyGate(input: GateInput): GateResult {
  const reasons: string[] = [];
  const holdAll = (() => {
    const managed = input.managedCount.user + input.managedCount.group;
    if (input.inScopeNow === 0 && managed > 0) {
      reasons.push('The Active Directory import returned no object in scope: no deletion is made until an administrator approves it.');
      return true;
    }
    if (input.inScopeBefore !== undefined && input.inScopeBefore > 0 && input.inScopeNow * 2 < input.inScopeBefore) {
      reasons.push(`The scope shrank from ${input.inScopeBefore} to ${input.inScopeNow} objects (more than half): no deletion is made until an administrator approves it.`);
      return true;
    }
    return false;
  })();

  const heldTypes = new Set<SyncObjectType>();
  if (!holdAll) {
    for (const type of ['user', 'group'] as const) {
      const deletions = input.operations.filter((op) => isDeletion(op) && op.objectType === type && !input.orphanAnchors.has(op.sourceAnchor)).length;
      if (deletions === 0) continue;
      const managed = input.managedCount[type];
      // With no managed objects on record any deletion is out of proportion: hold it.
      const percent = managed > 0 ? (deletions * 100) / managed : Number.POSITIVE_INFINITY;
      if (deletions > input.threshold.count || percent > input.threshold.percent) {
        heldTypes.add(type);
        reasons.push(`${deletions} ${type} deletions exceed the deletion threshold (more than ${input.threshold.count}, or more than ${input.threshold.percent}% of ${managed} managed ${type}s).`);
      }
    }
  }
  const orphanCount = input.operations.filter((op) => isDeletion(op) && input.orphanAnchors.has(op.sourceAnchor)).length;
  if (orphanCount > 0) reasons.push(`${orphanCount} cloud objects have no source in Active Directory in scope (orphans): their deletion always waits for approval.`);

  const proceed: PlannedOperation[] = [];
  const held: PlannedOperation[] = [];
  for (const op of input.operations) {
    const hold = isDeletion(op) && (holdAll || heldTypes.has(op.objectType) || input.orphanAnchors.has(op.sourceAnchor));
    if (hold) held.push({ ...op, gated: true });
    else proceed.push(op);
  }
  return { proceed, held, reasons };
}
