/**
 * The request log of the lab (`GET /_lab/requests`): one entry per HTTP request and per `$batch` item.
 */
export type RequestLogEntry = {
  readonly seq: number;
  /** ISO time (wall clock) the request arrived. */
  readonly time: string;
  readonly method: string;
  /** Path and query as received (batch items: the item's relative URL). */
  readonly path: string;
  readonly status: number;
  /** A write as far as throttling is concerned (POST/PATCH/PUT/DELETE except read-only POSTs). */
  readonly isWrite: boolean;
  /** Calling application, when authenticated. */
  readonly appId?: string;
  /** Signed-in user of a delegated token. */
  readonly userId?: string;
  readonly requestId: string;
  readonly clientRequestId?: string;
  /** For `$batch` items: the request id of the enclosing `$batch` and the item id. */
  readonly batchParent?: string;
  readonly batchItemId?: string;
  readonly resourceUnits?: number;
  readonly throttled?: boolean;
  readonly fault?: string;
  readonly durationMs: number;
};

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;

  constructor(private readonly capacity = 100_000) {}

  add(entry: Omit<RequestLogEntry, 'seq'>): RequestLogEntry {
    this.seq += 1;
    const full: RequestLogEntry = { seq: this.seq, ...entry };
    this.entries.push(full);
    // The oldest go in batches of a tenth: dropping one at a time moved the whole array on every request.
    if (this.entries.length > this.capacity + Math.ceil(this.capacity / 10)) this.entries.splice(0, this.entries.length - this.capacity);
    return full;
  }

  list(sinceSeq = 0): ReadonlyArray<RequestLogEntry> {
    return sinceSeq > 0 ? this.entries.filter((e) => e.seq > sinceSeq) : [...this.entries];
  }

  clear(): void {
    this.entries = [];
  }
}
