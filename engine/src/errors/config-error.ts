import { EngineError } from './engine-error.ts';

/** The configuration is missing or invalid: the message says what to change. */
export class ConfigError extends EngineError {
  public readonly code = 'config';
  public override readonly name = 'ConfigError';
}
