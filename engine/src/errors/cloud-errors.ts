/**
 * Failures talking to Microsoft Entra ID / Graph, one class per kind, and the one module that maps
 * msal and Graph client errors to engine errors: `mapCloudError` (the application's sign-in and its
 * Graph calls) and `mapSignInError` (an administrator's device-code sign-in).
 */
import { describeOffset } from '../cloud/token-refusals.ts';
import { EngineError } from './engine-error.ts';
import { identityFailureOf, isNetworkFailure } from './identity-failures.ts';
import { AdminRoleRequiredError, SignInCancelledError, SignInError, SignInExpiredError } from './sign-in-errors.ts';

export class CloudAuthenticationError extends EngineError {
  public readonly code = 'cloud-authentication';
  public override readonly name = 'CloudAuthenticationError';
}

export class CloudPermissionError extends EngineError {
  public readonly code = 'cloud-permission';
  public override readonly name = 'CloudPermissionError';
}

export class CloudUnreachableError extends EngineError {
  public readonly code = 'cloud-unreachable';
  public override readonly name: string = 'CloudUnreachableError';
}

export class CloudThrottledError extends EngineError {
  public readonly code = 'cloud-throttled';
  public override readonly name = 'CloudThrottledError';
}

export class CloudRequestError extends EngineError {
  public readonly code = 'cloud-request';
  public override readonly name = 'CloudRequestError';
  public constructor(message: string, public readonly status?: number, public readonly graphCode?: string) {
    super(message);
  }
}

type GraphLike = { statusCode?: number; code?: string; message?: string; errorCode?: string; errorMessage?: string; name?: string; cause?: unknown };

export function mapCloudError(error: unknown, operation: string): EngineError {
  if (error instanceof EngineError) return error;
  const e = (error ?? {}) as GraphLike;
  const message = e.message ?? e.errorMessage ?? String(error);
  if (e.errorCode !== undefined || e.name === 'ServerError' || e.name === 'ClientAuthError' || e.name === 'ClientConfigurationError') {
    const failure = identityFailureOf(`${e.errorCode} ${message}`);
    if (failure === 'clock') {
      const current = /Current time: ([0-9T:.-]+Z?)/.exec(message)?.[1];
      const offset = current !== undefined ? Math.round((Date.parse(current.endsWith('Z') ? current : `${current}Z`) - Date.now()) / 1000) : Number.NaN;
      const clock = Number.isFinite(offset) && Math.abs(offset) > 60
        ? `This computer's clock is ${describeOffset(Math.abs(offset))} ${offset > 0 ? 'behind' : 'ahead of'} Microsoft Entra ID's (its time: ${current}).`
        : 'This computer\'s clock differs from Microsoft Entra ID\'s by more than five minutes.';
      return new CloudAuthenticationError(`Microsoft Entra ID refused the application's certificate sign-in while trying to ${operation}: ` +
        `the signed assertion is not within its valid time range. ${clock} Set the clock right (Windows Time service or NTP), then run again.`);
    }
    if (failure === 'bad-client' || failure === 'unknown-tenant') {
      return new CloudAuthenticationError(`Microsoft Entra ID refused the application's credentials while trying to ${operation}: ${message.split('\n')[0]} Check the tenant id, the application (client) id and its secret or certificate.`);
    }
    if (failure === 'network') {
      return new CloudUnreachableError(`Cannot reach the Microsoft identity platform to ${operation}: ${message.split('\n')[0]} Check the network, proxy and the cloud instance chosen.`);
    }
    return new CloudAuthenticationError(`Signing in to Microsoft Entra ID failed while trying to ${operation}: ${message.split('\n')[0]}`);
  }
  if (e.statusCode === 401) return new CloudAuthenticationError(`Microsoft Graph refused the access token while trying to ${operation}: ${message}`);
  if (e.statusCode === 403) return new CloudPermissionError(`The application lacks a Microsoft Graph permission to ${operation}: ${message} Grant the application the permissions Directory Sync needs (the Configuration Wizard does this) and consent them.`);
  if (e.statusCode === 429) return new CloudThrottledError(`Microsoft Graph throttled the request to ${operation}; Directory Sync will retry on the next run.`);
  if (e.statusCode === undefined || e.statusCode === -1 || isNetworkFailure(message)) {
    return new CloudUnreachableError(`Cannot reach Microsoft Graph to ${operation}: ${message}. Check the network and proxy.`);
  }
  return new CloudRequestError(`Microsoft Graph could not ${operation} (HTTP ${e.statusCode}${e.code ? ` ${e.code}` : ''}): ${message}`, e.statusCode, e.code);
}

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0] ?? text;
}

function describeFailure(error: unknown): { code: string; text: string } {
  const e = (error ?? {}) as { errorCode?: unknown; errorMessage?: unknown; message?: unknown };
  const code = typeof e.errorCode === 'string' ? e.errorCode : '';
  const text = typeof e.errorMessage === 'string' && e.errorMessage !== '' ? e.errorMessage : typeof e.message === 'string' ? e.message : String(error);
  return { code, text: firstLine(text) };
}

/** msal errors of the administrator's device-code sign-in → engine errors (the same recognition as mapCloudError). */
export function mapSignInError(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  const { code, text } = describeFailure(error);
  switch (identityFailureOf(`${code} ${text}`)) {
    case 'cancelled': return new SignInCancelledError();
    case 'expired': return new SignInExpiredError();
    case 'declined': return new SignInError('The sign-in was declined on the sign-in page. Start the sign-in again and approve it with an administrator account.');
    case 'network': return new SignInError(`Cannot reach the Microsoft identity platform to sign in: ${text} Check the network, the proxy and the cloud instance chosen.`);
    case 'unknown-tenant': return new SignInError(`The tenant to sign in to was not found: ${text} Check the tenant id or domain, or sign in without naming a tenant.`);
    case 'consent-required':
      return new AdminRoleRequiredError(`The account that signed in cannot consent to the permissions the setup needs (${text}). ` +
        'Sign in again with a Global Administrator of the tenant.');
    case 'bad-client':
      return new SignInError(`The sign-in client is not available in this tenant or does not allow the device code flow: ${text} ` +
        'Use the default client, or register a public client application with "Allow public client flows" and give its id.');
    case 'renewal-refused': return new SignInExpiredError(`The administrator's sign-in can no longer be renewed (${text}). Sign in again.`);
    case 'clock':
    case undefined:
      return new SignInError(`Signing in to Microsoft Entra ID failed: ${text} Start the sign-in again.`);
  }
}
