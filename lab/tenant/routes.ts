/**
 * All Graph v1.0 routes of the emulator.
 */
import { registerApplicationRoutes } from './applications.ts';
import { registerContactRoutes } from './contacts.ts';
import { registerDeletedItemRoutes } from './deleted-items.ts';
import { registerDeltaRoutes } from './delta.ts';
import { registerDirectoryRoleRoutes } from './directory-roles.ts';
import { registerGroupRoutes } from './groups.ts';
import { registerOrganizationRoutes } from './organization.ts';
import { Router } from './router.ts';
import { registerServicePrincipalRoutes } from './service-principals.ts';
import { registerUserRoutes } from './users.ts';

export function createGraphRouter(): Router {
  const router = new Router();
  registerDeltaRoutes(router);
  registerUserRoutes(router);
  registerGroupRoutes(router);
  registerContactRoutes(router);
  registerDeletedItemRoutes(router);
  registerOrganizationRoutes(router);
  registerApplicationRoutes(router);
  registerServicePrincipalRoutes(router);
  registerDirectoryRoleRoutes(router);
  return router;
}
