/**
 * Builds a plan from the store (steps 5–8 of a sync run): scope → map → validate → match → plan →
 * gate, over the AD connector space in pages, writing operations to the store as they are made so
 * memory does not grow with the directory.
 */
import { createHash } from 'node:crypto';
import type { MatchReportEntry, ObjectError, PlannedOperation, SyncObjectType } from '../contract/model.ts';
import type { AdEntry } from '../sync/ad-entry.ts';
import { sourceAnchorOf } from '../sync/ad-entry.ts';
import { defaultAttributeFlow, withOverrides, type AttributeFlow } from '../sync/attribute-flow.ts';
import { applyGate } from '../sync/gate.ts';
import { mapEntry, type DesiredObject, type MapResult } from '../sync/map.ts';
import { guardError, syncedCounterparts, type SyncedLookups } from '../sync/create-guard.ts';
import { matchObject } from '../sync/match.ts';
import { membershipOperations, planDeletion, planManager, planObject, type MemberRef, type PlanSettings } from '../sync/plan.ts';
import { evaluateScope, type ScopeConfig, type ScopeDecision } from '../sync/scope.ts';
import { findDuplicates, validateDesired, type TenantDomains, type UniqueKey } from '../sync/validate.ts';
import type { Store } from '../store/store.ts';
import type { DirSyncConfig } from '../base/config.ts';

export type PlanMode = { readonly kind: 'full' } | { readonly kind: 'delta'; readonly changedAfterRun: number };

export type PlanOutcome = {
  readonly planId: number;
  readonly planned: Record<string, number>;
  readonly held: number;
  readonly heldReasons: ReadonlyArray<string>;
  readonly errors: number;
  readonly inScope: number;
  readonly outOfScope: number;
  readonly notWritable: number;
  readonly matchReport: Record<string, number>;
  /**
   * Objects refused for what another object holds (a cloud object in the way, a UPN or mail another
   * AD object uses): that can change without this object changing, so the next delta plans them again.
   */
  readonly retryAdGuids: ReadonlyArray<string>;
};

export type ScopeEvaluator = (entry: AdEntry) => ScopeDecision;

/** Scope evaluation against the store's container tree (parents by GUID, so renamed or moved OUs keep their scope). */
export function scopeEvaluator(store: Store, config: DirSyncConfig): ScopeEvaluator {
  const parents = store.containerParents();
  const scope: ScopeConfig = { includedOuGuids: config.scope.includedOuGuids, excludedOuGuids: config.scope.excludedOuGuids, groupGuid: config.scope.groupGuid };
  const scopingGroupMembers = config.scope.groupGuid ? new Set(store.getAdEntry(config.scope.groupGuid)?.memberGuids ?? []) : undefined;
  const serviceAccountNames = new Set(config.serviceAccountNames.map((n) => n.toLowerCase()));
  return (entry) => {
    const ancestorGuids: string[] = [];
    let next = entry.parentGuid;
    for (let depth = 0; next !== undefined && depth < 64; depth += 1) {
      ancestorGuids.push(next);
      next = parents.get(next);
    }
    return evaluateScope(entry, scope, { ancestorGuids, scopingGroupMembers, serviceAccountNames });
  };
}

export function attributeFlowOf(config: DirSyncConfig): AttributeFlow {
  return withOverrides(defaultAttributeFlow, config.attributeFlow);
}

export function planSettings(flow: AttributeFlow, anchorProperty: string): PlanSettings {
  const owned = (type: SyncObjectType): string[] => [...new Set((type === 'user' ? flow.user : flow.group).map((r) => r.target.split('.')[0] as string))];
  return { anchorProperty, ownedProperties: { user: owned('user'), group: owned('group') } };
}

function isDeletion(op: PlannedOperation): boolean {
  return op.kind === 'delete-user' || op.kind === 'delete-group';
}

export function buildPlan(input: {
  readonly store: Store;
  readonly config: DirSyncConfig;
  readonly runId: number;
  readonly mode: PlanMode;
  readonly domains: TenantDomains;
  readonly anchorProperty: string;
  readonly inScopeBefore?: number;
  /** Record the match report (dirsync match) for every object. */
  readonly recordMatches?: boolean;
  /** Record every object out of scope too, with why (configuration previews). */
  readonly recordOutOfScope?: boolean;
  /** A preview: nothing but the plan and the reports is written. */
  readonly dryRun: boolean;
  /**
   * The tenant says another tool synchronizes it (organization onPremisesSyncEnabled): every create, and
   * what depends on it, waits for an administrator's approval of the plan.
   */
  readonly tenantSynchronized?: boolean;
}): PlanOutcome {
  const { store, config, runId, mode } = input;
  const flow = attributeFlowOf(config);
  const settings = planSettings(flow, input.anchorProperty);
  const inScope = scopeEvaluator(store, config);
  const softMatch = { userPrincipalName: config.matching.softMatchUpn, mail: config.matching.softMatchMail };

  const pass1 = inScopeObjects({ store, config, flow, inScope, runId, mode, domains: input.domains, dryRun: input.dryRun, recordOutOfScope: input.recordOutOfScope === true });
  const { inScopeCount, outOfScope, inScopeAnchors } = pass1;

  const planId = store.createPlan(runId, 'previewed', []);
  const planned: Record<string, number> = {};
  const matchReport: Record<string, number> = {};
  const deletions: PlannedOperation[] = [];
  let errors = 0;
  let notWritable = 0;
  const orphanAnchors = new Set<string>();
  const retryAdGuids: string[] = [];
  const lookups = syncedLookups(store);
  // In a tenant where another tool synchronizes objects, a member not yet linked may be one of its objects.
  const syncedObjects = store.syncedCount().user + store.syncedCount().group > 0;
  const isSynchronizedElsewhere = (guid: string, basis: MemberBasis): boolean =>
    syncedObjects && syncedCounterparts({ objectType: basis.objectType, sourceAnchor: basis.sourceAnchor, properties: {} }, store.getAdEntry(guid)?.sid, lookups).length > 0;

  const emit = (ops: ReadonlyArray<PlannedOperation>): void => {
    const flowing = ops.filter((op) => !isDeletion(op));
    deletions.push(...ops.filter(isDeletion));
    if (flowing.length > 0) store.addOperations(planId, flowing, 'planned');
    for (const op of ops) planned[op.kind] = (planned[op.kind] ?? 0) + 1;
  };
  const report = (entry: MatchReportEntry): void => {
    matchReport[entry.kind] = (matchReport[entry.kind] ?? 0) + 1;
    if (input.recordMatches || entry.kind === 'conflict' || entry.kind === 'blocked') {
      store.addReport(runId, { dn: entry.dn, objectType: entry.objectType, category: entry.kind, reason: entry.reason });
    }
  };

  // A member's (or manager's) reference: what it is depends only on AD and the settings, so it is
  // worked out once per object; its cloud object is looked up each time until it is linked, and then
  // kept on the basis itself (no second map of 100,000 keys).
  const memberBases = new Map<string, MemberBasis | null>();
  const memberRef = (guid: string): MemberRef | undefined => {
    let basis: MemberBasis | null | undefined;
    if (pass1.exportable) {
      // A full pass saw every object: what it did not keep is not a member in the tenant.
      basis = pass1.exportable.get(guid) ?? null;
      if (basis && pass1.duplicatesOf(guid).length > 0) basis = null;
    } else {
      basis = memberBases.get(guid);
      if (basis === undefined) {
        basis = memberBasis(guid);
        memberBases.set(guid, basis);
      }
    }
    if (basis === null) return undefined;
    const ref = { sourceAnchor: basis.sourceAnchor, objectType: basis.objectType, dn: basis.dn };
    if (basis.linkedCloudId !== undefined) return { ...ref, cloudId: basis.linkedCloudId };
    const link = store.getLink(guid);
    if (link?.state === 'linked' && link.cloudId) {
      basis.linkedCloudId = link.cloudId;
      return { ...ref, cloudId: link.cloudId };
    }
    // A member another tool synchronizes is never a member target of Directory Sync's.
    if (isSynchronizedElsewhere(guid, basis)) return undefined;
    return { ...ref, cloudId: store.cloudByAnchor(basis.sourceAnchor).find((c) => !c.softDeleted && c.objectType === basis.objectType && !c.onPremisesSyncEnabled)?.id };
  };
  const memberBasis = (guid: string): MemberBasis | null => {
    const member = store.getAdEntry(guid);
    if (!member || member.deleted || !inScope(member).inScope) return null;
    if (member.objectClass !== 'user' && member.objectClass !== 'group') return null;
    const mapped = mapEntry(member, flow);
    // A member that cannot be exported (invalid, duplicate) is reported on its own; it is not a member in the tenant.
    if (mapped.kind !== 'mapped' || pass1.duplicatesOf(guid).length > 0 || validateDesired(mapped.desired, input.domains).length > 0) return null;
    return { sourceAnchor: sourceAnchorOf(member), objectType: mapped.desired.objectType, dn: member.dn };
  };

  // Pass 2 — the objects to plan: all of them on a full run, the changed ones on a delta run.
  const pages = mode.kind === 'full' ? store.planCandidates() : store.planCandidates({ changedAfterRun: mode.changedAfterRun, pageSize: 500 });
  for (const page of pages) {
    store.transaction(() => {
      for (const { entry, link, linkedCloud: linkedRow } of page) {
        const decision = inScope(entry);
        if (!decision.inScope) {
          if (link?.state === 'linked' && link.cloudId) {
            emit([planDeletion({ objectType: link.objectType, sourceAnchor: link.sourceAnchor, cloudId: link.cloudId, adGuid: entry.guid, dn: entry.dn,
              displayName: entry.attributes['displayname']?.[0], reason: `no longer in scope: ${decision.reason}` })]);
          }
          continue;
        }
        const mapped = mapEntry(entry, flow);
        if (mapped.kind === 'not-writable') {
          notWritable += 1;
          store.addReport(runId, { dn: mapped.dn, objectType: mapped.objectType, category: 'not-writable', reason: mapped.reason });
          continue;
        }
        if (mapped.kind === 'invalid') {
          errors += mapped.errors.length;
          store.addErrors(runId, mapped.errors);
          continue;
        }
        const desired: DesiredObject = mapped.desired;
        // A full pass already validated what it kept as exportable.
        const problems = [...(pass1.exportable?.has(entry.guid) ? [] : validateDesired(desired, input.domains)), ...pass1.duplicatesOf(entry.guid)];
        if (problems.length > 0) {
          errors += problems.length;
          store.addErrors(runId, problems);
          if (problems.some((p) => p.code.startsWith('duplicate-'))) retryAdGuids.push(entry.guid);
          continue;
        }
        const linkedCloud = link?.state === 'linked' && link.cloudId ? linkedRow : undefined;
        const upn = desired.properties['userPrincipalName'];
        const mail = desired.properties['mail'];
        // matchObject decides on a live link first, then on the anchor, and only then (users) on UPN and mail:
        // what it would not look at is not read (in a steady state every object is linked).
        const linkedLive = linkedCloud !== undefined && !linkedCloud.softDeleted;
        const byAnchor = linkedLive ? [] : store.cloudByAnchor(desired.sourceAnchor);
        const softCandidates = !linkedLive && desired.objectType === 'user' && !byAnchor.some((c) => c.objectType === desired.objectType);
        const match = matchObject(desired, {
          linked: linkedCloud,
          byAnchor,
          bySecurityIdentifier: linkedLive || entry.sid === undefined ? [] : store.cloudBySecurityIdentifier(entry.sid),
          byUserPrincipalName: softCandidates && typeof upn === 'string' ? store.cloudByUserPrincipalName(upn) : [],
          byMail: softCandidates && typeof mail === 'string' ? store.cloudByAddress(mail, desired.objectType) : [],
        }, softMatch);
        if (match.kind === 'create' && syncedObjects) {
          // The last guard: whatever matched, nothing is created beside an object another tool synchronizes.
          const counterparts = syncedCounterparts(desired, entry.sid, lookups);
          if (counterparts.length > 0) {
            const error = guardError(desired, entry.sid, counterparts);
            report({ kind: 'blocked', objectType: desired.objectType, dn: desired.dn, sourceAnchor: desired.sourceAnchor, cloudId: counterparts[0]?.cloud.id, reason: error.reason });
            errors += 1;
            retryAdGuids.push(desired.adGuid);
            store.addErrors(runId, [error]);
            continue;
          }
        }
        report({ kind: match.kind === 'restore' ? 'hard-match' : match.kind, objectType: desired.objectType, dn: desired.dn, sourceAnchor: desired.sourceAnchor, cloudId: match.cloud?.id, reason: match.reason });
        if (match.kind === 'blocked' && match.synchronized) continue; // another tool's object: reported, never written, not this object's error
        if (match.kind === 'conflict' || match.kind === 'blocked') {
          errors += 1;
          retryAdGuids.push(desired.adGuid);
          store.addErrors(runId, [{ dn: desired.dn, adGuid: desired.adGuid, objectType: desired.objectType, attribute: desired.objectType === 'user' ? 'userPrincipalName' : 'displayName',
            value: String(upn ?? desired.properties['displayName'] ?? ''), code: `match-${match.kind}`, reason: match.reason,
            hint: match.kind === 'conflict' ? 'Resolve the conflict in the tenant or in Active Directory, or enable soft matching if the cloud object is the same person.' : 'Directory Sync will not take over this cloud object; rename one of them.' }]);
          continue;
        }
        const ops = [...planObject(desired, match, settings)];
        // A hard match that needs no change is linked now (a fact, not a takeover); every other link waits for its export.
        if (!input.dryRun && ops.length === 0 && match.cloud && (match.kind === 'hard-match' || match.kind === 'linked') && link?.cloudId !== match.cloud.id) {
          store.setLink({ adGuid: desired.adGuid, sourceAnchor: desired.sourceAnchor, objectType: desired.objectType, cloudId: match.cloud.id, state: 'linked', dn: desired.dn }, runId);
        }
        if (desired.objectType === 'group') {
          const groupCloudId = match.cloud?.id;
          const members = desired.memberGuids.map(memberRef).filter((m): m is MemberRef => m !== undefined);
          const current = groupCloudId ? store.cloudMembers(groupCloudId) : new Set<string>();
          // Who manages a current member matters only for those AD no longer names (a removal).
          const wanted = new Set(members.map((m) => m.cloudId));
          const managed = new Map<string, MemberRef>();
          for (const id of current) {
            if (wanted.has(id)) continue;
            const memberLink = store.linkByCloudId(id);
            if (memberLink) managed.set(id, { sourceAnchor: memberLink.sourceAnchor, objectType: memberLink.objectType, dn: memberLink.dn });
            else if (store.getCloudObject(id)?.managedAnchor) managed.set(id, { sourceAnchor: store.getCloudObject(id)?.managedAnchor ?? '', objectType: store.getCloudObject(id)?.objectType ?? 'user' });
          }
          // The group's own operations first, then its membership changes in slices as they are planned.
          emit(ops);
          ops.length = 0;
          const slice: PlannedOperation[] = [];
          for (const op of membershipOperations({ sourceAnchor: desired.sourceAnchor, adGuid: desired.adGuid, dn: desired.dn, cloudId: groupCloudId,
            displayName: String(desired.properties['displayName'] ?? '') }, members, current, managed)) {
            slice.push(op);
            if (slice.length === MEMBERSHIP_SLICE) {
              emit(slice);
              slice.length = 0;
            }
          }
          emit(slice);
        }
        if (desired.objectType === 'user') {
          const managerGuid = entry.managerGuid;
          const manager = managerGuid === undefined ? undefined : memberRef(managerGuid);
          ops.push(...planManager({ sourceAnchor: desired.sourceAnchor, adGuid: desired.adGuid, dn: desired.dn, cloudId: match.cloud?.id,
            displayName: String(desired.properties['displayName'] ?? '') },
          managerGuid === undefined ? undefined : manager?.dn ?? store.getAdEntry(managerGuid)?.dn ?? managerGuid,
          manager, match.cloud?.managerId));
        }
        emit(ops);
      }
    });
  }

  // Deleted in AD: linked objects whose source is gone.
  for (const link of store.linksOfDeletedAdObjects(mode.kind === 'delta' ? mode.changedAfterRun : undefined)) {
    if (link.state !== 'linked' || !link.cloudId) continue;
    emit([planDeletion({ objectType: link.objectType, sourceAnchor: link.sourceAnchor, cloudId: link.cloudId, adGuid: link.adGuid, dn: link.dn,
      reason: 'deleted in Active Directory' })]);
  }

  // Orphans (full runs): managed cloud objects that no AD object in scope claims.
  if (mode.kind === 'full') {
    for (const page of store.managedCloudObjects()) {
      for (const cloud of page) {
        const anchor = cloud.managedAnchor as string;
        if (inScopeAnchors.has(anchor)) continue;
        const link = store.linkByCloudId(cloud.id);
        if (link && deletions.some((d) => d.cloudId === cloud.id)) continue;
        const source = store.findAdEntryByAnchor(anchor);
        if (source && link) continue; // handled above as out of scope
        orphanAnchors.add(anchor);
        emit([planDeletion({ objectType: cloud.objectType, sourceAnchor: anchor, cloudId: cloud.id, dn: link?.dn, displayName: cloud.displayName,
          reason: 'orphan: the tenant holds this managed object, but no object in Active Directory is its source (deleted while nothing was synchronizing?)' })]);
      }
    }
  }

  const gate = applyGate({
    operations: deletions, managedCount: store.managedCount(), inScopeNow: inScopeCount, inScopeBefore: input.inScopeBefore,
    threshold: { count: config.deletionThreshold.count, percent: config.deletionThreshold.percent }, orphanAnchors,
  });
  const reasons = [...gate.reasons];
  const heldCreates = store.transaction(() => {
    if (gate.proceed.length > 0) store.addOperations(planId, gate.proceed, 'planned');
    if (gate.held.length > 0) store.addOperations(planId, gate.held, 'held');
    const held = input.tenantSynchronized ? store.holdCreates(planId) : { creates: 0, dependents: 0 };
    if (held.creates > 0) reasons.unshift(synchronizedTenantHoldReason(held.creates, held.dependents));
    store.setPlanStatus(planId, 'previewed', reasons);
    return held;
  });
  const held = gate.held.length + heldCreates.creates + heldCreates.dependents;
  return { planId, planned, held, heldReasons: reasons, errors, inScope: inScopeCount, outOfScope, notWritable, matchReport, retryAdGuids };
}

/** Why creates wait in a tenant another tool synchronizes: said first, in the administrator's words. */
export function synchronizedTenantHoldReason(creates: number, dependents: number): string {
  return `This tenant is synchronized by another tool (Entra Connect, Cloud Sync or DirSync): ${creates} objects that have no synchronized counterpart `
    + `would be created beside the synchronized ones${dependents > 0 ? ` (with ${dependents} membership and manager changes that need them)` : ''}. `
    + 'Nothing is created until an administrator approves this plan.';
}

/** The store's lookups of objects another tool synchronizes, for the create guard. */
export function syncedLookups(store: Store): SyncedLookups {
  return {
    bySecurityIdentifier: (sid) => store.cloudBySecurityIdentifier(sid),
    byAnchor: (anchor) => store.cloudByAnchor(anchor),
    byUserPrincipalName: (upn) => store.cloudByUserPrincipalName(upn),
    groupsNamed: (name, alias) => store.syncedGroupsNamed(name, alias),
  };
}

/** What a member reference holds before its cloud object is looked up; its cloud id once it is found linked. */
type MemberBasis = Omit<MemberRef, 'cloudId'> & { linkedCloudId?: string };

/** How many membership operations of one group are stored together. */
const MEMBERSHIP_SLICE = 2000;

type InScopeObjects = {
  /**
   * Full passes: every user and group in scope that maps and validates (duplicates aside), by GUID,
   * so that planning memberships and managers reads no object twice. Delta passes leave it out.
   */
  readonly exportable?: ReadonlyMap<string, MemberBasis>;
  readonly inScopeCount: number;
  readonly outOfScope: number;
  /** Source anchors of every object in scope (full runs only: the orphan check needs them). */
  readonly inScopeAnchors: ReadonlySet<string>;
  /** The object's UPN and mail duplicates (empty when its values are its own). */
  readonly duplicatesOf: (guid: string) => ReadonlyArray<ObjectError>;
};

/** A digest of the settings that decide which objects are in scope and what their unique values are. */
function inScopeSettingsDigest(config: DirSyncConfig): string {
  return createHash('sha256').update(JSON.stringify({ scope: config.scope, flow: config.attributeFlow ?? null, accounts: config.serviceAccountNames })).digest('hex');
}

/** The user's values that must be unique in the tenant, once mapped. */
function uniqueValues(entry: AdEntry, flow: AttributeFlow, mapped: MapResult = mapEntry(entry, flow)): { upn?: string; mail?: string } {
  if (mapped.kind !== 'mapped' || mapped.desired.objectType !== 'user') return {};
  const mail = mapped.desired.properties['mail'];
  return { upn: String(mapped.desired.properties['userPrincipalName']), ...(typeof mail === 'string' ? { mail } : {}) };
}

/**
 * Pass 1 of a plan: which objects are in scope, and which share a UPN or mail. A full run (or a
 * preview) reads every object and, unless it is a preview, rebuilds the store's in-scope table; a
 * delta run updates that table with the objects that changed and looks duplicates up in it, so a
 * run with nothing changed reads nothing. A delta falls back to the full pass when the table was
 * built for other settings or a container changed (scope may have moved under unchanged objects).
 */
function inScopeObjects(input: {
  readonly store: Store; readonly config: DirSyncConfig; readonly flow: AttributeFlow; readonly inScope: ScopeEvaluator;
  readonly runId: number; readonly mode: PlanMode; readonly domains: TenantDomains; readonly dryRun: boolean; readonly recordOutOfScope: boolean;
}): InScopeObjects {
  const { store, flow, inScope, mode } = input;
  const digest = inScopeSettingsDigest(input.config);
  if (mode.kind === 'delta' && !input.dryRun && store.inScopeTableBuiltFor() === digest && !store.containersChangedAfter(mode.changedAfterRun)) {
    store.transaction(() => store.dropInScopeDeletedAfter(mode.changedAfterRun));
    for (const page of store.adSyncCandidates({ changedAfterRun: mode.changedAfterRun, pageSize: 500 })) {
      store.transaction(() => {
        for (const entry of page) {
          if (inScope(entry).inScope) store.putInScope({ guid: entry.guid, dn: entry.dn, ...uniqueValues(entry, flow) });
          else store.dropInScope(entry.guid);
        }
      });
    }
    const inScopeCount = store.countInScope();
    return { inScopeCount, outOfScope: store.countAdCandidates() - inScopeCount, inScopeAnchors: new Set(), duplicatesOf: storedDuplicates(store) };
  }

  const maintain = !input.dryRun;
  if (maintain) store.beginInScopeRebuild();
  const inScopeGuids = new Set<string>();
  const upns: UniqueKey[] = [];
  const mails: UniqueKey[] = [];
  const inScopeAnchors = new Set<string>();
  const linked = linkedObjects(store);
  const exportable = new Map<string, MemberBasis>();
  let inScopeCount = 0;
  let outOfScope = 0;
  for (const page of store.adSyncCandidates()) {
    // A transaction per page: the out-of-scope reports of a preview are many small inserts.
    store.transaction(() => {
      for (const entry of page) {
        const decision = inScope(entry);
        if (!decision.inScope) {
          outOfScope += 1;
          if (input.recordOutOfScope) store.addReport(input.runId, { dn: entry.dn, objectType: entry.objectClass, category: 'out-of-scope', reason: decision.reason });
          continue;
        }
        inScopeCount += 1;
        inScopeAnchors.add(sourceAnchorOf(entry));
        const mapped = mapEntry(entry, flow);
        if (mapped.kind === 'mapped' && validateDesired(mapped.desired, input.domains).length === 0) {
          exportable.set(entry.guid, { sourceAnchor: mapped.desired.sourceAnchor, objectType: mapped.desired.objectType, dn: entry.dn });
        }
        const values = uniqueValues(entry, flow, mapped);
        if (maintain) {
          // The table finds the duplicates afterwards: nothing per object is kept here for them.
          store.putInScope({ guid: entry.guid, dn: entry.dn, ...values });
          inScopeGuids.add(entry.guid);
          continue;
        }
        if (values.upn === undefined) continue;
        const base = { adGuid: entry.guid, dn: entry.dn, objectType: 'user' as const };
        upns.push({ ...base, value: values.upn });
        if (values.mail !== undefined) mails.push({ ...base, value: values.mail });
      }
    });
  }
  if (maintain) {
    store.finishInScopeTable(digest, inScopeGuids);
    inScopeGuids.clear();
    const shared = (attribute: 'upn' | 'mail'): UniqueKey[] => store.inScopeSharedValues(attribute).map((r) => ({ adGuid: r.guid, dn: r.dn, objectType: 'user', value: r.value }));
    upns.push(...shared('upn'));
    mails.push(...shared('mail'));
  }
  const duplicated = new Map<string, ObjectError[]>();
  for (const e of [...findDuplicates('userPrincipalName', upns, linked), ...findDuplicates('mail', mails, linked)]) {
    duplicated.set(e.adGuid ?? '', [...(duplicated.get(e.adGuid ?? '') ?? []), e]);
  }
  return { exportable, inScopeCount, outOfScope, inScopeAnchors, duplicatesOf: (guid) => duplicated.get(guid) ?? [] };
}

/** Whether an object is linked decides which of two duplicates keeps the value: asked of duplicates only. */
function linkedObjects(store: Store): Pick<ReadonlySet<string>, 'has'> {
  return { has: (guid) => store.getLink(guid) !== undefined };
}

/** Duplicates looked up in the store's in-scope table, value by value (each value's verdict computed once). */
function storedDuplicates(store: Store): (guid: string) => ReadonlyArray<ObjectError> {
  const linked = linkedObjects(store);
  const verdicts = new Map<string, ReadonlyArray<ObjectError>>();
  const verdict = (attribute: 'upn' | 'mail', value: string): ReadonlyArray<ObjectError> => {
    const key = `${attribute}:${value.toLowerCase()}`;
    let errors = verdicts.get(key);
    if (!errors) {
      const sharing = store.inScopeSharing(attribute, value);
      const keys: UniqueKey[] = sharing.map((r) => ({ adGuid: r.guid, dn: r.dn, objectType: 'user', value: r.value }));
      errors = findDuplicates(attribute === 'upn' ? 'userPrincipalName' : 'mail', keys, linked);
      verdicts.set(key, errors);
    }
    return errors;
  };
  return (guid) => {
    const row = store.inScopeRow(guid);
    if (!row) return [];
    return [...(row.upn ? verdict('upn', row.upn) : []), ...(row.mail ? verdict('mail', row.mail) : [])].filter((e) => e.adGuid === guid);
  };
}
