/**
 * Which proxy a request to the cloud goes through (docs/network.md): none, the system's, or one named in
 * the configuration. "The system's" is, on Linux, the `https_proxy`/`HTTPS_PROXY` (else `all_proxy`/
 * `ALL_PROXY`) and `no_proxy`/`NO_PROXY` variables of the service's environment, as curl reads them for
 * HTTPS (this computer's own addresses too, unless NO_PROXY names them, as curl does); on Windows, the machine's WinHTTP proxy (`netsh winhttp set proxy`), which the service
 * reads through WinHttpGetDefaultProxyConfiguration (windows-proxy.ts). Pure: the environment and the
 * WinHTTP answer are given.
 */

import { parseProxyUrl } from '../base/proxy-address.ts';

export { parseProxyUrl, proxyUrlProblem, withoutUserInfo } from '../base/proxy-address.ts';

/** The proxy setting of the configuration. */
export type ProxySetting =
  | { readonly mode: 'none' }
  | { readonly mode: 'system' }
  | { readonly mode: 'url'; readonly url: string; readonly username?: string | undefined };

/** A proxy as the system states it: the server for HTTPS and the hosts that bypass it. */
export type SystemProxy = { readonly server?: string | undefined; readonly bypass: ReadonlyArray<string>; readonly source: string };

/** The proxy one request goes through: its URL (credentials apart) and where the setting came from. */
export type ProxyChoice = { readonly url: URL; readonly username?: string | undefined; readonly password?: string | undefined; readonly source: string };

/** The proxy variables of a Linux environment (lower case first, as curl reads them). */
export function environmentProxy(env: NodeJS.ProcessEnv): SystemProxy {
  const pick = (...names: string[]): [string, string] | undefined => {
    for (const name of names) {
      const value = env[name]?.trim();
      if (value) return [name, value];
    }
    return undefined;
  };
  // Every cloud request is HTTPS: as curl, the HTTPS variable, else ALL_PROXY (never HTTP_PROXY, which is for http:// only).
  const server = pick('https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY');
  const bypass = pick('no_proxy', 'NO_PROXY');
  return {
    server: server?.[1],
    bypass: bypass ? bypass[1].split(/[\s,]+/).filter((e) => e !== '') : [],
    source: server ? `the environment variable ${server[0]}` : 'the environment (no proxy variable set)',
  };
}

const ipv4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Whether a host bypasses the proxy. Entries as NO_PROXY writes them (`*`, `contoso.com` and `.contoso.com`
 * for the domain and its subdomains, `host:port`, an address) and as WinHTTP's bypass list writes them
 * (`*.contoso.com`, `10.*`, and `<local>` for names without a dot).
 */
export function bypasses(target: URL, bypass: ReadonlyArray<string>): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  return bypass.some((raw) => {
    let entry = raw.trim().toLowerCase();
    if (entry === '') return false;
    if (entry === '*') return true;
    if (entry === '<local>') return !host.includes('.') && !host.includes(':');
    const portMatch = /^(.*[^:]):(\d+)$/.exec(entry);
    if (portMatch && !entry.includes('::')) {
      if (portMatch[2] !== port) return false;
      entry = portMatch[1] as string;
    }
    entry = entry.replace(/^\[|\]$/g, '');
    if (entry.includes('*')) {
      const pattern = new RegExp(`^${entry.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      return pattern.test(host);
    }
    if (ipv4.test(host) || host.includes(':')) return host === entry;
    const domain = entry.replace(/^\./, '');
    return host === domain || host.endsWith(`.${domain}`);
  });
}

/**
 * WinHTTP's proxy string for an HTTPS request: `host:port`, or per scheme `http=host:port;https=host:port`
 * (several separated by `;` or spaces). The `https=` entry is taken for HTTPS, else one without a scheme.
 */
export function winHttpServerFor(proxy: string, protocol: 'https:' | 'http:' = 'https:'): string | undefined {
  const entries = proxy.split(/[;\s]+/).filter((e) => e !== '');
  const scheme = protocol.replace(':', '');
  const named = entries.find((e) => e.toLowerCase().startsWith(`${scheme}=`));
  if (named) return named.slice(scheme.length + 1);
  return entries.find((e) => !e.includes('='));
}

/** The proxy a request to `target` goes through, or undefined for a direct connection. */
export function chooseProxy(target: URL, setting: ProxySetting, system: () => SystemProxy, password?: string): ProxyChoice | undefined {
  if (setting.mode === 'none') return undefined;
  if (setting.mode === 'url') {
    const url = parseProxyUrl(setting.url);
    return { url: withoutCredentials(url), username: setting.username || decode(url.username) || undefined,
      password: password || decode(url.password) || undefined, source: 'the configuration' };
  }
  const found = system();
  if (!found.server || bypasses(target, found.bypass)) return undefined;
  const url = parseProxyUrl(found.server);
  return { url: withoutCredentials(url), username: decode(url.username) || undefined, password: decode(url.password) || undefined, source: found.source };
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function withoutCredentials(url: URL): URL {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy;
}

/** The Proxy-Authorization header value for a proxy's Basic authentication, when it has credentials. */
export function proxyAuthorization(choice: ProxyChoice): string | undefined {
  if (!choice.username) return undefined;
  return `Basic ${Buffer.from(`${choice.username}:${choice.password ?? ''}`).toString('base64')}`;
}

/** How a proxy is named to the administrator: its host and port, never its credentials. */
export function describeProxy(choice: ProxyChoice | undefined): string {
  if (!choice) return 'a direct connection (no proxy)';
  const port = choice.url.port || (choice.url.protocol === 'https:' ? '443' : '80');
  return `the proxy ${choice.url.hostname}:${port} (from ${choice.source})`;
}
