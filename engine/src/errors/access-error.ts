import { elevationHint } from '../control/channel-proof.ts';
import { EngineError } from './engine-error.ts';

/**
 * This account may not use the data directory or the service's control channel: said as such, with what to do
 * (never as "the service is not running", which sends an administrator looking in the wrong place).
 */
export class AccessError extends EngineError {
  public readonly code = 'access-denied';
  public override readonly name = 'AccessError';
}

/** An access refusal of the file system (EACCES, EPERM) at `path`, as an AccessError; other errors as they are. */
export function accessErrorOf(error: unknown, path: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'EACCES' && code !== 'EPERM') return error;
  return new AccessError(`This account may not open ${path} (${code}): ${elevationHint()}.`);
}
