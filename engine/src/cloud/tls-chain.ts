/**
 * The path to a cloud endpoint, step by step, for the connection test and to name what failed: the
 * proxy reached (or not), its answer to CONNECT (407 credentials refused, 403 destination denied, 502/503
 * destination unreachable behind it), then the TLS handshake with the certificates this computer trusts —
 * and when it is not trusted, the chain presented (a TLS-inspecting proxy's authority), for the wizard's
 * "Trust this certificate". Nothing is sent but the CONNECT line and the handshake.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect, type DetailedPeerCertificate, type SecureContext } from 'node:tls';
import { certificateInfoOf, commonName } from '../base/certificates.ts';
import type { CertificateInfo } from '../contract/control-api.ts';
import { CloudNetworkError } from '../errors/network-errors.ts';
import { describeProxy, proxyAuthorization, type ProxyChoice } from './proxy.ts';

const TIMEOUT_MS = 15_000;

/** Where a target is, as a host and port. */
export function hostPort(target: URL): { host: string; port: number; label: string } {
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || (target.protocol === 'http:' ? 80 : 443));
  return { host, port, label: `${target.hostname}:${port}` };
}

class ProxyAnswer extends Error {
  public constructor(public readonly status: number) {
    super(`the proxy answered ${status}`);
  }
}

/** A TCP connection to the target: directly, or a tunnel through the proxy (HTTP CONNECT). */
export function openTunnel(target: URL, proxy: ProxyChoice | undefined, secureContext: SecureContext): Promise<Socket> {
  const { host, port } = hostPort(target);
  if (!proxy) {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port, timeout: TIMEOUT_MS }, () => resolve(socket));
      socket.on('timeout', () => socket.destroy(Object.assign(new Error(`no answer from ${host}:${port}`), { code: 'ETIMEDOUT' })));
      socket.on('error', reject);
    });
  }
  return new Promise((resolve, reject) => {
    const authorization = proxyAuthorization(proxy);
    const options = {
      host: proxy.url.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.url.port || (proxy.url.protocol === 'https:' ? 443 : 80)),
      method: 'CONNECT', path: `${host.includes(':') ? `[${host}]` : host}:${port}`, timeout: TIMEOUT_MS, agent: false as const,
      headers: { host: `${host}:${port}`, ...(authorization ? { 'proxy-authorization': authorization } : {}) },
    };
    const req = proxy.url.protocol === 'https:' ? httpsRequest({ ...options, secureContext } as RequestOptions) : httpRequest(options);
    req.on('connect', (response: IncomingMessage, socket: Socket) => {
      if (response.statusCode === 200) resolve(socket);
      else {
        socket.destroy();
        reject(new ProxyAnswer(response.statusCode ?? 0));
      }
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer from the proxy ${proxy.url.host}`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

export type ChainInspection = { readonly certificate: CertificateInfo; readonly authorizationError?: string };

/** The TLS handshake over `socket` with the trusted certificates: the chain presented and whether it is trusted. */
export function inspectChain(target: URL, socket: Socket, secureContext: SecureContext): Promise<ChainInspection> {
  const { host } = hostPort(target);
  return new Promise((resolve, reject) => {
    // `host` names whom the certificate must be for: through a tunnel the socket's own peer is the proxy.
    const tls = tlsConnect({ socket, host, secureContext, rejectUnauthorized: false, ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }) }, () => {
      const peer = tls.getPeerCertificate(true) as DetailedPeerCertificate;
      tls.end();
      if (!peer?.raw) {
        reject(new Error(`${host} presented no certificate`));
        return;
      }
      const error = tls.authorizationError === null || tls.authorizationError === undefined ? undefined : String(tls.authorizationError);
      resolve({ certificate: certificateInfoOf(peer, tls.authorized), ...(error ? { authorizationError: error } : {}) });
    });
    tls.setTimeout(TIMEOUT_MS, () => tls.destroy(Object.assign(new Error(`no TLS answer from ${host}`), { code: 'ETIMEDOUT' })));
    tls.on('error', reject);
  });
}

const HOST_MISMATCH = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match certificate\'s altnames']);

/** The message for a chain this computer does not trust, naming the authority that issued it. */
export function untrustedMessage(target: URL, inspection: ChainInspection, proxy: ProxyChoice | undefined): string {
  const { certificate } = inspection;
  const { host } = hostPort(target);
  if (HOST_MISMATCH.has(inspection.authorizationError ?? '')) {
    return `The certificate ${host} presented (${certificate.subject}, issued by '${commonName(certificate.issuer)}') is not for the name ${host}: check the address of the cloud instance.`;
  }
  const issuer = commonName(certificate.issuer);
  const inspecting = proxy ? ` ${describeProxy(proxy).replace(/^the proxy/, 'The proxy')} may inspect TLS and re-sign what it passes with its own authority.` : '';
  // Node does not read the Windows certificate store (docs/network.md): there the wizard's trust is the way.
  const elsewhere = process.platform === 'win32' ? ' (Directory Sync does not read the Windows certificate store)' : ' or add it to this computer\'s trusted certificates';
  let what: string;
  if (certificate.trustSelfSigned) {
    what = ` If '${commonName(certificate.trustSubject)}' (SHA-256 ${certificate.trustFingerprintSha256}) is your organisation's authority, trust it on the Microsoft Entra page ("Trust this certificate")${elsewhere}.`;
  } else if (certificate.trustFingerprintSha256 !== certificate.fingerprintSha256) {
    what = ` The server sent the authority '${commonName(certificate.trustSubject)}' but not the root that issued it ('${commonName(new X509Certificate(certificate.caPem).issuer.replace(/\n/g, ', '))}'): ` +
      `add that root to this computer's trusted certificates${process.platform === 'linux' ? ' (/usr/local/share/ca-certificates, then update-ca-certificates)' : ''}, or ask your network team for it.`;
  } else {
    what = ` The server did not send the authority's own certificate: add '${issuer}' to this computer's trusted certificates${process.platform === 'linux' ? ' (/usr/local/share/ca-certificates, then update-ca-certificates)' : ''}.`;
  }
  return `The certificate of ${host} is issued by '${issuer}', which this computer does not trust (${inspection.authorizationError ?? 'not trusted'}).${inspecting}${what}`;
}

/** Why the network path to `target` fails, or undefined when the proxy and the TLS handshake are fine. */
export async function diagnosePath(target: URL, proxy: ProxyChoice | undefined, secureContext: SecureContext): Promise<CloudNetworkError | undefined> {
  const { label } = hostPort(target);
  let socket: Socket;
  try {
    socket = await openTunnel(target, proxy, secureContext);
  } catch (error) {
    return proxyFailure(error, target, proxy);
  }
  let inspection: ChainInspection;
  try {
    inspection = await inspectChain(target, socket, secureContext);
  } catch (error) {
    socket.destroy();
    return new CloudNetworkError(`The TLS handshake with ${label} through ${describeProxy(proxy)} failed: ${(error as Error).message}.`, 'unreachable');
  }
  if (!inspection.certificate.trusted) return new CloudNetworkError(untrustedMessage(target, inspection, proxy), 'tls-untrusted', inspection.certificate);
  return undefined;
}

function proxyFailure(error: unknown, target: URL, proxy: ProxyChoice | undefined): CloudNetworkError {
  const { label } = hostPort(target);
  const via = describeProxy(proxy);
  if (error instanceof ProxyAnswer) {
    if (error.status === 407) {
      return new CloudNetworkError(proxy?.username
        ? `${capital(via)} refused the user name and password (407 Proxy Authentication Required). Check the proxy user "${proxy.username}" and its password under "Advanced: network".`
        : `${capital(via)} asks for a user name and password (407 Proxy Authentication Required): enter them under "Advanced: network".`, 'proxy-auth');
    }
    if (error.status === 403) {
      return new CloudNetworkError(`${capital(via)} does not allow this computer to reach ${label} (403 Forbidden). Ask its administrators to allow ${label}.`, 'proxy-denied');
    }
    if ([502, 503, 504].includes(error.status)) {
      return new CloudNetworkError(`${capital(via)} could not reach ${label} (${error.status}). Check the address of the cloud instance, and the proxy's own connection.`, 'destination-unreachable');
    }
    return new CloudNetworkError(`${capital(via)} refused the connection to ${label} (${error.status}).`, 'proxy-denied');
  }
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  if (proxy) {
    return new CloudNetworkError(`Cannot reach ${via} (${code}). Check its address and port under "Advanced: network" (or the system's proxy setting), and that this computer may reach it.`, 'proxy-unreachable');
  }
  return new CloudNetworkError(`Cannot reach ${label} directly (${code}). Check the network and the cloud instance chosen; if this network needs a proxy, set it under "Advanced: network".`, 'unreachable');
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
