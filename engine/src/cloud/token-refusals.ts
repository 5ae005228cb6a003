/**
 * What Graph's refusals of access tokens tell: how many there were, whether the next token must be a
 * new one rather than msal's cached one, and how far this computer's clock is from Graph's (its
 * `Date` header). A token Graph calls expired while msal, on this computer's clock, holds it as valid
 * means the two clocks disagree (or the process was suspended past the token's lifetime).
 */
import type { RefusedToken } from './graph-client.ts';

/** A clock difference under this is normal (Entra itself tolerates five minutes). */
const CLOCK_TOLERANCE_SECONDS = 300;

export class TokenRefusals {
  /** Tokens Graph refused since this connector was made. */
  public count = 0;
  /** Graph's time minus this computer's, in seconds, at the last refusal (when Graph sent its time). */
  public clockOffsetSeconds: number | undefined;
  private refreshNext = false;
  private lastIssued: string | undefined;

  /** Called by the Graph client for each refused token. */
  public refused(refused: RefusedToken, now = Date.now()): void {
    this.count += 1;
    // Only the token last handed out is replaced: a refusal of an older one, already replaced, changes nothing.
    if (refused.token === this.lastIssued) this.refreshNext = true;
    const serverTime = refused.serverDate !== undefined ? Date.parse(refused.serverDate) : Number.NaN;
    if (Number.isFinite(serverTime)) this.clockOffsetSeconds = Math.round((serverTime - now) / 1000);
  }

  /** Whether the next token must bypass the cache; reading it consumes the request. */
  public takeRefresh(): boolean {
    const refresh = this.refreshNext;
    this.refreshNext = false;
    return refresh;
  }

  public issued(token: string): void {
    this.lastIssued = token;
  }

  /** A sentence for the run's notes, or undefined when no token was refused after `countBefore`. */
  public note(countBefore: number): string | undefined {
    const refused = this.count - countBefore;
    if (refused <= 0) return undefined;
    const offset = this.clockOffsetSeconds;
    const clock = offset !== undefined && Math.abs(offset) > CLOCK_TOLERANCE_SECONDS
      ? ` This computer's clock is ${describeOffset(Math.abs(offset))} ${offset > 0 ? 'behind' : 'ahead of'} Microsoft's: set it right (Windows Time service or NTP).`
      : '';
    return `Microsoft Graph refused ${refused} access token${refused === 1 ? '' : 's'} as expired or not yet valid; ` +
      `a new token was acquired and each refused request sent again.${clock}`;
  }
}

/** 10,800 s → "3 h 0 min"; 420 s → "7 min"; over 48 h in days. */
export function describeOffset(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  const hours = Math.floor(minutes / 60);
  if (hours >= 48) return `${Math.round(hours / 24)} days`;
  return hours > 0 ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
}
