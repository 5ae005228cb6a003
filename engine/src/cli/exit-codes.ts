/** Documented exit codes of `dirsync` (README "The dirsync command"). */
export const ExitCode = {
  ok: 0,
  /** An unexpected failure, or a connection/sign-in failure. */
  failed: 1,
  /** Bad usage or configuration. */
  usage: 2,
  /** The run finished, but some objects had errors (see `dirsync errors`). */
  objectErrors: 3,
  /** Operations are held for approval (see `dirsync status`, then `dirsync approve`). */
  waitingForApproval: 4,
  /** Another run is in progress. */
  busy: 5,
} as const;
