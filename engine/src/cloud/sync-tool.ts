/**
 * The tool that synchronizes a tenant today (Entra Connect, Cloud Sync, DirSync), read through Microsoft
 * Graph: its cloud sync account, how many objects it synchronizes, and the tenant-wide switch that turns
 * directory synchronization off (graph-reference.md §9.2; docs/takeover.md).
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import type { SyncToolIdentity } from '../contract/handover.ts';
import type { SyncObjectType } from '../contract/model.ts';
import { mapCloudError } from '../errors/cloud-errors.ts';

/** Directory Synchronization Accounts: the role Entra Connect's, Cloud Sync's and DirSync's cloud accounts hold. */
export const SYNC_ACCOUNTS_ROLE_TEMPLATE = 'd29b2b05-8046-44ba-8758-1e26182fcf32';
/** The delegated permission Microsoft's Set-EntraDirSyncEnabled names for the switch; asked for only then. */
export const DIRSYNC_SWITCH_SCOPE = 'OnPremDirectorySynchronization.ReadWrite.All';

type GraphPage<T> = { value: T[]; '@odata.nextLink'?: string; '@odata.count'?: number };

/** The tool a set of cloud sync accounts belongs to: Connect/DirSync `Sync_<server>_<hex>`, Cloud Sync `ADToAADSyncServiceAccount`. */
export function syncToolOf(accounts: ReadonlyArray<string>): SyncToolIdentity {
  const connect = accounts.map((upn) => /^Sync_(.+)_[0-9a-f]{12}@/i.exec(upn)).find((m) => m !== null);
  if (connect) {
    const server = connect[1] ?? '';
    return { kind: 'entra-connect', server, accounts, description: `Microsoft Entra Connect (or the older DirSync) on the server ${server}` };
  }
  if (accounts.some((upn) => /^ADToAADSyncServiceAccount@/i.test(upn))) {
    return { kind: 'cloud-sync', accounts, description: 'Microsoft Entra Cloud Sync (its provisioning agents)' };
  }
  return { kind: 'unknown', accounts, description: accounts.length > 0
    ? `a synchronization tool signing in as ${accounts.join(', ')}` : 'a synchronization tool whose cloud account this tenant does not show' };
}

/** The users holding Directory Synchronization Accounts (their UPNs). */
export async function syncAccounts(graph: Client): Promise<string[]> {
  try {
    const roles = (await graph.api('/directoryRoles').select(['id', 'roleTemplateId']).get()) as GraphPage<{ id: string; roleTemplateId: string }>;
    const role = roles.value.find((r) => r.roleTemplateId === SYNC_ACCOUNTS_ROLE_TEMPLATE);
    if (!role) return [];
    const upns: string[] = [];
    let next: string | undefined = `/directoryRoles/${role.id}/members?$select=id,userPrincipalName`;
    while (next) {
      const page = (await graph.api(next).get()) as GraphPage<{ userPrincipalName?: string }>;
      upns.push(...page.value.flatMap((m) => (typeof m.userPrincipalName === 'string' ? [m.userPrincipalName] : [])));
      next = page['@odata.nextLink'];
    }
    return upns.sort();
  } catch (error) {
    throw mapCloudError(error, 'read the directory synchronization accounts');
  }
}

/** Users and groups another tool synchronizes now (an advanced query: `$count` with ConsistencyLevel eventual). */
export async function countSynchronized(graph: Client): Promise<Record<SyncObjectType, number>> {
  const count = async (collection: 'users' | 'groups'): Promise<number> => {
    const page = (await graph.api(`/${collection}`).header('ConsistencyLevel', 'eventual').filter('onPremisesSyncEnabled eq true').count(true)
      .select(['id']).top(1).get()) as GraphPage<unknown>;
    return typeof page['@odata.count'] === 'number' ? page['@odata.count'] : page.value.length;
  };
  try {
    return { user: await count('users'), group: await count('groups') };
  } catch (error) {
    throw mapCloudError(error, 'count the objects another tool synchronizes');
  }
}

/**
 * Turns the tenant's directory synchronization off: the request Set-EntraDirSyncEnabled sends
 * (`PATCH /organization/{id}` with `OnPremisesSyncEnabled: false`), made in an administrator's delegated
 * session. Microsoft converts the synchronized objects in the background (up to 72 hours); it cannot be cancelled.
 */
export async function turnOffDirectorySync(graph: Client, tenantId: string): Promise<void> {
  try {
    await graph.api(`/organization/${tenantId}`).patch({ OnPremisesSyncEnabled: false });
  } catch (error) {
    throw mapCloudError(error, 'turn off directory synchronization for the tenant');
  }
}
