/**
 * Organizational contacts (graph-reference.md §4): read-only in v1.0; writes answer 405.
 */
import { methodNotAllowed, notFound } from './errors.ts';
import { PERMISSIONS } from './permissions.ts';
import { countCollection, getOne, listCollection } from './query.ts';
import { CONTACT_RESOURCE } from './resources.ts';
import type { Router } from './router.ts';

export function registerContactRoutes(router: Router): void {
  router.add('GET', 'contacts', PERMISSIONS.contactRead, (ctx) => listCollection(ctx, {
    resource: CONTACT_RESOURCE, items: ctx.tenant.store.liveObjects('orgContact'), entitySet: 'contacts',
  }));
  router.add('GET', 'contacts/$count', PERMISSIONS.contactRead,
    (ctx) => countCollection(ctx, CONTACT_RESOURCE, ctx.tenant.store.liveObjects('orgContact')));
  router.add('GET', 'contacts/{id}', PERMISSIONS.contactRead, (ctx, p) => {
    const contact = ctx.tenant.store.get(p['id'] ?? '', 'orgContact');
    if (!contact) throw notFound(p['id'] ?? '');
    return getOne(ctx, contact);
  });
  const refuse = (): never => {
    throw methodNotAllowed();
  };
  router.add('POST', 'contacts', PERMISSIONS.anyAuthenticated, refuse);
  router.add('PATCH', 'contacts/{id}', PERMISSIONS.anyAuthenticated, refuse);
  router.add('PUT', 'contacts/{id}', PERMISSIONS.anyAuthenticated, refuse);
  router.add('DELETE', 'contacts/{id}', PERMISSIONS.anyAuthenticated, refuse);
}
