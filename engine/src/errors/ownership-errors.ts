/**
 * The tenant ownership lease (ARCHITECTURE.md "Ownership: one active server"): only the server that
 * holds it exports.
 */
import { EngineError } from './engine-error.ts';

/** Who holds the lease, as the errors report it. */
export type LeaseHolder = { readonly serverId: string; readonly hostName: string; readonly claimedAt: string; readonly generation: number };

/** This server no longer holds the tenant ownership lease: it must stop exporting. */
export class OwnershipLostError extends EngineError {
  public readonly code = 'ownership-lost';
  public override readonly name = 'OwnershipLostError';
  public constructor(public readonly holder: LeaseHolder | null, message?: string) {
    super(message ?? (holder
      ? `Another server, ${holder.hostName}, holds synchronization for this tenant (since ${holder.claimedAt}): this server stops exporting and only plans. ` +
        'To make this server the active one again, take over ownership in the Configuration Wizard ("Synchronize directories now").'
      : 'No server holds synchronization for this tenant any more (the ownership lease was released): this server stops exporting. ' +
        'Claim ownership in the Configuration Wizard ("Synchronize directories now") to resume.'));
  }
}

/** Several servers kept overwriting the lease at the same moment: the claim could not be confirmed. */
export class OwnershipContendedError extends EngineError {
  public readonly code = 'ownership-contended';
  public override readonly name = 'OwnershipContendedError';
  public constructor(message = 'Another server changed the tenant ownership lease while this server was claiming it, several times in a row. ' +
    'Make sure only one Configuration Wizard is claiming ownership, then try again.') {
    super(message);
  }
}

/** The lease could not be read for too long: this server cannot confirm it is still the owner. */
export class OwnershipUnverifiedError extends EngineError {
  public readonly code = 'ownership-unverified';
  public override readonly name = 'OwnershipUnverifiedError';
}
