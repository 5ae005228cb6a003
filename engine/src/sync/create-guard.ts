/**
 * The last guard before a create: never create a user or group that would stand beside one another
 * tool (Entra Connect, Cloud Sync, DirSync) synchronizes. Whatever the match decided, a create whose
 * identity — SID, immutable id, UPN, or a group's display name with its mail alias — equals a
 * synchronized object's is refused and reported with both identities. Pure: lookups are passed in.
 */
import type { ObjectError } from '../contract/model.ts';
import type { CloudObject } from './cloud-object.ts';
import type { DesiredObject } from './map.ts';

export type SyncedLookups = {
  readonly bySecurityIdentifier: (sid: string) => ReadonlyArray<CloudObject>;
  /** Objects whose onPremisesImmutableId (or any anchor) is this value. */
  readonly byAnchor: (anchor: string) => ReadonlyArray<CloudObject>;
  readonly byUserPrincipalName: (upn: string) => ReadonlyArray<CloudObject>;
  /** Synchronized groups with this display name and mail alias. */
  readonly groupsNamed: (displayName: unknown, mailNickname: unknown) => ReadonlyArray<CloudObject>;
};

export type SyncedCounterpart = { readonly cloud: CloudObject; readonly identity: string };

/** What the guard compares of the object about to be created. */
export type CreateIdentity = Pick<DesiredObject, 'objectType' | 'sourceAnchor' | 'properties'>;

function synced(objects: ReadonlyArray<CloudObject>, desired: CreateIdentity): CloudObject | undefined {
  return objects.find((c) => c.onPremisesSyncEnabled === true && !c.softDeleted && c.objectType === desired.objectType);
}

/** The synchronized objects that share an identity with the object about to be created (empty: it may be created). */
export function syncedCounterparts(desired: CreateIdentity, sid: string | undefined, lookups: SyncedLookups): ReadonlyArray<SyncedCounterpart> {
  const found = new Map<string, SyncedCounterpart>();
  const add = (cloud: CloudObject | undefined, identity: string): void => {
    if (cloud && !found.has(cloud.id)) found.set(cloud.id, { cloud, identity });
  };
  if (sid) add(synced(lookups.bySecurityIdentifier(sid), desired), `SID ${sid}`);
  add(synced(lookups.byAnchor(desired.sourceAnchor), desired), `immutable id ${desired.sourceAnchor}`);
  const upn = desired.properties['userPrincipalName'];
  if (desired.objectType === 'user' && typeof upn === 'string') add(synced(lookups.byUserPrincipalName(upn), desired), `UPN ${upn}`);
  if (desired.objectType === 'group') {
    const name = desired.properties['displayName'];
    const alias = desired.properties['mailNickname'];
    add(synced(lookups.groupsNamed(name, alias), desired), `display name "${String(name)}" with mail alias ${String(alias)}`);
  }
  return [...found.values()];
}

function describe(cloud: CloudObject): string {
  const parts = [cloud.displayName ? `"${cloud.displayName}"` : undefined, cloud.userPrincipalName, cloud.securityIdentifier ? `SID ${cloud.securityIdentifier}` : undefined,
    cloud.immutableId ? `immutable id ${cloud.immutableId}` : undefined].filter(Boolean);
  return `${cloud.objectType} ${cloud.id}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

/** The per-object error for a create the guard refused: both identities, and what to do. */
export function guardError(desired: CreateIdentity & Pick<DesiredObject, 'adGuid' | 'dn'>, sid: string | undefined, counterparts: ReadonlyArray<SyncedCounterpart>): ObjectError {
  const ours = [`anchor ${desired.sourceAnchor}`, sid ? `SID ${sid}` : undefined].filter(Boolean).join(', ');
  const theirs = counterparts.map((c) => `the same ${c.identity} as the synchronized ${describe(c.cloud)}`).join('; ');
  return {
    dn: desired.dn, adGuid: desired.adGuid, objectType: desired.objectType,
    attribute: desired.objectType === 'user' ? 'userPrincipalName' : 'displayName',
    value: String(desired.properties[desired.objectType === 'user' ? 'userPrincipalName' : 'displayName'] ?? ''),
    code: 'match-beside-synchronized',
    reason: `Not created: ${desired.dn} (${ours}) has ${theirs}, which another tool (Entra Connect, Cloud Sync or DirSync) synchronizes.`,
    hint: 'Directory Sync never creates an object beside a synchronized one. Take the synchronization over from the other tool, or rename one of them.',
  };
}
