/**
 * Failures while creating or checking the Directory Sync application registration in the tenant.
 */
import { EngineError } from './engine-error.ts';

/** The registration could not be created or updated as asked (ambiguous or missing application, missing permission definitions). */
export class AppRegistrationError extends EngineError {
  public readonly code = 'app-registration';
  public override readonly name = 'AppRegistrationError';
}

/** The registered application could not sign in with its new certificate and read the tenant. */
export class AppCredentialCheckError extends EngineError {
  public readonly code = 'app-credential-check';
  public override readonly name = 'AppCredentialCheckError';
}
