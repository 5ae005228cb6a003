import { EngineError } from './engine-error.ts';

/** The takeover step asked for cannot be made now (not confirmed, the old tool still runs, nothing to take over): the message says what to do. */
export class HandoverRefusedError extends EngineError {
  public readonly code = 'handover-refused';
  public override readonly name = 'HandoverRefusedError';
}
