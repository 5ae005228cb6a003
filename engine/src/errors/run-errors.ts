import { EngineError } from './engine-error.ts';

/** Another run holds the run lock. */
export class RunInProgressError extends EngineError {
  public readonly code = 'run-in-progress';
  public override readonly name = 'RunInProgressError';
}

/** A plan cannot be approved or rejected in its state. */
export class PlanStateError extends EngineError {
  public readonly code = 'plan-state';
  public override readonly name = 'PlanStateError';
}

/** The engine has not been configured yet. */
export class NotConfiguredError extends EngineError {
  public readonly code = 'not-configured';
  public override readonly name = 'NotConfiguredError';
}
