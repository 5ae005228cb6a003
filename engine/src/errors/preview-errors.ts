import { EngineError } from './engine-error.ts';

/** A configuration preview is already running: one at a time. */
export class PreviewInProgressError extends EngineError {
  public readonly code = 'preview-in-progress';
  public override readonly name = 'PreviewInProgressError';
}

/** The preview asked for was replaced by a newer one, or discarded by a save. */
export class PreviewExpiredError extends EngineError {
  public readonly code = 'preview-expired';
  public override readonly name = 'PreviewExpiredError';
}
