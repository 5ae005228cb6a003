/**
 * The configuration: validated with zod so that a bad configuration fails fast with a message that
 * says what to change. Secrets are not part of it (they live encrypted in the store).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors/config-error.ts';
import { proxyUrlProblem } from './proxy-address.ts';

const flowRule = z.object({
  target: z.string().min(1),
  sources: z.array(z.string()),
  transform: z.enum(['trim', 'trim-all', 'as-list', 'account-enabled', 'source-anchor', 'mail-nickname', 'country-code']),
  maxLength: z.number().int().positive().optional(),
  required: z.boolean().optional(),
});

/** How to reach one AD domain and read it. */
const adConnectionSchema = z.object({
  /** `ldaps://dc1.contoso.com:636` */
  url: z.string().regex(/^ldaps?:\/\//, 'must start with ldaps:// (or ldap:// for StartTLS)'),
  /** The name the DC's certificate carries, when it differs from the URL's host. */
  tlsServerName: z.string().optional(),
  /** PEM of a CA to trust explicitly (shown with its fingerprint when chosen). */
  trustedCaPem: z.string().optional(),
  /** The account Directory Sync reads AD as (MSOL_… or another): DN or user@domain. */
  bindDn: z.string().min(1),
  /** The domain's naming context, e.g. DC=contoso,DC=com. */
  baseDn: z.string().regex(/^DC=/i, 'must be the domain naming context, e.g. DC=contoso,DC=com'),
  pageSize: z.number().int().min(10).max(5000).default(1000),
});

/** What of a domain is synchronized: nothing ticked means the whole domain. */
const scopeSchema = z.object({
  includedOuGuids: z.array(z.string()).default([]),
  excludedOuGuids: z.array(z.string()).default([]),
  /** Extra LDAP filter ANDed with the object-class filter, e.g. (department=Sales). */
  ldapFilter: z.string().regex(/^\(.*\)$/s, 'must be a parenthesised LDAP filter').optional(),
  groupGuid: z.string().optional(),
}).default({ includedOuGuids: [], excludedOuGuids: [] });

/** One directory source: an AD domain, how it is read, and what of it is synchronized. */
const sourceSchema = z.object({
  /** Stable: the store keys this source's objects and change cursor by it. */
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i, 'must be letters, digits, dots, dashes or underscores'),
  /**
   * The DNS name of the forest's root domain (contoso.com): the domains of one forest share it, its service account
   * and its password. Missing (every configuration before forests): the domain's own name, a forest of one domain.
   */
  forest: z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i, 'must be the DNS name of the forest root domain, e.g. contoso.com').optional(),
  ad: adConnectionSchema,
  scope: scopeSchema,
  /** The name of the stored secret that holds the password of the account the source is read as. */
  passwordSecret: z.string().min(1).default('ad.password'),
});

/** A domain is configured once: two sources never share an id or a naming context. */
function distinctSources(sources: ReadonlyArray<{ id: string; ad: { baseDn: string } }>, context: z.RefinementCtx): void {
  const ids = new Set<string>();
  const naming = new Set<string>();
  for (const [index, source] of sources.entries()) {
    if (ids.has(source.id.toLowerCase())) context.addIssue({ code: 'custom', path: [index, 'id'], message: `"${source.id}" names another source too: give each source its own id` });
    const nc = normalizeDn(source.ad.baseDn);
    if (naming.has(nc)) context.addIssue({ code: 'custom', path: [index, 'ad', 'baseDn'], message: `${source.ad.baseDn} is configured twice: a domain is one source` });
    ids.add(source.id.toLowerCase());
    naming.add(nc);
  }
}

/** A DN compared as AD compares it: case-insensitive, without the spaces around its separators. */
export function normalizeDn(dn: string): string {
  return dn.split(',').map((part) => part.trim().replace(/\s*=\s*/, '=')).join(',').toLowerCase();
}

/** How the cloud is reached: which proxy (docs/network.md). The proxy user's password is a stored secret. */
const proxySchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }),
  z.object({ mode: z.literal('system') }),
  z.object({
    mode: z.literal('url'),
    url: z.string().superRefine((value, context) => {
      const problem = proxyUrlProblem(value);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }),
    username: z.string().min(1).optional(),
  }),
]);

/**
 * A configuration written before the network setting existed reached the cloud directly (Node's fetch reads no
 * proxy setting): it keeps doing so. The wizard and `dirsync init` write the system's proxy for a new installation.
 */
const networkSchema = z.object({ proxy: proxySchema.default({ mode: 'system' }) }).default({ proxy: { mode: 'none' } });

export const configSchema = z.object({
  version: z.literal(2),
  /** The AD domains to synchronize: every ticked domain of every forest (docs/forests.md). */
  sources: z.array(sourceSchema).min(1, 'must name at least one directory source (an AD domain)').superRefine(distinctSources),
  /**
   * When the same UPN or mail is used in two forests and neither object is synchronized yet, the object of this
   * forest keeps the value; without it, neither is written (docs/forests.md "Conflicts between forests").
   */
  preferredForest: z.string().optional(),
  cloud: z.object({
    instance: z.enum(['global', 'usgov', 'china', 'custom']).default('global'),
    tenantId: z.string().regex(/^[0-9a-f-]{36}$|^[a-z0-9.-]+\.[a-z]+$/i, 'must be the tenant id (GUID) or its initial domain'),
    clientId: z.string().regex(/^[0-9a-f-]{36}$/i, 'must be the application (client) id, a GUID'),
    credential: z.enum(['secret', 'certificate']),
    /** For a certificate credential: its PEM (the private key is a secret). */
    certificatePem: z.string().optional(),
    /** Custom instances (and the lab): https authority host and Graph base URL. */
    authorityHost: z.string().url().optional(),
    graphBaseUrl: z.string().url().optional(),
    /** PEM of a CA to trust for the custom instance's TLS (the lab's emulated tenant). */
    trustedCaPem: z.string().optional(),
    /**
     * Earlier Directory Sync app registrations of this tenant (another computer's, or one deleted and
     * registered again): objects carrying their anchor property are adopted, never created again.
     */
    earlierRegistrations: z.array(z.object({
      appId: z.string().regex(/^[0-9a-f-]{36}$/i, 'must be the application (client) id, a GUID'),
      displayName: z.string(),
      anchorProperty: z.string().regex(/^extension_[0-9a-f]{32}_sourceAnchor$/i, 'must be extension_<app id without dashes>_sourceAnchor'),
    })).default([]),
  }),
  network: networkSchema,
  attributeFlow: z.object({ user: z.array(flowRule).optional(), group: z.array(flowRule).optional() }).default({}),
  matching: z.object({ softMatchUpn: z.boolean().default(false), softMatchMail: z.boolean().default(false) }).default({ softMatchUpn: false, softMatchMail: false }),
  deletionThreshold: z.object({ count: z.number().int().min(0).default(500), percent: z.number().min(0).max(100).default(10) }).default({ count: 500, percent: 10 }),
  schedule: z.object({
    intervalMinutes: z.number().int().min(1).max(1440).default(30),
    /** A full run at least this often (confirms deletions, catches changes made in the tenant); 0 = never. */
    fullEveryHours: z.number().int().min(0).max(24 * 30).default(24),
  }).default({ intervalMinutes: 30, fullEveryHours: 24 }),
  stagingMode: z.boolean().default(false),
  serviceAccountNames: z.array(z.string()).default([]),
  historyDays: z.number().int().min(1).default(30),
});

/**
 * A configuration of version 1 (one `ad` block and one `scope`, as every installation before
 * directory sources wrote it, and as exports and `dirsync init` may still give it) is the same
 * configuration with one source, "primary": read as version 2, written as version 2.
 */
function upgradeConfig(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || (value as { version?: unknown }).version !== 1) return value;
  const { ad, scope, ...rest } = value as Record<string, unknown>;
  return { ...rest, version: 2, sources: [{ id: 'primary', ad, ...(scope !== undefined ? { scope } : {}) }] };
}

/** The forest chosen to win a conflict is one of the configured forests. */
const checkedConfig = configSchema.superRefine((config, context) => {
  if (config.preferredForest === undefined) return;
  const forests = [...new Set(config.sources.map((source) => (source.forest ?? domainNameOf(source.ad.baseDn)).toLowerCase()))];
  if (!forests.includes(config.preferredForest.toLowerCase())) {
    context.addIssue({ code: 'custom', path: ['preferredForest'], message: `"${config.preferredForest}" is not a configured forest: give one of ${forests.join(', ')}` });
  }
});

const configInput = z.preprocess(upgradeConfig, checkedConfig);

export type DirSyncConfig = z.infer<typeof configSchema>;
export type SourceConfig = DirSyncConfig['sources'][number];

/** The first directory source: the one an installation of one domain names (and the wizard's first forest's first domain). */
export function primarySource(config: DirSyncConfig): SourceConfig {
  return config.sources[0] as SourceConfig;
}

/** A domain's DNS name from its naming context: DC=emea,DC=contoso,DC=com → emea.contoso.com. */
export function domainNameOf(baseDn: string): string {
  return normalizeDn(baseDn).split(',').filter((part) => part.startsWith('dc=')).map((part) => part.slice(3)).join('.');
}

/** The forest a source's domain belongs to (its root domain's DNS name, lower case). */
export function forestOf(source: SourceConfig): string {
  return (source.forest ?? domainNameOf(source.ad.baseDn)).toLowerCase();
}

/** The source whose naming context holds this DN (the longest that does), or undefined. */
export function sourceOfDn<S extends { readonly ad: { readonly baseDn: string } }>(sources: ReadonlyArray<S>, dn: string): S | undefined {
  const normalized = normalizeDn(dn);
  let best: S | undefined;
  let bestLength = -1;
  for (const source of sources) {
    const nc = normalizeDn(source.ad.baseDn);
    if ((normalized === nc || normalized.endsWith(`,${nc}`)) && nc.length > bestLength) {
      best = source;
      bestLength = nc.length;
    }
  }
  return best;
}

/** The forest of the domain whose naming context holds this DN, or undefined when no configured domain does. */
export function forestOfDn(sources: ReadonlyArray<SourceConfig>, dn: string): string | undefined {
  const source = sourceOfDn(sources, dn);
  return source ? forestOf(source) : undefined;
}

/** The configuration with its first directory source changed (its connection or its scope). */
export function withPrimarySource(config: DirSyncConfig, change: (source: SourceConfig) => SourceConfig): DirSyncConfig {
  return { ...config, sources: config.sources.map((source, i) => (i === 0 ? change(source) : source)) };
}

export function parseConfig(value: unknown, source: string): DirSyncConfig {
  const result = configInput.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
  throw new ConfigError(`The configuration in ${source} is not valid:\n${problems}\nCorrect these settings (dirsync init, or dirsync config import) and try again.`);
}

export { defaultDataDir } from './locations.ts';

export function storeFiles(dataDir: string): { store: string; key: string; logs: string } {
  return { store: join(dataDir, 'dirsync.db'), key: join(dataDir, 'secret.key'), logs: join(dataDir, 'logs') };
}
