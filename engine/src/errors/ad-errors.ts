/**
 * Failures talking to Active Directory, one class per kind, each telling the administrator what to do.
 * `mapLdapError` is the one mapper from ldapts / socket errors to these.
 */
import { EngineError } from './engine-error.ts';
import { isNetworkErrorCode } from './identity-failures.ts';

export class AdUnreachableError extends EngineError {
  public readonly code = 'ad-unreachable';
  public override readonly name = 'AdUnreachableError';
}

export class AdCertificateError extends EngineError {
  public readonly code = 'ad-certificate';
  public override readonly name = 'AdCertificateError';
}

export class AdInvalidCredentialsError extends EngineError {
  public readonly code = 'ad-invalid-credentials';
  public override readonly name = 'AdInvalidCredentialsError';
}

export class AdInsufficientRightsError extends EngineError {
  public readonly code = 'ad-insufficient-rights';
  public override readonly name = 'AdInsufficientRightsError';
}

export class AdStrongAuthRequiredError extends EngineError {
  public readonly code = 'ad-strong-auth-required';
  public override readonly name = 'AdStrongAuthRequiredError';
}

export class AdOperationError extends EngineError {
  public readonly code = 'ad-operation';
  public override readonly name = 'AdOperationError';
}

type LdapLike = { code?: unknown; message?: string; name?: string };

export type LdapErrorContext = {
  readonly url: string;
  readonly bindDn?: string;
  /** What was being done, as the end of "could not …" / "lacks the rights to …". */
  readonly operation: string;
  /** What to do when the account lacks the rights (default: grant 'Replicating Directory Changes'). */
  readonly insufficientRightsAdvice?: string;
};

export function mapLdapError(error: unknown, context: LdapErrorContext): EngineError {
  if (error instanceof EngineError) return error;
  const e = (error ?? {}) as LdapLike;
  const message = e.message ?? String(error);
  const code = e.code;
  if (code === 49 || e.name === 'InvalidCredentialsError') {
    return new AdInvalidCredentialsError(`Active Directory refused the user name or password of ${context.bindDn ?? 'the account'} (${context.url}). Check the account name and password.`);
  }
  if (code === 50 || e.name === 'InsufficientAccessError') {
    const advice = context.insufficientRightsAdvice ??
      "Grant it 'Replicating Directory Changes' on the domain, or let the Configuration Wizard create the service account.";
    return new AdInsufficientRightsError(`${context.bindDn ?? 'The account'} lacks the rights to ${context.operation} on ${context.url}: ${message}. ${advice}`);
  }
  if (code === 8 || e.name === 'StrongAuthRequiredError') {
    return new AdStrongAuthRequiredError(`The domain controller requires an encrypted connection for this bind: use ldaps:// (port 636) instead of ${context.url}.`);
  }
  if (typeof code === 'string') {
    if (isNetworkErrorCode(code)) {
      return new AdUnreachableError(`Cannot reach the domain controller at ${context.url} (${code}). Check the host name, that port 636 is open, and that the DC is running.`);
    }
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME/i.test(code)) {
      return new AdCertificateError(`The certificate of ${context.url} is not trusted (${code}: ${message}). Trust the CA that issued it (the wizard shows its fingerprint), or connect with the name the certificate carries.`);
    }
  }
  if (/timeout|timed out/i.test(message)) {
    return new AdUnreachableError(`The domain controller at ${context.url} did not answer in time while trying to ${context.operation}. Check the network and the DC's load.`);
  }
  return new AdOperationError(`Active Directory could not ${context.operation} (${context.url}): ${message}`);
}

/** No configured domain could be reached: the run has nothing to import. Each domain's own failure is in the message. */
export class AllSourcesUnreachableError extends EngineError {
  public readonly code = 'ad-all-domains-unreachable';
  public override readonly name = 'AllSourcesUnreachableError';
  public constructor(sources: ReadonlyArray<{ readonly domain: string; readonly error?: string }>) {
    super(`No configured domain could be read: ${sources.map((s) => `${s.domain}: ${s.error ?? 'not reached'}`).join('; ')}. Nothing was changed.`);
  }
}
