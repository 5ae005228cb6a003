/**
 * The emulated Microsoft Entra tenant of the lab: public API.
 */
export { startTenantServer } from './server.ts';
export type { TenantControl, TenantDump, TenantOptions, TenantServer } from './server.ts';
export { startTenantDaemon, stopTenantDaemon, tenantDaemonFiles, tenantDaemonStatus, tenantHealthy } from './daemon.ts';
export { defaultCaDir, ensureLabCa } from './ca.ts';
export type { LabCa } from './ca.ts';
export { DEFAULT_ADMIN_PASSWORD, DEFAULT_CLIENT_ID, DEFAULT_TENANT_ID, DEFAULT_USER_PASSWORD, ENGINE_APP_ROLES, GRAPH_CLI_APP_ID, defaultSeed } from './seed.ts';
export type { SeedApp, SeedContact, SeedDomain, SeedGroup, SeedUser, TenantSeed } from './seed.ts';
export { DRIFTED, entraConnectSeed, sidToString, syncAccountOf, type OldSyncTool } from './connect-seed.ts';
export { DIRSYNC_SWITCH_PERMISSION, type OldSyncSettings, type OldSyncState } from './old-sync.ts';
export type { EntraConnectSeedOptions } from './connect-seed.ts';
export { labControl as labControlRequest, resetLabTenant } from './lab-reset.ts';
export { DEFAULT_BUDGETS } from './throttling.ts';
export { NOT_VALID_REFERENCE_UPDATE, REFERENCED_OBJECT_MISSING, consistencyFromEnv, parseConsistency, parseLagRange } from './consistency.ts';
export type { ConsistencyOptions, ConsistencyState, LagRange, PendingReplication } from './consistency.ts';
export { resourceNotFoundMessage } from './errors.ts';
export type { ThrottleBudgets } from './throttling.ts';
export type { FaultMode, FaultRule, FaultRuleInput } from './faults.ts';
export type { RequestLogEntry } from './request-log.ts';
