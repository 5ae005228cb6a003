/**
 * The data model of the emulated tenant: plain JSON-serialisable records, so the whole state can be
 * dumped, persisted and reloaded without translation.
 */

export type Json = null | boolean | number | string | Json[] | JsonObject;
export type JsonObject = { [key: string]: Json };

export type ObjectType =
  | 'user'
  | 'group'
  | 'orgContact'
  | 'application'
  | 'servicePrincipal'
  | 'directoryRole'
  | 'device'
  | 'organization';

/** An open extension (`microsoft.graph.openTypeExtension`) stored on a directory object. */
export type OpenExtension = {
  extensionName: string;
  /** appId of the application that created it (quota: two per creator app per object). */
  creatorAppId: string;
  data: JsonObject;
};

/** Every directory object of the tenant, live or soft-deleted. */
export type DirectoryObject = {
  id: string;
  type: ObjectType;
  /** Graph-visible properties (without `id`). Directory extension values live here too. */
  props: JsonObject;
  /** Member object ids (groups, directory roles), in insertion order. */
  members: string[];
  /** Owner object ids (groups, applications). */
  owners: string[];
  extensions: OpenExtension[];
  /** Emulator-only state that Graph never returns (passwords, secrets, certificate bodies...). */
  internal: JsonObject;
  /** Paging key: position in the live collection (assigned on insert and on restore). */
  listSeq: number;
  /** Change sequence of the last change of any tracked property (delta). */
  changeSeq: number;
  /** Change sequence of the creation (or restore): every property counts as changed then. */
  baseSeq: number;
  /** Change sequence per property changed since baseSeq (delta with $select; `members` for membership). */
  propSeq: Record<string, number>;
  /** Emulator-clock epoch ms of the soft delete, or null when live. */
  deletedAt: number | null;
};

export type Tombstone = { id: string; type: ObjectType; seq: number; at: number };

export type MemberEvent = { seq: number; memberId: string; memberType: ObjectType; removed: boolean };

export type AppRoleAssignment = {
  id: string;
  appRoleId: string;
  principalId: string;
  principalType: 'ServicePrincipal' | 'User' | 'Group';
  resourceId: string;
  createdDateTime: string;
};

/** A directory extension property registered on an application (`extension_{appIdNoDashes}_{name}`). */
export type ExtensionPropertyDef = {
  id: string;
  /** Object id of the owning application. */
  applicationObjectId: string;
  name: string;
  dataType: 'String' | 'Boolean' | 'DateTime' | 'Integer' | 'LargeInteger' | 'Binary';
  isMultiValued: boolean;
  targetObjects: string[];
  appDisplayName: string;
  isSyncedFromOnPremises: boolean;
  deletedDateTime: null;
};
