/**
 * The organization resource (graph-reference.md §9) and open extensions on organization, users and
 * groups (§9.3): two per creator app per object, 2 KB each, PATCH replaces the whole bag.
 */
import type { GraphContext, GraphResult, PermissionSpec } from './context.ts';
import { GraphHttpError, badRequest, forbidden, notFound, readOnlyProperty, unknownProperty } from './errors.ts';
import type { DirectoryObject, JsonObject } from './model.ts';
import { DIRSYNC_SWITCH_PERMISSION } from './old-sync.ts';
import { PERMISSIONS, hasAny } from './permissions.ts';
import { getOne, listCollection, openExtensionJson } from './query.ts';
import { ORGANIZATION_RESOURCE, isExtensionPropertyName } from './resources.ts';
import type { Router } from './router.ts';
import { checkBoolean, checkExtensionValue, checkStringArray, requireObjectBody } from './validation.ts';
import { resolveUser } from './users.ts';
import { resolveGroup } from './groups.ts';

const ORG_WRITABLE = new Set(['marketingNotificationEmails', 'privacyProfile', 'securityComplianceNotificationMails',
  'securityComplianceNotificationPhones', 'technicalNotificationMails', 'onPremisesSyncEnabled']);

function resolveOrganization(ctx: GraphContext, id: string): DirectoryObject {
  const org = ctx.tenant.organization();
  if (id.toLowerCase() !== org.id) throw notFound(id);
  return org;
}

function updateOrganization(ctx: GraphContext, id: string): GraphResult {
  const org = resolveOrganization(ctx, id);
  const body = requireObjectBody(ctx.req.body);
  const out: JsonObject = {};
  for (const [rawKey, value] of Object.entries(body)) {
    if (rawKey.startsWith('@odata.')) continue;
    if (isExtensionPropertyName(rawKey)) {
      out[checkExtensionValue(ctx.tenant.store, rawKey, value, 'Organization')] = value;
      continue;
    }
    const key = [...ORGANIZATION_RESOURCE.knownProps].find((k) => k.toLowerCase() === rawKey.toLowerCase());
    if (!key) throw unknownProperty(rawKey);
    if (!ORG_WRITABLE.has(key)) throw readOnlyProperty(key);
    if (key === 'onPremisesSyncEnabled') {
      checkBoolean(value, key, 'Organization');
      out[key] = ctx.tenant.oldSync.switchTo(ctx.principal, value === true);
      continue;
    }
    if (!hasAny(ctx.principal, ['Organization.ReadWrite.All'])) throw forbidden();
    if (key !== 'privacyProfile') checkStringArray(value, key, 'Organization', 50, 256);
    out[key] = value;
  }
  ctx.tenant.store.update(org, out);
  return { status: 204 };
}

type ExtensionHost = {
  readonly base: string;
  readonly resolve: (ctx: GraphContext, id: string) => DirectoryObject;
  readonly read: PermissionSpec;
  readonly write: PermissionSpec;
};

const MAX_EXTENSION_BYTES = 2048;

function extensionData(body: JsonObject): JsonObject {
  const data: JsonObject = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === '@odata.type' || key === 'extensionName' || key === 'id') continue;
    data[key] = value;
  }
  if (Buffer.byteLength(JSON.stringify(data)) > MAX_EXTENSION_BYTES) {
    throw badRequest('The open extension exceeds the maximum size of 2 KB.');
  }
  return data;
}

function extensionContext(ctx: GraphContext, host: string, id: string): string {
  return `${ctx.graphUrl}/$metadata#${host}('${id}')/extensions`;
}

function findExtension(obj: DirectoryObject, name: string): { extensionName: string; creatorAppId: string; data: JsonObject } {
  const ext = obj.extensions.find((e) => e.extensionName.toLowerCase() === name.toLowerCase());
  if (!ext) throw notFound(name);
  return ext;
}

function registerExtensionRoutes(router: Router, host: ExtensionHost): void {
  router.add('GET', `${host.base}/{id}/extensions`, host.read, (ctx, p) => {
    const obj = host.resolve(ctx, p['id'] ?? '');
    return { status: 200, body: { '@odata.context': extensionContext(ctx, host.base, obj.id), value: obj.extensions.map(openExtensionJson) } };
  });
  router.add('GET', `${host.base}/{id}/extensions/{name}`, host.read, (ctx, p) => {
    const obj = host.resolve(ctx, p['id'] ?? '');
    const ext = findExtension(obj, p['name'] ?? '');
    return { status: 200, body: { '@odata.context': `${extensionContext(ctx, host.base, obj.id)}/$entity`, ...openExtensionJson(ext) } };
  });
  router.add('POST', `${host.base}/{id}/extensions`, host.write, (ctx, p) => {
    const obj = host.resolve(ctx, p['id'] ?? '');
    const body = requireObjectBody(ctx.req.body);
    const type = String(body['@odata.type'] ?? '').replace(/^#/, '').toLowerCase();
    if (type !== 'microsoft.graph.opentypeextension') {
      throw badRequest("The '@odata.type' property must be 'microsoft.graph.openTypeExtension'.");
    }
    const name = body['extensionName'];
    if (typeof name !== 'string' || name.trim() === '') throw badRequest("A value is required for property 'extensionName' of resource 'openTypeExtension'.");
    if (obj.extensions.some((e) => e.extensionName.toLowerCase() === name.toLowerCase())) {
      throw new GraphHttpError(409, 'NameAlreadyExists', 'An extension already exists with given id.');
    }
    const appId = ctx.principal.appId;
    if (obj.extensions.filter((e) => e.creatorAppId === appId).length >= 2) {
      throw badRequest('An application can create at most two open extensions on one directory object.');
    }
    const ext = { extensionName: name, creatorAppId: appId, data: extensionData(body) };
    ctx.tenant.store.touch(obj, 'extensions', () => obj.extensions.push(ext));
    return { status: 201, body: { '@odata.context': `${extensionContext(ctx, host.base, obj.id)}/$entity`, ...openExtensionJson(ext) } };
  });
  router.add('PATCH', `${host.base}/{id}/extensions/{name}`, host.write, (ctx, p) => {
    const obj = host.resolve(ctx, p['id'] ?? '');
    const ext = findExtension(obj, p['name'] ?? '');
    const data = extensionData(requireObjectBody(ctx.req.body));
    ctx.tenant.store.touch(obj, 'extensions', () => {
      ext.data = data;
    });
    return { status: 204 };
  });
  router.add('DELETE', `${host.base}/{id}/extensions/{name}`, host.write, (ctx, p) => {
    const obj = host.resolve(ctx, p['id'] ?? '');
    const ext = findExtension(obj, p['name'] ?? '');
    ctx.tenant.store.touch(obj, 'extensions', () => {
      obj.extensions = obj.extensions.filter((e) => e !== ext);
    });
    return { status: 204 };
  });
}

export function registerOrganizationRoutes(router: Router): void {
  router.add('GET', 'organization', PERMISSIONS.orgRead, (ctx) => listCollection(ctx, {
    resource: ORGANIZATION_RESOURCE, items: [ctx.tenant.organization()], entitySet: 'organization', expand: ['extensions'],
  }));
  router.add('GET', 'organization/{id}', PERMISSIONS.orgRead, (ctx, p) => getOne(ctx, resolveOrganization(ctx, p['id'] ?? ''), { expand: ['extensions'] }));
  router.add('PATCH', 'organization/{id}', { any: ['Organization.ReadWrite.All', DIRSYNC_SWITCH_PERMISSION], write: true }, (ctx, p) => updateOrganization(ctx, p['id'] ?? ''));
  registerExtensionRoutes(router, { base: 'organization', resolve: resolveOrganization, read: PERMISSIONS.orgRead, write: PERMISSIONS.orgWrite });
  registerExtensionRoutes(router, { base: 'users', resolve: resolveUser, read: PERMISSIONS.userRead, write: PERMISSIONS.userWrite });
  registerExtensionRoutes(router, { base: 'groups', resolve: resolveGroup, read: PERMISSIONS.groupRead, write: PERMISSIONS.groupWrite });
}
