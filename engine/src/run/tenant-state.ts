/**
 * What the tenant says of its own synchronization (organization onPremisesSyncEnabled): kept by
 * every run, said first by every surface when another tool synchronizes it.
 */
import type { TenantSynchronized } from '../contract/model.ts';
import type { Organization } from '../cloud/connector.ts';
import { TENANT_SYNC_STATE } from '../store/keys.ts';
import type { Store } from '../store/store.ts';

export type TenantSyncState = { readonly synchronized: boolean; readonly lastSyncDateTime?: string; readonly checkedAt: string };

/** The first thing the CLI says in a tenant another tool synchronizes. */
export function synchronizedTenantNote(state: TenantSynchronized): string {
  const last = state.lastSyncDateTime ? ` (its last synchronization: ${state.lastSyncDateTime})` : '';
  return `This tenant is synchronized by another tool${last}: Entra Connect, Cloud Sync or DirSync. `
    + 'Its synchronized users and groups are never written nor created again, and nothing new is created until an administrator approves it.';
}

/** What the last run learned of the tenant's own synchronization, if any run asked. */
export function tenantSyncState(store: Store): TenantSyncState | undefined {
  const value = store.getCursor(TENANT_SYNC_STATE);
  return value === undefined ? undefined : (JSON.parse(value) as TenantSyncState);
}

export function recordTenantSyncState(store: Store, organization: Organization): void {
  const state: TenantSyncState = { synchronized: organization.onPremisesSyncEnabled === true,
    ...(organization.onPremisesLastSyncDateTime ? { lastSyncDateTime: organization.onPremisesLastSyncDateTime } : {}), checkedAt: new Date().toISOString() };
  store.setCursor(TENANT_SYNC_STATE, JSON.stringify(state));
}

