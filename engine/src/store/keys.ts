/**
 * Every key the engine keeps in the store's key-value tables, in one place (VS Code's storageKeys):
 * the cursors table (`getCursor`/`setCursor`) and the encrypted secrets (`store.secrets`).
 */

// ---- cursors: positions and facts a run or the service keeps -----------------------------------

/** The source of an installation that names one AD domain (every installation before sources were keyed). */
export const PRIMARY_SOURCE = 'primary';

/** Where a source's AD change stream was read to (the DirSync cookie, or the uSNChanged fallback). */
export function adCursorKey(sourceId: string): string {
  return `ad.changes/${sourceId}`;
}
/**
 * A create of this anchor was sent and never answered (the service stopped, or the wait for its object ran
 * out): its object may exist, not yet replicated. The value is when that was recorded.
 */
export function unansweredCreateKey(sourceAnchor: string): string {
  return `create.unanswered/${sourceAnchor}`;
}
/** The last run whose plan covered every change: a delta plans what changed after it. */
export const PLAN_WATERMARK = 'plan.watermark';
/** How many objects were in scope at the last run that planned: the shrinking-scope guard compares with it. */
export const IN_SCOPE_COUNT = 'scope.inScopeCount';
/** The settings the in-scope table was built for (a digest): other settings rebuild it. */
export const IN_SCOPE_BUILT_FOR = 'plan.inScopeBuiltFor';
/** What the tenant last said of its own synchronization (organization onPremisesSyncEnabled), for status. */
export const TENANT_SYNC_STATE = 'tenant.syncState';
/** The configuration a full run last ran with (a digest): the scheduler runs a full run when it changes. */
export const FULL_CONFIG_HASH = 'schedule.fullRunConfigHash';
/** The MSOL_ service account the wizard created or chose (the first forest's), and its rights self-test. */
export const SERVICE_ACCOUNT = 'ad.serviceAccount';
export const SERVICE_ACCOUNT_RIGHTS = 'ad.serviceAccount.rights';
/** The MSOL_ account of a forest added after the first (docs/forests.md), and its rights self-test. */
export function forestServiceAccountKey(forest: string): string {
  return `${SERVICE_ACCOUNT}/${forest.toLowerCase()}`;
}
export function forestServiceAccountRightsKey(forest: string): string {
  return `${SERVICE_ACCOUNT_RIGHTS}/${forest.toLowerCase()}`;
}
/** This installation's id in the tenant ownership lease. */
export const SERVER_ID = 'server.id';
/** What the administrator's sign-in registered and learnt of the tenant. */
export const CLOUD_REGISTRATION = 'cloud.registration';
/** The takeover from the tool that synchronized the tenant before (run/handover.ts): its phase and progress. */
export const HANDOVER_STATE = 'handover.state';
/** The old tool's last sync times as this server saw them change (to tell whether it still runs, and its cycle). */
export const HANDOVER_OBSERVATIONS = 'handover.observations';

// ---- secrets: encrypted at rest, never logged, never sent to the wizard -------------------------

export const SECRET_AD_PASSWORD = 'ad.password';
/** The password of the MSOL_ account of a forest added after the first (its sources' passwordSecret). */
export function forestPasswordSecret(forest: string): string {
  return `${SECRET_AD_PASSWORD}/${forest.toLowerCase()}`;
}
export const SECRET_CLIENT_SECRET = 'cloud.clientSecret';
export const SECRET_CERTIFICATE_KEY = 'cloud.certificateKey';
export const SECRET_CERTIFICATE_THUMBPRINT = 'cloud.certificateThumbprintSha256';
/** The password of the configured proxy's user (network.proxy.username). */
export const SECRET_PROXY_PASSWORD = 'network.proxyPassword';
