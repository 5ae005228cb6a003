/**
 * A proxy's address as the configuration holds it and administrators type it: http(s)://host:port, nothing
 * more; a user name and password, when some put them in it, are never shown.
 */

/** A proxy address as it may be shown: without the user name and password some put in it. */
export function withoutUserInfo(text: string): string {
  // Everything up to the last "@" is a user name and password, whatever characters they hold (host names have no "@").
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^]*@/i, '$1');
}

/** A proxy URL as administrators type it ("proxy.contoso.com:8080" means http://proxy.contoso.com:8080). */
export function parseProxyUrl(text: string): URL {
  const trimmed = text.trim();
  const shown = withoutUserInfo(trimmed);
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`"${shown}" is not a proxy address: give it as http://host:port (for example http://proxy.contoso.com:8080).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`The proxy ${url.host} must be reached over http:// or https://, not ${url.protocol}//.`);
  if (url.hostname === '') throw new Error(`"${shown}" names no proxy host: give it as http://host:port.`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') throw new Error(`The proxy address "${shown}" must not have a path: give it as http://host:port.`);
  return url;
}

/** What is wrong with a proxy address the configuration names, or undefined: credentials are given apart, never in it. */
export function proxyUrlProblem(text: string): string | undefined {
  try {
    const url = parseProxyUrl(text);
    if (url.username !== '' || url.password !== '') return 'must be the proxy as http://host:port, without a user name or password in it: give them apart';
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
