import { EngineError } from './engine-error.ts';

/**
 * A Directory Sync service account already exists in the domain and the administrator has not
 * confirmed that it may be reused (reusing it resets its password).
 */
export class ServiceAccountExistsError extends EngineError {
  public readonly code = 'service-account-exists';
  public override readonly name = 'ServiceAccountExistsError';

  public constructor(
    /** DN of the existing account. */
    public readonly accountDn: string,
    message = `A Directory Sync service account already exists: ${accountDn}. Confirm that Directory Sync may reuse it ` +
      '(its password is reset, so any other installation that signs in with it stops working), or delete it in ' +
      'Active Directory Users and Computers and create a new one.',
  ) {
    super(message);
  }
}
