/**
 * Service principals and app role assignments (application permissions with admin consent). Tokens
 * carry the roles assigned when they are issued, so a new assignment shows up in the next token.
 */
import { randomUUID } from 'node:crypto';
import { graphDateTime } from './clock.ts';
import type { GraphContext, GraphResult } from './context.ts';
import { badRequest, notFound, objectConflict, readOnlyProperty, requiredProperty, unknownProperty } from './errors.ts';
import type { AppRoleAssignment, DirectoryObject, JsonObject } from './model.ts';
import { PERMISSIONS } from './permissions.ts';
import { contextUrl, getOne, listCollection, projectObject } from './query.ts';
import { SERVICE_PRINCIPAL_RESOURCE } from './resources.ts';
import type { Router } from './router.ts';
import { checkBoolean, isGuid, requireObjectBody } from './validation.ts';

export function resolveServicePrincipal(ctx: GraphContext, key: string): DirectoryObject {
  const store = ctx.tenant.store;
  const appId = /^appId=(.*)$/i.exec(key)?.[1];
  const sp = appId !== undefined ? store.byAppId('servicePrincipal', appId) : isGuid(key) ? store.get(key, 'servicePrincipal') : undefined;
  if (!sp) throw notFound(appId ?? key);
  return sp;
}

function createServicePrincipal(ctx: GraphContext): GraphResult {
  const body = requireObjectBody(ctx.req.body);
  const appId = body['appId'];
  if (typeof appId !== 'string') throw requiredProperty('appId', 'ServicePrincipal');
  const store = ctx.tenant.store;
  const app = store.byAppId('application', appId);
  if (!app) throw badRequest(`The appId '${appId}' of the service principal does not reference a valid application object.`);
  if (store.onPrimary(() => store.byAppId('servicePrincipal', appId))) throw objectConflict('appId');
  const sp = store.insert({
    id: randomUUID(), type: 'servicePrincipal',
    props: {
      accountEnabled: true, appDisplayName: app.props['displayName'] ?? null, appId: appId.toLowerCase(),
      appOwnerOrganizationId: ctx.tenant.settings.tenantId, appRoleAssignmentRequired: false, appRoles: app.props['appRoles'] ?? [],
      deletedDateTime: null, description: null, displayName: app.props['displayName'] ?? null, keyCredentials: [],
      oauth2PermissionScopes: [], passwordCredentials: [], servicePrincipalNames: [appId.toLowerCase()],
      servicePrincipalType: 'Application', signInAudience: app.props['signInAudience'] ?? 'AzureADMyOrg', tags: [],
    },
  });
  return { status: 201, body: { '@odata.context': contextUrl(ctx, 'servicePrincipals', undefined, true), ...projectObject(ctx, sp, {}) } };
}

function updateServicePrincipal(ctx: GraphContext, key: string): GraphResult {
  const sp = resolveServicePrincipal(ctx, key);
  const body = requireObjectBody(ctx.req.body);
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(body)) {
    if (k.startsWith('@odata.')) continue;
    if (!SERVICE_PRINCIPAL_RESOURCE.knownProps.has(k)) throw unknownProperty(k);
    if (!['accountEnabled', 'appRoleAssignmentRequired', 'tags', 'description', 'displayName'].includes(k)) throw readOnlyProperty(k);
    if (k === 'accountEnabled' || k === 'appRoleAssignmentRequired') checkBoolean(v, k, 'ServicePrincipal');
    out[k] = v;
  }
  ctx.tenant.store.update(sp, out);
  return { status: 204 };
}

function assignmentJson(ctx: GraphContext, a: AppRoleAssignment): JsonObject {
  const store = ctx.tenant.store;
  return {
    id: a.id, deletedDateTime: null, appRoleId: a.appRoleId, createdDateTime: a.createdDateTime,
    principalDisplayName: store.getAny(a.principalId)?.props['displayName'] ?? null, principalId: a.principalId,
    principalType: a.principalType, resourceDisplayName: store.getAny(a.resourceId)?.props['displayName'] ?? null, resourceId: a.resourceId,
  };
}

function createAssignment(ctx: GraphContext, sp: DirectoryObject, side: 'principal' | 'resource'): GraphResult {
  const body = requireObjectBody(ctx.req.body);
  const store = ctx.tenant.store;
  const principalId = String(body['principalId'] ?? '').toLowerCase();
  const resourceId = String(body['resourceId'] ?? '').toLowerCase();
  const appRoleId = String(body['appRoleId'] ?? '').toLowerCase();
  if (!principalId) throw requiredProperty('principalId', 'AppRoleAssignment');
  if (!resourceId) throw requiredProperty('resourceId', 'AppRoleAssignment');
  if (!appRoleId) throw requiredProperty('appRoleId', 'AppRoleAssignment');
  if (side === 'principal' && principalId !== sp.id) throw badRequest('The principalId in the body must be the service principal of the request URL.');
  if (side === 'resource' && resourceId !== sp.id) throw badRequest('The resourceId in the body must be the service principal of the request URL.');
  const principal = store.get(principalId);
  if (!principal || !['servicePrincipal', 'user', 'group'].includes(principal.type)) throw notFound(principalId);
  const resource = store.get(resourceId, 'servicePrincipal');
  if (!resource) throw notFound(resourceId);
  const roles = Array.isArray(resource.props['appRoles']) ? resource.props['appRoles'] as JsonObject[] : [];
  if (appRoleId !== '00000000-0000-0000-0000-000000000000' && !roles.some((r) => String(r['id']).toLowerCase() === appRoleId)) {
    throw badRequest(`Permission being assigned was not found on application '${String(resource.props['appId'])}'.`);
  }
  if (store.appRoleAssignments.some((a) => a.principalId === principalId && a.resourceId === resourceId && a.appRoleId === appRoleId)) {
    throw badRequest('Permission being assigned already exists on the object');
  }
  const assignment: AppRoleAssignment = {
    id: randomUUID(), appRoleId, principalId, resourceId, createdDateTime: graphDateTime(ctx.tenant.clock.now()),
    principalType: principal.type === 'servicePrincipal' ? 'ServicePrincipal' : principal.type === 'user' ? 'User' : 'Group',
  };
  store.addAppRoleAssignment(assignment);
  const nav = side === 'principal' ? 'appRoleAssignments' : 'appRoleAssignedTo';
  return { status: 201, body: { '@odata.context': `${ctx.graphUrl}/$metadata#servicePrincipals('${sp.id}')/${nav}/$entity`, ...assignmentJson(ctx, assignment) } };
}

function listAssignments(ctx: GraphContext, sp: DirectoryObject, side: 'principal' | 'resource'): GraphResult {
  const items = ctx.tenant.store.appRoleAssignments.filter((a) => (side === 'principal' ? a.principalId : a.resourceId) === sp.id);
  const nav = side === 'principal' ? 'appRoleAssignments' : 'appRoleAssignedTo';
  return { status: 200, body: { '@odata.context': `${ctx.graphUrl}/$metadata#servicePrincipals('${sp.id}')/${nav}`, value: items.map((a) => assignmentJson(ctx, a)) } };
}

function deleteAssignment(ctx: GraphContext, sp: DirectoryObject, assignmentId: string): GraphResult {
  const a = ctx.tenant.store.appRoleAssignments.find((x) => x.id === assignmentId.toLowerCase() && (x.principalId === sp.id || x.resourceId === sp.id));
  if (!a) throw notFound(assignmentId);
  ctx.tenant.store.removeAppRoleAssignment(a.id);
  return { status: 204 };
}

export function registerServicePrincipalRoutes(router: Router): void {
  const id = (p: Readonly<Record<string, string>>): string => p['id'] ?? '';
  router.add('GET', 'servicePrincipals', PERMISSIONS.spRead, (ctx) => listCollection(ctx, {
    resource: SERVICE_PRINCIPAL_RESOURCE, items: ctx.tenant.store.liveObjects('servicePrincipal'), entitySet: 'servicePrincipals',
  }));
  router.add('POST', 'servicePrincipals', PERMISSIONS.spWrite, createServicePrincipal);
  router.add('GET', 'servicePrincipals/{id}', PERMISSIONS.spRead, (ctx, p) => getOne(ctx, resolveServicePrincipal(ctx, id(p))));
  router.add('PATCH', 'servicePrincipals/{id}', PERMISSIONS.spWrite, (ctx, p) => updateServicePrincipal(ctx, id(p)));
  router.add('DELETE', 'servicePrincipals/{id}', PERMISSIONS.spWrite, (ctx, p) => {
    ctx.tenant.store.hardDelete(resolveServicePrincipal(ctx, id(p)), ctx.tenant.clock.now());
    return { status: 204 };
  });
  router.add('GET', 'servicePrincipals/{id}/appRoleAssignments', PERMISSIONS.spRead,
    (ctx, p) => listAssignments(ctx, resolveServicePrincipal(ctx, id(p)), 'principal'), { ru: 2 });
  router.add('GET', 'servicePrincipals/{id}/appRoleAssignedTo', PERMISSIONS.spRead,
    (ctx, p) => listAssignments(ctx, resolveServicePrincipal(ctx, id(p)), 'resource'));
  router.add('POST', 'servicePrincipals/{id}/appRoleAssignments', PERMISSIONS.appRoleAssignmentWrite,
    (ctx, p) => createAssignment(ctx, resolveServicePrincipal(ctx, id(p)), 'principal'));
  router.add('POST', 'servicePrincipals/{id}/appRoleAssignedTo', PERMISSIONS.appRoleAssignmentWrite,
    (ctx, p) => createAssignment(ctx, resolveServicePrincipal(ctx, id(p)), 'resource'));
  router.add('DELETE', 'servicePrincipals/{id}/appRoleAssignments/{assignmentId}', PERMISSIONS.appRoleAssignmentWrite,
    (ctx, p) => deleteAssignment(ctx, resolveServicePrincipal(ctx, id(p)), p['assignmentId'] ?? ''));
  router.add('DELETE', 'servicePrincipals/{id}/appRoleAssignedTo/{assignmentId}', PERMISSIONS.appRoleAssignmentWrite,
    (ctx, p) => deleteAssignment(ctx, resolveServicePrincipal(ctx, id(p)), p['assignmentId'] ?? ''));
}
