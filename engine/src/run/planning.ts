/**
 * Builds a plan from the store (steps 5–8 of a run): scope → map → validate → match → plan → gate,
 * over the AD connector space in pages, writing operations to the store as they are made so memory
 * does not grow with the directory. `buildPlan` runs the phases in order: in-scope objects (pass 1,
 * in-scope.ts), the objects to plan (their own changes, a group's members, a user's manager),
 * objects deleted in AD, orphans, then the gate and the store.
 */
import type { MatchReportEntry, PlannedOperation, SyncObjectType } from '../contract/model.ts';
import type { AdEntry } from '../sync/ad-entry.ts';
import { objectGuidAnchorOf, sourceAnchorOf } from '../sync/ad-entry.ts';
import { defaultAttributeFlow, withOverrides, type AttributeFlow } from '../sync/attribute-flow.ts';
import type { CloudObject } from '../sync/cloud-object.ts';
import { guardError, syncedCounterparts, type SyncedLookups } from '../sync/create-guard.ts';
import { applyGate } from '../sync/gate.ts';
import { mapEntry, type DesiredObject } from '../sync/map.ts';
import { matchObject, type MatchDecision } from '../sync/match.ts';
import { membershipOperations, planDeletion, planManager, planObject, type MemberRef, type PlanSettings } from '../sync/plan.ts';
import { evaluateScope, type ScopeConfig } from '../sync/scope.ts';
import { validateDesired, type TenantDomains } from '../sync/validate.ts';
import type { PlanCandidate, Store } from '../store/store.ts';
import type { DirSyncConfig } from '../base/config.ts';
import { inScopeObjects, type InScopeObjects, type MemberBasis, type PlanMode, type ScopeEvaluator } from './in-scope.ts';
import { forestOf, forestOfDn, sourceOfDn } from '../base/config.ts';
import { OLD_TOOL_ORPHAN_REASON } from './handover.ts';

export type { PlanMode, ScopeEvaluator } from './in-scope.ts';

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
  /** Membership and manager additions that wait for an object in error (set aside, not in `planned`). */
  readonly waitingOnErrors: number;
  /** Members of planned groups that are accounts of another forest (foreign security principals), each reported. */
  readonly foreignMembers: number;
};

/**
 * Scope evaluation against the store's container tree (parents by GUID, so renamed or moved OUs keep their scope):
 * each object by the scope of its own domain (the source whose naming context holds its DN).
 */
export function scopeEvaluator(store: Store, config: DirSyncConfig): ScopeEvaluator {
  const parents = store.containerParents();
  const serviceAccountNames = new Set(config.serviceAccountNames.map((n) => n.toLowerCase()));
  const bySource = config.sources.map((source) => {
    const configured = source.scope;
    const scope: ScopeConfig = { includedOuGuids: configured.includedOuGuids, excludedOuGuids: configured.excludedOuGuids, groupGuid: configured.groupGuid };
    const scopingGroupMembers = configured.groupGuid ? new Set(store.getAdEntry(configured.groupGuid)?.memberGuids ?? []) : undefined;
    return { ad: source.ad, scope, scopingGroupMembers };
  });
  const only = bySource.length === 1 ? bySource[0] : undefined;
  return (entry) => {
    const own = only ?? sourceOfDn(bySource, entry.dn);
    if (!own) return { inScope: false, code: 'outside-ous', reason: 'not in any configured domain' };
    const ancestorGuids: string[] = [];
    let next = entry.parentGuid;
    for (let depth = 0; next !== undefined && depth < 64; depth += 1) {
      ancestorGuids.push(next);
      next = parents.get(next);
    }
    return evaluateScope(entry, own.scope, { ancestorGuids, scopingGroupMembers: own.scopingGroupMembers, serviceAccountNames });
  };
}

export function attributeFlowOf(config: DirSyncConfig): AttributeFlow {
  return withOverrides(defaultAttributeFlow, config.attributeFlow);
}

export function planSettings(flow: AttributeFlow, anchorProperty: string): PlanSettings {
  const owned = (type: SyncObjectType): string[] => [...new Set((type === 'user' ? flow.user : flow.group).map((r) => r.target.split('.')[0] as string))];
  return { anchorProperty, ownedProperties: { user: owned('user'), group: owned('group') } };
}

/** Operations whose confirmation links their AD object to the cloud object they write. */
const LINKING = new Set<PlannedOperation['kind']>(['update-user', 'update-group', 'restore-user']);

function isDeletion(op: PlannedOperation): boolean {
  return op.kind === 'delete-user' || op.kind === 'delete-group';
}

export type PlanInput = {
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
  /** The store is a copy made for this dry run: its in-scope table is rebuilt as a run's would be. */
  readonly scratchStore?: boolean;
  /**
   * The tenant says another tool synchronizes it (organization onPremisesSyncEnabled): every create, and
   * what depends on it, waits for an administrator's approval of the plan.
   */
  readonly tenantSynchronized?: boolean;
  /**
   * A takeover (run/handover.ts): cloud objects the old tool synchronized that no AD object in scope claims are
   * its orphans, planned for deletion and always held for approval (full runs).
   */
  readonly oldToolOrphans?: boolean;
  /**
   * Domains this run could not read (docs/forests.md): their objects in the store are as last read, so nothing is an orphan
   * in this run — a managed cloud object may be one of theirs that the store never saw.
   */
  readonly unreadDomains?: ReadonlyArray<string>;
  /**
   * The forests of those domains: an object of such a forest that seems deleted may have moved to the domain not read (a move
   * between domains keeps its objectGUID), so its deletion waits for a run that reads every domain of its forest.
   */
  readonly unreadForests?: ReadonlyArray<string>;
};

export function buildPlan(input: PlanInput): PlanOutcome {
  const planner = new Planner(input);
  planner.planCandidates();
  planner.planAdDeletions();
  planner.planOrphans();
  planner.planOldToolOrphans();
  return planner.gateAndStore();
}

/** How many membership operations of one group are stored together. */
const MEMBERSHIP_SLICE = 2000;

/** One plan being built: what the phases share, and the phases themselves. */
class Planner {
  private readonly store: Store;
  private readonly flow: AttributeFlow;
  private readonly settings: PlanSettings;
  private readonly inScope: ScopeEvaluator;
  private readonly pass1: InScopeObjects;
  private readonly planId: number;
  private readonly planned: Record<string, number> = {};
  private readonly matchReport: Record<string, number> = {};
  private readonly deletions: PlannedOperation[] = [];
  private readonly orphanAnchors = new Set<string>();
  /** Takeovers: cloud objects an AD object in scope matched (whatever the decision), never the old tool's orphans. */
  private readonly claimed = new Set<string>();
  private readonly retryAdGuids: string[] = [];
  /** Objects gone whose cloud object another forest's object takes over in this run (few): the gone one's guid → the successor's. */
  private readonly handovers = new Map<string, string>();
  /** Successors planned out of turn, as their predecessor's deletion was looked at: not planned again in their own turn. */
  private readonly plannedSuccessors = new Set<string>();
  private readonly lookups: SyncedLookups;
  /** In a tenant where another tool synchronizes objects, a member not yet linked may be one of its objects. */
  private readonly syncedObjects: boolean;
  /** Member references worked out on delta passes (a full pass has them all in pass1.exportable). */
  private readonly memberBases = new Map<string, MemberBasis | null>();
  private errors = 0;
  private foreignMembers = 0;
  private notWritable = 0;

  public constructor(private readonly input: PlanInput) {
    const { store, config } = input;
    this.store = store;
    this.flow = attributeFlowOf(config);
    this.settings = planSettings(this.flow, input.anchorProperty);
    this.inScope = scopeEvaluator(store, config);
    this.pass1 = inScopeObjects({ store, config, flow: this.flow, inScope: this.inScope, runId: input.runId, mode: input.mode, domains: input.domains,
      dryRun: input.dryRun && input.scratchStore !== true, recordOutOfScope: input.recordOutOfScope === true });
    this.planId = store.createPlan(input.runId, 'previewed', []);
    this.lookups = syncedLookups(store);
    this.syncedObjects = store.hasSyncedObjects();
  }

  private emit(ops: ReadonlyArray<PlannedOperation>): void {
    const flowing = ops.filter((op) => !isDeletion(op));
    this.deletions.push(...ops.filter(isDeletion));
    if (flowing.length > 0) this.store.addOperations(this.planId, flowing, 'planned');
    for (const op of ops) this.planned[op.kind] = (this.planned[op.kind] ?? 0) + 1;
  }

  private report(entry: MatchReportEntry): void {
    this.matchReport[entry.kind] = (this.matchReport[entry.kind] ?? 0) + 1;
    if (this.input.recordMatches || entry.kind === 'conflict' || entry.kind === 'blocked') {
      this.store.addReport(this.input.runId, { dn: entry.dn, objectType: entry.objectType, category: entry.kind, reason: entry.reason });
    }
  }

  /** Phase: the objects to plan — all of them on a full run, the changed ones on a delta run — a page per transaction. */
  public planCandidates(): void {
    const { mode } = this.input;
    const pages = mode.kind === 'full' ? this.store.planCandidates() : this.store.planCandidates({ changedAfterRun: mode.changedAfterRun, pageSize: 500 });
    for (const page of pages) this.store.transaction(() => { for (const candidate of page) this.planCandidate(candidate); });
  }

  private planCandidate({ entry, link, linkedCloud: linkedRow }: PlanCandidate): void {
    // Planned already, as the successor of an object whose cloud identity it takes over.
    if (this.plannedSuccessors.has(entry.guid)) return;
    const decision = this.inScope(entry);
    if (!decision.inScope) {
      if (link?.state === 'linked' && link.cloudId && !this.handedOver(link, entry.dn)) {
        this.emit([planDeletion({ objectType: link.objectType, sourceAnchor: link.sourceAnchor, cloudId: link.cloudId, adGuid: entry.guid, dn: entry.dn,
          displayName: entry.attributes['displayname']?.[0], reason: `no longer in scope: ${decision.reason}` })]);
      }
      return;
    }
    this.claimCounterparts(entry);
    // Before its values are checked: an object that waits for another's anchor shares its UPN too (a migration copies it).
    const anchorHolder = link ? { proceed: true as const } : this.anchorHolderOf(entry);
    if (!anchorHolder.proceed) return;
    const desired = this.desiredOf(entry);
    if (!desired) return;
    const linkedCloud = link?.state === 'linked' && link.cloudId ? linkedRow : undefined;
    const match = this.matchOf(entry, desired, linkedCloud);
    if (!match) return;
    // Taking over the cloud object of an object migrated from another forest: the other's link goes when this one's is made.
    const takesOverFrom = anchorHolder.from !== undefined && anchorHolder.from.cloudId === match.cloud?.id ? anchorHolder.from.adGuid : undefined;
    if (takesOverFrom !== undefined) this.handovers.set(takesOverFrom, entry.guid);
    const planned = this.withoutAddressesInUse(planObject(keepOldImmutableId(desired, match.cloud), match, this.settings), match.cloud);
    const ops = takesOverFrom === undefined ? planned : planned.map((op) => (op.cloudId === match.cloud?.id && LINKING.has(op.kind) ? { ...op, takesOverFrom } : op));
    // A hard match that needs no change is linked now (a fact, not a takeover); every other link waits for its export.
    if (!this.input.dryRun && ops.length === 0 && match.cloud && (match.kind === 'hard-match' || match.kind === 'linked') && link?.cloudId !== match.cloud.id) {
      if (takesOverFrom !== undefined) this.store.removeLink(takesOverFrom);
      this.store.setLink({ adGuid: desired.adGuid, sourceAnchor: desired.sourceAnchor, objectType: desired.objectType, cloudId: match.cloud.id, state: 'linked', dn: desired.dn },
        this.input.runId);
      // Groups planned after it name it by its new cloud object (pass 1 read the links as they were).
      const basis = this.pass1.exportable?.get(desired.adGuid);
      if (basis) {
        basis.linkedCloudId = match.cloud.id;
        delete basis.linkedRef;
      }
    }
    if (desired.objectType === 'group') {
      this.reportForeignMembers(entry);
      // The group's own operations first, then its membership changes in slices as they are planned.
      this.emit(ops);
      this.planMembers(desired, match.cloud?.id);
      return;
    }
    this.emit([...ops, ...this.managerOperations(entry, desired, match)]);
  }

  /**
   * An object that carries the anchor of another object's link. Migrated from another forest with its ms-DS-ConsistencyGuid
   * (docs/forests.md), it waits while that object is live and in scope — reported with both DNs — and takes its cloud object
   * over once it is deleted or leaves the scope (`from`: whose link it replaces when its own is made, at export). Two objects
   * of one forest, or a second successor, never share one: reported, not written.
   */
  private anchorHolderOf(entry: AdEntry): { readonly proceed: boolean; readonly from?: { readonly adGuid: string; readonly cloudId?: string } } {
    const anchor = sourceAnchorOf(entry);
    const holder = this.store.linkByAnchor(anchor);
    if (!holder || holder.adGuid === entry.guid) return { proceed: true };
    const holderEntry = this.store.getAdEntry(holder.adGuid);
    const gone = !holderEntry || holderEntry.deleted || !this.inScope(holderEntry).inScope;
    const otherForest = this.forestOfDn(holder.dn) !== this.forestOfDn(entry.dn);
    const taken = this.handovers.get(holder.adGuid);
    // Recorded in `handovers` only once it matched that cloud object (an invalid successor leaves the deletion as it was).
    if (gone && otherForest && (taken === undefined || taken === entry.guid)) return { proceed: true, from: { adGuid: holder.adGuid, ...(holder.cloudId ? { cloudId: holder.cloudId } : {}) } };
    const why = !otherForest ? 'an object of the same forest: two objects of one forest never share an anchor'
      : taken !== undefined ? 'another object of this run takes that cloud object over'
        : 'an object migrated from another forest takes its cloud identity over once the other is deleted in Active Directory or leaves the scope; until then it is not written';
    this.errors += 1;
    this.retryAdGuids.push(entry.guid);
    this.store.addErrors(this.input.runId, [{ dn: entry.dn, adGuid: entry.guid, objectType: entry.objectClass === 'group' ? 'group' : 'user', attribute: 'ms-DS-ConsistencyGuid', value: anchor,
      code: 'anchor-in-use', reason: `its source anchor is also the anchor of ${holder.dn}, which is synchronized to that cloud object: ${why}`,
      hint: `Delete ${holder.dn} (or take it out of the scope) when the migration is done; or clear ms-DS-ConsistencyGuid of this object if it is another person.` }]);
    return { proceed: false };
  }

  /** The forest whose domain holds a DN (the first source's when none does). */
  private forestOfDn(dn: string): string {
    const { sources } = this.input.config;
    return forestOfDn(sources, dn) ?? forestOf(sources[0] as (typeof sources)[number]);
  }

  /**
   * Whether a link whose AD object is gone (deleted, or out of scope) is handed over instead of deleted: an object of another
   * forest, live, in scope and not linked itself, carries its anchor (migrated with its ms-DS-ConsistencyGuid). That object
   * is planned now (once), and takes the cloud object over.
   */
  private handedOver(link: { readonly adGuid: string; readonly sourceAnchor: string; readonly cloudId?: string }, dn: string): boolean {
    if (this.handovers.has(link.adGuid)) return true;
    const forest = this.forestOfDn(dn);
    const successor = this.store.liveAdEntriesByAnchor(link.sourceAnchor).find((e) => e.guid !== link.adGuid && this.forestOfDn(e.dn) !== forest
      && this.inScope(e).inScope && (this.store.getLink(e.guid)?.cloudId ?? link.cloudId) === link.cloudId);
    if (!successor) return false;
    this.plannedSuccessors.add(successor.guid);
    this.planCandidate({ entry: successor, link: this.store.getLink(successor.guid), linkedCloud: undefined });
    if (this.handovers.get(link.adGuid) !== successor.guid) return false; // it could not take it over (invalid, refused): the deletion stands
    this.report({ kind: 'linked', objectType: successor.objectClass === 'group' ? 'group' : 'user', dn: successor.dn, sourceAnchor: link.sourceAnchor,
      reason: `takes over the cloud object of ${dn} (gone from the scope), whose anchor it carries` });
    return true;
  }

  /**
   * A group's members from another forest (foreign security principals) cannot be its members in the tenant: each is
   * reported with the group's DN and the member's SID, never dropped without a word (docs/forests.md).
   */
  private reportForeignMembers(entry: AdEntry): void {
    for (const member of entry.foreignMembers ?? []) {
      this.foreignMembers += 1;
      const wellKnown = !/^S-1-5-21-/i.test(member.sid);
      this.store.addReport(this.input.runId, { dn: entry.dn, objectType: 'group', category: 'foreign-member',
        reason: `member ${member.dn} is a foreign security principal (SID ${member.sid}): ${wellKnown ? 'a well-known security principal, not an account'
          : 'an account of another forest'}; Microsoft Entra ID cannot hold it as a member of this group, so it is not written. `
          + 'Give the person an account of a synchronized domain in the group, or a cloud group membership.' });
    }
  }

  /** The object as the tenant should hold it, or undefined when it is not writable or invalid (reported). */
  private desiredOf(entry: AdEntry): DesiredObject | undefined {
    const { store, input, pass1 } = this;
    const mapped = mapEntry(entry, this.flow);
    if (mapped.kind === 'not-writable') {
      this.notWritable += 1;
      store.addReport(input.runId, { dn: mapped.dn, objectType: mapped.objectType, category: 'not-writable', reason: mapped.reason });
      return undefined;
    }
    if (mapped.kind === 'invalid') {
      this.errors += mapped.errors.length;
      store.addErrors(input.runId, mapped.errors);
      return undefined;
    }
    // A full pass already validated what it kept as exportable.
    const problems = [...(pass1.exportable?.has(entry.guid) ? [] : validateDesired(mapped.desired, input.domains)), ...pass1.duplicatesOf(entry.guid)];
    if (problems.length === 0) return mapped.desired;
    this.errors += problems.length;
    store.addErrors(input.runId, problems);
    if (problems.some((p) => p.code.startsWith('duplicate-'))) this.retryAdGuids.push(entry.guid);
    return undefined;
  }

  /**
   * Which cloud object the AD object is, reported; undefined when it is not to be written (blocked, in
   * conflict, or a create the guard refused). matchObject decides on a live link first, then on the
   * anchor, the SID, and only then (users) on UPN and mail: what it would not look at is not read.
   */
  private matchOf(entry: AdEntry, desired: DesiredObject, linkedCloud: CloudObject | undefined): MatchDecision | undefined {
    const { store } = this;
    const upn = desired.properties['userPrincipalName'];
    const mail = desired.properties['mail'];
    const linkedLive = linkedCloud !== undefined && !linkedCloud.softDeleted;
    const byAnchor = linkedLive ? [] : this.cloudByAnchors(desired.sourceAnchor, desired.objectGuidAnchor);
    const softCandidates = !linkedLive && desired.objectType === 'user' && !byAnchor.some((c) => c.objectType === desired.objectType);
    const match = matchObject(desired, {
      linked: linkedCloud,
      byAnchor,
      bySecurityIdentifier: linkedLive || entry.sid === undefined ? [] : store.cloudBySecurityIdentifier(entry.sid),
      byUserPrincipalName: softCandidates && typeof upn === 'string' ? store.cloudByUserPrincipalName(upn) : [],
      byMail: softCandidates && typeof mail === 'string' ? store.cloudByAddress(mail, desired.objectType) : [],
    }, { userPrincipalName: this.input.config.matching.softMatchUpn, mail: this.input.config.matching.softMatchMail });
    if (match.cloud && this.input.oldToolOrphans) this.claimed.add(match.cloud.id);
    if (match.kind === 'create' && this.refusedByGuard(entry, desired)) return undefined;
    this.report({ kind: match.kind === 'restore' ? 'hard-match' : match.kind, objectType: desired.objectType, dn: desired.dn, sourceAnchor: desired.sourceAnchor,
      cloudId: match.cloud?.id, reason: match.reason });
    if (match.kind === 'blocked' && match.synchronized) return undefined; // another tool's object: reported, never written, not this object's error
    if (match.kind === 'conflict' || match.kind === 'blocked') {
      this.refuse(desired, match);
      return undefined;
    }
    return match;
  }

  /**
   * An update that would give this user a mail address another cloud object holds is refused by Graph ("Another
   * object with the same value for property proxyAddresses already exists"): the address is left out and reported
   * (DN, attribute, reason); the rest of the update — an adoption's anchor — is still written.
   */
  private withoutAddressesInUse(ops: ReadonlyArray<PlannedOperation>, cloud: CloudObject | undefined): PlannedOperation[] {
    return ops.flatMap((op) => {
      const mail = op.kind === 'update-user' ? op.properties?.['mail'] : undefined;
      if (typeof mail !== 'string') return [op];
      const holder = this.store.cloudByAddress(mail, 'user').find((c) => c.id !== cloud?.id);
      if (!holder) return [op];
      this.errors += 1;
      if (op.adGuid) this.retryAdGuids.push(op.adGuid);
      this.store.addErrors(this.input.runId, [{ dn: op.dn ?? op.sourceAnchor, adGuid: op.adGuid, objectType: 'user', attribute: 'mail', value: mail, code: 'address-in-use',
        reason: `mail "${mail}" is held in the tenant by the cloud user ${holder.id} (${holder.userPrincipalName ?? holder.displayName ?? ''}); Microsoft Entra ID requires it to be unique, so it is not written`,
        hint: 'Remove the address from the other cloud user, or change it in Active Directory; the next run writes it.' }]);
      const { mail: _mail, ...properties } = op.properties ?? {};
      const { mail: _was, ...previous } = op.previous ?? {};
      return Object.keys(properties).length === 0 ? [] : [{ ...op, properties, previous, reason: op.reason.replace(/(, )?\bmail\b/, '') }];
    });
  }

  /** Cloud objects carrying the source anchor, or (as an immutable id DirSync or older Connect wrote) the objectGUID anchor. */
  private cloudByAnchors(sourceAnchor: string, objectGuidAnchor: string | undefined): ReadonlyArray<CloudObject> {
    const hits = this.store.cloudByAnchor(sourceAnchor);
    if (objectGuidAnchor === undefined) return hits;
    const byGuid = this.store.cloudByAnchor(objectGuidAnchor).filter((c) => c.immutableId === objectGuidAnchor && !hits.some((h) => h.id === c.id));
    return [...hits, ...byGuid];
  }

  /** A takeover: the cloud objects an in-scope AD object is, even when it cannot be written (invalid, not writable), are never the old tool's orphans. */
  private claimCounterparts(entry: AdEntry): void {
    if (!this.input.oldToolOrphans) return;
    const anchors = [sourceAnchorOf(entry), entry.guidBase64];
    for (const cloud of [...anchors.flatMap((a) => this.store.cloudByAnchor(a)), ...(entry.sid ? this.store.cloudBySecurityIdentifier(entry.sid) : [])]) this.claimed.add(cloud.id);
  }

  /** The last guard: whatever matched, nothing is created beside an object another tool synchronizes. */
  private refusedByGuard(entry: AdEntry, desired: DesiredObject): boolean {
    if (!this.syncedObjects) return false;
    const counterparts = syncedCounterparts(desired, entry.sid, this.lookups);
    if (counterparts.length === 0) return false;
    const error = guardError(desired, entry.sid, counterparts);
    this.report({ kind: 'blocked', objectType: desired.objectType, dn: desired.dn, sourceAnchor: desired.sourceAnchor, cloudId: counterparts[0]?.cloud.id, reason: error.reason });
    this.errors += 1;
    this.retryAdGuids.push(desired.adGuid);
    this.store.addErrors(this.input.runId, [error]);
    return true;
  }

  /** A conflict or a block is this object's error, with what to do; the next delta plans it again. */
  private refuse(desired: DesiredObject, match: MatchDecision): void {
    this.errors += 1;
    this.retryAdGuids.push(desired.adGuid);
    this.store.addErrors(this.input.runId, [{ dn: desired.dn, adGuid: desired.adGuid, objectType: desired.objectType,
      attribute: desired.objectType === 'user' ? 'userPrincipalName' : 'displayName',
      value: String(desired.properties['userPrincipalName'] ?? desired.properties['displayName'] ?? ''), code: `match-${match.kind}`, reason: match.reason,
      hint: match.kind === 'conflict' ? 'Resolve the conflict in the tenant or in Active Directory, or enable soft matching if the cloud object is the same person.'
        : 'Directory Sync will not take over this cloud object; rename one of them.' }]);
  }

  /** A group's membership changes, stored in slices as they are planned. */
  private planMembers(desired: DesiredObject, groupCloudId: string | undefined): void {
    const { store } = this;
    const members = desired.memberGuids.map((guid) => this.memberRef(guid)).filter((m): m is MemberRef => m !== undefined);
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
    const slice: PlannedOperation[] = [];
    for (const op of membershipOperations({ sourceAnchor: desired.sourceAnchor, adGuid: desired.adGuid, dn: desired.dn, cloudId: groupCloudId,
      displayName: String(desired.properties['displayName'] ?? '') }, members, current, managed)) {
      slice.push(op);
      if (slice.length === MEMBERSHIP_SLICE) {
        this.emit(slice);
        slice.length = 0;
      }
    }
    this.emit(slice);
  }

  /** A user's manager: set when AD names a synchronized manager, removed when it names none or one that is not. */
  private managerOperations(entry: AdEntry, desired: DesiredObject, match: MatchDecision): ReadonlyArray<PlannedOperation> {
    const managerGuid = entry.managerGuid;
    const manager = managerGuid === undefined ? undefined : this.memberRef(managerGuid);
    return planManager({ sourceAnchor: desired.sourceAnchor, adGuid: desired.adGuid, dn: desired.dn, cloudId: match.cloud?.id,
      displayName: String(desired.properties['displayName'] ?? '') },
    managerGuid === undefined ? undefined : manager?.dn ?? this.store.getAdEntry(managerGuid)?.dn ?? managerGuid,
    manager, match.cloud?.managerId);
  }

  /**
   * A member's (or manager's) reference: what it is depends only on AD and the settings, so it is
   * worked out once per object; its cloud object is looked up each time until it is linked, and then
   * kept on the basis itself (no second map of 100,000 keys).
   */
  private memberRef(guid: string): MemberRef | undefined {
    const basis = this.memberBasisOf(guid);
    if (basis === null) return undefined;
    // One reference per linked member, however many groups name it (550,000 memberships, 100,000 members).
    if (basis.linkedCloudId !== undefined) return basis.linkedRef ??= { sourceAnchor: basis.sourceAnchor, objectType: basis.objectType, dn: basis.dn, cloudId: basis.linkedCloudId };
    const ref = { sourceAnchor: basis.sourceAnchor, objectType: basis.objectType, dn: basis.dn };
    const link = this.store.getLink(guid);
    if (link?.state === 'linked' && link.cloudId) {
      basis.linkedCloudId = link.cloudId;
      return { ...ref, cloudId: link.cloudId };
    }
    // A member another tool synchronizes is never a member target of Directory Sync's.
    if (this.isSynchronizedElsewhere(guid, basis)) return undefined;
    const usable = (c: CloudObject): boolean => !c.softDeleted && c.objectType === basis.objectType && !c.onPremisesSyncEnabled;
    const cloudId = this.store.cloudByAnchor(basis.sourceAnchor).find(usable)?.id
      // A takeover: DirSync and older Connect anchored members by their objectGUID, and groups carry only their SID.
      ?? (this.input.oldToolOrphans ? this.adoptedCounterpart(guid, basis, usable) : undefined);
    return { ...ref, cloudId };
  }

  /** The cloud object a takeover adopts for this AD object: by its objectGUID anchor, else by its SID. */
  private adoptedCounterpart(guid: string, basis: MemberBasis, usable: (c: CloudObject) => boolean): string | undefined {
    const entry = this.store.getAdEntry(guid);
    if (!entry) return undefined;
    return this.cloudByAnchors(basis.sourceAnchor, objectGuidAnchorOf(entry).objectGuidAnchor).find(usable)?.id
      ?? (entry.sid ? this.store.cloudBySecurityIdentifier(entry.sid).find(usable)?.id : undefined);
  }

  private memberBasisOf(guid: string): MemberBasis | null {
    const { pass1 } = this;
    if (pass1.exportable) {
      // A full pass saw every object: what it did not keep is not a member in the tenant.
      const basis = pass1.exportable.get(guid) ?? null;
      return basis && pass1.duplicatesOf(guid).length > 0 ? null : basis;
    }
    let basis = this.memberBases.get(guid);
    if (basis === undefined) {
      basis = this.readMemberBasis(guid);
      this.memberBases.set(guid, basis);
    }
    return basis;
  }

  private readMemberBasis(guid: string): MemberBasis | null {
    const member = this.store.getAdEntry(guid);
    if (!member || member.deleted || !this.inScope(member).inScope) return null;
    if (member.objectClass !== 'user' && member.objectClass !== 'group') return null;
    const mapped = mapEntry(member, this.flow);
    // A member that cannot be exported (invalid, duplicate) is reported on its own; it is not a member in the tenant.
    if (mapped.kind !== 'mapped' || this.pass1.duplicatesOf(guid).length > 0 || validateDesired(mapped.desired, this.input.domains).length > 0) return null;
    return { sourceAnchor: sourceAnchorOf(member), objectType: mapped.desired.objectType, dn: member.dn };
  }

  private isSynchronizedElsewhere(guid: string, basis: MemberBasis): boolean {
    if (!this.syncedObjects) return false;
    const identity = { objectType: basis.objectType, sourceAnchor: basis.sourceAnchor, properties: {} };
    return syncedCounterparts(identity, this.store.getAdEntry(guid)?.sid, this.lookups).length > 0;
  }

  /** Phase: deleted in AD — linked objects whose source is gone (unless another object now carries its anchor). */
  public planAdDeletions(): void {
    const { mode } = this.input;
    // Read whole first: a successor taking an anchor over removes the link it held.
    for (const link of [...this.store.linksOfDeletedAdObjects(mode.kind === 'delta' ? mode.changedAfterRun : undefined)]) {
      if (link.state !== 'linked' || !link.cloudId) continue;
      if (this.input.unreadForests?.includes(this.forestOfDn(link.dn))) {
        this.retryAdGuids.push(link.adGuid); // planned again by the next run, which may read its whole forest
        continue;
      }
      if (this.handedOver(link, link.dn)) continue;
      this.emit([planDeletion({ objectType: link.objectType, sourceAnchor: link.sourceAnchor, cloudId: link.cloudId, adGuid: link.adGuid, dn: link.dn,
        reason: 'deleted in Active Directory' })]);
    }
  }

  /** Phase (full runs): orphans — managed cloud objects that no AD object in scope claims. */
  public planOrphans(): void {
    if (this.input.mode.kind !== 'full' || (this.input.unreadDomains?.length ?? 0) > 0) return;
    const { store } = this;
    for (const page of store.managedAnchors()) {
      for (const { id, managedAnchor: anchor } of page) {
        if (this.pass1.inScopeAnchors.has(anchor)) continue;
        const cloud = store.getCloudObject(id);
        if (!cloud) continue;
        const link = store.linkByCloudId(cloud.id);
        if (link && this.deletions.some((d) => d.cloudId === cloud.id)) continue;
        const source = store.findAdEntryByAnchor(anchor);
        if (source && link) continue; // handled above as out of scope
        this.orphanAnchors.add(anchor);
        this.emit([planDeletion({ objectType: cloud.objectType, sourceAnchor: anchor, cloudId: cloud.id, dn: link?.dn, displayName: cloud.displayName,
          reason: 'orphan: the tenant holds this managed object, but no object in Active Directory is its source (deleted while nothing was synchronizing?)' })]);
      }
    }
  }

  /** Phase (full runs of a takeover): the old tool's orphans — objects it synchronized that no AD object in scope claims. */
  public planOldToolOrphans(): void {
    if (this.input.mode.kind !== 'full' || !this.input.oldToolOrphans || (this.input.unreadDomains?.length ?? 0) > 0) return;
    const { store } = this;
    for (const page of store.formerlySyncedCloudObjects()) {
      for (const cloud of page) {
        if (this.claimed.has(cloud.id) || store.linkByCloudId(cloud.id)) continue;
        const anchor = cloud.immutableId ?? `sid:${cloud.securityIdentifier ?? cloud.id}`;
        this.orphanAnchors.add(anchor);
        this.emit([planDeletion({ objectType: cloud.objectType, sourceAnchor: anchor, cloudId: cloud.id, dn: cloud.userPrincipalName ?? cloud.displayName,
          displayName: cloud.displayName, reason: OLD_TOOL_ORPHAN_REASON })]);
      }
    }
  }

  /** Phase: the gate holds what could be a mistake (and, in a synchronized tenant, every create); the plan is stored. */
  public gateAndStore(): PlanOutcome {
    const { store, input, planId, pass1 } = this;
    const gate = applyGate({
      operations: this.deletions, managedCount: store.managedCount(), inScopeNow: pass1.inScopeCount, inScopeBefore: input.inScopeBefore,
      threshold: { count: input.config.deletionThreshold.count, percent: input.config.deletionThreshold.percent }, orphanAnchors: this.orphanAnchors,
    });
    const reasons = [...gate.reasons];
    let waitingOnErrors = 0;
    const heldCreates = store.transaction(() => {
      // Links to objects in error can never be sent: set aside, named with the error, not counted as planned.
      for (const [kind, count] of Object.entries(store.setAsideWaitingOnErrors(planId, input.runId))) {
        this.planned[kind] = (this.planned[kind] ?? 0) - count;
        if (this.planned[kind] === 0) delete this.planned[kind];
        waitingOnErrors += count;
      }
      if (gate.proceed.length > 0) store.addOperations(planId, gate.proceed, 'planned');
      if (gate.held.length > 0) store.addOperations(planId, gate.held, 'held');
      const held = input.tenantSynchronized ? store.holdCreates(planId) : { creates: 0, dependents: 0 };
      if (held.creates > 0) reasons.unshift(synchronizedTenantHoldReason(held.creates, held.dependents));
      store.setPlanStatus(planId, 'previewed', reasons);
      return held;
    });
    return { planId, planned: this.planned, held: gate.held.length + heldCreates.creates + heldCreates.dependents, heldReasons: reasons, errors: this.errors,
      inScope: pass1.inScopeCount, outOfScope: pass1.outOfScope, notWritable: this.notWritable, matchReport: this.matchReport, retryAdGuids: this.retryAdGuids, waitingOnErrors,
      foreignMembers: this.foreignMembers };
  }
}

/**
 * A cloud user anchored by its objectGUID (DirSync, older Entra Connect) keeps that immutable id when adopted: the
 * old tool, if ever turned on again, matches it by it.
 */
function keepOldImmutableId(desired: DesiredObject, cloud: CloudObject | undefined): DesiredObject {
  if (desired.objectGuidAnchor === undefined || cloud?.immutableId !== desired.objectGuidAnchor || !('onPremisesImmutableId' in desired.properties)) return desired;
  return { ...desired, properties: { ...desired.properties, onPremisesImmutableId: cloud.immutableId } };
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
