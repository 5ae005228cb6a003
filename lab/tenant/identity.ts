/**
 * The Microsoft identity platform endpoints of the lab tenant (graph-reference.md §10): token endpoint
 * (client credentials with secret or certificate assertion, device code, refresh token), device code
 * endpoint, OpenID configuration, instance discovery, JWKS, and a minimal device login page.
 */
import { X509Certificate, createHash, randomBytes, randomUUID } from 'node:crypto';
import { storedKeys, storedSecrets } from './applications.ts';
import type { DirectoryObject, JsonObject } from './model.ts';
import { decodeJwt, signJwt, verifyJwtSignature } from './jwt.ts';
import { GRAPH_DELEGATED_SCOPES } from './seed.ts';
import { GRAPH_APP_ID, type Tenant } from './tenant.ts';

export type IdentityInput = {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly bodyText: string;
  readonly baseUrl: string;
};

export type IdentityOutput = { readonly status: number; readonly headers: Record<string, string>; readonly body: string };

const JSON_TYPE = 'application/json; charset=utf-8';
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);
const GRAPH_RESOURCES = ['https://graph.microsoft.com/', 'https://graph.microsoft.com', `${GRAPH_APP_ID}/`];
const TOKEN_LIFETIME = 3599;
const DEVICE_CODE_LIFETIME = 900;

class IdentityError extends Error {
  constructor(readonly status: number, readonly error: string, readonly code: number, message: string) {
    super(message);
  }
}

function aadTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

function json(status: number, body: unknown, extra: Record<string, string> = {}): IdentityOutput {
  return { status, headers: { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache', ...extra }, body: JSON.stringify(body) };
}

function errorOutput(err: IdentityError, correlationId: string): IdentityOutput {
  const traceId = randomUUID();
  const now = Date.now();
  return json(err.status, {
    error: err.error,
    error_description: `AADSTS${err.code}: ${err.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${aadTimestamp(now)}`,
    error_codes: [err.code],
    timestamp: aadTimestamp(now),
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${err.code}`,
  }, { 'x-ms-request-id': traceId, 'client-request-id': correlationId });
}

/** Accepts the tenant id, any verified domain, `common` and `organizations`. */
function knownTenant(tenant: Tenant, segment: string): boolean {
  const s = segment.toLowerCase();
  return s === tenant.settings.tenantId || s === 'common' || s === 'organizations' || tenant.domain(s) !== undefined;
}

export function openIdConfiguration(tenant: Tenant, baseUrl: string, tenantSegment: string): JsonObject {
  const t = tenant.settings.tenantId;
  const seg = tenantSegment.toLowerCase() === 'common' || tenantSegment.toLowerCase() === 'organizations' ? tenantSegment : t;
  return {
    token_endpoint: `${baseUrl}/${seg}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${baseUrl}/${seg}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${baseUrl}/${seg === t ? t : '{tenantid}'}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${baseUrl}/${seg}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${baseUrl}/${seg}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${baseUrl}/${seg}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    kerberos_endpoint: `${baseUrl}/${seg}/kerberos`,
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

function instanceDiscovery(baseUrl: string, tenantSegment: string): JsonObject {
  const host = new URL(baseUrl).host;
  return {
    tenant_discovery_endpoint: `${baseUrl}/${tenantSegment}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}

export function jwks(tenant: Tenant): JsonObject {
  const jwk = tenant.publicKey.export({ format: 'jwk' });
  return { keys: [{ kty: 'RSA', use: 'sig', kid: tenant.kid, x5t: tenant.kid, n: String(jwk.n), e: String(jwk.e), issuer: `https://sts.windows.net/${tenant.settings.tenantId}/` }] };
}

function graphScopes(requested: ReadonlyArray<string>, app: string): string[] {
  const out: string[] = [];
  for (const scope of requested) {
    if (OIDC_SCOPES.has(scope.toLowerCase())) continue;
    const prefix = GRAPH_RESOURCES.find((r) => scope.toLowerCase().startsWith(r.toLowerCase()) && scope.length > r.length);
    const short = prefix ? scope.slice(prefix.length) : scope.includes('/') ? undefined : scope;
    if (short === undefined) {
      throw new IdentityError(400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`);
    }
    if (short === '.default') {
      out.push('User.Read', 'Directory.AccessAsUser.All');
      continue;
    }
    const known = GRAPH_DELEGATED_SCOPES.find((s) => s.toLowerCase() === short.toLowerCase());
    if (!known) {
      throw new IdentityError(400, 'invalid_scope', 650053,
        `The application '${app}' asked for scope '${short}' that doesn't exist on the resource '${GRAPH_APP_ID}'. Contact the app vendor.`);
    }
    out.push(known);
  }
  return [...new Set(out)];
}

function appTokenClaims(tenant: Tenant, app: DirectoryObject, sp: DirectoryObject, acr: '1' | '2'): JsonObject {
  const now = Math.floor(tenant.clock.now() / 1000);
  const tid = tenant.settings.tenantId;
  const roles = tenant.grantedRoles(sp.id, { forToken: true });
  return {
    aud: 'https://graph.microsoft.com', iss: `https://sts.windows.net/${tid}/`, iat: now, nbf: now, exp: now + TOKEN_LIFETIME,
    aio: randomBytes(16).toString('base64url'), app_displayname: app.props['displayName'] ?? null, appid: String(app.props['appId']),
    appidacr: acr, idp: `https://sts.windows.net/${tid}/`, idtyp: 'app', oid: sp.id, rh: '0.lab', ...(roles.length > 0 ? { roles } : {}),
    sub: sp.id, tenant_region_scope: 'NA', tid, uti: randomBytes(16).toString('base64url'), ver: '1.0',
    wids: ['0997a1d0-0d1d-4acb-b408-d5ca73121e90'], xms_tcdt: now,
  };
}

function secretFromBasic(headers: Readonly<Record<string, string>>): { clientId: string; secret: string } | undefined {
  const m = /^Basic\s+(.+)$/i.exec(headers['authorization'] ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { clientId: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
}

function requireParam(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || value === '') {
    throw new IdentityError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
  }
  return value;
}

function unknownApplication(tenant: Tenant, clientId: string): IdentityError {
  return new IdentityError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant.settings.displayName}'. ` +
    'This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. ' +
    'You may have sent your authentication request to the wrong tenant.');
}

function findApp(tenant: Tenant, clientId: string): DirectoryObject {
  const app = tenant.store.byAppId('application', clientId);
  // Eventual consistency: a new application is unknown to the token endpoint until it has replicated there.
  if (!app || !tenant.tokenVisible(`object:${app.id}`)) throw unknownApplication(tenant, clientId);
  return app;
}

/** Verifies a client assertion (RS256+x5t or PS256+x5t#S256) against the app's certificate credentials. */
function verifyAssertion(tenant: Tenant, app: DirectoryObject, assertion: string, tokenEndpoint: string): void {
  const appId = String(app.props['appId']);
  const jwt = decodeJwt(assertion);
  if (!jwt) throw new IdentityError(400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
  const alg = jwt.header['alg'];
  const thumb = alg === 'PS256' ? jwt.header['x5t#S256'] : jwt.header['x5t'];
  if ((alg !== 'PS256' && alg !== 'RS256') || typeof thumb !== 'string') {
    throw new IdentityError(401, 'invalid_client', 5002738, 'Invalid JWT token. The client assertion must be signed with RS256 (x5t) or PS256 (x5t#S256).');
  }
  const key = storedKeys(app).filter((k) => tenant.tokenVisible(`key:${k.keyId}`)).find((k) => (alg === 'PS256' ? k.sha256 : Buffer.from(k.sha1, 'hex').toString('base64url')) === thumb);
  if (!key) {
    throw new IdentityError(401, 'invalid_client', 700027, 'The certificate with identifier used to sign the client assertion is not registered on application. ' +
      `[Reason - The key was not found., Thumbprint of key used by client: '${thumb}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${appId}'.]`);
  }
  if (!verifyJwtSignature(jwt, new X509Certificate(key.certificate).publicKey)) {
    throw new IdentityError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
  }
  const p = jwt.payload;
  if (p['iss'] !== appId || p['sub'] !== appId) {
    throw new IdentityError(401, 'invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter. " +
      'Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .');
  }
  const audiences = [tokenEndpoint, `https://login.microsoftonline.com/${tenant.settings.tenantId}/oauth2/v2.0/token`];
  if (typeof p['aud'] !== 'string' || !audiences.some((a) => a.toLowerCase() === String(p['aud']).toLowerCase())) {
    throw new IdentityError(401, 'invalid_client', 700016, `Client assertion audience '${String(p['aud'])}' does not match the token endpoint ${tokenEndpoint}.`);
  }
  // The identity platform's own clock: an assertion made on a computer whose clock is off by more than
  // five minutes is refused (AADSTS700024).
  const now = Math.floor(tenant.clock.now() / 1000);
  const exp = typeof p['exp'] === 'number' ? p['exp'] : 0;
  const nbf = typeof p['nbf'] === 'number' ? p['nbf'] : 0;
  if (exp < now - 300 || nbf > now + 300) {
    throw new IdentityError(401, 'invalid_client', 700024, `Client assertion is not within its valid time range. Current time: ${new Date(now * 1000).toISOString()}, ` +
      `assertion valid from ${new Date(nbf * 1000).toISOString()}, expiry time of assertion ${new Date(exp * 1000).toISOString()}.`);
  }
  if (Date.parse(key.endDateTime) < tenant.clock.now()) {
    throw new IdentityError(401, 'invalid_client', 7000222, `The provided client certificate for app '${appId}' is expired.`);
  }
}

function clientCredentials(tenant: Tenant, params: URLSearchParams, headers: Readonly<Record<string, string>>, tokenEndpoint: string): IdentityOutput {
  const basic = secretFromBasic(headers);
  const clientId = params.get('client_id') ?? basic?.clientId ?? '';
  if (clientId === '') requireParam(params, 'client_id');
  const app = findApp(tenant, clientId);
  const appId = String(app.props['appId']);
  const secret = params.get('client_secret') ?? basic?.secret;
  const assertion = params.get('client_assertion');
  let acr: '1' | '2' = '1';
  if (assertion) {
    if (params.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      throw new IdentityError(400, 'invalid_request', 50027, "The client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.");
    }
    verifyAssertion(tenant, app, assertion, tokenEndpoint);
    acr = '2';
  } else if (secret !== undefined && secret !== null) {
    const matching = storedSecrets(app).filter((s) => s.secret === secret && tenant.tokenVisible(`secret:${s.keyId}`));
    if (matching.length === 0) {
      throw new IdentityError(401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, ' +
        `not the client secret ID, for a secret added to app '${appId}'.`);
    }
    if (matching.every((s) => Date.parse(s.endDateTime) < tenant.clock.now())) {
      throw new IdentityError(401, 'invalid_client', 7000222, `The provided client secret keys for app '${appId}' are expired.`);
    }
  } else {
    throw new IdentityError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }
  const scope = requireParam(params, 'scope');
  const scopes = scope.split(' ').filter((s) => s !== '');
  const only = scopes[0] ?? '';
  const resource = only.replace(/\/\.default$/, '');
  if (scopes.length !== 1 || !only.endsWith('/.default') || !GRAPH_RESOURCES.some((r) => r.replace(/\/$/, '') === resource)) {
    throw new IdentityError(400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`);
  }
  const sp = tenant.store.byAppId('servicePrincipal', appId);
  if (!sp || !tenant.tokenVisible(`object:${sp.id}`)) throw new IdentityError(400, 'invalid_client', 7000229, `The client application ${appId} is missing service principal in the tenant ${tenant.settings.tenantId}.`);
  if (sp.props['accountEnabled'] === false) {
    throw new IdentityError(400, 'unauthorized_client', 7000112, `Application '${appId}'(${String(app.props['displayName'])}) is disabled.`);
  }
  const accessToken = signJwt({ kid: tenant.kid, x5t: tenant.kid }, appTokenClaims(tenant, app, sp, acr), tenant.signingKey);
  return json(200, { token_type: 'Bearer', expires_in: TOKEN_LIFETIME, ext_expires_in: TOKEN_LIFETIME, access_token: accessToken });
}

/** A public client allowed to use the device code flow: an app with public client flows, or a first-party client. */
function publicClient(tenant: Tenant, clientId: string): { appId: string; displayName: string } {
  const app = tenant.store.byAppId('application', clientId);
  if (app) {
    if (app.props['isFallbackPublicClient'] !== true) {
      throw new IdentityError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    return { appId: String(app.props['appId']), displayName: String(app.props['displayName']) };
  }
  const sp = tenant.store.byAppId('servicePrincipal', clientId);
  if (sp && sp.internal['publicClient'] === true) return { appId: String(sp.props['appId']), displayName: String(sp.props['displayName']) };
  throw unknownApplication(tenant, clientId);
}

function deviceCode(tenant: Tenant, params: URLSearchParams, baseUrl: string): IdentityOutput {
  const clientId = requireParam(params, 'client_id');
  const client = publicClient(tenant, clientId);
  const scopes = requireParam(params, 'scope').split(' ').filter((s) => s !== '');
  graphScopes(scopes, client.appId);
  const alphabet = 'BCDFGHJKLMNPQRSTVWXZ23456789';
  const userCode = Array.from(randomBytes(9), (b) => alphabet.charAt(b % alphabet.length)).join('');
  const code = randomBytes(32).toString('base64url');
  tenant.deviceCodes.set(code, { deviceCode: code, userCode, clientId: client.appId, scopes, expiresAt: Date.now() + DEVICE_CODE_LIFETIME * 1000 });
  const verificationUri = `${baseUrl}/devicelogin`;
  return json(200, {
    user_code: userCode, device_code: code, verification_uri: verificationUri, expires_in: DEVICE_CODE_LIFETIME, interval: 1,
    message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
  });
}

function delegatedTokens(tenant: Tenant, baseUrl: string, user: DirectoryObject, clientId: string, requested: ReadonlyArray<string>): IdentityOutput {
  const now = Math.floor(tenant.clock.now() / 1000);
  const tid = tenant.settings.tenantId;
  const app = tenant.store.byAppId('application', clientId) ?? tenant.store.byAppId('servicePrincipal', clientId);
  const scp = graphScopes(requested, clientId);
  const upn = String(user.props['userPrincipalName']);
  const wids = [...tenant.store.memberOf(user.id)].map((id) => tenant.store.get(id, 'directoryRole')?.props['roleTemplateId']).filter((w) => typeof w === 'string');
  const access = signJwt({ kid: tenant.kid, x5t: tenant.kid }, {
    aud: 'https://graph.microsoft.com', iss: `https://sts.windows.net/${tid}/`, iat: now, nbf: now, exp: now + TOKEN_LIFETIME,
    acct: 0, acr: '1', amr: ['pwd'], app_displayname: app?.props['displayName'] ?? null, appid: clientId, appidacr: '0',
    idtyp: 'user', ipaddr: '127.0.0.1', name: user.props['displayName'] ?? null, oid: user.id, rh: '0.lab', scp: scp.join(' '),
    sub: createHash('sha256').update(`${user.id}|${clientId}`).digest('base64url'), tid, unique_name: upn, upn,
    uti: randomBytes(16).toString('base64url'), ver: '1.0', wids,
  }, tenant.signingKey);
  const body: JsonObject = {
    token_type: 'Bearer', scope: [...scp, ...requested.filter((s) => OIDC_SCOPES.has(s.toLowerCase()))].join(' '),
    expires_in: TOKEN_LIFETIME, ext_expires_in: TOKEN_LIFETIME, access_token: access,
  };
  if (requested.some((s) => s.toLowerCase() === 'offline_access')) {
    const refresh = randomBytes(48).toString('base64url');
    tenant.refreshTokens.set(refresh, { userId: user.id, clientId, scopes: requested });
    body['refresh_token'] = refresh;
  }
  if (requested.some((s) => s.toLowerCase() === 'openid')) {
    body['id_token'] = signJwt({ kid: tenant.kid }, {
      aud: clientId, iss: `${baseUrl}/${tid}/v2.0`, iat: now, nbf: now, exp: now + TOKEN_LIFETIME, name: user.props['displayName'] ?? null,
      oid: user.id, preferred_username: upn, rh: '0.lab', sub: createHash('sha256').update(`${user.id}|${clientId}`).digest('base64url'),
      tid, uti: randomBytes(16).toString('base64url'), ver: '2.0',
    }, tenant.signingKey);
    body['client_info'] = Buffer.from(JSON.stringify({ uid: user.id, utid: tid })).toString('base64url');
  }
  return json(200, body);
}

function redeemDeviceCode(tenant: Tenant, params: URLSearchParams, baseUrl: string): IdentityOutput {
  const code = requireParam(params, 'device_code');
  const entry = tenant.deviceCodes.get(code);
  if (!entry || entry.redeemed || entry.clientId !== (params.get('client_id') ?? '').toLowerCase()) {
    throw new IdentityError(400, 'invalid_grant', 70000, 'Provided grant is invalid or malformed.');
  }
  if (Date.now() > entry.expiresAt) {
    throw new IdentityError(400, 'expired_token', 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired.");
  }
  if (entry.approvedUserId === undefined) {
    throw new IdentityError(400, 'authorization_pending', 70016, 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.');
  }
  const user = tenant.store.get(entry.approvedUserId, 'user');
  if (!user) throw new IdentityError(400, 'invalid_grant', 50034, 'The user account does not exist in the directory.');
  entry.redeemed = true;
  return delegatedTokens(tenant, baseUrl, user, entry.clientId, entry.scopes);
}

function refreshToken(tenant: Tenant, params: URLSearchParams, baseUrl: string): IdentityOutput {
  const token = requireParam(params, 'refresh_token');
  const entry = tenant.refreshTokens.get(token);
  const user = entry ? tenant.store.get(entry.userId, 'user') : undefined;
  if (!entry || !user || user.props['accountEnabled'] === false) {
    throw new IdentityError(400, 'invalid_grant', 70000, 'Provided grant is invalid or malformed.');
  }
  const scope = params.get('scope');
  const requested = scope ? scope.split(' ').filter((s) => s !== '') : entry.scopes;
  return delegatedTokens(tenant, baseUrl, user, entry.clientId, requested);
}

export class DeviceApprovalError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Approves a pending device code for a user (lab control and the device login page). */
export function approveDeviceCode(tenant: Tenant, userCode: string, upn: string, password?: string): { userId: string } {
  const entry = [...tenant.deviceCodes.values()].find((e) => e.userCode.toUpperCase() === userCode.trim().toUpperCase() && !e.redeemed);
  if (!entry || Date.now() > entry.expiresAt) throw new DeviceApprovalError(404, `No pending device code '${userCode}'.`);
  const user = tenant.store.userByUpn(upn);
  if (!user || user.props['accountEnabled'] === false) throw new DeviceApprovalError(400, `No enabled user '${upn}'.`);
  if (password !== undefined && user.internal['password'] !== password) throw new DeviceApprovalError(400, 'Your account or password is incorrect.');
  entry.approvedUserId = user.id;
  return { userId: user.id };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function deviceLoginPage(tenant: Tenant, input: IdentityInput): IdentityOutput {
  let message = '';
  if (input.method === 'POST') {
    const form = new URLSearchParams(input.bodyText);
    try {
      approveDeviceCode(tenant, form.get('user_code') ?? '', form.get('username') ?? '', form.get('password') ?? '');
      message = 'You have signed in to the application on your device. You may now close this window.';
    } catch (error) {
      if (!(error instanceof DeviceApprovalError)) throw error;
      message = error.message;
    }
  }
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(tenant.settings.displayName)} (lab) - Sign in</title></head>` +
    `<body><h1>Enter code</h1><p>${escapeHtml(message)}</p><form method="post" action="/devicelogin">` +
    '<p><label>Code <input name="user_code" autocomplete="off"></label></p>' +
    `<p><label>User <input name="username" value="${escapeHtml(tenant.settings.globalAdminUpn)}"></label></p>` +
    '<p><label>Password <input name="password" type="password"></label></p><p><button type="submit">Sign in</button></p></form></body></html>';
  return { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: html };
}

/** True when the path belongs to the identity endpoints. */
export function isIdentityPath(pathname: string): boolean {
  return /^\/[^/]+\/(oauth2\/v2\.0\/(token|devicecode|authorize)|v2\.0\/\.well-known\/openid-configuration|\.well-known\/openid-configuration|discovery\/(v2\.0\/)?keys|discovery\/instance)$/i.test(pathname)
    || /^\/devicelogin$/i.test(pathname);
}

export function handleIdentityRequest(tenant: Tenant, input: IdentityInput): IdentityOutput {
  const path = input.url.pathname;
  const params = new URLSearchParams(input.bodyText);
  const correlationId = params.get('client-request-id') ?? input.url.searchParams.get('client-request-id') ?? input.headers['client-request-id'] ?? randomUUID();
  try {
    if (/^\/devicelogin$/i.test(path)) return deviceLoginPage(tenant, input);
    const segment = path.split('/')[1] ?? '';
    if (!knownTenant(tenant, segment)) {
      throw new IdentityError(400, 'invalid_request', 90002,
        `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    const rest = path.slice(segment.length + 2).toLowerCase();
    if (input.method === 'GET' && (rest === 'v2.0/.well-known/openid-configuration' || rest === '.well-known/openid-configuration')) {
      return json(200, openIdConfiguration(tenant, input.baseUrl, segment));
    }
    if (input.method === 'GET' && rest === 'discovery/instance') return json(200, instanceDiscovery(input.baseUrl, segment === 'common' ? tenant.settings.tenantId : segment));
    if (input.method === 'GET' && (rest === 'discovery/v2.0/keys' || rest === 'discovery/keys')) return json(200, jwks(tenant));
    if (rest === 'oauth2/v2.0/authorize') {
      throw new IdentityError(400, 'unsupported_response_type', 70005, 'Interactive sign-in is not emulated by the lab tenant: use the device code flow.');
    }
    if (input.method !== 'POST') throw new IdentityError(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
    if (rest === 'oauth2/v2.0/devicecode') return deviceCode(tenant, params, input.baseUrl);
    const grant = params.get('grant_type') ?? '';
    const tokenEndpoint = `${input.baseUrl}${path}`;
    if (grant === 'client_credentials') return clientCredentials(tenant, params, input.headers, tokenEndpoint);
    if (grant === 'urn:ietf:params:oauth:grant-type:device_code' || grant === 'device_code') return redeemDeviceCode(tenant, params, input.baseUrl);
    if (grant === 'refresh_token') return refreshToken(tenant, params, input.baseUrl);
    if (grant === '') requireParam(params, 'grant_type');
    throw new IdentityError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
  } catch (error) {
    if (error instanceof IdentityError) return errorOutput(error, correlationId);
    throw error;
  }
}
