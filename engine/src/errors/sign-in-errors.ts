/**
 * Failures of the administrator's sign-in (device code flow) and of what that sign-in is allowed to
 * do. The administrator's credentials are never stored, so every remedy is "sign in again".
 */
import { EngineError } from './engine-error.ts';

/** The sign-in did not complete (refused, declined, unreachable identity platform). */
export class SignInError extends EngineError {
  public readonly code = 'sign-in-failed';
  public override readonly name = 'SignInError';
}

/** The sign-in was cancelled before it completed (by the wizard or the service). */
export class SignInCancelledError extends EngineError {
  public readonly code = 'sign-in-cancelled';
  public override readonly name = 'SignInCancelledError';
  public constructor(message = 'The sign-in was cancelled before the code was entered. Start the sign-in again to continue.') {
    super(message);
  }
}

/** The code was not entered before it expired, or the session's tokens can no longer be renewed. */
export class SignInExpiredError extends EngineError {
  public readonly code = 'sign-in-expired';
  public override readonly name = 'SignInExpiredError';
  public constructor(message = 'The sign-in code expired before it was entered. Start the sign-in again and enter the new code within its lifetime (15 minutes).') {
    super(message);
  }
}

/** The signed-in account is not an administrator who can register an application and consent to its permissions. */
export class AdminRoleRequiredError extends EngineError {
  public readonly code = 'admin-role-required';
  public override readonly name = 'AdminRoleRequiredError';
}
