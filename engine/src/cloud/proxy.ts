/**
 * Which proxy a request to the cloud goes through (docs/network.md): none, the system's, or one named in
 * the configuration. "The system's" is, on Linux, the `https_proxy`/`HTTPS_PROXY` (else `http_proxy`/
 * `HTTP_PROXY`) and `no_proxy`/`NO_PROXY` variables of the service's environment, as curl and most tools
 * read them; on Windows, the machine's WinHTTP proxy (`netsh winhttp set proxy`), which the service
 * reads through WinHttpGetDefaultProxyConfiguration (windows-proxy.ts). Pure: the environment and the
 * WinHTTP answer are given.
 */

/** The proxy setting of the configuration. */
export type ProxySetting =
  | { readonly mode: 'none' }
  | { readonly mode: 'system' }
  | { readonly mode: 'url'; readonly url: string; readonly username?: string | undefined };

/** A proxy as the system states it: the server for HTTPS and the hosts that bypass it. */
export type SystemProxy = { readonly server?: string | undefined; readonly bypass: ReadonlyArray<string>; readonly source: string };

/** The proxy one request goes through: its URL (credentials apart) and where the setting came from. */
export type ProxyChoice = { readonly url: URL; readonly username?: string | undefined; readonly password?: string | undefined; readonly source: string };

/** A proxy URL as administrators type it ("proxy.contoso.com:8080" means http://proxy.contoso.com:8080). */
export function parseProxyUrl(text: string): URL {
  const trimmed = text.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`"${text}" is not a proxy address: give it as http://host:port (for example http://proxy.contoso.com:8080).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`The proxy ${url.host} must be reached over http:// or https://, not ${url.protocol}//.`);
  if (url.hostname === '') throw new Error(`"${text}" names no proxy host: give it as http://host:port.`);
  if (url.pathname !== '/' && url.pathname !== '') throw new Error(`The proxy address "${text}" must not have a path: give it as http://host:port.`);
  return url;
}

/** The proxy variables of a Linux environment (lower case first, as curl reads them). */
export function environmentProxy(env: NodeJS.ProcessEnv): SystemProxy {
  const pick = (...names: string[]): [string, string] | undefined => {
    for (const name of names) {
      const value = env[name]?.trim();
      if (value) return [name, value];
    }
    return undefined;
  };
  const server = pick('https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY');
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
  // The system's proxy never carries a request to this computer itself: the proxy's loopback is not ours.
  if (isLoopback(target)) return undefined;
  const found = system();
  if (!found.server || bypasses(target, found.bypass)) return undefined;
  const url = parseProxyUrl(found.server);
  return { url: withoutCredentials(url), username: decode(url.username) || undefined, password: decode(url.password) || undefined, source: found.source };
}

export function isLoopback(target: URL): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1';
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
