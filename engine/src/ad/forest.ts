/**
 * The forest a domain controller belongs to, discovered rather than typed (issue 29): its domains are the
 * crossRef objects under CN=Partitions,<configuration naming context> (MS-ADTS 6.1.1.2.1.1) whose
 * systemFlags carry FLAG_CR_NTDS_NC (0x1) and FLAG_CR_NTDS_DOMAIN (0x2); the configuration and schema
 * partitions carry 0x1 only and the application (DNS) partitions 0x5, so neither is a domain. A child
 * domain's crossRef names its parent's in `trustParent`; the forest root's and another tree root's have
 * none. A crossRef whose `enabled` is FALSE is a domain being created, not yet one. The domain
 * controllers of a domain are found in DNS: `_ldap._tcp.dc._msdcs.<domain>` (MS-ADTS 6.3.6.1).
 */
import { promises as dnsPromises } from 'node:dns';
import type { Client } from 'ldapts';
import { normalizeDn } from '../base/config.ts';

/** FLAG_CR_NTDS_NC: the partition is an AD naming context. */
export const FLAG_CR_NTDS_NC = 0x1;
/** FLAG_CR_NTDS_DOMAIN: the naming context is a domain. */
export const FLAG_CR_NTDS_DOMAIN = 0x2;

/** A crossRef as LDAP returns it: attribute values as strings (or lists of them). */
export type CrossRefEntry = {
  readonly dn: string;
  readonly nCName?: string | ReadonlyArray<string>;
  readonly dnsRoot?: string | ReadonlyArray<string>;
  readonly nETBIOSName?: string | ReadonlyArray<string>;
  readonly systemFlags?: string | ReadonlyArray<string>;
  readonly trustParent?: string | ReadonlyArray<string>;
  readonly enabled?: string | ReadonlyArray<string>;
};

export type ForestDomain = {
  /** The domain's DNS name, e.g. emea.contoso.com. */
  readonly dnsName: string;
  /** Its NetBIOS name, e.g. EMEA. */
  readonly netbiosName: string;
  /** Its naming context, e.g. DC=emea,DC=contoso,DC=com. */
  readonly namingContext: string;
  /** The parent domain's DNS name, for a child domain. */
  readonly parent?: string;
  /** The forest root domain (where the forest's MSOL_ account lives). */
  readonly forestRoot: boolean;
};

export type Forest = {
  /** The forest root domain's DNS name: the forest's name. */
  readonly name: string;
  readonly configurationNamingContext: string;
  /** The forest root first, then the others by DNS name. */
  readonly domains: ReadonlyArray<ForestDomain>;
};

function first(value: string | ReadonlyArray<string> | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value[0];
}


/** The domains among a forest's crossRefs, the root named by its naming context (the rootDSE's rootDomainNamingContext). */
export function domainsFromCrossRefs(entries: ReadonlyArray<CrossRefEntry>, rootDomainNamingContext: string): ForestDomain[] {
  const domains = entries.filter((entry) => {
    const flags = Number(first(entry.systemFlags) ?? 0);
    return (flags & FLAG_CR_NTDS_NC) !== 0 && (flags & FLAG_CR_NTDS_DOMAIN) !== 0 && first(entry.enabled)?.toUpperCase() !== 'FALSE' && first(entry.nCName) !== undefined;
  });
  const byDn = new Map(domains.map((entry) => [entry.dn.toLowerCase(), entry]));
  const out = domains.map((entry): ForestDomain => {
    const namingContext = first(entry.nCName) as string;
    const parentRef = first(entry.trustParent);
    const parent = parentRef ? byDn.get(parentRef.toLowerCase()) : undefined;
    const dnsName = (first(entry.dnsRoot) ?? namingContext.split(',').map((p) => p.replace(/^DC=/i, '')).join('.')).toLowerCase();
    return {
      dnsName, netbiosName: first(entry.nETBIOSName) ?? dnsName.split('.')[0]?.toUpperCase() ?? dnsName, namingContext,
      ...(parent ? { parent: (first(parent.dnsRoot) ?? '').toLowerCase() } : {}),
      forestRoot: normalizeDn(namingContext) === normalizeDn(rootDomainNamingContext),
    };
  });
  return out.sort((a, b) => Number(b.forestRoot) - Number(a.forestRoot) || a.dnsName.localeCompare(b.dnsName));
}

/** Reads the forest of the domain controller `ldap` is bound to: its root domain and every domain of it. */
export async function discoverForest(ldap: Client): Promise<Forest> {
  const { searchEntries: [rootDse] } = await ldap.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['configurationNamingContext', 'rootDomainNamingContext'] });
  const configurationNamingContext = String(rootDse?.['configurationNamingContext'] ?? '');
  const rootDomainNamingContext = String(rootDse?.['rootDomainNamingContext'] ?? '');
  if (configurationNamingContext === '' || rootDomainNamingContext === '') throw new Error('The domain controller did not name its configuration and forest root naming contexts (rootDSE).');
  const { searchEntries } = await ldap.search(`CN=Partitions,${configurationNamingContext}`, {
    scope: 'one', filter: '(objectClass=crossRef)', attributes: ['nCName', 'dnsRoot', 'nETBIOSName', 'systemFlags', 'trustParent', 'enabled'],
  });
  const domains = domainsFromCrossRefs(searchEntries as unknown as CrossRefEntry[], rootDomainNamingContext);
  const root = domains.find((d) => d.forestRoot);
  if (!root) throw new Error(`The forest's partitions (CN=Partitions,${configurationNamingContext}) list no crossRef for its root domain ${rootDomainNamingContext}.`);
  return { name: root.dnsName, configurationNamingContext, domains };
}

export type DomainController = { readonly host: string; readonly port: number };

/** The domain controllers DNS names for a domain (SRV `_ldap._tcp.dc._msdcs.<domain>`), by priority then weight; none when DNS does not answer. */
type SrvRecord = { readonly name: string; readonly port: number; readonly priority: number; readonly weight: number };

export async function findDomainControllers(domain: string,
  resolveSrv: (name: string) => Promise<ReadonlyArray<SrvRecord>> = (name) => dnsPromises.resolveSrv(name)): Promise<DomainController[]> {
  let records;
  try {
    records = await resolveSrv(`_ldap._tcp.dc._msdcs.${domain}`);
  } catch {
    return [];
  }
  return [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight || a.name.localeCompare(b.name))
    .map((r) => ({ host: r.name.replace(/\.$/, ''), port: r.port }));
}
