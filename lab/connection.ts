/**
 * Everything a client needs to reach the lab: written to `<labDir>/connection.json` by `npm run lab`
 * and read by the tests, the CLI (`dirsync init --lab`) and people.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A Samba AD domain controller of the lab (the forest's one DC). */
export type AdConnection = {
  /** `ldaps://127.0.0.1:636` (the second forest: `ldaps://127.0.0.2:636`) */
  readonly ldapsUrl: string;
  /** The DC's DNS host name, which its TLS certificate names (use it as the TLS servername). */
  readonly dcHostName: string;
  /** Kerberos realm, e.g. `CONTOSO.TEST`. */
  readonly realm: string;
  /** DNS domain, e.g. `contoso.test` (the realm's non-routable UPN suffix). */
  readonly domain: string;
  readonly netbiosName: string;
  /** `DC=contoso,DC=test` */
  readonly baseDn: string;
  /** `CN=Administrator,CN=Users,DC=contoso,DC=test` */
  readonly adminBindDn: string;
  /** `Administrator@contoso.test` */
  readonly adminUpn: string;
  readonly adminPassword: string;
  /** PEM file of the CA that signed the DC's LDAPS certificate. */
  readonly caCertFile: string;
  /** Extra UPN suffixes registered in the forest (one of them is a verified domain of the lab tenant). */
  readonly upnSuffixes: ReadonlyArray<string>;
};

/** The emulated Microsoft Entra tenant of the lab (token endpoint + Graph v1.0 subset over HTTPS). */
export type TenantConnection = {
  /** Lower-case GUID. */
  readonly tenantId: string;
  readonly tenantDisplayName: string;
  /** `contoso.onmicrosoft.com` */
  readonly initialDomain: string;
  readonly verifiedDomains: ReadonlyArray<string>;
  /** The application the engine signs in as (client credentials), already consented. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** `https://127.0.0.1:PORT` — the authority host (msal needs https). */
  readonly authorityHost: string;
  /** `https://127.0.0.1:PORT/<tenantId>` */
  readonly authority: string;
  /** `https://127.0.0.1:PORT/<tenantId>/oauth2/v2.0/token` */
  readonly tokenEndpoint: string;
  /** `https://127.0.0.1:PORT/<tenantId>/v2.0/.well-known/openid-configuration` */
  readonly openIdConfiguration: string;
  /** `https://127.0.0.1:PORT/` — give it to the Graph client as baseUrl (it appends `v1.0`). */
  readonly graphBaseUrl: string;
  /** PEM of the tenant's self-signed TLS certificate (trust it with NODE_EXTRA_CA_CERTS or tls `ca`). */
  readonly tenantCaCertFile: string;
  /** `https://127.0.0.1:PORT/_lab` — lab-only control path: fault injection, request log, state dump. */
  readonly labControlUrl: string;
  /** Bearer key for labControlUrl. */
  readonly labControlKey: string;
  /** A Global Administrator of the tenant, for the device-code sign-in of the wizard. */
  readonly globalAdminUpn: string;
  /** The Global Administrator's password: typed on the lab's sign-in page (<authorityHost>/devicelogin) when the wizard shows a device code. */
  readonly globalAdminPassword: string;
};

export type LabConnection = {
  readonly version: 1;
  readonly labDir: string;
  /** The first forest, contoso.test: the AD the product and the tests use unless they say otherwise. */
  readonly ad: AdConnection;
  /**
   * Every forest of the lab, the first one (`ad`) first: contoso.test, then fabrikam.test. A connection.json
   * written before the lab had a second forest has no `forests`; readConnection gives it `[ad]`.
   */
  readonly forests: ReadonlyArray<AdConnection>;
  readonly tenant: TenantConnection;
};

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..');

/** The lab directory: `$DIRSYNC_LAB_DIR`, else `.lab/` at the top of the checkout. */
export function defaultLabDir(): string {
  return resolve(process.env['DIRSYNC_LAB_DIR'] ?? join(repoRoot, '.lab'));
}

export function connectionFile(labDir: string = defaultLabDir()): string {
  return join(labDir, 'connection.json');
}

export function writeConnection(connection: LabConnection): string {
  const file = connectionFile(connection.labDir);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(connection, null, 2) + '\n', { mode: 0o600 });
  return file;
}

/** Reads the connection of a running lab, or returns undefined when none was started. Without `forests` (an older file), forests is `[ad]`. */
export function readConnection(labDir: string = defaultLabDir()): LabConnection | undefined {
  const file = connectionFile(labDir);
  if (!existsSync(file)) return undefined;
  const connection = JSON.parse(readFileSync(file, 'utf8')) as Omit<LabConnection, 'forests'> & { forests?: ReadonlyArray<AdConnection> };
  return { ...connection, forests: connection.forests ?? [connection.ad] };
}
