/**
 * Who the administrators are: activated `directoryRoles` with members, and the unified RBAC view
 * `/roleManagement/directory/roleAssignments` (filter by principalId / roleDefinitionId) and
 * `/roleDefinitions`. Also `/directoryObjects/{id}`, getByIds and getAvailableExtensionProperties.
 */
import type { GraphContext, GraphResult } from './context.ts';
import { badRequest, notFound } from './errors.ts';
import type { DirectoryObject, Json, JsonObject } from './model.ts';
import { evaluateFilter, parseFilter, validateFilter } from './odata-filter.ts';
import { PERMISSIONS } from './permissions.ts';
import { DIRECTORY_OBJECT_RESOURCE, getOne, listCollection, projectObject } from './query.ts';
import { DEVICE_RESOURCE, DIRECTORY_ROLE_RESOURCE, type FilterCaps } from './resources.ts';
import type { Router } from './router.ts';
import { extensionPropertyJson } from './applications.ts';
import { DIRECTORY_ROLE_TEMPLATES } from './seed.ts';
import { isGuid, requireObjectBody } from './validation.ts';

function resolveRole(ctx: GraphContext, key: string): DirectoryObject {
  const template = /^roleTemplateId=(.*)$/i.exec(key)?.[1];
  const role = template !== undefined
    ? [...ctx.tenant.store.liveObjects('directoryRole')].find((r) => String(r.props['roleTemplateId']).toLowerCase() === template.toLowerCase())
    : ctx.tenant.store.get(key, 'directoryRole');
  if (!role) throw notFound(template ?? key);
  return role;
}

function assignmentId(roleTemplateId: string, principalId: string): string {
  return Buffer.from(`${roleTemplateId}|${principalId}`).toString('base64url');
}

/** Filters plain JSON records with the OData engine (roleAssignments, roleDefinitions). */
function filterRecords(ctx: GraphContext, records: JsonObject[], caps: Record<string, FilterCaps>, resourceName: string): JsonObject[] {
  const raw = ctx.req.query.get('$filter');
  if (raw === null || raw.trim() === '') return records;
  const expr = parseFilter(raw);
  validateFilter(expr, { capsFor: (p) => caps[p], resourceName, advanced: ctx.advanced });
  return records.filter((r) => evaluateFilter(expr, (path) => r[path] as Json | undefined));
}

function roleAssignments(ctx: GraphContext): GraphResult {
  const records: JsonObject[] = [];
  for (const role of ctx.tenant.store.liveObjects('directoryRole')) {
    const templateId = String(role.props['roleTemplateId']);
    for (const memberId of role.members) {
      if (!ctx.tenant.store.get(memberId)) continue;
      records.push({ id: assignmentId(templateId, memberId), principalId: memberId, roleDefinitionId: templateId, directoryScopeId: '/' });
    }
  }
  const guid: FilterCaps = { type: 'guid', eq: 'default' };
  const filtered = filterRecords(ctx, records, { principalId: guid, roleDefinitionId: guid, directoryScopeId: { type: 'string', eq: 'default' } }, 'UnifiedRoleAssignment');
  const expand = (ctx.req.query.get('$expand') ?? '').toLowerCase();
  const value = filtered.map((r) => {
    if (expand !== 'principal') return r;
    const principal = ctx.tenant.store.get(String(r['principalId']));
    return { ...r, principal: principal ? projectObject(ctx, principal, { includeType: true }) : null };
  });
  return { status: 200, body: { '@odata.context': `${ctx.graphUrl}/$metadata#roleManagement/directory/roleAssignments`, value } };
}

function roleDefinitions(ctx: GraphContext): GraphResult {
  const records: JsonObject[] = Object.entries(DIRECTORY_ROLE_TEMPLATES).map(([displayName, id]) => ({
    id, description: `${displayName} (emulated)`, displayName, isBuiltIn: true, isEnabled: true, templateId: id, version: '1',
  }));
  const filtered = filterRecords(ctx, records, { id: { type: 'guid', eq: 'default' }, displayName: { type: 'string', eq: 'default', startsWith: 'default' }, templateId: { type: 'guid', eq: 'default' } }, 'UnifiedRoleDefinition');
  return { status: 200, body: { '@odata.context': `${ctx.graphUrl}/$metadata#roleManagement/directory/roleDefinitions`, value: filtered } };
}

function getByIds(ctx: GraphContext): GraphResult {
  const body = requireObjectBody(ctx.req.body);
  const ids = body['ids'];
  if (!Array.isArray(ids) || ids.length > 1000) throw badRequest("Invalid value for 'ids'.");
  const types = Array.isArray(body['types']) ? body['types'].map((t) => String(t).toLowerCase()) : undefined;
  const value = ids
    .map((id) => (typeof id === 'string' ? ctx.tenant.store.get(id) : undefined))
    .filter((o): o is DirectoryObject => o !== undefined && (!types || types.includes(o.type.toLowerCase())))
    .map((o) => projectObject(ctx, o, { includeType: true }));
  return { status: 200, body: { '@odata.context': `${ctx.graphUrl}/$metadata#directoryObjects`, value } };
}

export function registerDirectoryRoleRoutes(router: Router): void {
  router.add('GET', 'directoryRoles', PERMISSIONS.roleRead, (ctx) => listCollection(ctx, {
    resource: DIRECTORY_ROLE_RESOURCE, items: ctx.tenant.store.liveObjects('directoryRole'), entitySet: 'directoryRoles', expand: ['members'],
  }));
  router.add('GET', 'directoryRoles/{id}', PERMISSIONS.roleRead, (ctx, p) => getOne(ctx, resolveRole(ctx, p['id'] ?? ''), { expand: ['members'] }));
  router.add('GET', 'directoryRoles/{id}/members', PERMISSIONS.roleRead, (ctx, p) => {
    const role = resolveRole(ctx, p['id'] ?? '');
    const items = role.members.map((m) => ctx.tenant.store.get(m)).filter((m): m is DirectoryObject => m !== undefined);
    return listCollection(ctx, { resource: DIRECTORY_OBJECT_RESOURCE, items, seqOf: (_o, i) => i + 1, entitySet: 'directoryObjects', includeType: true });
  });
  router.add('POST', 'directoryRoles/{id}/members/$ref', { any: ['RoleManagement.ReadWrite.Directory'], write: true }, (ctx, p) => {
    const role = resolveRole(ctx, p['id'] ?? '');
    const ref = String(requireObjectBody(ctx.req.body)['@odata.id'] ?? '');
    const memberId = ref.split('/').pop() ?? '';
    const member = isGuid(memberId) ? ctx.tenant.store.get(memberId) : undefined;
    if (!member) throw notFound(memberId);
    if (role.members.includes(member.id)) throw badRequest("One or more added object references already exist for the following modified properties: 'members'.");
    ctx.tenant.store.addMembers(role, [member]);
    return { status: 204 };
  });
  router.add('GET', 'roleManagement/directory/roleAssignments', PERMISSIONS.roleRead, roleAssignments);
  router.add('GET', 'roleManagement/directory/roleDefinitions', PERMISSIONS.roleRead, roleDefinitions);
  router.add('GET', 'directoryObjects/{id}', PERMISSIONS.directoryObjectRead, (ctx, p) => {
    const obj = ctx.tenant.store.get(p['id'] ?? '');
    if (!obj) throw notFound(p['id'] ?? '');
    return getOne(ctx, obj);
  });
  router.add('POST', 'directoryObjects/getByIds', PERMISSIONS.directoryObjectRead, getByIds, { ru: 5, write: 0 });
  router.add('POST', 'directoryObjects/getAvailableExtensionProperties', PERMISSIONS.directoryObjectRead, (ctx) => {
    const body = ctx.req.body === undefined ? {} : requireObjectBody(ctx.req.body);
    const synced = body['isSyncedFromOnPremises'];
    const defs = ctx.tenant.store.extensionProperties.filter((d) => typeof synced !== 'boolean' || d.isSyncedFromOnPremises === synced);
    return {
      status: 200,
      body: { '@odata.context': `${ctx.graphUrl}/$metadata#Collection(microsoft.graph.extensionProperty)`, value: defs.map((d) => ({ '@odata.type': '#microsoft.graph.extensionProperty', ...extensionPropertyJson(d) })) },
    };
  }, { write: 0 });
  router.add('GET', 'devices', PERMISSIONS.deviceRead, (ctx) => listCollection(ctx, {
    resource: DEVICE_RESOURCE, items: ctx.tenant.store.liveObjects('device'), entitySet: 'devices',
  }));
}
