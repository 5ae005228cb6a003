/**
 * The emulator clock: wall time plus an offset that the lab can advance (`POST /_lab/clock`), so that
 * 30-day retention and 7-day delta token expiry can be tested without waiting. It is the service's
 * clock for everything, as in Entra: access tokens are issued and checked on it (moving it past a
 * token's `exp`, or back before its `nbf`, makes Graph refuse the token that msal still holds as
 * valid), client assertions must be within five minutes of it, and responses carry it in `Date`.
 */
export class Clock {
  offsetMs: number;

  constructor(offsetMs = 0) {
    this.offsetMs = offsetMs;
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(seconds: number): void {
    this.offsetMs += Math.round(seconds * 1000);
  }
}

/** `2024-08-20T04:25:57Z`: the second-precision UTC timestamps Graph returns. */
export function graphDateTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
