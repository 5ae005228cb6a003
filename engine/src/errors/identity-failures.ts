/**
 * What a failure of the identity platform or the network is, recognised in one place: the mapper of
 * the application's sign-in and Graph calls (cloud-errors.ts), the administrator's device-code
 * sign-in (app-registration.ts) and the AD connector (ad-errors.ts) all ask here.
 */

/** Node's error codes for a peer that cannot be reached. */
const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EPIPE']);

export function isNetworkErrorCode(code: string): boolean {
  return NETWORK_ERROR_CODES.has(code);
}

/** The network failed (or a proxy or name resolution did), as msal, fetch and Node describe it. */
export function isNetworkFailure(text: string): boolean {
  return /ENOTFOUND|ECONNREFUSED|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|EAI_AGAIN|EPIPE|endpoints_resolution_error|fetch failed|socket|network/i.test(text);
}

export type IdentityFailure =
  | 'network' | 'clock' | 'unknown-tenant' | 'bad-client' | 'cancelled' | 'expired' | 'declined' | 'consent-required' | 'renewal-refused';

/** The identity platform's answers (AADSTS codes and OAuth errors) sorted by what the administrator can do about them. */
const IDENTITY_FAILURES: ReadonlyArray<readonly [IdentityFailure, RegExp]> = [
  ['cancelled', /device_code_polling_cancelled/],
  ['expired', /device_code_expired|expired_token|user_timeout_reached|AADSTS70020/],
  ['declined', /authorization_declined|AADSTS70019/],
  ['clock', /AADSTS700024|not within its valid time range/],
  ['unknown-tenant', /AADSTS90002|AADSTS900023|invalid_tenant/],
  ['consent-required', /AADSTS65001|AADSTS90094|AADSTS90008|consent_required/],
  ['bad-client', /AADSTS7000215|AADSTS700016|AADSTS7000218|unauthorized_client|invalid_client/],
  ['renewal-refused', /interaction_required|invalid_grant|no_tokens_found|AADSTS50173|AADSTS700082/],
];

/** What an identity-platform failure is (its code and message together), or undefined when it is none of these. */
export function identityFailureOf(text: string): IdentityFailure | undefined {
  for (const [kind, pattern] of IDENTITY_FAILURES) if (pattern.test(text)) return kind;
  return isNetworkFailure(text) ? 'network' : undefined;
}
