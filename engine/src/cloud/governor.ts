/**
 * The write governor: a token bucket that keeps exports under the tenant's write budget
 * (graph-reference.md §8.1: 3,000 writes per 150 s per application and tenant), and a shared pause
 * when Graph answers 429 with Retry-After.
 */
export type WriteBudget = {
  readonly writes: number;
  readonly windowSeconds: number;
  /**
   * What a `members@odata.bind` of N members costs: one write request (undefined: graph-reference.md §8.1
   * counts requests), or ⌈N/k⌉ writes when set to k (a third party was told k = 3; not documented).
   */
  readonly membersPerBindWrite?: number;
};

export const defaultWriteBudget: WriteBudget = { writes: 3000, windowSeconds: 150 };

/** The share of the write budget the governor uses: a margin for the tenant's other writers and clock drift. */
export const WRITE_BUDGET_SHARE = 0.95;

export class WriteGovernor {
  private tokens: number;
  private last: number;
  private pausedUntil = 0;
  private readonly capacity: number;
  private readonly ratePerMs: number;
  public readonly membersPerBindWrite: number | undefined;
  public throttled = 0;
  public waitedMs = 0;

  /** `share` keeps a margin under the budget (0.95 = use 95 % of it). */
  /**
   * `now` is a monotonic clock (performance.now): the wall clock may jump (NTP, a VM resumed, an
   * administrator's change), and a jump must neither stall the export nor let a burst through.
   */
  public constructor(budget: WriteBudget, share = WRITE_BUDGET_SHARE, private readonly now: () => number = () => performance.now(), private readonly sleep: (ms: number) => Promise<void> = delay) {
    this.capacity = Math.max(1, Math.floor(budget.writes * share / 10));
    this.ratePerMs = (budget.writes * share) / (budget.windowSeconds * 1000);
    this.tokens = this.capacity;
    this.last = now();
    this.membersPerBindWrite = budget.membersPerBindWrite;
  }

  private refill(): void {
    const t = this.now();
    // Time never runs backwards here, even if the clock given does: a step back refills nothing and takes nothing.
    this.tokens = Math.min(this.capacity, this.tokens + Math.max(0, t - this.last) * this.ratePerMs);
    this.last = t;
  }

  /** Waits until `count` writes may be sent. */
  public async take(count: number): Promise<void> {
    for (;;) {
      const pause = this.pausedUntil - this.now();
      if (pause > 0) {
        this.waitedMs += pause;
        await this.sleep(pause);
        continue;
      }
      this.refill();
      const need = Math.min(count, this.capacity);
      if (this.tokens >= need) {
        this.tokens -= count;
        return;
      }
      const wait = Math.ceil((need - this.tokens) / this.ratePerMs);
      this.waitedMs += wait;
      await this.sleep(wait);
    }
  }

  /** Graph said 429: nobody writes until Retry-After has passed. */
  public pause(seconds: number): void {
    this.throttled += 1;
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + Math.max(1, seconds) * 1000);
    this.tokens = 0;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
