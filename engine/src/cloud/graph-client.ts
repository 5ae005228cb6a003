/**
 * The one way the engine builds a Microsoft Graph client: the instance's Graph base URL, and its host
 * named in customHosts so the SDK sends the bearer token there (graph-reference.md §10.5). The SDK's
 * own middleware chain, with reads also retried on 500 and 502 and on a dropped connection, and a
 * request whose token Graph refused sent again with a new token.
 */
import { AuthenticationHandler, Client, RedirectHandler, RetryHandler, TelemetryHandler, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import { CloudNetworkError, type NetworkFailureReason } from '../errors/network-errors.ts';
import type { CloudNetwork } from './network.ts';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Failures of the network path that do not pass by themselves. */
const LASTING_REASONS: ReadonlySet<NetworkFailureReason> = new Set(['proxy-auth', 'proxy-denied', 'tls-untrusted', 'bad-proxy-setting']);

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
        // A proxy that refuses the credentials or the destination, or a chain not trusted, answers the same again.
        if (method !== 'GET' || attempt >= this.attempts || (error instanceof CloudNetworkError && LASTING_REASONS.has(error.reason))) throw error;
      }
      await delay(this.baseDelayMs * 2 ** (attempt - 1));
    }
  }
}

/** A token Graph refused: the token sent, Graph's own time (its `Date` header) and its message. */
export type RefusedToken = { readonly token: string | undefined; readonly serverDate: string | undefined; readonly message: string };

function bearerOf(context: Context): string | undefined {
  const headers = context.options?.headers as Headers | Record<string, string> | undefined;
  const value = headers instanceof Headers ? headers.get('Authorization') : headers?.['Authorization'];
  return typeof value === 'string' ? value.replace(/^Bearer\s+/i, '') : undefined;
}

function removeAuthorization(context: Context): void {
  const headers = context.options?.headers as Headers | Record<string, string> | undefined;
  if (headers instanceof Headers) headers.delete('Authorization');
  else if (headers) delete headers['Authorization'];
}

/**
 * Sends a request again, once, with a new access token when Graph refuses the one sent
 * (401 InvalidAuthenticationToken: expired or not yet valid on Graph's clock, which msal's cache,
 * on this computer's clock, does not know). A 401 means the request was not processed, so a write
 * is as safe to send again as a read. `onRefused` makes the next token a new one.
 */
export class TokenRefreshHandler implements Middleware {
  private next: Middleware | undefined;

  public constructor(private readonly onRefused: (refused: RefusedToken) => void) {}

  public setNext(next: Middleware): void {
    this.next = next;
  }

  public async execute(context: Context): Promise<void> {
    await this.next?.execute(context);
    const response = context.response;
    if (response?.status !== 401) return;
    const body = await response.clone().json().catch(() => undefined) as { error?: { code?: string; message?: string } } | undefined;
    if (body?.error?.code !== 'InvalidAuthenticationToken') return;
    const token = bearerOf(context);
    // An empty or unreadable token is not a matter of lifetime: a new one would be refused the same way.
    if (token === undefined || token === '') return;
    this.onRefused({ token, serverDate: response.headers.get('date') ?? undefined, message: body.error.message ?? '' });
    removeAuthorization(context);
    await this.next?.execute(context);
  }
}

/**
 * The last middleware: sends the request through the cloud network (its proxy and trusted certificates),
 * where the SDK's HTTPMessageHandler would use the global fetch.
 */
export class NetworkHandler implements Middleware {
  public constructor(private readonly network: CloudNetwork) {}

  public async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    context.response = await this.network.fetch(url, context.options as Parameters<CloudNetwork['fetch']>[1]);
  }
}

export function createGraphClient(graphBaseUrl: string, getAccessToken: () => Promise<string>, onTokenRefused: ((refused: RefusedToken) => void) | undefined, network: CloudNetwork): Client {
  const authentication = new AuthenticationHandler({ getAccessToken });
  return Client.initWithMiddleware({
    baseUrl: graphBaseUrl,
    defaultVersion: 'v1.0',
    customHosts: new Set([new URL(graphBaseUrl).hostname]),
    middleware: [...(onTokenRefused ? [new TokenRefreshHandler(onTokenRefused)] : []), authentication, new RetryHandler(), new ReadRetryHandler(),
      new RedirectHandler(), new TelemetryHandler(), new NetworkHandler(network)],
  });
}
