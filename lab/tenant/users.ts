/**
 * Users (graph-reference.md §2): create with the documented validation, list/get by id or UPN, merge
 * PATCH, soft delete, `$count`, memberOf/transitiveMemberOf.
 */
import { randomUUID } from 'node:crypto';
import { NOT_VALID_REFERENCE_UPDATE } from './consistency.ts';
import type { GraphContext, GraphResult } from './context.ts';
import {
  badRequest, forbidden, invalidValue, notFound, objectConflict, readOnlyProperty, requiredProperty, syncedObject, unknownProperty,
} from './errors.ts';
import type { DirectoryObject, JsonObject } from './model.ts';
import { PERMISSIONS } from './permissions.ts';
import {
  DIRECTORY_OBJECT_RESOURCE, contextUrl, countCollection, getOne, listCollection, projectObject, type IndexLookup,
} from './query.ts';
import { emptyExtensionAttributes, newUserProps, proxyAddressesForMail } from './records.ts';
import { USER_RESOURCE, isExtensionPropertyName } from './resources.ts';
import type { Router } from './router.ts';
import { referencedId } from './groups.ts';
import { stringArray } from './store.ts';
import {
  checkBoolean, checkExtensionValue, checkMailNickname, checkPassword, checkString, checkStringArray, checkUserPrincipalName,
  isGuid, requireObjectBody,
} from './validation.ts';

const STRING_LIMITS: Readonly<Record<string, number>> = {
  displayName: 256, givenName: 64, surname: 64, jobTitle: 128, department: 64, companyName: 64, employeeId: 16,
  employeeType: 64, officeLocation: 128, city: 128, state: 128, country: 128, streetAddress: 1024, postalCode: 40,
  mobilePhone: 64, faxNumber: 64, preferredLanguage: 64, preferredDataLocation: 64, ageGroup: 32, consentProvidedForMinor: 32,
  employeeHireDate: 64, employeeLeaveDateTime: 64,
};

const WRITABLE = new Set([...Object.keys(STRING_LIMITS), 'accountEnabled', 'businessPhones', 'mail', 'mailNickname',
  'onPremisesExtensionAttributes', 'onPremisesImmutableId', 'otherMails', 'passwordPolicies', 'passwordProfile',
  'showInAddressList', 'usageLocation', 'userPrincipalName', 'userType', 'employeeOrgData']);

const REQUIRED_ON_CREATE = ['accountEnabled', 'displayName', 'mailNickname', 'passwordProfile', 'userPrincipalName'];
const NOT_NULLABLE = new Set(['accountEnabled', 'displayName', 'mailNickname', 'userPrincipalName', 'passwordProfile']);
/** Properties a cloud app may still change on an object synced from on-premises AD. */
const SYNCED_WRITABLE = new Set(['usageLocation']);

/** `/users/{id | userPrincipalName}` → the live user or 404. */
export function resolveUser(ctx: GraphContext, key: string): DirectoryObject {
  const store = ctx.tenant.store;
  const user = isGuid(key) ? store.get(key, 'user') : store.userByUpn(key);
  if (!user) throw notFound(key);
  return user;
}

type PreparedUserWrite = { props: JsonObject; password?: string };

/** Validates a POST or PATCH body and returns the properties to store (merged where Graph merges). */
export function prepareUserWrite(ctx: GraphContext, body: JsonObject, existing: DirectoryObject | undefined): PreparedUserWrite {
  const tenant = ctx.tenant;
  const store = tenant.store;
  const selfId = existing?.id;
  const out: JsonObject = {};
  let password: string | undefined;
  for (const [rawKey, value] of Object.entries(body)) {
    if (rawKey.startsWith('@odata.')) continue;
    if (rawKey === 'id') {
      if (existing && value === existing.id) continue;
      throw readOnlyProperty('id');
    }
    if (isExtensionPropertyName(rawKey)) {
      out[checkExtensionValue(store, rawKey, value, 'User')] = value;
      continue;
    }
    const key = [...USER_RESOURCE.knownProps].find((k) => k.toLowerCase() === rawKey.toLowerCase());
    if (!key) throw unknownProperty(rawKey);
    if (!WRITABLE.has(key)) throw readOnlyProperty(key);
    if (value === null && NOT_NULLABLE.has(key)) throw invalidValue(key, 'User');
    out[key] = value;
  }
  if (!existing) {
    for (const key of REQUIRED_ON_CREATE) if (out[key] === undefined) throw requiredProperty(key, 'User');
  }
  if (existing?.props['onPremisesSyncEnabled'] === true && Object.keys(out).some((k) => !SYNCED_WRITABLE.has(k))) throw syncedObject();

  for (const [key, value] of Object.entries(out)) {
    const limit = STRING_LIMITS[key];
    if (limit !== undefined) checkString(value, key, 'User', limit, !NOT_NULLABLE.has(key));
  }
  if (out['accountEnabled'] !== undefined) checkBoolean(out['accountEnabled'], 'accountEnabled', 'User');
  if (out['showInAddressList'] !== undefined) checkBoolean(out['showInAddressList'], 'showInAddressList', 'User', true);
  if (out['mailNickname'] !== undefined) checkMailNickname(out['mailNickname'], 'User', true);
  if (out['businessPhones'] !== undefined) checkStringArray(out['businessPhones'], 'businessPhones', 'User', 1, 64);
  if (out['otherMails'] !== undefined) checkStringArray(out['otherMails'], 'otherMails', 'User', 250, 250);
  if (out['usageLocation'] !== undefined && out['usageLocation'] !== null
    && (typeof out['usageLocation'] !== 'string' || !/^[A-Za-z]{2}$/.test(out['usageLocation']))) {
    throw invalidValue('usageLocation', 'User');
  }
  if (out['userType'] !== undefined && out['userType'] !== null && out['userType'] !== 'Member' && out['userType'] !== 'Guest') {
    throw invalidValue('userType', 'User');
  }
  if (out['passwordPolicies'] !== undefined && out['passwordPolicies'] !== null) {
    const policies = out['passwordPolicies'];
    if (typeof policies !== 'string' || !policies.split(',').every((p) => /^(DisablePasswordExpiration|DisableStrongPassword|None)$/i.test(p.trim()))) {
      throw invalidValue('passwordPolicies', 'User');
    }
  }

  const upn = out['userPrincipalName'];
  if (upn !== undefined) {
    checkUserPrincipalName(tenant, upn);
    const owner = store.onPrimary(() => store.userByUpn(String(upn)));
    if (owner && owner.id !== selfId) throw objectConflict('userPrincipalName');
  }

  const immutableId = out['onPremisesImmutableId'];
  if (immutableId !== undefined && immutableId !== null) {
    if (typeof immutableId !== 'string' || immutableId === '' || /[$_]/.test(immutableId) || immutableId.length > 256) {
      throw invalidValue('onPremisesImmutableId', 'User');
    }
    const owner = store.immutableIdOwner(immutableId);
    if (owner && owner.id !== selfId) throw objectConflict('onPremisesImmutableId', owner.id, 'User');
  }
  const finalUpn = String(upn ?? existing?.props['userPrincipalName'] ?? '');
  const finalImmutableId = immutableId !== undefined ? immutableId : existing?.props['onPremisesImmutableId'] ?? null;
  const upnDomain = tenant.domain(finalUpn.split('@')[1] ?? '');
  if (upnDomain?.type === 'Federated' && (finalImmutableId === null || finalImmutableId === '')) {
    if (!existing) throw badRequest('SourceAnchor is a required property for creation of a federated user.');
    throw invalidValue('onPremisesImmutableId', 'User');
  }

  if (out['passwordProfile'] !== undefined) {
    const profile = out['passwordProfile'];
    if (profile === null || typeof profile !== 'object' || Array.isArray(profile)) throw invalidValue('passwordProfile', 'User');
    if (existing && ctx.principal.kind === 'app'
      && !ctx.principal.roles.has('User-PasswordProfile.ReadWrite.All') && !ctx.principal.roles.has('Directory.ReadWrite.All')) {
      throw forbidden();
    }
    password = checkPassword(profile['password'], out['passwordPolicies'] ?? existing?.props['passwordPolicies']);
    delete out['passwordProfile'];
  }

  if (out['onPremisesExtensionAttributes'] !== undefined) {
    const attrs = out['onPremisesExtensionAttributes'];
    const merged: JsonObject = { ...emptyExtensionAttributes(), ...((existing?.props['onPremisesExtensionAttributes'] as JsonObject | null) ?? {}) };
    if (attrs !== null) {
      if (typeof attrs !== 'object' || Array.isArray(attrs)) throw invalidValue('onPremisesExtensionAttributes', 'User');
      for (const [name, v] of Object.entries(attrs)) {
        const canonical = Object.keys(merged).find((k) => k.toLowerCase() === name.toLowerCase());
        if (!canonical) throw unknownProperty(name);
        if (v !== null && (typeof v !== 'string' || v.length > 1024)) throw invalidValue(canonical, 'OnPremisesExtensionAttributes');
        merged[canonical] = v;
      }
    } else {
      for (const k of Object.keys(merged)) merged[k] = null;
    }
    out['onPremisesExtensionAttributes'] = merged;
  }

  if (out['mail'] !== undefined) {
    const mail = out['mail'];
    if (mail !== null && (typeof mail !== 'string' || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(mail) || mail.length > 256)) {
      throw invalidValue('mail', 'User');
    }
    if (typeof mail === 'string') {
      const owner = store.proxyOwner(`smtp:${mail}`);
      if (owner && owner.id !== selfId) throw objectConflict('proxyAddresses');
    }
    out['proxyAddresses'] = proxyAddressesForMail(stringArray(existing?.props['proxyAddresses']), typeof mail === 'string' ? mail : null);
  }
  return password !== undefined ? { props: out, password } : { props: out };
}

function denyAdminTarget(ctx: GraphContext, user: DirectoryObject): void {
  if (ctx.principal.kind === 'app' && ctx.tenant.isAdministrator(user.id) && !ctx.principal.roles.has('Directory.ReadWrite.All')) {
    throw forbidden();
  }
}

function createUser(ctx: GraphContext): GraphResult {
  const body = requireObjectBody(ctx.req.body);
  const { props, password } = prepareUserWrite(ctx, body, undefined);
  const id = randomUUID();
  const user = ctx.tenant.store.insert({
    id, type: 'user', props: newUserProps(id, props, ctx.tenant.clock.now()), internal: { password: password ?? null },
  });
  return {
    status: 201,
    headers: { Location: `${ctx.graphUrl}/directoryObjects/${id}/Microsoft.DirectoryServices.User` },
    body: { '@odata.context': contextUrl(ctx, 'users', undefined, true), ...projectObject(ctx, user, {}) },
  };
}

function updateUser(ctx: GraphContext, key: string): GraphResult {
  const user = resolveUser(ctx, key);
  const body = requireObjectBody(ctx.req.body);
  denyAdminTarget(ctx, user);
  const { props, password } = prepareUserWrite(ctx, body, user);
  ctx.tenant.store.update(user, props);
  if (password !== undefined) ctx.tenant.store.setInternal(user, 'password', password);
  return { status: 204 };
}

function deleteUser(ctx: GraphContext, key: string): GraphResult {
  const user = resolveUser(ctx, key);
  if (user.props['onPremisesSyncEnabled'] === true) throw syncedObject();
  denyAdminTarget(ctx, user);
  ctx.tenant.store.softDelete(user, ctx.tenant.clock.now());
  return { status: 204 };
}

/** Direct or transitive containers (groups and directory roles) of an object. */
export function containersOf(ctx: GraphContext, id: string, transitive: boolean): DirectoryObject[] {
  const store = ctx.tenant.store;
  const seen = new Set<string>();
  const queue = [...store.memberOf(id)];
  const out: DirectoryObject[] = [];
  for (let index = 0; index < queue.length; index += 1) {
    const next = queue[index] ?? '';
    if (seen.has(next)) continue;
    seen.add(next);
    const container = store.get(next);
    if (!container) continue;
    out.push(container);
    if (transitive) queue.push(...store.memberOf(next));
  }
  return out;
}

/** Index lookups that answer eq filters on users without scanning the directory. */
export function userLookup(ctx: GraphContext): IndexLookup {
  const store = ctx.tenant.store;
  const live = (o: DirectoryObject | undefined): DirectoryObject[] => (o && o.deletedAt === null && o.type === 'user' ? [o] : []);
  return (path, value) => {
    switch (path) {
      case 'id': return live(store.get(value));
      case 'userprincipalname': return live(store.userByUpn(value));
      case 'onpremisesimmutableid': return store.immutableIdMatches(value).flatMap(live);
      case 'mail': return live(store.proxyOwner(`smtp:${value}`));
      case 'proxyaddresses/any': return live(store.proxyOwner(value));
      default: return undefined;
    }
  };
}

function listMemberOf(ctx: GraphContext, key: string, transitive: boolean): GraphResult {
  const user = resolveUser(ctx, key);
  const items = containersOf(ctx, user.id, transitive);
  return listCollection(ctx, {
    resource: DIRECTORY_OBJECT_RESOURCE, items, seqOf: (_o, i) => i + 1, entitySet: 'directoryObjects', includeType: true,
  });
}

/** `/me`: the signed-in user of a delegated token. */
function me(ctx: GraphContext): DirectoryObject {
  if (ctx.principal.kind !== 'user') throw badRequest('/me request is only valid with delegated authentication flow.');
  return resolveUser(ctx, ctx.principal.userId);
}

/** `GET /users/{id}/manager`: the manager object, or 404 when the user has none (as Graph answers). */
function getManager(ctx: GraphContext, id: string): GraphResult {
  const user = resolveUser(ctx, id);
  const manager = ctx.tenant.store.managerOf(user);
  if (!manager) throw notFound('manager');
  const select = ctx.req.query.get('$select')?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return { status: 200, body: { '@odata.context': contextUrl(ctx, 'directoryObjects', undefined, true), ...projectObject(ctx, manager, { select, includeType: true }) } };
}

/** `PUT /users/{id}/manager/$ref` with `{"@odata.id": ".../directoryObjects/{managerId}"}`: a user or an organizational contact. */
function setManager(ctx: GraphContext, id: string): GraphResult {
  const user = resolveUser(ctx, id);
  const body = requireObjectBody(ctx.req.body);
  const refKey = Object.keys(body).find((k) => k.toLowerCase() === '@odata.id');
  const managerId = referencedId(refKey ? body[refKey] ?? null : null);
  const store = ctx.tenant.store;
  const manager = store.get(managerId);
  if (!manager) {
    // Eventual consistency: a manager the replica does not have yet is refused as an invalid reference.
    if (store.onPrimary(() => store.get(managerId))) throw badRequest(NOT_VALID_REFERENCE_UPDATE);
    throw notFound(managerId);
  }
  if (manager.type !== 'user' && manager.type !== 'orgContact') throw badRequest(`An object of type '${manager.type}' cannot be the manager of a user.`);
  if (manager.id === user.id) throw badRequest('A user cannot be their own manager.');
  if (user.props['onPremisesSyncEnabled'] === true) throw syncedObject();
  ctx.tenant.store.setManager(user, manager.id);
  return { status: 204 };
}

/** `DELETE /users/{id}/manager/$ref`: 404 when there is no manager to remove. */
function removeManager(ctx: GraphContext, id: string): GraphResult {
  const user = resolveUser(ctx, id);
  if (!ctx.tenant.store.managerOf(user)) throw notFound('manager');
  if (user.props['onPremisesSyncEnabled'] === true) throw syncedObject();
  ctx.tenant.store.setManager(user, null);
  return { status: 204 };
}

export function registerUserRoutes(router: Router): void {
  router.add('GET', 'me', PERMISSIONS.anyAuthenticated, (ctx) => getOne(ctx, me(ctx), { expand: ['extensions'] }));
  router.add('GET', 'me/memberOf', PERMISSIONS.anyAuthenticated, (ctx) => listMemberOf(ctx, me(ctx).id, false), { ru: 2 });
  router.add('GET', 'me/transitiveMemberOf', PERMISSIONS.anyAuthenticated, (ctx) => listMemberOf(ctx, me(ctx).id, true), { ru: 2 });
  router.add('GET', 'users', PERMISSIONS.userRead, (ctx) => listCollection(ctx, {
    resource: USER_RESOURCE, items: ctx.tenant.store.liveObjects('user'), entitySet: 'users', expand: ['extensions', 'manager'], lookup: userLookup(ctx),
  }), { ru: 2 });
  router.add('GET', 'users/$count', PERMISSIONS.userRead, (ctx) => countCollection(ctx, USER_RESOURCE, ctx.tenant.store.liveObjects('user')));
  router.add('POST', 'users', PERMISSIONS.userWrite, createUser);
  router.add('GET', 'users/{id}', PERMISSIONS.userRead, (ctx, p) => getOne(ctx, resolveUser(ctx, p['id'] ?? ''), { expand: ['extensions', 'manager'] }));
  router.add('GET', 'users/{id}/manager', PERMISSIONS.userRead, (ctx, p) => getManager(ctx, p['id'] ?? ''));
  router.add('PUT', 'users/{id}/manager/$ref', PERMISSIONS.userWrite, (ctx, p) => setManager(ctx, p['id'] ?? ''));
  router.add('DELETE', 'users/{id}/manager/$ref', PERMISSIONS.userWrite, (ctx, p) => removeManager(ctx, p['id'] ?? ''));
  router.add('PATCH', 'users/{id}', PERMISSIONS.userWrite, (ctx, p) => updateUser(ctx, p['id'] ?? ''));
  router.add('DELETE', 'users/{id}', PERMISSIONS.userWrite, (ctx, p) => deleteUser(ctx, p['id'] ?? ''));
  router.add('GET', 'users/{id}/memberOf', PERMISSIONS.userRead, (ctx, p) => listMemberOf(ctx, p['id'] ?? '', false), { ru: 2 });
  router.add('GET', 'users/{id}/transitiveMemberOf', PERMISSIONS.userRead, (ctx, p) => listMemberOf(ctx, p['id'] ?? '', true), { ru: 2 });
}

