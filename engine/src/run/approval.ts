/**
 * Approving or rejecting a plan's held operations (deletions over the gate; creates in a tenant
 * another tool synchronizes, with what needs them). An approval exports them at once, as a run.
 */
import type { PlannedOperation, RunSummary } from '../contract/model.ts';
import { PlanStateError } from '../errors/run-errors.ts';
import type { Store } from '../store/store.ts';
import { exportOperations, replicationNote } from './export.ts';
import { scopeEvaluator, type ScopeEvaluator } from './planning.ts';
import { failRun } from './run-failure.ts';
import { withRunLock } from './run-lock.ts';
import type { EngineSession } from './run.ts';

/**
 * Approves a plan's held operations and exports them now. A held operation that no longer applies
 * (a deletion whose object came back into scope, a create whose object exists) is skipped.
 */
export async function approvePlan(session: EngineSession, planId: number): Promise<RunSummary> {
  const { store } = session;
  const plan = store.getPlan(planId);
  if (!plan) throw new PlanStateError(`There is no plan ${planId}. \`dirsync status\` lists the plans waiting for approval.`);
  if (plan.status !== 'pending-approval') throw new PlanStateError(`Plan ${planId} is ${plan.status}, not waiting for approval: only the newest plan with held operations can be approved.`);
  return withRunLock(store, async () => {
    const runId = store.startRun('delta', false);
    const stale = approveHeld(store, planId, scopeEvaluator(store, session.config));
    try {
      const { result } = await exportOperations(session, session.cloud(), { planId, runId, statuses: ['approved'] });
      store.setPlanStatus(planId, 'applied');
      store.markChangedForNextRun([...result.failedAdGuids, ...result.waitingAdGuids], runId + 1);
      store.finishRun(runId, result.failed > 0 ? 'completed-with-errors' : 'succeeded', {
        imported: { ad: 0, cloud: 0 }, planned: store.operationCounts(planId, ['confirmed', 'failed']), exported: result.exported, held: 0,
        errors: result.failed, outOfScope: 0, planId,
      }, [`Approved plan ${planId}.`, stale > 0 ? `${stale} held operations no longer applied and were skipped.` : undefined, replicationNote(result)].filter(Boolean).join(' '));
      return store.getRun(runId) as RunSummary;
    } catch (error) {
      return failRun(store, runId, error, { ad: 0, cloud: 0 }, session.log?.child({ runId }), planId);
    }
  });
}

/** Marks each held operation approved, or skipped when it no longer applies; returns how many were skipped. */
function approveHeld(store: Store, planId: number, inScope: ScopeEvaluator): number {
  return store.transaction(() => {
    let stale = 0;
    for (const held of store.listOperations(planId, { status: 'held' })) {
      const why = staleHeldOperation(store, held.operation, inScope);
      if (why !== undefined) {
        store.setOperationStatus(planId, held.seq, 'skipped', why);
        stale += 1;
      } else {
        store.setOperationStatus(planId, held.seq, 'approved');
      }
    }
    store.setPlanStatus(planId, 'approved');
    return stale;
  });
}

/** Why a held operation no longer applies when its plan is approved, or undefined when it still does. */
function staleHeldOperation(store: Store, op: PlannedOperation, inScope: ScopeEvaluator): string | undefined {
  const entry = op.adGuid ? store.getAdEntry(op.adGuid) : undefined;
  const inScopeNow = entry !== undefined && !entry.deleted && inScope(entry).inScope;
  if (op.kind === 'delete-user' || op.kind === 'delete-group') {
    if (inScopeNow) return 'the object is back in scope in Active Directory';
    return op.cloudId !== undefined && store.getCloudObject(op.cloudId) !== undefined ? undefined : 'the cloud object is already gone';
  }
  if (op.kind === 'create-user' || op.kind === 'create-group') {
    if (!inScopeNow) return 'the object is no longer in scope in Active Directory';
    return op.adGuid !== undefined && store.getLink(op.adGuid)?.cloudId !== undefined ? 'the object exists in the tenant already' : undefined;
  }
  // Membership and manager changes held with the creates they need: the export skips them if those are missing.
  return undefined;
}

export function rejectPlan(store: Store, planId: number): number {
  const plan = store.getPlan(planId);
  if (!plan || plan.status !== 'pending-approval') throw new PlanStateError(`Plan ${planId} is not waiting for approval.`);
  return store.transaction(() => {
    const n = store.setHeldOperations(planId, 'held', 'rejected');
    store.setPlanStatus(planId, 'rejected');
    return n;
  });
}
