/**
 * Groups and membership (graph-reference.md §3): create/patch validation including the mail-enabled
 * refusal, `members@odata.bind` (≤20, atomic), `$ref` add/remove, the allowed member-type matrix,
 * members/transitiveMembers listings, security-group hard delete vs Microsoft 365 soft delete; the
 * `uniqueName` alternate key (`/groups(uniqueName='…')`) and upsert (`PATCH` with `Prefer: create-if-missing`).
 */
import { randomUUID } from 'node:crypto';
import { REFERENCED_OBJECT_MISSING } from './consistency.ts';
import type { GraphContext, GraphRequest, GraphResult } from './context.ts';
import {
  badRequest, invalidValue, notFound, objectConflict, readOnlyProperty, requiredProperty, syncedObject, unknownProperty, unsupportedQuery,
} from './errors.ts';
import type { DirectoryObject, Json, JsonObject } from './model.ts';
import { PERMISSIONS } from './permissions.ts';
import {
  DIRECTORY_OBJECT_RESOURCE, contextUrl, countCollection, getOne, listCollection, projectObject, type IndexLookup,
} from './query.ts';
import { isUnifiedGroup, newGroupProps } from './records.ts';
import { GROUP_RESOURCE, isExtensionPropertyName, resourceByCast } from './resources.ts';
import type { Router } from './router.ts';
import { stringArray } from './store.ts';
import type { ThrottleBudgets } from './throttling.ts';
import { checkBoolean, checkExtensionValue, checkMailNickname, checkString, isGuid, requireObjectBody } from './validation.ts';

const MAIL_ENABLED_REFUSAL = 'The service does not currently support writes of mail-enabled groups. ' +
  'Please ensure that the mail-enablement property is unset and the security-enablement property is set.';
const ALREADY_MEMBER = "One or more added object references already exist for the following modified properties: 'members'.";
const UPDATABLE = new Set(['description', 'displayName', 'mailNickname', 'visibility', 'membershipRule', 'membershipRuleProcessingState',
  'securityEnabled', 'mailEnabled', 'classification', 'preferredLanguage', 'theme', 'preferredDataLocation']);
const CREATABLE = new Set([...UPDATABLE, 'groupTypes', 'isAssignableToRole', 'uniqueName']);
/** [UNCONFIRMED] the upsert body naming another uniqueName than its URL. */
export const UNIQUE_NAME_MISMATCH = "The uniqueName in the request body does not match the uniqueName of the request URL.";
const CREATE_IF_MISSING = /(^|[\s,;])create-if-missing(?=$|[\s,;])/i;

/** The uniqueName of an alternate-key segment: `groups(uniqueName='x')` (the router makes it `uniqueName=x`) or `groups/(uniqueName='x')`. */
function uniqueNameKey(key: string): string | undefined {
  const plain = /^uniqueName=(.*)$/is.exec(key)?.[1];
  if (plain !== undefined) return plain;
  return /^\(\s*uniqueName\s*=\s*'(.*)'\s*\)$/is.exec(key)?.[1]?.replaceAll("''", "'");
}

/** `/groups/{id}` or `/groups(uniqueName='…')`: the live group or 404. */
export function resolveGroup(ctx: GraphContext, key: string): DirectoryObject {
  const store = ctx.tenant.store;
  const name = uniqueNameKey(key);
  const group = name !== undefined ? store.groupByUniqueName(name) : store.get(key, 'group');
  if (!group) throw notFound(name ?? key);
  return group;
}

/**
 * An object named in `members@odata.bind` / `owners@odata.bind`: 404 when it does not exist, 400 when it
 * exists but the replica serving the request does not have it yet (eventual consistency; documented for
 * groups created a moment ago).
 */
function boundObject(ctx: GraphContext, id: string): DirectoryObject {
  const store = ctx.tenant.store;
  const obj = store.get(id);
  if (obj) return obj;
  if (store.onPrimary(() => store.get(id))) throw badRequest(REFERENCED_OBJECT_MISSING);
  throw notFound(id);
}

/** The object id named by an `@odata.id` / `@odata.bind` URL (any host; `/directoryObjects/{id}`, `/users/{id}`…). */
export function referencedId(url: Json | undefined): string {
  if (typeof url !== 'string' || url.trim() === '') throw badRequest("Invalid object identifier ''.");
  const last = url.replace(/\/\$ref$/, '').replace(/\/+$/, '').split('/').pop() ?? '';
  const key = /^[A-Za-z]+\('?([^')]*)'?\)$/.exec(last)?.[1] ?? last;
  if (!isGuid(key)) throw badRequest(`Invalid object identifier '${key}'.`);
  return key.toLowerCase();
}

function isDynamic(props: JsonObject): boolean {
  return stringArray(props['groupTypes']).some((t) => t.toLowerCase() === 'dynamicmembership');
}

/** The allowed member types matrix (groups-allowed-member-types.md). */
function checkMemberAllowed(group: DirectoryObject, member: DirectoryObject): void {
  const unified = isUnifiedGroup(group.props);
  if (member.id === group.id) throw badRequest('A group cannot be a member of itself.');
  const allowed = unified
    ? member.type === 'user'
    : member.type === 'user' || member.type === 'orgContact' || member.type === 'servicePrincipal' || member.type === 'device'
      || (member.type === 'group' && !isUnifiedGroup(member.props));
  if (!allowed) {
    throw badRequest(`An object of type '${member.type}' cannot be added as a member of a ${unified ? 'Microsoft 365' : 'security'} group.`);
  }
}

function checkMembershipWritable(group: DirectoryObject): void {
  if (group.props['onPremisesSyncEnabled'] === true) throw syncedObject();
  if (isDynamic(group.props)) throw badRequest('Members of a group with dynamic membership cannot be added or removed manually.');
}

/**
 * Resolves and validates a list of member references for one group; atomic (throws before any change).
 * `bind`: from `members@odata.bind` (an object the replica does not have yet → 400), else `members/$ref` (→ 404).
 */
function resolveNewMembers(ctx: GraphContext, group: DirectoryObject, refs: ReadonlyArray<Json>, bind: boolean): DirectoryObject[] {
  const seen = new Set<string>();
  const members: DirectoryObject[] = [];
  for (const ref of refs) {
    const id = referencedId(ref);
    const member = bind ? boundObject(ctx, id) : ctx.tenant.store.get(id);
    if (!member) throw notFound(id);
    if (seen.has(id) || ctx.tenant.store.isMember(group, id)) throw badRequest(ALREADY_MEMBER);
    seen.add(id);
    checkMemberAllowed(group, member);
    members.push(member);
  }
  return members;
}

function bindList(body: JsonObject, key: string): Json[] | undefined {
  const found = Object.keys(body).find((k) => k.toLowerCase() === key.toLowerCase());
  if (found === undefined) return undefined;
  const value = body[found];
  if (!Array.isArray(value)) throw badRequest(`Invalid value for '${key}': an array of URLs is expected.`);
  return value;
}

type PreparedGroup = { props: JsonObject; memberRefs: Json[]; ownerRefs: Json[] };

/** uniqueNames are compared ignoring case (as the alternate key is looked up). */
function sameUniqueName(a: Json | undefined, b: Json | undefined): boolean {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
}

/** uniqueName on create: a string of 1–256 characters, unique among live and soft-deleted groups (checked on the primary). */
function checkUniqueName(ctx: GraphContext, value: Json): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw invalidValue('uniqueName', 'Group');
  if (ctx.tenant.store.uniqueNameOwner(value)) throw objectConflict('uniqueName');
}

function prepareGroupWrite(ctx: GraphContext, body: JsonObject, existing: DirectoryObject | undefined, urlUniqueName?: string): PreparedGroup {
  const store = ctx.tenant.store;
  const memberRefs = bindList(body, 'members@odata.bind') ?? [];
  const ownerRefs = bindList(body, 'owners@odata.bind') ?? [];
  if (memberRefs.length + ownerRefs.length > 20) {
    throw badRequest('A maximum of 20 relationships, such as owners and members, can be added in a single request.');
  }
  const out: JsonObject = {};
  for (const [rawKey, value] of Object.entries(body)) {
    if (rawKey.startsWith('@odata.') || /@odata\.bind$/i.test(rawKey)) continue;
    if (rawKey === 'id') {
      if (existing && value === existing.id) continue;
      throw readOnlyProperty('id');
    }
    if (isExtensionPropertyName(rawKey)) {
      out[checkExtensionValue(store, rawKey, value, 'Group')] = value;
      continue;
    }
    const key = [...GROUP_RESOURCE.knownProps].find((k) => k.toLowerCase() === rawKey.toLowerCase());
    if (!key) throw unknownProperty(rawKey);
    if (key === 'uniqueName' && existing && sameUniqueName(value, existing.props['uniqueName'])) continue;
    if (!(existing ? UPDATABLE : CREATABLE).has(key)) throw readOnlyProperty(key);
    out[key] = value;
  }
  if (!existing) {
    if (urlUniqueName !== undefined) {
      if (out['uniqueName'] !== undefined && out['uniqueName'] !== null && !sameUniqueName(out['uniqueName'], urlUniqueName)) throw badRequest(UNIQUE_NAME_MISMATCH);
      out['uniqueName'] = urlUniqueName;
    }
    if (out['uniqueName'] === null) delete out['uniqueName'];
    if (out['uniqueName'] !== undefined) checkUniqueName(ctx, out['uniqueName']);
  }
  if (existing && existing.props['onPremisesSyncEnabled'] === true && (Object.keys(out).length > 0 || memberRefs.length > 0 || ownerRefs.length > 0)) {
    throw syncedObject();
  }
  if (!existing) {
    for (const key of ['displayName', 'mailEnabled', 'mailNickname', 'securityEnabled']) {
      if (out[key] === undefined || out[key] === null) throw requiredProperty(key, 'Group');
    }
  }
  if (out['displayName'] !== undefined) {
    checkString(out['displayName'], 'displayName', 'Group', 256, false);
    if (out['displayName'] === '') throw invalidValue('displayName', 'Group');
  }
  if (out['description'] !== undefined) checkString(out['description'], 'description', 'Group', 1024);
  if (out['mailEnabled'] !== undefined) checkBoolean(out['mailEnabled'], 'mailEnabled', 'Group');
  if (out['securityEnabled'] !== undefined) checkBoolean(out['securityEnabled'], 'securityEnabled', 'Group');
  if (out['isAssignableToRole'] !== undefined) checkBoolean(out['isAssignableToRole'], 'isAssignableToRole', 'Group', true);
  if (out['groupTypes'] !== undefined) {
    const types = out['groupTypes'];
    if (!Array.isArray(types) || types.some((t) => typeof t !== 'string' || !/^(Unified|DynamicMembership)$/i.test(t))) {
      throw invalidValue('groupTypes', 'Group');
    }
  }
  const merged: JsonObject = { ...(existing?.props ?? { groupTypes: [] }), ...out };
  const unified = isUnifiedGroup(merged);
  if (out['mailEnabled'] !== undefined || out['securityEnabled'] !== undefined || !existing) {
    if (!unified && (merged['mailEnabled'] === true || merged['securityEnabled'] !== true)) throw badRequest(MAIL_ENABLED_REFUSAL);
    if (unified && merged['mailEnabled'] !== true) throw invalidValue('mailEnabled', 'Group');
  }
  if (out['mailNickname'] !== undefined) {
    const nick = checkMailNickname(out['mailNickname'], 'Group', false);
    if (unified) {
      for (const other of store.liveObjects('group')) {
        if (other.id !== existing?.id && isUnifiedGroup(other.props) && String(other.props['mailNickname']).toLowerCase() === nick.toLowerCase()) {
          throw objectConflict('mailNickname');
        }
      }
      if (!existing) {
        const owner = store.proxyOwner(`smtp:${nick}@${ctx.tenant.defaultDomain()}`);
        if (owner) throw objectConflict('proxyAddresses');
      }
    }
  }
  if (out['visibility'] !== undefined && out['visibility'] !== null
    && !(typeof out['visibility'] === 'string' && /^(Public|Private|HiddenMembership)$/.test(out['visibility']))) {
    throw invalidValue('visibility', 'Group');
  }
  if (isDynamic(merged)) {
    if (typeof merged['membershipRule'] !== 'string' || merged['membershipRule'] === '') {
      throw badRequest("A value is required for property 'membershipRule'.");
    }
    if (!existing && out['membershipRuleProcessingState'] === undefined) out['membershipRuleProcessingState'] = 'On';
  }
  return { props: out, memberRefs, ownerRefs };
}

/** `POST /groups`, or an upsert that creates (`urlUniqueName` from `PATCH /groups(uniqueName='…')`). */
function createGroup(ctx: GraphContext, urlUniqueName?: string): GraphResult {
  const body = requireObjectBody(ctx.req.body);
  const { props, memberRefs, ownerRefs } = prepareGroupWrite(ctx, body, undefined, urlUniqueName);
  const store = ctx.tenant.store;
  const id = randomUUID();
  const full = newGroupProps(id, props, ctx.tenant.clock.now(), { defaultDomain: ctx.tenant.defaultDomain(), initialDomain: ctx.tenant.settings.initialDomain });
  const draft: DirectoryObject = {
    id, type: 'group', props: full, members: [], owners: [], extensions: [], internal: {}, listSeq: 0, changeSeq: 0, baseSeq: 0, propSeq: {}, deletedAt: null,
  };
  if (memberRefs.length > 0 && isDynamic(full)) throw badRequest('Members of a group with dynamic membership cannot be added or removed manually.');
  const members = resolveNewMembers(ctx, draft, memberRefs, true);
  const owners = ownerRefs.map((ref) => boundObject(ctx, referencedId(ref)).id);
  const group = store.insert({ id, type: 'group', props: full, owners: [...new Set(owners)] });
  store.addMembers(group, members);
  return {
    status: 201,
    headers: { Location: `${ctx.graphUrl}/directoryObjects/${id}/Microsoft.DirectoryServices.Group` },
    body: { '@odata.context': contextUrl(ctx, 'groups', undefined, true), ...projectObject(ctx, group, {}) },
  };
}

/**
 * `PATCH /groups/{id}`; with `Prefer: create-if-missing` on `/groups(uniqueName='…')` an upsert: 201 and the new
 * group when none has that uniqueName, else the update (204). The upsert looks the group up on the primary
 * (writes are serialized there), so it updates a group created a moment ago even when the replica serving the
 * request does not have it yet.
 */
function patchGroup(ctx: GraphContext, key: string): GraphResult {
  const name = uniqueNameKey(key);
  if (name !== undefined && CREATE_IF_MISSING.test(ctx.req.headers['prefer'] ?? '')) {
    const store = ctx.tenant.store;
    const existing = store.onPrimary(() => store.groupByUniqueName(name));
    return existing ? updateGroup(ctx, existing) : createGroup(ctx, name);
  }
  return updateGroup(ctx, resolveGroup(ctx, key));
}

function updateGroup(ctx: GraphContext, group: DirectoryObject): GraphResult {
  const body = requireObjectBody(ctx.req.body);
  const { props, memberRefs, ownerRefs } = prepareGroupWrite(ctx, body, group);
  if (memberRefs.length > 0) checkMembershipWritable(group);
  const members = resolveNewMembers(ctx, group, memberRefs, true);
  const owners = ownerRefs.map((ref) => {
    const ownerId = boundObject(ctx, referencedId(ref)).id;
    if (group.owners.includes(ownerId)) throw badRequest("One or more added object references already exist for the following modified properties: 'owners'.");
    return ownerId;
  });
  const store = ctx.tenant.store;
  store.update(group, props);
  store.addMembers(group, members);
  if (owners.length > 0) store.setOwners(group, [...group.owners, ...owners]);
  return { status: 204 };
}

function deleteGroup(ctx: GraphContext, id: string): GraphResult {
  const group = resolveGroup(ctx, id);
  if (group.props['onPremisesSyncEnabled'] === true) throw syncedObject();
  const now = ctx.tenant.clock.now();
  if (isUnifiedGroup(group.props)) ctx.tenant.store.softDelete(group, now);
  else ctx.tenant.store.hardDelete(group, now);
  return { status: 204 };
}

function addMemberRef(ctx: GraphContext, id: string): GraphResult {
  const group = resolveGroup(ctx, id);
  const body = requireObjectBody(ctx.req.body);
  const refKey = Object.keys(body).find((k) => k.toLowerCase() === '@odata.id');
  checkMembershipWritable(group);
  const members = resolveNewMembers(ctx, group, [refKey ? body[refKey] ?? null : null], false);
  ctx.tenant.store.addMembers(group, members);
  return { status: 204 };
}

function removeMemberRef(ctx: GraphContext, id: string, memberId: string): GraphResult {
  const group = resolveGroup(ctx, id);
  checkMembershipWritable(group);
  const member = ctx.tenant.store.get(memberId);
  if (!member || !ctx.tenant.store.isMember(group, member.id)) throw notFound(group.id);
  ctx.tenant.store.removeMember(group, member.id);
  return { status: 204 };
}

/** `DELETE /groups/{g}/members/{m}` without `/$ref` deletes the member object itself (documented). */
function deleteMemberObject(ctx: GraphContext, id: string, memberId: string): GraphResult {
  const group = resolveGroup(ctx, id);
  const member = ctx.tenant.store.get(memberId);
  if (!member || !ctx.tenant.store.isMember(group, member.id)) throw notFound(group.id);
  if (member.props['onPremisesSyncEnabled'] === true) throw syncedObject();
  const now = ctx.tenant.clock.now();
  if (member.type === 'user' || (member.type === 'group' && isUnifiedGroup(member.props))) ctx.tenant.store.softDelete(member, now);
  else ctx.tenant.store.hardDelete(member, now);
  return { status: 204 };
}

export function liveMembers(ctx: GraphContext, group: DirectoryObject, transitive: boolean): DirectoryObject[] {
  const store = ctx.tenant.store;
  const out: DirectoryObject[] = [];
  const seen = new Set<string>([group.id]);
  const queue = [...group.members];
  for (let next = 0; next < queue.length; next += 1) {
    const id = queue[next] ?? '';
    if (seen.has(id)) continue;
    seen.add(id);
    const member = store.get(id);
    if (!member) continue;
    out.push(member);
    if (transitive && member.type === 'group') queue.push(...member.members);
  }
  return out;
}

function listMembers(ctx: GraphContext, id: string, transitive: boolean, cast?: string): GraphResult {
  const group = resolveGroup(ctx, id);
  let items = liveMembers(ctx, group, transitive);
  let resource = DIRECTORY_OBJECT_RESOURCE;
  if (cast !== undefined) {
    const castResource = resourceByCast(cast);
    if (!castResource) throw badRequest(`Resource not found for the segment '${cast}'.`);
    if (!ctx.advanced) {
      throw unsupportedQuery('OData cast segments on directory relationships require advanced query parameters: ' +
        'add $count=true and the ConsistencyLevel: eventual header.');
    }
    items = items.filter((m) => m.type === castResource.type);
    resource = castResource;
  }
  const filterOrSearch = ctx.req.query.has('$filter') || ctx.req.query.has('$search');
  if (filterOrSearch && !ctx.advanced && ctx.req.query.has('$filter')) {
    throw unsupportedQuery('Filtering group members requires advanced query parameters: add $count=true and the ConsistencyLevel: eventual header.');
  }
  return listCollection(ctx, {
    resource, items, seqOf: (_o, i) => i + 1, entitySet: cast ? `directoryObjects/${cast}` : 'directoryObjects', includeType: true,
  });
}

function groupLookup(ctx: GraphContext): IndexLookup {
  const store = ctx.tenant.store;
  const live = (o: DirectoryObject | undefined): DirectoryObject[] => (o && o.deletedAt === null && o.type === 'group' ? [o] : []);
  return (path, value) => {
    switch (path) {
      case 'id': return live(store.get(value));
      case 'mail': return live(store.proxyOwner(`smtp:${value}`));
      case 'proxyaddresses/any': return live(store.proxyOwner(value));
      case 'uniquename': return live(store.groupByUniqueName(value));
      default: return undefined;
    }
  };
}

/** A group write: one request (§8.1), or ⌈N/k⌉ for N members bound when the tenant charges per member (`membersPerBindWrite`). */
function membersWriteCost(req: GraphRequest, budgets: ThrottleBudgets): number {
  const perWrite = budgets.membersPerBindWrite;
  const body = req.body;
  if (perWrite === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) return 1;
  const key = Object.keys(body).find((k) => k.toLowerCase() === 'members@odata.bind');
  const n = key && Array.isArray(body[key]) ? (body[key] as Json[]).length : 0;
  return Math.max(1, Math.ceil(n / perWrite));
}

export function registerGroupRoutes(router: Router): void {
  const store = (ctx: GraphContext): Iterable<DirectoryObject> => ctx.tenant.store.liveObjects('group');
  router.add('GET', 'groups', PERMISSIONS.groupRead, (ctx) => listCollection(ctx, {
    resource: GROUP_RESOURCE, items: store(ctx), entitySet: 'groups', expand: ['members', 'owners', 'extensions'], lookup: groupLookup(ctx),
  }));
  router.add('GET', 'groups/$count', PERMISSIONS.groupRead, (ctx) => countCollection(ctx, GROUP_RESOURCE, store(ctx)));
  router.add('POST', 'groups', PERMISSIONS.groupCreate, (ctx) => createGroup(ctx), { write: membersWriteCost });
  router.add('GET', 'groups/{id}', PERMISSIONS.groupRead, (ctx, p) => getOne(ctx, resolveGroup(ctx, p['id'] ?? ''), { expand: ['members', 'owners', 'extensions'] }));
  router.add('PATCH', 'groups/{id}', PERMISSIONS.groupWrite, (ctx, p) => patchGroup(ctx, p['id'] ?? ''), { write: membersWriteCost });
  router.add('DELETE', 'groups/{id}', PERMISSIONS.groupWrite, (ctx, p) => deleteGroup(ctx, p['id'] ?? ''));
  router.add('GET', 'groups/{id}/members', PERMISSIONS.groupRead, (ctx, p) => listMembers(ctx, p['id'] ?? '', false), { ru: 3 });
  router.add('GET', 'groups/{id}/members/$count', PERMISSIONS.groupRead,
    (ctx, p) => countCollection(ctx, DIRECTORY_OBJECT_RESOURCE, liveMembers(ctx, resolveGroup(ctx, p['id'] ?? ''), false)), { ru: 3 });
  router.add('GET', 'groups/{id}/members/{cast}', PERMISSIONS.groupRead, (ctx, p) => listMembers(ctx, p['id'] ?? '', false, p['cast']), { ru: 3 });
  router.add('GET', 'groups/{id}/transitiveMembers', PERMISSIONS.groupRead, (ctx, p) => listMembers(ctx, p['id'] ?? '', true), { ru: 5 });
  router.add('GET', 'groups/{id}/transitiveMembers/{cast}', PERMISSIONS.groupRead, (ctx, p) => listMembers(ctx, p['id'] ?? '', true, p['cast']), { ru: 5 });
  router.add('POST', 'groups/{id}/members/$ref', PERMISSIONS.memberWrite, (ctx, p) => addMemberRef(ctx, p['id'] ?? ''));
  router.add('DELETE', 'groups/{id}/members/{memberId}/$ref', PERMISSIONS.memberWrite, (ctx, p) => removeMemberRef(ctx, p['id'] ?? '', p['memberId'] ?? ''));
  router.add('DELETE', 'groups/{id}/members/{memberId}', PERMISSIONS.memberWrite, (ctx, p) => deleteMemberObject(ctx, p['id'] ?? '', p['memberId'] ?? ''));
  router.add('GET', 'groups/{id}/owners', PERMISSIONS.groupRead, (ctx, p) => {
    const group = resolveGroup(ctx, p['id'] ?? '');
    const items = group.owners.map((o) => ctx.tenant.store.get(o)).filter((o): o is DirectoryObject => o !== undefined);
    return listCollection(ctx, { resource: DIRECTORY_OBJECT_RESOURCE, items, seqOf: (_o, i) => i + 1, entitySet: 'directoryObjects', includeType: true });
  }, { ru: 2 });
}
