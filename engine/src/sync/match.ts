/**
 * Match: which cloud object an AD object is (ARCHITECTURE.md step 6). Links first; then a hard
 * match on the anchor; then, if enabled, a soft match on UPN or mail — never onto an administrator,
 * never onto an object another source owns.
 */
import type { MatchKind } from '../contract/model.ts';
import type { CloudObject } from './cloud-object.ts';
import type { DesiredObject } from './map.ts';

export type SoftMatchOptions = { readonly userPrincipalName: boolean; readonly mail: boolean };

export type MatchCandidates = {
  /** The cloud object the store links to this AD object, when it still exists in the tenant. */
  readonly linked?: CloudObject;
  /** Live or soft-deleted cloud objects whose anchor (immutableId or product anchor) equals the source anchor (or, immutable ids, the objectGUID anchor). */
  readonly byAnchor: ReadonlyArray<CloudObject>;
  /** Cloud objects whose onPremisesSecurityIdentifier is this AD object's SID (written by Entra Connect, Cloud Sync, DirSync). */
  readonly bySecurityIdentifier?: ReadonlyArray<CloudObject>;
  /** Live cloud objects of the same type with the same UPN (users) — case-insensitive. */
  readonly byUserPrincipalName: ReadonlyArray<CloudObject>;
  /** Live cloud objects of the same type whose mail or proxy addresses contain the desired mail. */
  readonly byMail: ReadonlyArray<CloudObject>;
};

export type MatchDecision = {
  readonly kind: MatchKind | 'restore';
  readonly cloud?: CloudObject;
  readonly reason: string;
  /** Blocked because another tool synchronizes the cloud object: reported, not an error of this object. */
  readonly synchronized?: boolean;
};

/** Whether another source owns the cloud object: its anchor is neither this object's source anchor nor (immutable ids) its objectGUID. */
function ownedByAnotherSource(cloud: CloudObject, desired: Pick<DesiredObject, 'sourceAnchor' | 'objectGuidAnchor'>): boolean {
  if (cloud.managedAnchor !== undefined && cloud.managedAnchor !== desired.sourceAnchor) return true;
  if (cloud.immutableId !== undefined && cloud.immutableId !== desired.sourceAnchor && cloud.immutableId !== desired.objectGuidAnchor) return true;
  return false;
}

function blockedAsSynced(cloud: CloudObject, how: string): MatchDecision {
  return { kind: 'blocked', cloud, synchronized: true, reason: `synchronized by another tool: the cloud ${cloud.objectType} ${cloud.id} ${how} and Entra Connect, Cloud Sync or DirSync synchronizes it (onPremisesSyncEnabled); Directory Sync never writes it nor creates it again` };
}

/**
 * A cloud object that carries this AD object's SID came from it: a synchronized one is another tool's
 * (blocked), one no longer synchronized is this object (a hard match), unless another anchor owns it.
 */
function matchBySecurityIdentifier(desired: DesiredObject, bySid: ReadonlyArray<CloudObject>): MatchDecision | undefined {
  const live = bySid.filter((c) => c.objectType === desired.objectType && !c.softDeleted);
  const synced = live.find((c) => c.onPremisesSyncEnabled);
  if (synced) return blockedAsSynced(synced, `carries this object's SID ${synced.securityIdentifier ?? ''} as onPremisesSecurityIdentifier`);
  if (live.length > 1) {
    return { kind: 'conflict', reason: `${live.length} cloud objects carry this object's SID as onPremisesSecurityIdentifier: ${live.map((c) => c.id).join(', ')}` };
  }
  const hit = live[0];
  if (!hit) return undefined;
  if (ownedByAnotherSource(hit, desired)) {
    return { kind: 'conflict', cloud: hit, reason: `the cloud ${desired.objectType} ${hit.id} carries this object's SID but another source anchor owns it` };
  }
  return { kind: 'hard-match', cloud: hit, reason: `the cloud ${desired.objectType} ${hit.id} carries this object's SID as onPremisesSecurityIdentifier (synchronized from it before, no longer synchronized)` };
}

export function matchObject(desired: DesiredObject, candidates: MatchCandidates, softMatch: SoftMatchOptions): MatchDecision {
  if (candidates.linked && !candidates.linked.softDeleted) {
    return { kind: 'linked', cloud: candidates.linked, reason: 'linked by an earlier synchronization' };
  }
  const anchorHits = candidates.byAnchor.filter((c) => c.objectType === desired.objectType);
  const live = anchorHits.filter((c) => !c.softDeleted);
  if (live.length > 1) {
    return { kind: 'conflict', reason: `${live.length} cloud objects carry the source anchor ${desired.sourceAnchor}: ${live.map((c) => c.id).join(', ')}` };
  }
  const hard = live[0];
  if (hard) {
    if (hard.onPremisesSyncEnabled) return blockedAsSynced(hard, 'carries the source anchor');
    if (hard.anchorRegistration !== undefined) {
      return { kind: 'hard-match', cloud: hard, reason: `the cloud ${desired.objectType} ${hard.id} carries the source anchor written by the earlier registration ${hard.anchorRegistration}: adopted onto this app's anchor` };
    }
    return { kind: 'hard-match', cloud: hard, reason: `the cloud ${desired.objectType} ${hard.id} carries the source anchor` };
  }
  const bySid = matchBySecurityIdentifier(desired, candidates.bySecurityIdentifier ?? []);
  if (bySid) return bySid;
  const deleted = anchorHits.find((c) => c.softDeleted);
  if (deleted) return { kind: 'restore', cloud: deleted, reason: `the cloud ${desired.objectType} ${deleted.id} with this anchor is in the recycle bin` };

  if (desired.objectType === 'user') {
    const upn = String(desired.properties['userPrincipalName'] ?? '');
    const byUpn = candidates.byUserPrincipalName.find((c) => !c.softDeleted);
    if (byUpn) {
      if (byUpn.onPremisesSyncEnabled) return blockedAsSynced(byUpn, `has the same UPN ${upn}`);
      if (ownedByAnotherSource(byUpn, desired)) {
        return { kind: 'conflict', cloud: byUpn, reason: `the UPN ${upn} is used by cloud user ${byUpn.id}, which another source anchor owns` };
      }
      if (!softMatch.userPrincipalName) {
        return { kind: 'conflict', cloud: byUpn, reason: `the UPN ${upn} is used by cloud user ${byUpn.id}; enable soft match on UPN to take it over, or rename one of them` };
      }
      if (byUpn.isAdmin) {
        return { kind: 'blocked', cloud: byUpn, reason: `cloud user ${byUpn.id} (${upn}) holds an administrator role; Directory Sync never soft-matches administrators` };
      }
      return { kind: 'soft-match-upn', cloud: byUpn, reason: `soft match: the cloud user ${byUpn.id} has the same UPN` };
    }
    const mail = desired.properties['mail'];
    const byMail = candidates.byMail.find((c) => !c.softDeleted);
    if (typeof mail === 'string' && byMail) {
      if (byMail.onPremisesSyncEnabled) return blockedAsSynced(byMail, `has the same address ${mail}`);
      if (ownedByAnotherSource(byMail, desired)) {
        return { kind: 'conflict', cloud: byMail, reason: `the address ${mail} is used by cloud object ${byMail.id}, which another source anchor owns` };
      }
      if (!softMatch.mail) {
        return { kind: 'conflict', cloud: byMail, reason: `the address ${mail} is used by cloud object ${byMail.id}; enable soft match on mail to take it over, or change one of them` };
      }
      if (byMail.isAdmin) {
        return { kind: 'blocked', cloud: byMail, reason: `cloud user ${byMail.id} holds an administrator role; Directory Sync never soft-matches administrators` };
      }
      return { kind: 'soft-match-mail', cloud: byMail, reason: `soft match: the cloud user ${byMail.id} has the same primary address` };
    }
  }
  return { kind: 'create', reason: `no cloud ${desired.objectType} has this source anchor` };
}
