/**
 * The directory: every object of the tenant with the indices that enforce uniqueness (UPN,
 * onPremisesImmutableId, proxy addresses), group membership with its reverse index, the recycle bin,
 * and the change sequence that delta queries read.
 */
import type {
  AppRoleAssignment, DirectoryObject, ExtensionPropertyDef, Json, JsonObject, MemberEvent, ObjectType, Tombstone,
} from './model.ts';

export type NewObject = {
  id: string;
  type: ObjectType;
  props: JsonObject;
  members?: string[];
  owners?: string[];
  internal?: JsonObject;
};

export type StoreSnapshot = {
  objects: DirectoryObject[];
  tombstones: Tombstone[];
  memberEvents: Record<string, MemberEvent[]>;
  appRoleAssignments: AppRoleAssignment[];
  extensionProperties: ExtensionPropertyDef[];
  seq: number;
  listSeq: number;
};

export function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export function stringArray(value: Json | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function idWithoutDashes(id: string): string {
  return id.replaceAll('-', '');
}

export class DirectoryStore {
  private readonly objects = new Map<string, DirectoryObject>();
  private readonly live = new Map<ObjectType, Map<string, DirectoryObject>>();
  private readonly upnIndex = new Map<string, string>();
  private readonly immutableIdIndex = new Map<string, string>();
  private readonly immutableIdLower = new Map<string, Set<string>>();
  private readonly proxyIndex = new Map<string, string>();
  private readonly memberOfIndex = new Map<string, Set<string>>();
  private readonly appIdIndex = new Map<string, string>();
  tombstones: Tombstone[] = [];
  memberEvents = new Map<string, MemberEvent[]>();
  appRoleAssignments: AppRoleAssignment[] = [];
  extensionProperties: ExtensionPropertyDef[] = [];
  seq = 0;
  private listSeq = 0;
  /** Called after every mutation (persistence hooks in here). */
  onChange: () => void = () => undefined;

  constructor(snapshot?: StoreSnapshot) {
    if (!snapshot) return;
    this.seq = snapshot.seq;
    this.listSeq = snapshot.listSeq;
    this.tombstones = snapshot.tombstones;
    this.memberEvents = new Map(Object.entries(snapshot.memberEvents));
    this.appRoleAssignments = snapshot.appRoleAssignments;
    this.extensionProperties = snapshot.extensionProperties;
    const ordered = [...snapshot.objects].sort((a, b) => a.listSeq - b.listSeq);
    for (const obj of ordered) {
      this.objects.set(obj.id, obj);
      if (obj.deletedAt === null) this.liveMap(obj.type).set(obj.id, obj);
      this.index(obj);
      for (const m of obj.members) this.addMemberOf(m, obj.id);
    }
  }

  snapshot(): StoreSnapshot {
    return {
      objects: [...this.objects.values()],
      tombstones: this.tombstones,
      memberEvents: Object.fromEntries(this.memberEvents),
      appRoleAssignments: this.appRoleAssignments,
      extensionProperties: this.extensionProperties,
      seq: this.seq,
      listSeq: this.listSeq,
    };
  }

  private liveMap(type: ObjectType): Map<string, DirectoryObject> {
    let map = this.live.get(type);
    if (!map) {
      map = new Map();
      this.live.set(type, map);
    }
    return map;
  }

  private nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  /** A live object (not soft-deleted) by id, optionally of one type. */
  get(id: string, type?: ObjectType): DirectoryObject | undefined {
    const obj = this.objects.get(id.toLowerCase());
    if (!obj || obj.deletedAt !== null) return undefined;
    if (type !== undefined && obj.type !== type) return undefined;
    return obj;
  }

  /** Live or soft-deleted. */
  getAny(id: string): DirectoryObject | undefined {
    return this.objects.get(id.toLowerCase());
  }

  /** Live objects of a type, in paging order (listSeq). */
  liveObjects(type: ObjectType): IterableIterator<DirectoryObject> {
    return this.liveMap(type).values();
  }

  liveCount(type: ObjectType): number {
    return this.liveMap(type).size;
  }

  deletedObjects(type: ObjectType): DirectoryObject[] {
    return [...this.objects.values()].filter((o) => o.type === type && o.deletedAt !== null).sort((a, b) => a.listSeq - b.listSeq);
  }

  allObjects(): IterableIterator<DirectoryObject> {
    return this.objects.values();
  }

  userByUpn(upn: string): DirectoryObject | undefined {
    const id = this.upnIndex.get(upn.toLowerCase());
    return id === undefined ? undefined : this.get(id);
  }

  /** Owner (live or soft-deleted) of an onPremisesImmutableId (case-sensitive). */
  immutableIdOwner(value: string): DirectoryObject | undefined {
    const id = this.immutableIdIndex.get(value);
    return id === undefined ? undefined : this.getAny(id);
  }

  /** Objects (live or soft-deleted) whose onPremisesImmutableId equals the value ignoring case ($filter semantics). */
  immutableIdMatches(value: string): DirectoryObject[] {
    return [...(this.immutableIdLower.get(value.toLowerCase()) ?? [])].map((id) => this.getAny(id)).filter((o): o is DirectoryObject => o !== undefined);
  }

  /** Owner (live or soft-deleted) of a proxy address such as `smtp:a@contoso.com` (case-insensitive). */
  proxyOwner(address: string): DirectoryObject | undefined {
    const id = this.proxyIndex.get(address.toLowerCase());
    return id === undefined ? undefined : this.getAny(id);
  }

  byAppId(type: 'application' | 'servicePrincipal', appId: string): DirectoryObject | undefined {
    const id = this.appIdIndex.get(`${type}:${appId.toLowerCase()}`);
    return id === undefined ? undefined : this.get(id);
  }

  /** Whether an object is a direct member of a group or role (from the reverse index: a group of 100,000 is not scanned). */
  isMember(container: DirectoryObject, memberId: string): boolean {
    return this.memberOfIndex.get(memberId)?.has(container.id) ?? false;
  }

  /** Ids of the groups and directory roles an object is a direct member of. */
  memberOf(id: string): ReadonlySet<string> {
    return this.memberOfIndex.get(id) ?? new Set();
  }

  private index(obj: DirectoryObject): void {
    const p = obj.props;
    if (obj.type === 'user' && obj.deletedAt === null && typeof p['userPrincipalName'] === 'string') {
      this.upnIndex.set(p['userPrincipalName'].toLowerCase(), obj.id);
    }
    if (typeof p['onPremisesImmutableId'] === 'string') {
      this.immutableIdIndex.set(p['onPremisesImmutableId'], obj.id);
      const lower = p['onPremisesImmutableId'].toLowerCase();
      const set = this.immutableIdLower.get(lower) ?? new Set<string>();
      set.add(obj.id);
      this.immutableIdLower.set(lower, set);
    }
    for (const address of stringArray(p['proxyAddresses'])) this.proxyIndex.set(address.toLowerCase(), obj.id);
    if ((obj.type === 'application' || obj.type === 'servicePrincipal') && typeof p['appId'] === 'string' && obj.deletedAt === null) {
      this.appIdIndex.set(`${obj.type}:${p['appId'].toLowerCase()}`, obj.id);
    }
  }

  private unindex(obj: DirectoryObject): void {
    const p = obj.props;
    const drop = (map: Map<string, string>, key: string): void => {
      if (map.get(key) === obj.id) map.delete(key);
    };
    if (typeof p['userPrincipalName'] === 'string') drop(this.upnIndex, p['userPrincipalName'].toLowerCase());
    if (typeof p['onPremisesImmutableId'] === 'string') {
      drop(this.immutableIdIndex, p['onPremisesImmutableId']);
      const lower = p['onPremisesImmutableId'].toLowerCase();
      const set = this.immutableIdLower.get(lower);
      set?.delete(obj.id);
      if (set?.size === 0) this.immutableIdLower.delete(lower);
    }
    for (const address of stringArray(p['proxyAddresses'])) drop(this.proxyIndex, address.toLowerCase());
    if (typeof p['appId'] === 'string') drop(this.appIdIndex, `${obj.type}:${p['appId'].toLowerCase()}`);
  }

  private addMemberOf(memberId: string, containerId: string): void {
    let set = this.memberOfIndex.get(memberId);
    if (!set) {
      set = new Set();
      this.memberOfIndex.set(memberId, set);
    }
    set.add(containerId);
  }

  private memberEvent(container: DirectoryObject, member: { id: string; type: ObjectType }, removed: boolean, seq: number): void {
    let events = this.memberEvents.get(container.id);
    if (!events) {
      events = [];
      this.memberEvents.set(container.id, events);
    }
    events.push({ seq, memberId: member.id, memberType: member.type, removed });
    container.propSeq['members'] = seq;
    container.changeSeq = seq;
  }

  insert(input: NewObject): DirectoryObject {
    const seq = this.nextSeq();
    this.listSeq += 1;
    const obj: DirectoryObject = {
      id: input.id.toLowerCase(),
      type: input.type,
      props: input.props,
      members: [],
      owners: input.owners ?? [],
      extensions: [],
      internal: input.internal ?? {},
      listSeq: this.listSeq,
      changeSeq: seq,
      baseSeq: seq,
      propSeq: {},
      deletedAt: null,
    };
    this.objects.set(obj.id, obj);
    this.liveMap(obj.type).set(obj.id, obj);
    this.index(obj);
    for (const memberId of input.members ?? []) {
      const member = this.getAny(memberId);
      if (member) this.addMemberRaw(obj, member, seq);
    }
    this.onChange();
    return obj;
  }

  /** Merge-patch: sets the given properties (null clears). Returns the names that actually changed. */
  update(obj: DirectoryObject, patch: JsonObject): string[] {
    const changed = Object.keys(patch).filter((k) => !sameJson(obj.props[k], patch[k]));
    if (changed.length === 0) return changed;
    const seq = this.nextSeq();
    this.unindex(obj);
    for (const key of changed) {
      obj.props[key] = patch[key] ?? null;
      obj.propSeq[key] = seq;
    }
    obj.changeSeq = seq;
    this.index(obj);
    this.onChange();
    return changed;
  }

  /** Emulator-only state change (no delta change). */
  setInternal(obj: DirectoryObject, key: string, value: Json): void {
    obj.internal[key] = value;
    this.onChange();
  }

  /** Records a change that delta should report (e.g. open extensions) without property changes. */
  touch(obj: DirectoryObject, property: string): void {
    const seq = this.nextSeq();
    obj.propSeq[property] = seq;
    obj.changeSeq = seq;
    this.onChange();
  }

  private addMemberRaw(container: DirectoryObject, member: DirectoryObject, seq: number): void {
    container.members.push(member.id);
    this.addMemberOf(member.id, container.id);
    this.memberEvent(container, member, false, seq);
  }

  addMembers(container: DirectoryObject, members: ReadonlyArray<DirectoryObject>): void {
    if (members.length === 0) return;
    const seq = this.nextSeq();
    for (const member of members) this.addMemberRaw(container, member, seq);
    this.onChange();
  }

  removeMember(container: DirectoryObject, memberId: string): boolean {
    const index = container.members.indexOf(memberId);
    if (index < 0) return false;
    container.members.splice(index, 1);
    this.memberOfIndex.get(memberId)?.delete(container.id);
    const member = this.getAny(memberId);
    this.memberEvent(container, { id: memberId, type: member?.type ?? 'user' }, true, this.nextSeq());
    this.onChange();
    return true;
  }

  setOwners(obj: DirectoryObject, owners: string[]): void {
    obj.owners = owners;
    this.onChange();
  }

  /** A user's manager reference (a user or an organizational contact), or none. */
  setManager(obj: DirectoryObject, managerId: string | null): void {
    if (managerId === null) delete obj.internal['managerId'];
    else obj.internal['managerId'] = managerId;
    obj.changeSeq = this.nextSeq();
    obj.propSeq['manager'] = obj.changeSeq;
    this.onChange();
  }

  /** The live manager of a user: a reference to an object that is gone (deleted) reads as none. */
  managerOf(obj: DirectoryObject): DirectoryObject | undefined {
    const id = obj.internal['managerId'];
    return typeof id === 'string' ? this.get(id) : undefined;
  }

  /** Moves an object to the recycle bin (users, Microsoft 365 groups, applications). */
  softDelete(obj: DirectoryObject, now: number): void {
    const seq = this.nextSeq();
    this.unindex(obj);
    obj.deletedAt = now;
    obj.props['deletedDateTime'] = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    obj.propSeq['deletedDateTime'] = seq;
    if (obj.type === 'user' && typeof obj.props['userPrincipalName'] === 'string') {
      obj.internal['originalUserPrincipalName'] = obj.props['userPrincipalName'];
      obj.props['userPrincipalName'] = `${idWithoutDashes(obj.id)}${obj.props['userPrincipalName']}`;
    }
    obj.changeSeq = seq;
    this.liveMap(obj.type).delete(obj.id);
    this.index(obj);
    for (const containerId of this.memberOf(obj.id)) {
      const container = this.getAny(containerId);
      if (container) this.memberEvent(container, obj, true, seq);
    }
    this.onChange();
  }

  restore(obj: DirectoryObject): void {
    const seq = this.nextSeq();
    this.unindex(obj);
    obj.deletedAt = null;
    obj.props['deletedDateTime'] = null;
    const original = obj.internal['originalUserPrincipalName'];
    if (typeof original === 'string') {
      obj.props['userPrincipalName'] = original;
      delete obj.internal['originalUserPrincipalName'];
    }
    obj.baseSeq = seq;
    obj.propSeq = {};
    obj.changeSeq = seq;
    this.listSeq += 1;
    obj.listSeq = this.listSeq;
    this.liveMap(obj.type).set(obj.id, obj);
    this.index(obj);
    for (const containerId of this.memberOf(obj.id)) {
      const container = this.getAny(containerId);
      if (container) this.memberEvent(container, obj, false, seq);
    }
    this.onChange();
  }

  /** Removes an object for good: memberships, ownerships and role assignments go with it. */
  hardDelete(obj: DirectoryObject, now: number): void {
    const seq = this.nextSeq();
    this.unindex(obj);
    for (const containerId of [...this.memberOf(obj.id)]) {
      const container = this.getAny(containerId);
      if (!container) continue;
      const index = container.members.indexOf(obj.id);
      if (index >= 0) container.members.splice(index, 1);
      this.memberEvent(container, obj, true, seq);
    }
    this.memberOfIndex.delete(obj.id);
    for (const memberId of obj.members) this.memberOfIndex.get(memberId)?.delete(obj.id);
    for (const type of ['group', 'application'] as const) {
      for (const other of this.liveMap(type).values()) {
        if (other.owners.includes(obj.id)) other.owners = other.owners.filter((o) => o !== obj.id);
      }
    }
    this.appRoleAssignments = this.appRoleAssignments.filter((a) => a.principalId !== obj.id && a.resourceId !== obj.id);
    if (obj.type === 'application') {
      this.extensionProperties = this.extensionProperties.filter((e) => e.applicationObjectId !== obj.id);
    }
    this.objects.delete(obj.id);
    this.liveMap(obj.type).delete(obj.id);
    this.memberEvents.delete(obj.id);
    this.tombstones.push({ id: obj.id, type: obj.type, seq, at: now });
    this.onChange();
  }

  addAppRoleAssignment(assignment: AppRoleAssignment): void {
    this.appRoleAssignments.push(assignment);
    this.onChange();
  }

  removeAppRoleAssignment(id: string): boolean {
    const before = this.appRoleAssignments.length;
    this.appRoleAssignments = this.appRoleAssignments.filter((a) => a.id !== id);
    this.onChange();
    return this.appRoleAssignments.length !== before;
  }

  addExtensionProperty(def: ExtensionPropertyDef): void {
    this.extensionProperties.push(def);
    this.onChange();
  }

  removeExtensionProperty(id: string): boolean {
    const before = this.extensionProperties.length;
    this.extensionProperties = this.extensionProperties.filter((e) => e.id !== id);
    this.onChange();
    return this.extensionProperties.length !== before;
  }

  extensionProperty(name: string): ExtensionPropertyDef | undefined {
    const lower = name.toLowerCase();
    return this.extensionProperties.find((e) => e.name.toLowerCase() === lower);
  }
}
