/**
 * The one way the engine reaches the cloud (docs/network.md): every request to the identity platform
 * (msal-node's network client: client credentials, certificate assertions, device code, instance
 * discovery) and to Microsoft Graph (the Graph client's last middleware) goes through a CloudNetwork —
 * through the proxy the configuration chooses, trusting Node's own roots (and NODE_EXTRA_CA_CERTS), this
 * computer's certificate store (Linux: the bundle update-ca-certificates writes) and the authorities the
 * administrator trusted in the wizard. The domain controller's connection never goes through it.
 *
 * When a request fails for the network's sake, the path is checked step by step (tls-chain.ts) and the
 * failure named: the proxy unreachable, its credentials refused, the destination denied or unreachable
 * behind it, a certificate not trusted. msal wraps what its network client throws in its own codes
 * (endpoints_resolution_error), so the last such failure is kept for the caller to report instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { Agent, ProxyAgent, fetch as undiciFetch, type Dispatcher } from 'undici';
import type { CloudNetworkError } from '../errors/network-errors.ts';
import { chooseProxy, environmentProxy, parseProxyUrl, proxyAuthorization, type ProxyChoice, type ProxySetting, type SystemProxy } from './proxy.ts';
import { diagnosePath } from './tls-chain.ts';
import { readWinHttpProxy } from './windows-proxy.ts';

/** Where Linux distributions keep the system's trusted certificates as one bundle (Debian/Ubuntu first). */
export const OS_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/ssl/cert.pem'];

export type CloudNetworkOptions = {
  readonly proxy: ProxySetting;
  /** The password of the configured proxy's user (a stored secret). */
  readonly proxyPassword?: string | undefined;
  /** Authorities the administrator trusted for cloud traffic (PEM, one or more certificates). */
  readonly trustedCaPem?: string | undefined;
  /** The system's proxy, when it is not read from this process (tests; Windows reads WinHTTP). */
  readonly systemProxy?: (() => SystemProxy) | undefined;
  /** The system's certificate bundles to read (tests give their own). */
  readonly osCaBundles?: ReadonlyArray<string> | undefined;
};

type FetchInit = NonNullable<Parameters<typeof undiciFetch>[1]>;

/** Splits PEM text into its certificates. */
export function pemCertificates(text: string | undefined): string[] {
  return (text ?? '').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function osCertificates(files: ReadonlyArray<string>): string[] {
  for (const file of files) {
    if (!existsSync(file)) continue;
    try {
      return pemCertificates(readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
  }
  return [];
}

function defaultSystemProxy(): SystemProxy {
  return process.platform === 'win32' ? readWinHttpProxy() : environmentProxy(process.env);
}

export class CloudNetwork {
  public readonly secureContext: SecureContext;
  /** How many certificates are trusted, by where they come from (for `dirsync doctor`). */
  public readonly trustSources: { readonly node: number; readonly system: number; readonly configured: number };
  private system: SystemProxy | undefined;
  private readonly dispatchers = new Map<string, Dispatcher>();
  private lastFailure: { readonly at: number; readonly error: CloudNetworkError } | undefined;

  public constructor(public readonly options: CloudNetworkOptions) {
    if (options.proxy.mode === 'url') parseProxyUrl(options.proxy.url);
    const system = process.platform === 'win32' ? [] : osCertificates(options.osCaBundles ?? OS_CA_BUNDLES);
    // NODE_EXTRA_CA_CERTS extends Node's roots for every Node program: honoured here as Node would.
    const extraFile = process.env['NODE_EXTRA_CA_CERTS'];
    const extra = extraFile ? osCertificates([extraFile]) : [];
    const configured = pemCertificates(options.trustedCaPem);
    this.secureContext = createSecureContext({ ca: [...rootCertificates, ...extra, ...system, ...configured] });
    this.trustSources = { node: rootCertificates.length + extra.length, system: system.length, configured: configured.length };
  }

  /** No proxy, Node's roots and the system's store: what a network without settings means. */
  public static direct(): CloudNetwork {
    return new CloudNetwork({ proxy: { mode: 'none' } });
  }

  /** The proxy a request to `target` goes through (undefined: directly). */
  public proxyFor(target: URL): ProxyChoice | undefined {
    return chooseProxy(target, this.options.proxy, () => (this.system ??= (this.options.systemProxy ?? defaultSystemProxy)()), this.options.proxyPassword);
  }

  private dispatcherFor(proxy: ProxyChoice | undefined): Dispatcher {
    const key = proxy ? `${proxy.url.href}|${proxy.username ?? ''}` : 'direct';
    let dispatcher = this.dispatchers.get(key);
    if (!dispatcher) {
      const tls = { secureContext: this.secureContext };
      const token = proxy ? proxyAuthorization(proxy) : undefined;
      dispatcher = proxy
        ? new ProxyAgent({ uri: proxy.url.href, ...(token ? { token } : {}), requestTls: tls, proxyTls: tls })
        : new Agent({ connect: tls });
      this.dispatchers.set(key, dispatcher);
    }
    return dispatcher;
  }

  /** fetch through the chosen proxy with the trusted certificates; a failure of the network path is named. */
  public readonly fetch = async (input: string | URL, init?: FetchInit): Promise<Response> => {
    const target = new URL(String(input));
    const proxy = this.proxyFor(target);
    try {
      return await undiciFetch(target, { ...init, dispatcher: this.dispatcherFor(proxy) }) as unknown as Response;
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      const named = await diagnosePath(target, proxy, this.secureContext).catch(() => undefined);
      if (!named) throw error;
      this.lastFailure = { at: Date.now(), error: named };
      throw named;
    }
  };

  /** The network failure seen since `since` (a Date.now()), if any: what msal's own error code hides. */
  public failureSince(since: number): CloudNetworkError | undefined {
    return this.lastFailure && this.lastFailure.at >= since ? this.lastFailure.error : undefined;
  }

  /** msal-node's network client: its GETs and POSTs through this network. */
  public msalClient(): INetworkModule {
    const send = async <T>(url: string, method: 'GET' | 'POST', options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> => {
      const response = await this.fetch(url, {
        method, headers: options?.headers ?? {}, ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
        ...(timeout ? { signal: AbortSignal.timeout(timeout) } : {}),
      });
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value;
      });
      const text = await response.text();
      let body: T;
      try {
        body = JSON.parse(text) as T;
      } catch {
        body = { error: 'invalid_response', error_description: `${url} answered ${response.status} with a body that is not JSON: ${text.slice(0, 120)}` } as T;
      }
      return { headers, body, status: response.status };
    };
    return {
      sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions, timeout?: number) => send<T>(url, 'GET', options, timeout),
      sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>(url, 'POST', options),
    };
  }

  /** The path to each endpoint checked step by step: the first failure, or undefined when every one is reachable and trusted. */
  public async diagnose(targets: ReadonlyArray<URL>): Promise<CloudNetworkError | undefined> {
    for (const target of targets) {
      const failure = await diagnosePath(target, this.proxyFor(target), this.secureContext);
      if (failure) return failure;
    }
    return undefined;
  }

  public async close(): Promise<void> {
    const all = [...this.dispatchers.values()];
    this.dispatchers.clear();
    await Promise.all(all.map((d) => d.close().catch(() => undefined)));
  }
}
