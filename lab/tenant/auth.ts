/**
 * Validation of the bearer tokens Graph receives (graph-reference.md §1.3): empty, malformed, foreign
 * tenant, bad signature, wrong audience, expired; then the principal (app roles or delegated scopes).
 */
import type { Principal } from './context.ts';
import { GraphHttpError } from './errors.ts';
import { decodeJwt, verifyJwtSignature } from './jwt.ts';
import { GRAPH_APP_ID, type Tenant } from './tenant.ts';

const GRAPH_AUDIENCES = new Set(['https://graph.microsoft.com', 'https://graph.microsoft.com/', GRAPH_APP_ID]);

function unauthorized(message: string): GraphHttpError {
  return new GraphHttpError(401, 'InvalidAuthenticationToken', message);
}

export function authenticate(tenant: Tenant, authorization: string | undefined): Principal {
  const match = /^Bearer\s*(.*)$/i.exec(authorization ?? '');
  const token = match?.[1]?.trim() ?? '';
  if (token === '') throw unauthorized('Access token is empty.');
  const jwt = decodeJwt(token);
  if (!jwt) throw unauthorized('CompactToken parsing failed with error code: 80049217');
  const p = jwt.payload;
  if (p['tid'] !== tenant.settings.tenantId) {
    throw unauthorized('The identity of the calling application could not be established.');
  }
  if (jwt.header['kid'] !== tenant.kid || !verifyJwtSignature(jwt, tenant.publicKey)) {
    throw unauthorized('Access token validation failure.');
  }
  if (typeof p['aud'] !== 'string' || !GRAPH_AUDIENCES.has(p['aud'])) throw unauthorized('Access token validation failure. Invalid audience.');
  // Graph's clock, which the lab can move: a token outlives its lifetime there whatever the client's cache believes.
  const now = Math.floor(tenant.clock.now() / 1000);
  if (typeof p['exp'] !== 'number' || p['exp'] < now) throw unauthorized('Lifetime validation failed, the token is expired.');
  if (typeof p['nbf'] === 'number' && p['nbf'] > now + 300) throw unauthorized('Lifetime validation failed, the token is not yet valid.');
  const appId = String(p['appid'] ?? '');
  if (p['idtyp'] === 'app') {
    const sp = tenant.store.byAppId('servicePrincipal', appId);
    if (!sp || sp.props['accountEnabled'] === false) {
      throw unauthorized('The identity of the calling application could not be established.');
    }
    const roles = Array.isArray(p['roles']) ? p['roles'].filter((r): r is string => typeof r === 'string') : [];
    if (roles.length === 0) {
      throw new GraphHttpError(403, 'Authorization_RequestDenied', 'Required roles claim values are not provided.');
    }
    return { kind: 'app', appId, servicePrincipalId: sp.id, roles: new Set(roles) };
  }
  const userId = String(p['oid'] ?? '');
  const user = tenant.store.get(userId, 'user');
  if (!user || user.props['accountEnabled'] === false) throw unauthorized('The identity of the calling user could not be established.');
  const scopes = typeof p['scp'] === 'string' ? p['scp'].split(' ').filter((s) => s !== '') : [];
  return { kind: 'user', appId, userId, scopes: new Set(scopes) };
}
