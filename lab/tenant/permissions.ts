/**
 * Which application permissions (roles) or delegated scopes allow each family of operations, and the
 * check that turns a miss into 403 Authorization_RequestDenied.
 */
import type { PermissionSpec, Principal } from './context.ts';
import { forbidden } from './errors.ts';
import type { Tenant } from './tenant.ts';

const readWriteAll = ['Directory.ReadWrite.All'];
const readAll = ['Directory.Read.All', ...readWriteAll];

export const PERMISSIONS = {
  userRead: { any: ['User.Read.All', 'User.ReadWrite.All', ...readAll] },
  userWrite: { any: ['User.ReadWrite.All', ...readWriteAll], write: true },
  groupRead: { any: ['Group.Read.All', 'Group.ReadWrite.All', 'GroupMember.Read.All', 'GroupMember.ReadWrite.All', ...readAll] },
  groupCreate: { any: ['Group.Create', 'Group.ReadWrite.All', ...readWriteAll], write: true },
  groupWrite: { any: ['Group.ReadWrite.All', ...readWriteAll], write: true },
  memberWrite: { any: ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', ...readWriteAll], write: true },
  contactRead: { any: ['OrgContact.Read.All', ...readAll] },
  orgRead: { any: ['Organization.Read.All', 'Organization.ReadWrite.All', 'User.Read.All', 'User.ReadWrite.All', ...readAll] },
  orgWrite: { any: ['Organization.ReadWrite.All'], write: true },
  appRead: { any: ['Application.Read.All', 'Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', ...readAll] },
  appWrite: { any: ['Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', ...readWriteAll], write: true },
  spRead: { any: ['Application.Read.All', 'Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', ...readAll] },
  spWrite: { any: ['Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', ...readWriteAll], write: true },
  appRoleAssignmentWrite: { any: ['AppRoleAssignment.ReadWrite.All'], write: true },
  roleRead: { any: ['RoleManagement.Read.Directory', 'RoleManagement.Read.All', 'RoleManagement.ReadWrite.Directory', ...readAll] },
  deviceRead: { any: ['Device.Read.All', ...readAll] },
  directoryObjectRead: { any: ['User.Read.All', 'User.ReadWrite.All', 'Group.Read.All', 'Group.ReadWrite.All', ...readAll] },
  deletedItemWrite: { any: ['User.ReadWrite.All', 'Group.ReadWrite.All', 'Application.ReadWrite.All', ...readWriteAll], write: true },
  anyAuthenticated: { any: [] },
} as const satisfies Record<string, PermissionSpec>;

export function hasAny(principal: Principal, names: ReadonlyArray<string>): boolean {
  if (principal.kind === 'app') return names.some((n) => principal.roles.has(n));
  if (principal.scopes.has('Directory.AccessAsUser.All')) return true;
  return names.some((n) => principal.scopes.has(n));
}

/** Throws 403 unless the principal holds one of the permissions (and, for delegated writes, an admin role). */
export function authorize(tenant: Tenant, principal: Principal, spec: PermissionSpec): void {
  if (spec.any.length === 0) return;
  if (!hasAny(principal, spec.any)) throw forbidden();
  if (principal.kind === 'user' && spec.write && !tenant.isAdministrator(principal.userId)) throw forbidden();
}

/** Application.ReadWrite.OwnedBy only reaches applications the caller owns. */
export function canManageApplication(principal: Principal, owners: ReadonlyArray<string>): boolean {
  if (principal.kind === 'user') return true;
  if (principal.roles.has('Application.ReadWrite.All') || principal.roles.has('Directory.ReadWrite.All')) return true;
  return principal.roles.has('Application.ReadWrite.OwnedBy') && owners.includes(principal.servicePrincipalId);
}
