/**
 * The cloud identity of Directory Sync: an administrator signs in once (device code flow, so it works on
 * a server without a browser), and Directory Sync registers its own application in the tenant with a
 * certificate credential, the least Microsoft Graph application permissions it needs (admin-consented
 * by app role assignments), a service principal, and the source anchor directory extension property.
 * The administrator's tokens live only in memory (ARCHITECTURE.md "Security": used once, never stored).
 */
import { X509Certificate, createHash } from 'node:crypto';
import { PublicClientApplication, type AccountInfo, type AuthenticationResult, type DeviceCodeRequest } from '@azure/msal-node';
import type { Client } from '@microsoft/microsoft-graph-client';
import { createGraphClient } from './graph-client.ts';
import { CloudNetwork } from './network.ts';
import type { CloudNetworkError } from '../errors/network-errors.ts';
import { TokenRefusals } from './token-refusals.ts';
import { generate } from 'selfsigned';
import { AppCredentialCheckError, AppRegistrationError } from '../errors/app-registration-errors.ts';
import { CloudAuthenticationError, CloudPermissionError, CloudUnreachableError, mapCloudError, mapSignInError } from '../errors/cloud-errors.ts';
import { ConfigError } from '../errors/config-error.ts';
import { AdminRoleRequiredError, SignInCancelledError, SignInError, SignInExpiredError } from '../errors/sign-in-errors.ts';
import type { EngineError } from '../errors/engine-error.ts';
import { CloudConnector, tenantSynchronizedOf, type EarlierRegistration, type Organization } from './connector.ts';
import { endpointsFor, type CloudEndpoints, type CloudInstance } from './instances.ts';
import type { CloudRegistrationView } from '../contract/control-api.ts';
import { DIRECTORY_SYNC_GRAPH_PERMISSIONS } from '../contract/permissions.ts';

/**
 * The public client the administrator signs in through. Microsoft Graph Command Line Tools is a
 * Microsoft first-party public client present in every tenant that may use the device code flow; a
 * tenant that blocks it can register its own public client ("Allow public client flows") and pass its id.
 */
export const DEFAULT_ADMIN_CLIENT_ID = '14d82eec-204b-4c2f-b7e8-296a70dab67e';

/** Microsoft Graph's application id: the resource of the application permissions. */
export const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/**
 * The least Microsoft Graph application permissions Directory Sync runs with, each one used
 * (engine/test/integration/least-privilege.test.ts takes each away and sees what is refused): users
 * (and their restore from the recycle bin), security groups and their members; the organization
 * (verified domains, and the ownership lease: an open extension on it); its own application (the
 * anchor extension property); directory roles (administrators are never soft-matched).
 * Directory.Read.All, GroupMember.ReadWrite.All and OrgContact.Read.All, asked for before, were
 * covered by these or never used.
 */
export { DIRECTORY_SYNC_GRAPH_PERMISSIONS };

/** Delegated permissions the administrator's sign-in asks for: just enough to register and consent the application. */
export const ADMIN_SIGN_IN_PERMISSIONS: ReadonlyArray<string> = [
  'User.Read', 'Organization.Read.All', 'RoleManagement.Read.Directory', 'Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All',
];

/** Directory roles that can register an application and grant admin consent to Microsoft Graph application permissions (role template ids). */
export const CONSENTING_ROLES: Readonly<Record<string, string>> = {
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'Privileged Role Administrator',
};

/** The name of the source anchor directory extension property (CloudConnector.anchorProperty()). */
export const ANCHOR_EXTENSION_NAME = 'sourceAnchor';

/** Where the tenant is: the national cloud, or custom hosts (the lab). */
export type CloudSettings = {
  readonly instance: CloudInstance;
  /** Custom instances: https authority host, e.g. `https://127.0.0.1:PORT`. */
  readonly authorityHost?: string;
  /** Custom instances: Graph base URL, e.g. `https://127.0.0.1:PORT/`. */
  readonly graphBaseUrl?: string;
  /** The proxy and trusted certificates (default: direct, Node's and the system's roots). */
  readonly network?: CloudNetwork;
};

export type AdminSignInOptions = CloudSettings & {
  /** `organizations` (default: the tenant of the account that signs in), or a tenant id or domain. */
  readonly tenant?: string;
  /** The public client to sign in through; default DEFAULT_ADMIN_CLIENT_ID. */
  readonly clientId?: string;
  /** Stop waiting after this many seconds even if the code has not expired yet. */
  readonly timeoutSeconds?: number;
  /** The delegated permissions to ask for (default ADMIN_SIGN_IN_PERMISSIONS, the registration's). */
  readonly scopes?: ReadonlyArray<string>;
};

export type AdminSignInStatus = 'pending' | 'signed-in' | 'failed' | 'cancelled';

/**
 * A device code sign-in under way. The code is known as soon as this object exists, so a service can
 * hand `userCode`/`verificationUri`/`message` to the wizard at once and await `result` later. `result`
 * never causes an unhandled rejection when nobody awaits it; `status()` tells where it stands.
 */
export type AdminSignIn = {
  readonly userCode: string;
  readonly verificationUri: string;
  /** The identity platform's instruction text, ready to show. */
  readonly message: string;
  readonly expiresAt: Date;
  /** Resolves when the administrator has entered the code and signed in; rejects with a SignIn…Error. */
  readonly result: Promise<AdminSession>;
  status(): AdminSignInStatus;
  /** Why the sign-in failed or was cancelled, once it has (the same error `result` rejects with). */
  error(): EngineError | undefined;
  /** Stops waiting: `result` rejects with SignInCancelledError at once (polling stops within one interval). */
  cancel(): void;
};

function resolveEndpoints(cloud: CloudSettings): CloudEndpoints {
  try {
    return endpointsFor(cloud.instance, { authorityHost: cloud.authorityHost, graphBaseUrl: cloud.graphBaseUrl });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/**
 * A signed-in administrator: a delegated Microsoft Graph client and nothing persisted. Call
 * `signOut()` once the registration is done; the tokens are then forgotten.
 */
export class AdminSession {
  public readonly graph: Client;
  public readonly tenantId: string;
  public readonly userPrincipalName: string;
  /** The administrator's user object id. */
  public readonly userId: string;
  public readonly cloud: CloudSettings;
  public readonly graphBaseUrl: string;
  private readonly scopes: string[];
  private signedOut = false;

  public constructor(private readonly pca: PublicClientApplication, private readonly account: AccountInfo, cloud: CloudSettings, scopes: ReadonlyArray<string>) {
    const endpoints = resolveEndpoints(cloud);
    this.cloud = { instance: cloud.instance, authorityHost: cloud.authorityHost, graphBaseUrl: cloud.graphBaseUrl, network: cloud.network };
    this.graphBaseUrl = endpoints.graphBaseUrl;
    this.tenantId = account.tenantId.toLowerCase();
    this.userPrincipalName = account.username;
    this.userId = account.localAccountId;
    this.scopes = [...scopes];
    this.network = cloud.network ?? CloudNetwork.direct();
    this.graph = createGraphClient(endpoints.graphBaseUrl, () => this.accessToken(), (refused) => this.tokenRefusals.refused(refused), this.network);
  }

  private readonly network: CloudNetwork;

  private readonly tokenRefusals = new TokenRefusals();

  /** A delegated Graph access token, renewed silently from the in-memory cache (or the refresh token, after Graph refused one). */
  public async accessToken(): Promise<string> {
    if (this.signedOut) throw new SignInExpiredError('The administrator has signed out of this session. Sign in again.');
    const started = Date.now();
    try {
      const forceRefresh = this.tokenRefusals.takeRefresh();
      const result = await this.pca.acquireTokenSilent({ account: this.account, scopes: this.scopes, ...(forceRefresh ? { forceRefresh } : {}) });
      if (!result.accessToken) throw new Error('the identity platform returned no access token');
      this.tokenRefusals.issued(result.accessToken);
      return result.accessToken;
    } catch (error) {
      throw this.network.failureSince(started) ?? mapSignInError(error);
    }
  }

  /** The network failure behind an error of this session's Graph client (its reason and chain kept), if it was one. */
  public networkFailureBehind(error: unknown): CloudNetworkError | undefined {
    return this.network.failureBehind(error);
  }

  /** Forgets the administrator's tokens. */
  public async signOut(): Promise<void> {
    this.signedOut = true;
    await this.pca.getTokenCache().removeAccount(this.account);
    this.pca.clearCache();
  }
}

/** msal's public client for the device-code sign-in, its requests through the network. */
function publicClient(instance: CloudInstance, endpoints: CloudEndpoints, tenant: string, clientId: string, network: CloudNetwork): PublicClientApplication {
  return new PublicClientApplication({
    system: { networkClient: network.msalClient() },
    auth: {
      clientId,
      authority: `${endpoints.authorityHost}/${tenant}`,
      ...(instance === 'custom' ? { knownAuthorities: [new URL(endpoints.authorityHost).host] } : {}),
    },
  });
}

/**
 * Starts the device code sign-in and returns as soon as the code is known. Fails (without a code) when
 * the identity platform refuses to start the flow, e.g. an unknown tenant or client.
 */
export async function beginAdminSignIn(options: AdminSignInOptions): Promise<AdminSignIn> {
  const endpoints = resolveEndpoints(options);
  const tenant = (options.tenant ?? 'organizations').trim().toLowerCase();
  // Short scope names mean Microsoft Graph in every cloud (as Graph PowerShell uses them); with full
  // https://graph…/ names the token response (short names) never matches msal's cache and every call renews.
  const scopes = [...(options.scopes ?? ADMIN_SIGN_IN_PERMISSIONS)];
  const clientId = options.clientId ?? DEFAULT_ADMIN_CLIENT_ID;
  const network = options.network ?? CloudNetwork.direct();
  const started = Date.now();
  const pca = publicClient(options.instance, endpoints, tenant, clientId, network);

  let state: AdminSignInStatus = 'pending';
  let showCode: (code: { userCode: string; verificationUri: string; message: string; expiresIn: number }) => void = () => undefined;
  let failBeforeCode: (error: EngineError) => void = () => undefined;
  const codeShown = new Promise<{ userCode: string; verificationUri: string; message: string; expiresIn: number }>((resolve, reject) => {
    showCode = resolve;
    failBeforeCode = reject;
  });
  let refusal: SignInError | undefined;
  const request: DeviceCodeRequest = {
    scopes,
    deviceCodeCallback: (response) => {
      if (typeof response.userCode === 'string' && response.userCode !== '' && typeof response.verificationUri === 'string') {
        showCode(response);
        return;
      }
      // msal hands an error answer of the device code endpoint to the callback as an empty code (and would poll with it).
      request.cancel = true;
      failBeforeCode(refusal = new SignInError(`Microsoft Entra ID refused to start the sign-in for the client ${clientId} in the tenant "${tenant}". ` +
        'Check the tenant id or domain, and that the sign-in client exists there as a public client (default: Microsoft Graph Command Line Tools; ' +
        'a client of your own needs "Allow public client flows").'));
    },
    ...(options.timeoutSeconds !== undefined ? { timeout: options.timeoutSeconds } : {}),
  };

  let settle: { resolve: (session: AdminSession) => void; reject: (error: EngineError) => void } | undefined;
  const result = new Promise<AdminSession>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const finish = (outcome: AdminSignInStatus, session?: AdminSession, error?: EngineError): void => {
    if (state !== 'pending') return;
    state = outcome;
    if (session) settle?.resolve(session);
    else if (error) settle?.reject(error);
  };

  pca.acquireTokenByDeviceCode(request).then((auth: AuthenticationResult | null) => {
    if (state === 'cancelled') {
      // Approved just as it was cancelled: drop the tokens rather than keep an unused session.
      pca.clearCache();
      return;
    }
    if (!auth?.account) {
      finish('failed', undefined, new SignInError('The identity platform completed the sign-in without an account. Start the sign-in again.'));
      return;
    }
    finish('signed-in', new AdminSession(pca, auth.account, options, scopes));
  }, (error: unknown) => {
    const mapped = refusal ?? network.failureSince(started) ?? mapSignInError(error);
    failBeforeCode(mapped);
    finish(mapped instanceof SignInCancelledError ? 'cancelled' : 'failed', undefined, mapped);
  });
  // `result` may never be awaited (the wizard closed): its failure is kept for error(), not raised as an unhandled rejection.
  let failure: EngineError | undefined;
  result.catch((error: unknown) => {
    failure = mapSignInError(error);
  });

  const code = await codeShown;
  return {
    userCode: code.userCode,
    verificationUri: code.verificationUri,
    message: code.message,
    expiresAt: new Date(Date.now() + code.expiresIn * 1000),
    result,
    status: () => state,
    error: () => failure,
    cancel: () => {
      if (state !== 'pending') return;
      request.cancel = true;
      finish('cancelled', undefined, new SignInCancelledError());
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The application registration
// ---------------------------------------------------------------------------------------------------

export type RegisterAppOptions = {
  /** The computer Directory Sync runs on: the application is named `Directory Sync (<hostName>)`. */
  readonly hostName: string;
  /** Update this application (its application/client id) instead of looking it up by name. */
  readonly existingAppId?: string;
  /** Lifetime of the new certificate credential; default 730 days. */
  readonly certificateValidityDays?: number;
};

/**
 * What a registration did, as the engine keeps it: what the wizard is shown (the control API's
 * CloudRegistrationView, the one definition of those fields) and what stays in the service.
 */
export type AppRegistration = Omit<CloudRegistrationView, 'verifiedDomains' | 'earlierRegistrations' | 'tenantSynchronized'> & {
  /** Object id of the application. */
  readonly objectId: string;
  readonly servicePrincipalId: string;
  readonly verifiedDomains: Organization['verifiedDomains'];
  /** A secret: store it encrypted, never log it. */
  readonly privateKeyPem: string;
  /** SHA-256 of the certificate (hex), as msal's clientCertificate.thumbprintSha256. */
  readonly thumbprintSha256: string;
  /** `extension_<appIdWithoutDashes>_sourceAnchor`. */
  readonly anchorProperty: string;
  /** Whether the application's service principal owns the application (Application.ReadWrite.OwnedBy then reaches it). */
  readonly selfOwned: boolean;
  /**
   * Other Directory Sync registrations of the tenant (another computer's, an earlier one) with their anchor
   * extension property: the objects they manage are adopted by this one, never created again.
   */
  readonly earlierRegistrations: ReadonlyArray<EarlierRegistration>;
  /** The organization's own word on whether another tool synchronizes it. */
  readonly organization: Organization;
};

/** What the wizard is shown of a registration: never its private key. */
export function registrationView(registration: AppRegistration): CloudRegistrationView {
  const tenantSynchronized = tenantSynchronizedOf(registration.organization);
  return {
    tenantId: registration.tenantId, tenantDisplayName: registration.tenantDisplayName, verifiedDomains: registration.verifiedDomains.map((d) => d.name),
    appId: registration.appId, displayName: registration.displayName, created: registration.created, certificatePem: registration.certificatePem,
    certificateExpiresAt: registration.certificateExpiresAt, permissions: registration.permissions, revokedPermissions: registration.revokedPermissions,
    warnings: registration.warnings, earlierRegistrations: registration.earlierRegistrations.map((r) => ({ appId: r.appId, displayName: r.displayName })),
    ...(tenantSynchronized ? { tenantSynchronized } : {}),
  };
}

type GraphPage<T> = { value: T[]; '@odata.nextLink'?: string };
type GraphApp = { id: string; appId: string; displayName: string };
type GraphServicePrincipal = { id: string; appId: string; appRoles?: Array<{ id: string; value: string | null; allowedMemberTypes?: string[] }> };
type AppRoleAssignment = { id: string; appRoleId: string; resourceId: string };

/** What every Directory Sync registration's name starts with. */
export const DIRECTORY_SYNC_APP_PREFIX = 'Directory Sync (';

export function directorySyncAppName(hostName: string): string {
  return `${DIRECTORY_SYNC_APP_PREFIX}${hostName})`;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Graph errors while acting as the administrator: a refusal is about the account's role, not an application permission. */
function mapAdminError(error: unknown, operation: string, session: AdminSession): EngineError {
  const mapped = session.networkFailureBehind(error) ?? mapCloudError(error, operation);
  if (mapped instanceof CloudPermissionError) {
    return new AdminRoleRequiredError(`Microsoft Entra ID did not allow ${session.userPrincipalName} to ${operation}. ` +
      'Sign in with a Global Administrator (or a Privileged Role Administrator who may also register applications) of the tenant and try again.');
  }
  return mapped;
}

async function step<T>(session: AdminSession, operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw mapAdminError(error, operation, session);
  }
}

/** Every item of a collection: the first page from `first` (built with the client's query helpers), then the nextLinks. */
async function allPages<T>(graph: Client, first: string | (() => Promise<unknown>)): Promise<T[]> {
  const out: T[] = [];
  let page = (await (typeof first === 'string' ? graph.api(first).get() : first())) as GraphPage<T>;
  out.push(...page.value);
  for (let next = page['@odata.nextLink']; next; next = page['@odata.nextLink']) {
    page = (await graph.api(next).get()) as GraphPage<T>;
    out.push(...page.value);
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A freshly created object may not be visible to the next request yet (directory replication): retries
 * a request that failed with "not found" a few times.
 */
async function afterReplication<T>(run: () => Promise<T>, attempts = 6, delayMs = 1000): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      const status = statusOf(error);
      const notYet = status === 404 || (status === 400 && /does not reference a valid application|does not exist/i.test((error as Error).message));
      if (!notYet || attempt >= attempts) throw error;
    }
    await sleep(delayMs * attempt);
  }
}

/** Fails early, before any write, when the signed-in account cannot grant admin consent. */
async function requireConsentingRole(session: AdminSession): Promise<void> {
  const assignments = await step(session, 'read its own directory role assignments', () =>
    allPages<{ roleDefinitionId: string; directoryScopeId?: string }>(session.graph, () =>
      session.graph.api('/roleManagement/directory/roleAssignments').filter(`principalId eq ${quote(session.userId)}`).get()));
  const held = assignments.some((a) => (a.directoryScopeId ?? '/') === '/' && CONSENTING_ROLES[a.roleDefinitionId.toLowerCase()] !== undefined);
  if (!held) {
    throw new AdminRoleRequiredError(`${session.userPrincipalName} is not a Global Administrator (or Privileged Role Administrator) of the tenant, ` +
      'so it cannot register Directory Sync and consent to its Microsoft Graph permissions. Sign in again with a Global Administrator account.');
  }
}

type GeneratedCertificate = { certificatePem: string; privateKeyPem: string; der: Buffer; thumbprintSha256: string; expiresAt: Date };

async function newCertificate(displayName: string, validityDays: number): Promise<GeneratedCertificate> {
  const notBeforeDate = new Date(Date.now() - 5 * 60 * 1000);
  const notAfterDate = new Date(notBeforeDate.getTime() + validityDays * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: displayName }], {
    keyType: 'rsa', keySize: 2048, algorithm: 'sha256', notBeforeDate, notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  const certificate = new X509Certificate(pems.cert);
  return {
    certificatePem: pems.cert,
    privateKeyPem: pems.private,
    der: certificate.raw,
    thumbprintSha256: createHash('sha256').update(certificate.raw).digest('hex'),
    expiresAt: new Date(certificate.validTo),
  };
}

async function findApplication(session: AdminSession, name: string, existingAppId: string | undefined): Promise<GraphApp | undefined> {
  const select = ['id', 'appId', 'displayName'];
  if (existingAppId !== undefined) {
    try {
      return (await session.graph.api(`/applications(appId=${quote(existingAppId)})`).select(select).get()) as GraphApp;
    } catch (error) {
      if (statusOf(error) === 404) {
        throw new AppRegistrationError(`No application with the id ${existingAppId} exists in the tenant (it may have been deleted). ` +
          'Run the registration without an existing application id to create a new one.');
      }
      throw mapAdminError(error, `read the application ${existingAppId}`, session);
    }
  }
  const found = await step(session, 'look up the Directory Sync application', () =>
    allPages<GraphApp>(session.graph, () => session.graph.api('/applications').filter(`displayName eq ${quote(name)}`).select(select).get()));
  if (found.length > 1) {
    throw new AppRegistrationError(`The tenant holds ${found.length} applications named "${name}" (${found.map((a) => a.appId).join(', ')}). ` +
      'Delete the ones no longer used, or give the application id of the one to update.');
  }
  return found[0];
}

/** The Microsoft Graph app role ids of the permissions, from the tenant's Microsoft Graph service principal. */
function graphRoleIds(graphSp: GraphServicePrincipal): Map<string, string> {
  const ids = new Map<string, string>();
  for (const permission of DIRECTORY_SYNC_GRAPH_PERMISSIONS) {
    const role = (graphSp.appRoles ?? []).find((r) => r.value === permission && (r.allowedMemberTypes ?? ['Application']).includes('Application'));
    if (!role) {
      throw new AppRegistrationError(`Microsoft Graph in this tenant does not offer the application permission ${permission}. ` +
        'Check the cloud instance chosen; Directory Sync cannot run without it.');
    }
    ids.set(permission, role.id.toLowerCase());
  }
  return ids;
}

/**
 * Creates or updates the application "Directory Sync (<host>)": a new certificate credential (the
 * previous ones are replaced, so a lost key stops working), the Graph application permissions with
 * admin consent (and the consent of Graph permissions it no longer needs revoked), its service principal, the source anchor extension property, and the application as
 * owner of itself. Running it again for the same host updates the same application.
 */
export async function registerDirectorySyncApp(session: AdminSession, options: RegisterAppOptions): Promise<AppRegistration> {
  const hostName = options.hostName.trim();
  if (hostName === '') throw new ConfigError('The host name of the Directory Sync server is empty: give the computer\'s name.');
  const displayName = directorySyncAppName(hostName);
  await session.accessToken();
  await requireConsentingRole(session);
  const graph = session.graph;
  const warnings: string[] = [];

  const organization = await step(session, 'read the organization', async () => {
    const page = (await graph.api('/organization').select(['id', 'displayName', 'verifiedDomains', 'onPremisesSyncEnabled', 'onPremisesLastSyncDateTime']).get()) as GraphPage<Organization>;
    const org = page.value[0];
    if (!org) throw new AppRegistrationError('The tenant returned no organization object. Try again in a few minutes.');
    return org;
  });
  const graphSp = await step(session, 'read the Microsoft Graph service principal', () =>
    graph.api(`/servicePrincipals(appId=${quote(MICROSOFT_GRAPH_APP_ID)})`).select(['id', 'appId', 'appRoles']).get() as Promise<GraphServicePrincipal>);
  const roleIds = graphRoleIds(graphSp);

  const certificate = await newCertificate(displayName, options.certificateValidityDays ?? 730);
  const body = {
    displayName,
    description: `Directory Sync on ${hostName}: one-way synchronization of on-premises Active Directory to this tenant.`,
    signInAudience: 'AzureADMyOrg',
    requiredResourceAccess: [{ resourceAppId: MICROSOFT_GRAPH_APP_ID, resourceAccess: [...roleIds.values()].map((id) => ({ id, type: 'Role' })) }],
    keyCredentials: [{
      type: 'AsymmetricX509Cert', usage: 'Verify', key: certificate.der.toString('base64'), displayName: `CN=${displayName}`,
      startDateTime: new Date().toISOString(), endDateTime: certificate.expiresAt.toISOString(),
    }],
  };

  const existing = await findApplication(session, displayName, options.existingAppId);
  let app: GraphApp;
  if (existing) {
    await step(session, `update the application ${existing.appId}`, () => graph.api(`/applications/${existing.id}`).patch(body));
    app = existing;
  } else {
    app = await step(session, 'create the Directory Sync application', () => graph.api('/applications').post(body) as Promise<GraphApp>);
  }

  const sp = await step(session, 'create the application\'s service principal', () => afterReplication(async () => {
    try {
      return (await graph.api(`/servicePrincipals(appId=${quote(app.appId)})`).select(['id', 'appId']).get()) as GraphServicePrincipal;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      return (await graph.api('/servicePrincipals').post({ appId: app.appId })) as GraphServicePrincipal;
    }
  }));

  const revokedPermissions = await step(session, 'grant admin consent to the Microsoft Graph application permissions', async () => {
    const granted = await afterReplication(() => allPages<AppRoleAssignment>(graph, `/servicePrincipals/${sp.id}/appRoleAssignments`));
    const onGraph = granted.filter((a) => a.resourceId.toLowerCase() === graphSp.id.toLowerCase());
    for (const appRoleId of roleIds.values()) {
      if (onGraph.some((a) => a.appRoleId.toLowerCase() === appRoleId)) continue;
      await graph.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post({ principalId: sp.id, resourceId: graphSp.id, appRoleId });
    }
    return revokeUnneededConsent(session, sp, graphSp, onGraph, new Set(roleIds.values()));
  });

  const anchorProperty = `extension_${app.appId.replace(/-/g, '').toLowerCase()}_${ANCHOR_EXTENSION_NAME}`;
  await step(session, 'register the source anchor extension property', async () => {
    const defined = await allPages<{ name: string }>(graph, `/applications/${app.id}/extensionProperties`);
    if (defined.some((p) => p.name.toLowerCase() === anchorProperty.toLowerCase())) return;
    await graph.api(`/applications/${app.id}/extensionProperties`).post({ name: ANCHOR_EXTENSION_NAME, dataType: 'String', targetObjects: ['User', 'Group'] });
  });

  const selfOwned = await makeSelfOwned(session, app, sp, warnings);
  const earlierRegistrations = await findEarlierRegistrations(session, app.appId, warnings);

  return {
    appId: app.appId, objectId: app.id, servicePrincipalId: sp.id, displayName, created: existing === undefined,
    tenantId: organization.id.toLowerCase(), tenantDisplayName: organization.displayName, verifiedDomains: organization.verifiedDomains,
    certificatePem: certificate.certificatePem, privateKeyPem: certificate.privateKeyPem, thumbprintSha256: certificate.thumbprintSha256,
    certificateExpiresAt: certificate.expiresAt.toISOString(), permissions: [...DIRECTORY_SYNC_GRAPH_PERMISSIONS], revokedPermissions, anchorProperty, selfOwned, warnings,
    earlierRegistrations, organization,
  };
}

/**
 * Every other Directory Sync application of the tenant that registered an anchor extension property.
 * Directory extension values stay readable on the objects, so the objects such an application
 * synchronized (from another computer, or before its registration was made anew) are found by it.
 * Not finding them is a warning: users would still match on onPremisesImmutableId, groups would not.
 */
async function findEarlierRegistrations(session: AdminSession, currentAppId: string, warnings: string[]): Promise<EarlierRegistration[]> {
  const graph = session.graph;
  try {
    const apps = await allPages<GraphApp>(graph, () => graph.api('/applications').filter(`startswith(displayName,${quote(DIRECTORY_SYNC_APP_PREFIX)})`)
      .select(['id', 'appId', 'displayName']).get());
    const found: EarlierRegistration[] = [];
    for (const app of apps) {
      if (app.appId.toLowerCase() === currentAppId.toLowerCase()) continue;
      const anchorProperty = `extension_${app.appId.replace(/-/g, '').toLowerCase()}_${ANCHOR_EXTENSION_NAME}`;
      const defined = await allPages<{ name: string }>(graph, `/applications/${app.id}/extensionProperties`);
      if (defined.some((p) => p.name.toLowerCase() === anchorProperty.toLowerCase())) found.push({ appId: app.appId, displayName: app.displayName, anchorProperty });
    }
    return found;
  } catch (error) {
    const mapped = mapAdminError(error, 'look for earlier Directory Sync registrations', session);
    if (mapped instanceof CloudUnreachableError || mapped instanceof CloudAuthenticationError) throw mapped;
    warnings.push(`Earlier Directory Sync registrations of this tenant could not be read (${mapped.message}). Users they synchronized are still ` +
      'matched by their immutable id, but groups they created would not be recognised: sign in again with a Global Administrator.');
    return [];
  }
}

/**
 * Least privilege on an existing registration: admin consent granted earlier for Microsoft Graph
 * application permissions Directory Sync no longer asks for (an older version's, or added by hand to
 * this application made for Directory Sync) stays until revoked; this revokes it. Consent for other
 * resources is not Directory Sync's to judge and is left alone. Returns the permissions revoked.
 */
async function revokeUnneededConsent(session: AdminSession, sp: GraphServicePrincipal, graphSp: GraphServicePrincipal,
  onGraph: ReadonlyArray<AppRoleAssignment>, needed: ReadonlySet<string>): Promise<string[]> {
  const revoked: string[] = [];
  for (const assignment of onGraph) {
    if (needed.has(assignment.appRoleId.toLowerCase())) continue;
    try {
      await session.graph.api(`/servicePrincipals/${sp.id}/appRoleAssignments/${assignment.id}`).delete();
    } catch (error) {
      // Revoked meanwhile (by another administrator, or a previous attempt whose answer was lost).
      if (statusOf(error) !== 404) throw error;
    }
    const role = (graphSp.appRoles ?? []).find((r) => r.id.toLowerCase() === assignment.appRoleId.toLowerCase());
    revoked.push(role?.value ?? assignment.appRoleId);
  }
  return revoked.sort();
}

/**
 * Application.ReadWrite.OwnedBy reaches only applications the service principal owns: the application
 * must own itself to re-create its anchor extension property on its own. Everything Directory Sync needs
 * at run time is already registered, so a refusal here is a warning, not a failure.
 */
async function makeSelfOwned(session: AdminSession, app: GraphApp, sp: GraphServicePrincipal, warnings: string[]): Promise<boolean> {
  const graph = session.graph;
  try {
    const owners = await allPages<{ id: string }>(graph, `/applications/${app.id}/owners`);
    if (owners.some((o) => o.id.toLowerCase() === sp.id.toLowerCase())) return true;
    await graph.api(`/applications/${app.id}/owners/$ref`).post({ '@odata.id': `${session.graphBaseUrl}v1.0/directoryObjects/${sp.id}` });
    return true;
  } catch (error) {
    const mapped = mapAdminError(error, 'make the application an owner of itself', session);
    if (mapped instanceof CloudUnreachableError || mapped instanceof CloudAuthenticationError) throw mapped;
    warnings.push(`The application could not be made an owner of itself (${mapped.message}). Directory Sync works, but if its source anchor ` +
      `extension property is ever deleted it cannot register it again by itself: add the service principal "${app.displayName}" as an owner of the application.`);
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// The check that the new credential works
// ---------------------------------------------------------------------------------------------------

export type CredentialCheckOptions = CloudSettings & {
  /** How long to keep trying while the new application, credential and consent replicate; default 120 s. */
  readonly timeoutSeconds?: number;
  /** Pause between attempts; default 3 s. */
  readonly retryDelayMs?: number;
  /** Told, at each attempt that must wait, what it waits for and since how long: the wizard shows it. */
  readonly onWait?: (waiting: string, elapsedSeconds: number) => void;
};

/** The application permissions (`roles`) an access token carries; the identity platform's JWT, read, not verified. */
export function tokenRoles(accessToken: string): ReadonlyArray<string> {
  try {
    const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
  } catch (error) {
    if (error instanceof SyntaxError) return [];
    throw error;
  }
}

/** The permissions Directory Sync needs (DIRECTORY_SYNC_GRAPH_PERMISSIONS) that an application's token lacks, and the ones it carries. */
export async function tokenPermissions(connector: CloudConnector): Promise<{ readonly roles: ReadonlyArray<string>; readonly missing: ReadonlyArray<string> }> {
  const roles = tokenRoles(await connector.accessToken());
  return { roles, missing: DIRECTORY_SYNC_GRAPH_PERMISSIONS.filter((p) => !roles.includes(p)) };
}

/** Thrown inside the check while the token lacks permissions just granted: the consent has not replicated yet. */
class PermissionsNotYetEffective extends CloudPermissionError {}

export type CheckedApp = { readonly organization: Organization; readonly connector: CloudConnector };

/**
 * Signs in as the registered application with its certificate (client credentials) and reads the
 * organization, through the engine's own CloudConnector. A new application, credential and consent
 * take a while to reach every replica of the directory, so refusals are retried until the timeout.
 */
export async function checkAppCredential(registration: Pick<AppRegistration, 'appId' | 'tenantId' | 'privateKeyPem' | 'thumbprintSha256' | 'certificatePem'>,
  options: CredentialCheckOptions): Promise<CheckedApp> {
  // Measured on the monotonic clock: a wall clock set back must not stretch the wait.
  const started = performance.now();
  const deadline = started + (options.timeoutSeconds ?? 120) * 1000;
  const delay = options.retryDelayMs ?? 3000;
  for (;;) {
    // A new connector each time: a token issued before the consent replicated would lack the permissions.
    const connector = new CloudConnector({
      instance: options.instance, authorityHost: options.authorityHost, graphBaseUrl: options.graphBaseUrl, network: options.network,
      tenantId: registration.tenantId, clientId: registration.appId,
      credential: { kind: 'certificate', privateKeyPem: registration.privateKeyPem, thumbprintSha256: registration.thumbprintSha256, certificatePem: registration.certificatePem },
    });
    try {
      // Consent replicates to the token service on its own time: a token without every permission would fail the first sync.
      const { missing } = await tokenPermissions(connector);
      if (missing.length > 0) {
        throw new PermissionsNotYetEffective(`The permissions ${missing.join(', ')} granted moments ago are not in the application's token yet.`);
      }
      const organization = await connector.organization();
      if (organization.id.toLowerCase() !== registration.tenantId.toLowerCase()) {
        throw new AppCredentialCheckError(`The application signed in to the tenant ${organization.id}, not ${registration.tenantId}. Check the tenant chosen and register again.`);
      }
      return { organization, connector };
    } catch (error) {
      const retriable = error instanceof CloudAuthenticationError || error instanceof CloudPermissionError;
      if (!retriable || performance.now() + delay > deadline) {
        if (error instanceof AppCredentialCheckError || !retriable) throw error;
        throw new AppCredentialCheckError(`Directory Sync's application ${registration.appId} could not sign in with its new certificate and read the organization: ` +
          `${(error as EngineError).message} New registrations can take a few minutes to replicate; try the check again, or register again.`);
      }
      options.onWait?.(error instanceof PermissionsNotYetEffective
        ? 'Waiting for Microsoft Entra ID to make the new permissions effective'
        : 'Waiting for Microsoft Entra ID to make the new application and its certificate known', Math.round((performance.now() - started) / 1000));
    }
    await sleep(delay);
  }
}
