/**
 * The directory: every object of the tenant with the indices that enforce uniqueness (UPN,
 * onPremisesImmutableId, proxy addresses), group membership with its reverse index, the recycle bin,
 * and the change sequence that delta queries read.
 */
import type { ReplicaView, Replication } from './consistency.ts';
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

const NO_CONTAINERS: ReadonlySet<string> = new Set();

function isLive(obj: DirectoryObject | null | undefined, type?: ObjectType): obj is DirectoryObject {
  return obj !== null && obj !== undefined && obj.deletedAt === null && (type === undefined || obj.type === type);
}

/**
 * The directory. Without eventual consistency (`replication` undefined) every read sees the primary. With it,
 * reads of a request served by a lagging replica see each object as it was before its not-yet-replicated
 * changes; a write request resolves its target and references on the replica (`get`, `getAny`,
 * `userByUpn`, `byAppId`, `groupByUniqueName` answer the primary object only when the replica has it in
 * the same live/deleted state) and does everything else (uniqueness, membership checks) on the primary.
 */
export class DirectoryStore {
  private readonly objects = new Map<string, DirectoryObject>();
  private readonly live = new Map<ObjectType, Map<string, DirectoryObject>>();
  private readonly upnIndex = new Map<string, string>();
  private readonly immutableIdIndex = new Map<string, string>();
  private readonly immutableIdLower = new Map<string, Set<string>>();
  private readonly proxyIndex = new Map<string, string>();
  private readonly memberOfIndex = new Map<string, Set<string>>();
  private readonly appIdIndex = new Map<string, string>();
  private readonly uniqueNameIndex = new Map<string, string>();
  tombstones: Tombstone[] = [];
  memberEvents = new Map<string, MemberEvent[]>();
  appRoleAssignments: AppRoleAssignment[] = [];
  extensionProperties: ExtensionPropertyDef[] = [];
  seq = 0;
  private listSeq = 0;
  /** Called after every mutation (persistence hooks in here). */
  onChange: () => void = () => undefined;
  /** Eventual consistency (lab/tenant/consistency.ts); undefined = strongly consistent. */
  replication: Replication | undefined;

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

  /** The replica the current request is served by, when it is a lagging one. */
  private replicaView(): ReplicaView | undefined {
    return this.replication?.currentView();
  }

  /** The replica of a read request (write requests read the primary, apart from their targets and references). */
  private readView(): ReplicaView | undefined {
    const view = this.replication?.currentView();
    return view && !view.write ? view : undefined;
  }

  /** An object on the replica of a read request, or on the primary. */
  private readable(id: string, view: ReplicaView | undefined): DirectoryObject | undefined {
    const primary = this.objects.get(id);
    if (!view || !this.replication) return primary;
    const replica = this.replication.viewOf(id, view.at);
    return replica === undefined ? primary : replica ?? undefined;
  }

  /**
   * An object as the current request addresses it: on a read replica its copy there; for a write on a
   * lagging replica the primary object, if the replica has it too and agrees that it is live or deleted.
   */
  private addressed(id: string): DirectoryObject | undefined {
    const view = this.replicaView();
    if (!view) return this.objects.get(id);
    const seen = this.readable(id, view);
    if (!view.write) return seen;
    const primary = this.objects.get(id);
    return primary && seen && (primary.deletedAt === null) === (seen.deletedAt === null) ? primary : undefined;
  }

  /** Runs a read on the primary whatever replica serves the request (uniqueness: writes are serialized there). */
  onPrimary<T>(read: () => T): T {
    return this.replication ? this.replication.onPrimary(read) : read();
  }

  /** A live object (not soft-deleted) by id, optionally of one type. */
  get(id: string, type?: ObjectType): DirectoryObject | undefined {
    const obj = this.addressed(id.toLowerCase());
    return isLive(obj, type) ? obj : undefined;
  }

  /** Live or soft-deleted. */
  getAny(id: string): DirectoryObject | undefined {
    return this.addressed(id.toLowerCase());
  }

  /** Live objects of a type, in paging order (listSeq). */
  liveObjects(type: ObjectType): IterableIterator<DirectoryObject> {
    const view = this.readView();
    return view ? this.replicaLiveObjects(type, view) : this.liveMap(type).values();
  }

  /** The live objects of a type on a read replica: the primary's, as the replica has them, merged with those it still has. */
  private *replicaLiveObjects(type: ObjectType, view: ReplicaView): IterableIterator<DirectoryObject> {
    const replication = this.replication;
    if (!replication) return;
    const pending = new Set(replication.pendingIds(view.at));
    const extras: DirectoryObject[] = [];
    for (const id of pending) {
      const seen = this.readable(id, view);
      const primary = this.objects.get(id);
      if (isLive(seen, type) && !(isLive(primary, type) && primary.listSeq === seen.listSeq)) extras.push(seen);
    }
    extras.sort((a, b) => a.listSeq - b.listSeq);
    let next = 0;
    for (const obj of this.liveMap(type).values()) {
      if (pending.has(obj.id)) {
        const seen = this.readable(obj.id, view);
        if (!isLive(seen, type) || seen.listSeq !== obj.listSeq) continue;
      }
      while (next < extras.length && (extras[next]?.listSeq ?? 0) < obj.listSeq) yield extras[next++] as DirectoryObject;
      yield pending.has(obj.id) ? this.readable(obj.id, view) as DirectoryObject : obj;
    }
    while (next < extras.length) yield extras[next++] as DirectoryObject;
  }

  liveCount(type: ObjectType): number {
    const view = this.readView();
    let count = this.liveMap(type).size;
    if (!view || !this.replication) return count;
    for (const id of this.replication.pendingIds(view.at)) {
      if (isLive(this.objects.get(id), type)) count -= 1;
      if (isLive(this.readable(id, view), type)) count += 1;
    }
    return count;
  }

  /** The live objects of a type with changes a read replica has not seen yet (their copies there): extra index candidates. */
  pendingInView(type: ObjectType): DirectoryObject[] {
    const view = this.readView();
    if (!view || !this.replication) return [];
    return this.replication.pendingIds(view.at).map((id) => this.readable(id, view)).filter((o): o is DirectoryObject => isLive(o, type));
  }

  /** Whether the request reads a lagging replica (results differ from the primary's; no caching). */
  inReplicaView(): boolean {
    return this.readView() !== undefined;
  }

  /**
   * The last change sequence the current request sees whole: on a read replica, the one before the first
   * change it has not received (a delta round there must not move its token past a change it could not
   * deliver); else the store's.
   */
  visibleSeq(): number {
    const view = this.readView();
    if (!view || !this.replication) return this.seq;
    return Math.min(this.seq, this.replication.minPendingSeq(view.at) - 1);
  }

  deletedObjects(type: ObjectType): DirectoryObject[] {
    return [...this.allObjects()].filter((o) => o.type === type && o.deletedAt !== null).sort((a, b) => a.listSeq - b.listSeq);
  }

  /** Every object, live or soft-deleted (on a read replica: as it has them, including those deleted since). */
  allObjects(): IterableIterator<DirectoryObject> {
    const view = this.readView();
    return view ? this.replicaObjects(view) : this.objects.values();
  }

  private *replicaObjects(view: ReplicaView): IterableIterator<DirectoryObject> {
    const pending = new Set(this.replication?.pendingIds(view.at) ?? []);
    for (const obj of this.objects.values()) {
      const seen = pending.has(obj.id) ? this.readable(obj.id, view) : obj;
      if (seen) yield seen;
    }
    for (const id of pending) {
      if (this.objects.has(id)) continue;
      const ghost = this.readable(id, view);
      if (ghost) yield ghost;
    }
  }

  /**
   * An object found through a primary index: for a read replica, its copy there when it still matches, else
   * any object with pending changes whose copy matches; for a write, gated like `get`.
   */
  private indexed(primaryId: string | undefined, matches: (obj: DirectoryObject) => boolean): DirectoryObject | undefined {
    const view = this.readView();
    const ok = (o: DirectoryObject | undefined): o is DirectoryObject => o !== undefined && o.deletedAt === null && matches(o);
    if (!view || !this.replication) {
      const found = primaryId === undefined ? undefined : this.addressed(primaryId);
      return ok(found) ? found : undefined;
    }
    const hit = primaryId === undefined ? undefined : this.readable(primaryId, view);
    if (ok(hit)) return hit;
    for (const id of this.replication.pendingIds(view.at)) {
      const seen = this.readable(id, view);
      if (ok(seen)) return seen;
    }
    return undefined;
  }

  userByUpn(upn: string): DirectoryObject | undefined {
    const lower = upn.toLowerCase();
    const id = this.upnIndex.get(lower);
    if (!this.replication) return id === undefined ? undefined : this.get(id);
    return this.indexed(id,
      (o) => o.type === 'user' && typeof o.props['userPrincipalName'] === 'string' && o.props['userPrincipalName'].toLowerCase() === lower);
  }

  /** A live group by its uniqueName (alternate key; case-insensitive). */
  groupByUniqueName(name: string): DirectoryObject | undefined {
    const lower = name.toLowerCase();
    const id = this.uniqueNameIndex.get(lower);
    if (!this.replication) return id === undefined ? undefined : this.get(id);
    return this.indexed(id,
      (o) => o.type === 'group' && typeof o.props['uniqueName'] === 'string' && o.props['uniqueName'].toLowerCase() === lower);
  }

  /** The group (live or soft-deleted) holding a uniqueName, on the primary. */
  uniqueNameOwner(name: string): DirectoryObject | undefined {
    const id = this.uniqueNameIndex.get(name.toLowerCase());
    return id === undefined ? undefined : this.objects.get(id);
  }

  /** An index hit (primary) as a read replica has it; the primary's for other requests. */
  private indexHit(id: string | undefined): DirectoryObject | undefined {
    if (id === undefined) return undefined;
    return this.readable(id, this.readView());
  }

  /** Owner (live or soft-deleted) of an onPremisesImmutableId (case-sensitive). */
  immutableIdOwner(value: string): DirectoryObject | undefined {
    return this.indexHit(this.immutableIdIndex.get(value));
  }

  /** Objects (live or soft-deleted) whose onPremisesImmutableId equals the value ignoring case ($filter semantics). */
  immutableIdMatches(value: string): DirectoryObject[] {
    return [...(this.immutableIdLower.get(value.toLowerCase()) ?? [])].map((id) => this.indexHit(id)).filter((o): o is DirectoryObject => o !== undefined);
  }

  /** Owner (live or soft-deleted) of a proxy address such as `smtp:a@contoso.com` (case-insensitive). */
  proxyOwner(address: string): DirectoryObject | undefined {
    return this.indexHit(this.proxyIndex.get(address.toLowerCase()));
  }

  byAppId(type: 'application' | 'servicePrincipal', appId: string): DirectoryObject | undefined {
    const lower = appId.toLowerCase();
    const id = this.appIdIndex.get(`${type}:${lower}`);
    if (!this.replication) return id === undefined ? undefined : this.get(id);
    return this.indexed(id,
      (o) => o.type === type && typeof o.props['appId'] === 'string' && o.props['appId'].toLowerCase() === lower);
  }

  /** Whether an object is a direct member of a group or role (from the reverse index: a group of 100,000 is not scanned). */
  isMember(container: DirectoryObject, memberId: string): boolean {
    const view = this.readView();
    const replica = view && this.replication ? this.replication.viewOf(container.id, view.at) : undefined;
    if (replica !== undefined) return replica?.members.includes(memberId) ?? false;
    return this.memberOfIndex.get(memberId)?.has(container.id) ?? false;
  }

  /** Ids of the groups and directory roles an object is a direct member of. */
  memberOf(id: string): ReadonlySet<string> {
    const primary = this.memberOfIndex.get(id) ?? NO_CONTAINERS;
    const view = this.readView();
    if (!view || !this.replication) return primary;
    const pending = this.replication.pendingIds(view.at);
    if (pending.length === 0) return primary;
    const out = new Set(primary);
    for (const containerId of pending) {
      if (this.readable(containerId, view)?.members.includes(id) === true) out.add(containerId);
      else out.delete(containerId);
    }
    return out;
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
    if (obj.type === 'group' && typeof p['uniqueName'] === 'string') this.uniqueNameIndex.set(p['uniqueName'].toLowerCase(), obj.id);
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
    if (typeof p['uniqueName'] === 'string') drop(this.uniqueNameIndex, p['uniqueName'].toLowerCase());
  }

  /** Eventual consistency: keeps what the object was before a change (undefined: it is being created). */
  private replicate(id: string, before: DirectoryObject | undefined, seq: number | undefined): void {
    this.replication?.record(id, before, seq);
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
    if (this.replication) {
      this.replicate(obj.id, undefined, seq);
      if (obj.type === 'application' || obj.type === 'servicePrincipal') this.replication.recordToken(`object:${obj.id}`);
    }
    this.objects.set(obj.id, obj);
    this.liveMap(obj.type).set(obj.id, obj);
    this.index(obj);
    for (const memberId of input.members ?? []) {
      const member = this.objects.get(memberId.toLowerCase());
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
    this.replicate(obj.id, obj, seq);
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
    if (this.replication && (key === 'secrets' || key === 'keys')) {
      // Eventual consistency: the token endpoint learns of a new client secret or certificate after a lag.
      const keyIds = (v: Json | undefined): string[] => (Array.isArray(v) ? v.map((c) => String((c as JsonObject | null)?.['keyId'])) : []);
      const before = new Set(keyIds(obj.internal[key]));
      for (const keyId of keyIds(value)) if (!before.has(keyId)) this.replication.recordToken(`${key === 'secrets' ? 'secret' : 'key'}:${keyId}`);
    }
    obj.internal[key] = value;
    this.onChange();
  }

  /** Records a change that delta should report (e.g. open extensions) without property changes; `change` makes it. */
  touch(obj: DirectoryObject, property: string, change: () => void = () => undefined): void {
    const seq = this.nextSeq();
    this.replicate(obj.id, obj, seq);
    change();
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
    this.replicate(container.id, container, seq);
    for (const member of members) this.addMemberRaw(container, member, seq);
    this.onChange();
  }

  removeMember(container: DirectoryObject, memberId: string): boolean {
    const index = container.members.indexOf(memberId);
    if (index < 0) return false;
    const seq = this.nextSeq();
    this.replicate(container.id, container, seq);
    container.members.splice(index, 1);
    this.memberOfIndex.get(memberId)?.delete(container.id);
    const member = this.objects.get(memberId);
    this.memberEvent(container, { id: memberId, type: member?.type ?? 'user' }, true, seq);
    this.onChange();
    return true;
  }

  setOwners(obj: DirectoryObject, owners: string[]): void {
    this.replicate(obj.id, obj, undefined);
    obj.owners = owners;
    this.onChange();
  }

  /** A user's manager reference (a user or an organizational contact), or none. */
  setManager(obj: DirectoryObject, managerId: string | null): void {
    const seq = this.nextSeq();
    this.replicate(obj.id, obj, seq);
    if (managerId === null) delete obj.internal['managerId'];
    else obj.internal['managerId'] = managerId;
    obj.changeSeq = seq;
    obj.propSeq['manager'] = seq;
    this.onChange();
  }

  /** The live manager of a user: a reference to an object that is gone (deleted) reads as none. */
  managerOf(obj: DirectoryObject): DirectoryObject | undefined {
    const id = obj.internal['managerId'];
    const manager = typeof id === 'string' ? this.readable(id.toLowerCase(), this.readView()) : undefined;
    return isLive(manager) ? manager : undefined;
  }

  /** The containers of an object on the primary, with a copy of each kept for the replicas before it changes. */
  private containersChanging(id: string, seq: number): DirectoryObject[] {
    const out: DirectoryObject[] = [];
    for (const containerId of this.memberOfIndex.get(id) ?? NO_CONTAINERS) {
      const container = this.objects.get(containerId);
      if (!container) continue;
      this.replicate(container.id, container, seq);
      out.push(container);
    }
    return out;
  }

  /** Moves an object to the recycle bin (users, Microsoft 365 groups, applications). */
  softDelete(obj: DirectoryObject, now: number): void {
    const seq = this.nextSeq();
    this.replicate(obj.id, obj, seq);
    const containers = this.containersChanging(obj.id, seq);
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
    for (const container of containers) this.memberEvent(container, obj, true, seq);
    this.onChange();
  }

  restore(obj: DirectoryObject): void {
    const seq = this.nextSeq();
    this.replicate(obj.id, obj, seq);
    const containers = this.containersChanging(obj.id, seq);
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
    for (const container of containers) this.memberEvent(container, obj, false, seq);
    this.onChange();
  }

  /** Removes an object for good: memberships, ownerships and role assignments go with it. */
  hardDelete(obj: DirectoryObject, now: number): void {
    const seq = this.nextSeq();
    this.replicate(obj.id, obj, seq);
    this.unindex(obj);
    for (const container of this.containersChanging(obj.id, seq)) {
      const index = container.members.indexOf(obj.id);
      if (index >= 0) container.members.splice(index, 1);
      this.memberEvent(container, obj, true, seq);
    }
    this.memberOfIndex.delete(obj.id);
    for (const memberId of obj.members) this.memberOfIndex.get(memberId)?.delete(obj.id);
    for (const type of ['group', 'application'] as const) {
      for (const other of this.liveMap(type).values()) {
        if (!other.owners.includes(obj.id)) continue;
        this.replicate(other.id, other, undefined);
        other.owners = other.owners.filter((o) => o !== obj.id);
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
    this.replication?.recordAssignment(assignment.id, null);
    this.appRoleAssignments.push(assignment);
    this.onChange();
  }

  removeAppRoleAssignment(id: string): boolean {
    const removed = this.appRoleAssignments.find((a) => a.id === id);
    if (removed) this.replication?.recordAssignment(id, removed);
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
