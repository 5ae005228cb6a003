import { EngineError } from './engine-error.ts';

/** The state store cannot be opened, migrated or written. */
export class StoreError extends EngineError {
  public readonly code = 'store';
  public override readonly name = 'StoreError';
}
