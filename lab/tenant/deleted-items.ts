/**
 * The recycle bin (graph-reference.md §2.7): `/directory/deletedItems/microsoft.graph.{type}` (the cast is
 * required), get one, restore (200 + directoryObject), permanent delete. Objects older than 30 days
 * (emulator clock) are purged.
 */
import type { GraphContext, GraphResult } from './context.ts';
import { badRequest, notFound, objectConflict } from './errors.ts';
import type { DirectoryObject } from './model.ts';
import { PERMISSIONS } from './permissions.ts';
import { contextUrl, countCollection, listCollection, parseSelect, projectObject } from './query.ts';
import { resourceByCast, resourceOf } from './resources.ts';
import type { Router } from './router.ts';
import { stringArray } from './store.ts';

const RESTORABLE = new Set(['user', 'group', 'application']);

function deletedItem(ctx: GraphContext, id: string): DirectoryObject {
  const obj = ctx.tenant.store.getAny(id);
  if (!obj || obj.deletedAt === null) throw notFound(id);
  return obj;
}

function castResource(cast: string): ReturnType<typeof resourceOf> {
  const resource = resourceByCast(cast);
  if (!resource || !RESTORABLE.has(resource.type)) throw badRequest(`Resource not found for the segment '${cast}'.`);
  return resource;
}

function listDeleted(ctx: GraphContext, cast: string): GraphResult {
  const resource = castResource(cast);
  return listCollection(ctx, {
    resource, items: ctx.tenant.store.deletedObjects(resource.type), entitySet: `directory/deletedItems/${resource.odataType.slice(1)}`,
    includeType: true,
  });
}

function getDeleted(ctx: GraphContext, id: string): GraphResult {
  const obj = deletedItem(ctx, id);
  const select = parseSelect(ctx, resourceOf(obj.type), false);
  return { status: 200, body: { '@odata.context': contextUrl(ctx, 'directoryObjects', select, true), ...projectObject(ctx, obj, { select, includeType: true }) } };
}

function restore(ctx: GraphContext, id: string): GraphResult {
  const obj = deletedItem(ctx, id);
  const store = ctx.tenant.store;
  if (obj.type === 'user') {
    const upn = obj.internal['originalUserPrincipalName'];
    if (typeof upn === 'string' && store.onPrimary(() => store.userByUpn(upn))) throw objectConflict('userPrincipalName');
  }
  for (const address of stringArray(obj.props['proxyAddresses'])) {
    const owner = store.proxyOwner(address);
    if (owner && owner.id !== obj.id) throw objectConflict('proxyAddresses');
  }
  store.restore(obj);
  return { status: 200, body: { '@odata.context': contextUrl(ctx, 'directoryObjects', undefined, true), ...projectObject(ctx, obj, { includeType: true }) } };
}

function permanentlyDelete(ctx: GraphContext, id: string): GraphResult {
  const obj = deletedItem(ctx, id);
  ctx.tenant.store.hardDelete(obj, ctx.tenant.clock.now());
  return { status: 204 };
}

export function registerDeletedItemRoutes(router: Router): void {
  router.add('GET', 'directory/deletedItems', PERMISSIONS.directoryObjectRead, () => {
    throw badRequest('Calling GET /directory/deletedItems without a type is not supported. ' +
      'Specify the type as an OData cast, for example /directory/deletedItems/microsoft.graph.user.');
  });
  router.add('GET', 'directory/deletedItems/{id}', PERMISSIONS.directoryObjectRead, (ctx, p) => {
    const key = p['id'] ?? '';
    return /^microsoft\.graph\./i.test(key) ? listDeleted(ctx, key) : getDeleted(ctx, key);
  });
  router.add('GET', 'directory/deletedItems/{cast}/$count', PERMISSIONS.directoryObjectRead,
    (ctx, p) => countCollection(ctx, castResource(p['cast'] ?? ''), ctx.tenant.store.deletedObjects(castResource(p['cast'] ?? '').type)));
  router.add('POST', 'directory/deletedItems/{id}/restore', PERMISSIONS.deletedItemWrite, (ctx, p) => restore(ctx, p['id'] ?? ''));
  router.add('DELETE', 'directory/deletedItems/{id}', PERMISSIONS.deletedItemWrite, (ctx, p) => permanentlyDelete(ctx, p['id'] ?? ''));
}
