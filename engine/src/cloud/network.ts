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
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { Agent, ProxyAgent, fetch as undiciFetch, type Dispatcher } from 'undici';
import { CloudNetworkError } from '../errors/network-errors.ts';
import { chooseProxy, environmentProxy, proxyAuthorization, proxyUrlProblem, type ProxyChoice, type ProxySetting, type SystemProxy } from './proxy.ts';
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

/** How long a path's check answers for the requests that fail with it. */
const DIAGNOSIS_REUSE_MS = 5000;
/** How long the machine's WinHTTP proxy, once read, is taken as it is (reading it starts PowerShell). */
const WINHTTP_REUSE_MS = 5 * 60_000;
let winHttp: { readonly at: number; readonly value?: SystemProxy; readonly error?: Error } | undefined;

/** The system's proxy: the environment on Linux; on Windows the WinHTTP proxy, read once every few minutes for the whole process. */
type Trust = { readonly secureContext: SecureContext; readonly sources: CloudNetwork['trustSources'] };

/**
 * The certificates trusted for cloud traffic, as one TLS context. Making it parses some 450 certificates
 * (about 0.1 s), so it is made once for the same files (and their modification times: a store that
 * update-ca-certificates rewrote is read again) and the same authorities trusted in the wizard.
 */
const trusts = new Map<string, Trust>();

function trustFor(bundles: ReadonlyArray<string>, extraFile: string | undefined, trustedCaPem: string | undefined): Trust {
  const stamp = (file: string): string => {
    try {
      return `${file}@${statSync(file).mtimeMs}`;
    } catch {
      return `${file}@-`;
    }
  };
  const key = [...bundles.map(stamp), extraFile ? stamp(extraFile) : '', trustedCaPem ?? ''].join('|');
  let trust = trusts.get(key);
  if (!trust) {
    // NODE_EXTRA_CA_CERTS extends Node's roots for every Node program: honoured here as Node would.
    const extra = extraFile ? osCertificates([extraFile]) : [];
    const system = osCertificates(bundles);
    const configured = pemCertificates(trustedCaPem);
    trust = {
      secureContext: createSecureContext({ ca: [...rootCertificates, ...extra, ...system, ...configured] }),
      sources: { node: rootCertificates.length + extra.length, system: system.length, configured: configured.length },
    };
    if (trusts.size >= 16) trusts.delete(trusts.keys().next().value as string);
    trusts.set(key, trust);
  }
  return trust;
}

function defaultSystemProxy(): SystemProxy {
  if (process.platform !== 'win32') return environmentProxy(process.env);
  const now = Date.now();
  if (!winHttp || now - winHttp.at > WINHTTP_REUSE_MS) {
    try {
      winHttp = { at: now, value: readWinHttpProxy() };
    } catch (error) {
      winHttp = { at: now, error: error as Error };
    }
  }
  if (winHttp.error) throw new Error(`The machine's WinHTTP proxy setting could not be read (${winHttp.error.message}).`);
  return winHttp.value as SystemProxy;
}

export class CloudNetwork {
  public readonly secureContext: SecureContext;
  /** How many certificates are trusted, by where they come from (for `dirsync doctor`). */
  public readonly trustSources: { readonly node: number; readonly system: number; readonly configured: number };
  private system: SystemProxy | undefined;
  private readonly dispatchers = new Map<string, Dispatcher>();
  private msalFailure: { readonly at: number; readonly error: CloudNetworkError } | undefined;
  private readonly recent = new Map<string, CloudNetworkError>();
  private readonly diagnoses = new Map<string, { readonly at: number; readonly result: Promise<CloudNetworkError | undefined> }>();

  public constructor(public readonly options: CloudNetworkOptions) {
    const problem = options.proxy.mode === 'url' ? proxyUrlProblem(options.proxy.url) : undefined;
    if (problem) throw new Error(problem.startsWith('must') ? `The proxy address ${problem}.` : problem);
    const trust = trustFor(process.platform === 'win32' ? [] : options.osCaBundles ?? OS_CA_BUNDLES, process.env['NODE_EXTRA_CA_CERTS'], options.trustedCaPem);
    this.secureContext = trust.secureContext;
    this.trustSources = trust.sources;
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

  /** The proxy for `target`, a setting that cannot be read or used named as such. */
  private routeFor(target: URL): ProxyChoice | undefined {
    try {
      return this.proxyFor(target);
    } catch (error) {
      throw new CloudNetworkError(`${(error as Error).message} Choose the proxy, or "Directly", under "Advanced: network" on the Microsoft Entra page.`, 'bad-proxy-setting');
    }
  }

  /**
   * Why the path to `target` fails: checked step by step, once for every request that fails together — the
   * answer is reused for a few seconds, so a burst of failed requests costs one check.
   */
  private explain(target: URL, proxy: ProxyChoice | undefined): Promise<CloudNetworkError | undefined> {
    const key = `${target.host}|${proxy?.url.href ?? 'direct'}`;
    const now = Date.now();
    const known = this.diagnoses.get(key);
    if (known && now - known.at < DIAGNOSIS_REUSE_MS) return known.result;
    const result = diagnosePath(target, proxy, this.secureContext).catch(() => undefined);
    this.diagnoses.set(key, { at: now, result });
    return result;
  }

  /** fetch through the chosen proxy with the trusted certificates; a failure of the network path is named. */
  public readonly fetch = async (input: string | URL, init?: FetchInit): Promise<Response> => {
    const target = new URL(String(input));
    const proxy = this.routeFor(target);
    try {
      return await undiciFetch(target, { ...init, dispatcher: this.dispatcherFor(proxy) }) as unknown as Response;
    } catch (error) {
      // A request given up on (its own time limit) says nothing of the path.
      if (['AbortError', 'TimeoutError'].includes((error as Error).name)) throw error;
      const named = await this.explain(target, proxy);
      if (!named) throw error;
      this.recent.set(named.message, named);
      if (this.recent.size > 8) this.recent.delete(this.recent.keys().next().value as string);
      throw named;
    }
  };

  /** The network failure msal's network client met since `since` (a Date.now()), if any: what msal's own error code hides. */
  public failureSince(since: number): CloudNetworkError | undefined {
    return this.msalFailure && this.msalFailure.at >= since ? this.msalFailure.error : undefined;
  }

  /**
   * The network failure behind an error a client library made of it (the Graph client keeps only its name and
   * message): the failure itself, with its reason and the chain to trust.
   */
  public failureBehind(error: unknown): CloudNetworkError | undefined {
    if (error instanceof CloudNetworkError) return error;
    const e = error as { code?: unknown; name?: unknown; message?: unknown } | undefined;
    if (e?.code !== 'CloudNetworkError' && e?.name !== 'CloudNetworkError') return undefined;
    return typeof e.message === 'string' ? this.recent.get(e.message) : undefined;
  }

  /** msal-node's network client: its GETs and POSTs through this network. */
  public msalClient(): INetworkModule {
    const send = async <T>(url: string, method: 'GET' | 'POST', options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> => {
      const started = Date.now();
      let response: Response;
      try {
        response = await this.fetch(url, {
          method, headers: options?.headers ?? {}, ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
          ...(timeout ? { signal: AbortSignal.timeout(timeout) } : {}),
        });
      } catch (error) {
        // msal turns what its network client throws into its own codes: the failure is kept for the caller, stamped when the request began.
        if (error instanceof CloudNetworkError && (!this.msalFailure || this.msalFailure.at <= started)) this.msalFailure = { at: started, error };
        throw error;
      }
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
