/**
 * Plan: the operations that bring one cloud object in line with its AD source, each with its reason
 * (ARCHITECTURE.md step 7). Pure: the caller supplies the desired object, the match and the cloud
 * state, and gets operations back.
 */
import type { OperationKind, PlannedOperation, SyncObjectType } from '../contract/model.ts';
import type { CloudObject } from './cloud-object.ts';
import type { DesiredObject } from './map.ts';
import type { MatchDecision } from './match.ts';

export type PlanSettings = {
  /** The directory extension property that carries the product's anchor, e.g. `extension_<appId>_sourceAnchor`. */
  readonly anchorProperty: string;
  /** Top-level Graph properties the attribute flow owns, per type: a property absent from the desired object is cleared. */
  readonly ownedProperties: Readonly<Record<SyncObjectType, ReadonlyArray<string>>>;
};

function normalize(value: unknown): unknown {
  if (value === undefined || value === '') return null;
  if (Array.isArray(value)) return value.length === 0 ? null : value.map((v) => normalize(v));
  return value;
}

/** Equal once normalized; strings, booleans, numbers and lists of them are compared directly (this runs for every property of every object). */
function sameValue(a: unknown, b: unknown): boolean {
  const x = normalize(a);
  const y = normalize(b);
  if (x === y) return true;
  if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') return false;
  if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => sameValue(v, y[i]));
  return JSON.stringify(x) === JSON.stringify(y);
}

/** The properties of `desired` that differ from `current` (absent owned properties become null). */
export function diffProperties(
  desired: Readonly<Record<string, unknown>>,
  current: Readonly<Record<string, unknown>>,
  owned: ReadonlyArray<string>,
): { changes: Record<string, unknown>; previous: Record<string, unknown> } {
  const changes: Record<string, unknown> = {};
  const previous: Record<string, unknown> = {};
  const names = new Set([...owned, ...Object.keys(desired)]);
  for (const name of names) {
    const want = desired[name];
    const have = current[name];
    if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
      const haveBag = (have !== null && typeof have === 'object' ? have : {}) as Record<string, unknown>;
      const nested: Record<string, unknown> = {};
      const nestedPrevious: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(want as Record<string, unknown>)) {
        if (!sameValue(value, haveBag[key])) {
          nested[key] = normalize(value);
          nestedPrevious[key] = normalize(haveBag[key]);
        }
      }
      if (Object.keys(nested).length > 0) {
        changes[name] = nested;
        previous[name] = nestedPrevious;
      }
      continue;
    }
    if (!sameValue(want, have)) {
      if (name === 'displayName' && normalize(want) === null) continue; // Graph cannot clear it; map reports it.
      changes[name] = normalize(want);
      previous[name] = normalize(have);
    }
  }
  return { changes, previous };
}

function displayNameOf(desired: DesiredObject): string | undefined {
  const value = desired.properties['displayName'];
  return typeof value === 'string' ? value : undefined;
}

/** Operations for one in-scope AD object, given how it matched. Conflicts and blocks produce none. */
export function planObject(desired: DesiredObject, decision: MatchDecision, settings: PlanSettings): ReadonlyArray<PlannedOperation> {
  const base = { objectType: desired.objectType, sourceAnchor: desired.sourceAnchor, adGuid: desired.adGuid, dn: desired.dn, displayName: displayNameOf(desired) };
  const want: Record<string, unknown> = { ...desired.properties, [settings.anchorProperty]: desired.sourceAnchor };
  const owned = [...settings.ownedProperties[desired.objectType], settings.anchorProperty];
  switch (decision.kind) {
    case 'create':
      return [{ ...base, kind: desired.objectType === 'user' ? 'create-user' : 'create-group', reason: `new in Active Directory: ${decision.reason}`, properties: want }];
    case 'restore': {
      const cloud = decision.cloud as CloudObject;
      const ops: PlannedOperation[] = [{ ...base, kind: 'restore-user', cloudId: cloud.id, reason: decision.reason }];
      const { changes, previous } = diffProperties(want, cloud.properties, owned);
      if (Object.keys(changes).length > 0) {
        ops.push({ ...base, kind: 'update-user', cloudId: cloud.id, reason: 'restored object differs from Active Directory', properties: changes, previous });
      }
      return ops;
    }
    case 'linked':
    case 'hard-match':
    case 'soft-match-upn':
    case 'soft-match-mail': {
      const cloud = decision.cloud as CloudObject;
      const { changes, previous } = diffProperties(want, cloud.properties, owned);
      if (Object.keys(changes).length === 0) return [];
      const reason = decision.kind === 'linked'
        ? `changed in Active Directory: ${Object.keys(changes).join(', ')}`
        : `${decision.reason}; taking it over and updating ${Object.keys(changes).join(', ')}`;
      return [{ ...base, kind: desired.objectType === 'user' ? 'update-user' : 'update-group', cloudId: cloud.id, reason, properties: changes, previous }];
    }
    case 'conflict':
    case 'blocked':
      return [];
  }
}

/** A deletion of a managed cloud object whose AD source is gone or out of scope. */
export function planDeletion(target: {
  readonly objectType: SyncObjectType; readonly sourceAnchor: string; readonly cloudId: string;
  readonly adGuid?: string; readonly dn?: string; readonly displayName?: string; readonly reason: string;
}): PlannedOperation {
  return { ...target, kind: target.objectType === 'user' ? 'delete-user' : 'delete-group' };
}

export type MemberRef = { readonly sourceAnchor: string; readonly objectType: SyncObjectType; readonly dn?: string; readonly cloudId?: string };

/**
 * Membership as a diff: members to add (in AD, in scope, not yet in the cloud group) and members to
 * remove (in the cloud group, managed by Directory Sync, no longer members in AD). Cloud-only members
 * that Directory Sync does not manage are left alone.
 */
export function planMembership(group: MembershipGroup, desiredMembers: ReadonlyArray<MemberRef>, currentMemberIds: ReadonlySet<string>,
  managedMembers: ReadonlyMap<string, MemberRef>): ReadonlyArray<PlannedOperation> {
  return [...membershipOperations(group, desiredMembers, currentMemberIds, managedMembers)];
}

export type MembershipGroup = { readonly sourceAnchor: string; readonly adGuid: string; readonly dn: string; readonly cloudId?: string; readonly displayName?: string };

/**
 * planMembership one operation at a time, for the planner to store as they come: a group of
 * 100,000 members is 100,000 operations, which need not all be in memory at once.
 */
export function* membershipOperations(group: MembershipGroup, desiredMembers: ReadonlyArray<MemberRef>, currentMemberIds: ReadonlySet<string>,
  managedMembers: ReadonlyMap<string, MemberRef>): Generator<PlannedOperation> {
  const wanted = new Set<string>();
  const base = { objectType: 'group' as const, sourceAnchor: group.sourceAnchor, adGuid: group.adGuid, dn: group.dn, cloudId: group.cloudId, displayName: group.displayName };
  for (const member of desiredMembers) {
    if (member.cloudId !== undefined) wanted.add(member.cloudId);
    if (member.cloudId !== undefined && currentMemberIds.has(member.cloudId)) continue;
    yield { ...base, kind: 'add-member', member, reason: `${member.dn ?? member.sourceAnchor} is a member in Active Directory` };
  }
  for (const id of [...currentMemberIds].sort()) {
    if (wanted.has(id)) continue;
    const member = managedMembers.get(id);
    if (!member) continue;
    yield { ...base, kind: 'remove-member', member: { ...member, cloudId: id }, reason: `${member.dn ?? member.sourceAnchor} is no longer a member in Active Directory` };
  }
}

/**
 * A user's manager as a diff: set it when Active Directory names a manager that is synchronized and
 * the tenant has another (or none); remove it when Active Directory names none, or one that is not
 * synchronized (out of scope, invalid, a contact), while the tenant has one. Active Directory is the
 * authority for the users Directory Sync manages, as for their other attributes.
 */
export function planManager(user: {
  readonly sourceAnchor: string; readonly adGuid: string; readonly dn: string; readonly cloudId?: string; readonly displayName?: string;
}, adManagerDn: string | undefined, wanted: MemberRef | undefined, currentManagerId: string | undefined): ReadonlyArray<PlannedOperation> {
  const base = { objectType: 'user' as const, sourceAnchor: user.sourceAnchor, adGuid: user.adGuid, dn: user.dn, cloudId: user.cloudId, displayName: user.displayName };
  if (wanted && wanted.objectType === 'user') {
    if (wanted.cloudId !== undefined && wanted.cloudId === currentManagerId) return [];
    return [{ ...base, kind: 'set-manager', member: wanted, reason: `the manager in Active Directory is ${wanted.dn ?? wanted.sourceAnchor}` }];
  }
  if (currentManagerId === undefined) return [];
  const reason = adManagerDn === undefined
    ? 'Active Directory names no manager'
    : `the manager in Active Directory (${adManagerDn}) is not synchronized`;
  return [{ ...base, kind: 'remove-manager', reason }];
}

/** Export order (ARCHITECTURE.md step 9): disables and deletes, then creates, then updates, then membership. */
export function exportPriority(op: PlannedOperation): number {
  const kind: OperationKind = op.kind;
  switch (kind) {
    case 'delete-user':
    case 'delete-group':
      return 0;
    case 'update-user':
      return op.properties?.['accountEnabled'] === false ? 0 : 2;
    case 'restore-user':
    case 'create-user':
    case 'create-group':
      return 1;
    case 'update-group':
      return 2;
    case 'remove-member':
    case 'add-member':
    case 'set-manager':
    case 'remove-manager':
      return 3;
  }
}
