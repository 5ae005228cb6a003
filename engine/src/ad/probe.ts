/**
 * What the Configuration Wizard asks of AD before anything is saved: reach the DC, show its LDAPS
 * certificate (with its fingerprint) so the administrator can decide to trust it, bind, and list
 * the OU tree for scoping.
 */
import { X509Certificate } from 'node:crypto';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { certificateInfoOf } from '../base/certificates.ts';
import { normalizeDn } from '../base/config.ts';
import type { AdConnectionInput, AdConnectionTest, CertificateInfo, ForestView, OuNode } from '../contract/control-api.ts';
import { EngineError } from '../errors/engine-error.ts';
import { AdConnector } from './connector.ts';
import { discoverForest, findDomainControllers } from './forest.ts';
import { guidBufferToString, parseExtendedDn } from './guid.ts';
import { NO_SEARCH_TIME_LIMIT } from './search-limits.ts';

/** Reads the DC's certificate chain without trusting it (nothing is sent but the TLS handshake). */
export function fetchCertificate(url: string, servername: string | undefined, trustedCaPem: string | undefined): Promise<CertificateInfo> {
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol === 'ldaps:' ? 636 : 389));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: parsed.hostname, port, servername: servername ?? (/^[\d.]+$/.test(parsed.hostname) ? undefined : parsed.hostname), rejectUnauthorized: false, ca: trustedCaPem ? [trustedCaPem] : undefined, timeout: 10_000 }, () => {
      const peer = socket.getPeerCertificate(true) as DetailedPeerCertificate;
      const pinned = trustedCaPem ? new X509Certificate(trustedCaPem) : undefined;
      // A trusted certificate that is not a CA is a pin: it is trusted when the DC presents exactly it.
      const authorized = socket.authorized || (pinned !== undefined && !pinned.ca && pinned.fingerprint256 === peer.fingerprint256);
      socket.end();
      if (!peer?.raw) {
        reject(new Error('the domain controller presented no certificate'));
        return;
      }
      resolve(certificateInfoOf(peer, authorized));
    });
    socket.on('timeout', () => socket.destroy(new Error(`no answer from ${parsed.hostname}:${port}`)));
    socket.on('error', reject);
  });
}

/** The domain's naming context, read from the rootDSE. */
async function defaultNamingContext(connector: AdConnector): Promise<string> {
  const { searchEntries } = await connector.ldap.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['defaultNamingContext'] });
  return String(searchEntries[0]?.['defaultNamingContext'] ?? '');
}

export async function probeAdConnection(input: AdConnectionInput): Promise<AdConnectionTest> {
  let certificate: CertificateInfo | undefined;
  try {
    certificate = await fetchCertificate(input.url, input.tlsServerName, input.trustedCaPem);
  } catch (error) {
    return { ok: false, code: 'ad-unreachable', message: `Cannot reach the domain controller at ${input.url}: ${(error as Error).message}. Check the name, that port 636 is open and that the DC is running.` };
  }
  try {
    const connector = await AdConnector.connect({ url: input.url, bindDn: input.bindDn, password: input.password, baseDn: '', trustedCaPem: input.trustedCaPem, tlsServerName: input.tlsServerName });
    try {
      const baseDn = await defaultNamingContext(connector);
      const withBase = await AdConnector.connect({ url: input.url, bindDn: input.bindDn, password: input.password, baseDn, trustedCaPem: input.trustedCaPem, tlsServerName: input.tlsServerName });
      const dirSync = await withBase.canUseDirSync().finally(() => withBase.close());
      return { ok: true, baseDn, certificate, dirSync };
    } finally {
      await connector.close();
    }
  } catch (error) {
    if (error instanceof EngineError) return { ok: false, code: error.code, message: error.message, certificate };
    throw error;
  }
}

export async function listOrganizationalUnits(input: AdConnectionInput & { readonly baseDn: string }): Promise<ReadonlyArray<OuNode>> {
  const connector = await AdConnector.connect({ url: input.url, bindDn: input.bindDn, password: input.password, baseDn: input.baseDn,
    trustedCaPem: input.trustedCaPem, tlsServerName: input.tlsServerName });
  try {
    const { searchEntries } = await connector.ldap.search(input.baseDn, { ...NO_SEARCH_TIME_LIMIT, scope: 'sub', filter: '(objectClass=organizationalUnit)', attributes: ['objectGUID', 'name'], explicitBufferAttributes: ['objectGUID'], paged: { pageSize: 1000 } });
    type Mutable = { guid: string; dn: string; name: string; children: Mutable[] };
    const nodes = new Map<string, Mutable>();
    for (const entry of searchEntries) {
      const dn = parseExtendedDn(entry.dn).dn;
      nodes.set(dn.toLowerCase(), { guid: guidBufferToString(entry['objectGUID'] as Buffer), dn, name: String(entry['name'] ?? dn), children: [] });
    }
    const roots: Mutable[] = [];
    for (const node of nodes.values()) {
      const parent = nodes.get(node.dn.slice(node.dn.search(/(?<!\\),/) + 1).toLowerCase());
      (parent ? parent.children : roots).push(node);
    }
    const sort = (list: Mutable[]): Mutable[] => list.sort((a, b) => a.name.localeCompare(b.name)).map((n) => ({ ...n, children: sort(n.children) }));
    return sort(roots);
  } finally {
    await connector.close();
  }
}

/**
 * The forest of the DC given, as the credentials given read it: every domain (CN=Partitions), the DC given for its own
 * domain, and for the others the first DC DNS names (`_ldap._tcp.dc._msdcs.<domain>`, LDAPS on 636) or none — then the
 * administrator types one.
 */
export async function discoverForestOf(input: AdConnectionInput): Promise<ForestView> {
  const connector = await AdConnector.connect({ url: input.url, bindDn: input.bindDn, password: input.password, baseDn: '', trustedCaPem: input.trustedCaPem, tlsServerName: input.tlsServerName });
  try {
    const own = normalizeDn(await defaultNamingContext(connector));
    const forest = await discoverForest(connector.ldap);
    const domains = await Promise.all(forest.domains.map(async (domain) => {
      const base = { dnsName: domain.dnsName, netbiosName: domain.netbiosName, baseDn: domain.namingContext, forestRoot: domain.forestRoot, ...(domain.parent ? { parent: domain.parent } : {}) };
      if (normalizeDn(domain.namingContext) === own) return { ...base, dcUrl: input.url, dcFoundBy: 'given' as const };
      const [dc] = await findDomainControllers(domain.dnsName);
      return dc ? { ...base, dcUrl: `ldaps://${dc.host}:636`, dcFoundBy: 'dns' as const } : { ...base, dcFoundBy: 'none' as const };
    }));
    return { name: forest.name, domains };
  } finally {
    await connector.close();
  }
}
