/**
 * The Microsoft Graph application permissions Directory Sync's application needs — the one definition the
 * engine registers and checks, and the wizard shows (engine/src/cloud/app-registration.ts says why each).
 */
export const DIRECTORY_SYNC_GRAPH_PERMISSIONS: ReadonlyArray<string> = [
  'User.ReadWrite.All', 'Group.ReadWrite.All', 'Organization.ReadWrite.All', 'Application.ReadWrite.OwnedBy', 'RoleManagement.Read.Directory',
];
