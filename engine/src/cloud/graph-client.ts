/**
 * The one way the engine builds a Microsoft Graph client: the instance's Graph base URL, and its host
 * named in customHosts so the SDK sends the bearer token there (graph-reference.md §10.5). The SDK's
 * own middleware chain, with reads also retried on 500 and 502 and on a dropped connection.
 */
import { AuthenticationHandler, Client, HTTPMessageHandler, RedirectHandler, RetryHandler, TelemetryHandler, type Context, type Middleware } from '@microsoft/microsoft-graph-client';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries a GET that got 500 or 502, or whose connection dropped: the SDK's RetryHandler retries only
 * 429, 503 and 504. Reads are idempotent; writes are retried by the export writer, which knows which
 * of them are (graph-reference.md §8).
 */
export class ReadRetryHandler implements Middleware {
  private next: Middleware | undefined;

  public constructor(private readonly attempts = 3, private readonly baseDelayMs = 500) {}

  public setNext(next: Middleware): void {
    this.next = next;
  }

  public async execute(context: Context): Promise<void> {
    const method = (context.options?.method ?? (typeof context.request === 'string' ? 'GET' : context.request.method)).toUpperCase();
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.next?.execute(context);
        if (method !== 'GET' || attempt >= this.attempts || ![500, 502].includes(context.response?.status ?? 0)) return;
      } catch (error) {
        if (method !== 'GET' || attempt >= this.attempts) throw error;
      }
      await delay(this.baseDelayMs * 2 ** (attempt - 1));
    }
  }
}

export function createGraphClient(graphBaseUrl: string, getAccessToken: () => Promise<string>): Client {
  return Client.initWithMiddleware({
    baseUrl: graphBaseUrl,
    defaultVersion: 'v1.0',
    customHosts: new Set([new URL(graphBaseUrl).hostname]),
    middleware: [new AuthenticationHandler({ getAccessToken }), new RetryHandler(), new ReadRetryHandler(), new RedirectHandler(), new TelemetryHandler(), new HTTPMessageHandler()],
  });
}
