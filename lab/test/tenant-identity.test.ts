/**
 * Identity platform conformance (graph-reference.md §10, §1.3), through the real @azure/msal-node and
 * @microsoft/microsoft-graph-client.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPublicKey, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ConfidentialClientApplication, ServerError } from '@azure/msal-node';
import { generate } from 'selfsigned';
import type { TenantServer } from '../tenant/index.ts';
import {
  GRAPH_SCOPE, appGraphClient, appToken, confidentialClient, graphClient, graphError, labControl, msalAuth, publicClient, startTestTenant,
} from './support/tenant.ts';

async function rejectsWithServerError(promise: Promise<unknown>): Promise<ServerError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ServerError, `expected ServerError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected msal to fail');
}

/** msal formats server errors as `Error(s): … - Description: AADSTS…`: the AADSTS description. */
function description(error: ServerError): string {
  return error.errorMessage.replace(/^.*?Description: /s, '');
}

function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('tenant identity platform', () => {
  let server: TenantServer;
  before(async () => {
    server = await startTestTenant();
  });
  after(async () => {
    await server.close();
  });

  describe('client credentials with a secret', () => {
    it('issues an app token through msal-node with knownAuthorities (OpenID configuration read from the emulator)', async () => {
      const c = server.connection;
      const cca = confidentialClient(c);
      const result = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
      assert.ok(result);
      assert.equal(result.tokenType, 'Bearer');
      const claims = decodePayload(result.accessToken);
      assert.equal(claims['tid'], c.tenantId);
      assert.equal(claims['appid'], c.clientId);
      assert.equal(claims['idtyp'], 'app');
      assert.equal(claims['aud'], 'https://graph.microsoft.com');
      assert.ok(Array.isArray(claims['roles']) && claims['roles'].includes('User.ReadWrite.All'));
      assert.ok(typeof claims['exp'] === 'number' && claims['exp'] > Date.now() / 1000);
      const log = server.state.requestLog().map((e) => e.path);
      assert.ok(log.some((p) => p.includes('/v2.0/.well-known/openid-configuration')), 'msal should have read the OpenID configuration');
      const again = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
      assert.equal(again?.fromCache, true);
    });

    it('works with authorityMetadata instead of discovery (no metadata request)', async () => {
      const c = server.connection;
      server.state.clearRequestLog();
      const cca = new ConfidentialClientApplication({
        auth: {
          clientId: c.clientId, clientSecret: c.clientSecret, authority: c.authority, knownAuthorities: [new URL(c.authorityHost).host],
          authorityMetadata: JSON.stringify({
            token_endpoint: c.tokenEndpoint, authorization_endpoint: `${c.authority}/oauth2/v2.0/authorize`,
            issuer: `${c.authority}/v2.0`, jwks_uri: `${c.authority}/discovery/v2.0/keys`,
          }),
        },
      });
      const result = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
      assert.ok(result?.accessToken);
      assert.deepEqual(server.state.requestLog().map((e) => `${e.method} ${e.path.split('?')[0]}`), [`POST /${c.tenantId}/oauth2/v2.0/token`]);
    });

    it('accepts the secret with HTTP Basic authentication', async () => {
      const c = server.connection;
      const response = await fetch(c.tokenEndpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Authorization: `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: GRAPH_SCOPE }).toString(),
      });
      assert.equal(response.status, 200);
      const body = await response.json() as Record<string, unknown>;
      assert.equal(body['token_type'], 'Bearer');
      assert.equal(body['expires_in'], 3599);
      assert.equal(body['ext_expires_in'], 3599);
    });

    it('rejects a wrong secret with 401 invalid_client AADSTS7000215', async () => {
      const error = await rejectsWithServerError(appToken(server.connection, confidentialClient(server.connection, { clientSecret: 'not-the-secret' })));
      assert.equal(error.errorCode, 'invalid_client');
      assert.equal(error.status, 401);
      assert.match(description(error), /^AADSTS7000215: Invalid client secret provided\./);
      assert.match(description(error), /Trace ID: .*\r\nCorrelation ID: .*\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/s);
    });

    it('rejects an unknown application with AADSTS700016', async () => {
      const error = await rejectsWithServerError(appToken(server.connection, confidentialClient(server.connection, { clientId: '0a0a0a0a-1111-2222-3333-444444444444' })));
      assert.equal(error.errorCode, 'unauthorized_client');
      assert.match(description(error), /^AADSTS700016: Application with identifier '0a0a0a0a-1111-2222-3333-444444444444' was not found in the directory 'Contoso Lab'\./);
    });

    it('rejects a scope that is not <resource>/.default with AADSTS70011', async () => {
      const error = await rejectsWithServerError(confidentialClient(server.connection).acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/User.Read.All'] }));
      assert.equal(error.errorCode, 'invalid_scope');
      assert.match(description(error), /^AADSTS70011: The provided value for the input parameter 'scope' is not valid\. The scope https:\/\/graph\.microsoft\.com\/User\.Read\.All is not valid\./);
    });

    it('rejects an unknown tenant with AADSTS90002 and the documented error JSON', async () => {
      const c = server.connection;
      const response = await fetch(`${c.authorityHost}/contoso-unknown.example/oauth2/v2.0/token?client-request-id=11111111-2222-3333-4444-555555555555`, {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, scope: GRAPH_SCOPE }).toString(),
      });
      assert.equal(response.status, 400);
      const body = await response.json() as Record<string, unknown>;
      assert.equal(body['error'], 'invalid_request');
      assert.deepEqual(body['error_codes'], [90002]);
      assert.match(String(body['error_description']), /^AADSTS90002: Tenant 'contoso-unknown\.example' not found\./);
      assert.equal(body['correlation_id'], '11111111-2222-3333-4444-555555555555');
      assert.match(String(body['timestamp']), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
      assert.ok(typeof body['trace_id'] === 'string');
    });
  });

  describe('client credentials with a certificate', () => {
    it('verifies PS256 (x5t#S256) and RS256 (x5t) assertions signed with a registered certificate', async () => {
      const c = server.connection;
      const pems = await generate([{ name: 'commonName', value: 'dirsync-lab-cert' }], { keySize: 2048, algorithm: 'sha256' });
      const der = new X509Certificate(pems.cert).raw;
      const client = appGraphClient(c);
      const app = await client.api(`/applications(appId='${c.clientId}')`).select('id,keyCredentials').get() as { id: string };
      await client.api(`/applications/${app.id}`).patch({ keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify', key: der.toString('base64') }] });
      const registered = await client.api(`/applications/${app.id}`).select('keyCredentials').get() as { keyCredentials: { customKeyIdentifier: string; key: unknown }[] };
      assert.equal(registered.keyCredentials.length, 1);
      assert.equal(registered.keyCredentials[0]?.customKeyIdentifier, createHash('sha1').update(der).digest('hex').toUpperCase());
      assert.equal(registered.keyCredentials[0]?.key, null);

      const ps256 = new ConfidentialClientApplication({
        auth: { clientId: c.clientId, clientCertificate: { thumbprintSha256: createHash('sha256').update(der).digest('hex'), privateKey: pems.private }, ...msalAuth(c) },
      });
      const token = await ps256.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
      assert.equal(decodePayload(token?.accessToken ?? '')['appidacr'], '2');
      const rs256 = new ConfidentialClientApplication({
        auth: { clientId: c.clientId, clientCertificate: { thumbprint: createHash('sha1').update(der).digest('hex'), privateKey: pems.private }, ...msalAuth(c) },
      });
      assert.ok((await rs256.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] }))?.accessToken);

      const other = await generate([{ name: 'commonName', value: 'not-registered' }], { keySize: 2048, algorithm: 'sha256' });
      const otherDer = new X509Certificate(other.cert).raw;
      const wrong = new ConfidentialClientApplication({
        auth: { clientId: c.clientId, clientCertificate: { thumbprintSha256: createHash('sha256').update(otherDer).digest('hex'), privateKey: other.private }, ...msalAuth(c) },
      });
      const error = await rejectsWithServerError(wrong.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] }));
      assert.equal(error.errorCode, 'invalid_client');
      assert.match(description(error), /^AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application\./);
      const forged = new ConfidentialClientApplication({
        auth: { clientId: c.clientId, clientCertificate: { thumbprintSha256: createHash('sha256').update(der).digest('hex'), privateKey: other.private }, ...msalAuth(c) },
      });
      const forgedError = await rejectsWithServerError(forged.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] }));
      assert.match(description(forgedError), /^AADSTS700027: Client assertion failed signature validation\./);
    });
  });

  describe('discovery documents', () => {
    it('serves the OpenID configuration, instance discovery and JWKS that verify the issued tokens', async () => {
      const c = server.connection;
      const config = await (await fetch(c.openIdConfiguration)).json() as Record<string, string>;
      assert.equal(config['token_endpoint'], c.tokenEndpoint);
      assert.equal(config['issuer'], `${c.authority}/v2.0`);
      assert.equal(config['device_authorization_endpoint'], `${c.authority}/oauth2/v2.0/devicecode`);
      const discovery = await (await fetch(`${c.authorityHost}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${c.authority}/oauth2/v2.0/authorize`)}`)).json() as Record<string, unknown>;
      assert.equal(discovery['api-version'], '1.1');
      assert.ok(Array.isArray(discovery['metadata']));
      const keys = await (await fetch(config['jwks_uri'] ?? '')).json() as { keys: { kid: string; n: string; e: string; kty: string }[] };
      const token = await appToken(c);
      const [h, p, s] = token.split('.') as [string, string, string];
      const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { kid: string; alg: string };
      assert.equal(header.alg, 'RS256');
      const jwk = keys.keys.find((k) => k.kid === header.kid);
      assert.ok(jwk);
      const key = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
      assert.equal(verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')), true);
    });
  });

  describe('Graph token validation', () => {
    it('answers 401 InvalidAuthenticationToken "Access token is empty." without a token', async () => {
      const response = await fetch(`${server.connection.graphBaseUrl}v1.0/users`, { headers: { 'client-request-id': 'abc-123' } });
      assert.equal(response.status, 401);
      const body = await response.json() as { error: { code: string; message: string; innerError: Record<string, string> } };
      assert.equal(body.error.code, 'InvalidAuthenticationToken');
      assert.equal(body.error.message, 'Access token is empty.');
      assert.equal(body.error.innerError['client-request-id'], 'abc-123');
      assert.match(body.error.innerError['date'] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      assert.equal(body.error.innerError['request-id'], response.headers.get('request-id'));
    });

    it('answers 401 for malformed, foreign-tenant and expired tokens', async () => {
      const c = server.connection;
      const malformed = await graphError(graphClient(c, async () => 'not-a-jwt').api('/users').get());
      assert.equal(malformed.statusCode, 401);
      assert.equal(malformed.code, 'InvalidAuthenticationToken');
      assert.equal(malformed.message, 'CompactToken parsing failed with error code: 80049217');

      const other = await startTestTenant({ tenantId: '99999999-8888-4777-8666-555555555555' });
      try {
        const foreign = await appToken(other.connection);
        const err = await graphError(graphClient(c, async () => foreign).api('/users').get());
        assert.equal(err.statusCode, 401);
        assert.match(err.message, /The identity of the calling application could not be established\./);
      } finally {
        await other.close();
      }

      const tenant = server.state.tenant;
      const now = Math.floor(Date.now() / 1000);
      const { signJwt } = await import('../tenant/jwt.ts');
      const expired = signJwt({ kid: tenant.kid }, {
        aud: 'https://graph.microsoft.com', tid: c.tenantId, appid: c.clientId, idtyp: 'app', roles: ['User.Read.All'], iat: now - 7200, nbf: now - 7200, exp: now - 3600,
      }, tenant.signingKey);
      const expiredError = await graphError(graphClient(c, async () => expired).api('/users').get());
      assert.equal(expiredError.statusCode, 401);
      assert.equal(expiredError.message, 'Lifetime validation failed, the token is expired.');
    });

    it('issues and checks tokens on its own clock: moving it past exp, or back before nbf, refuses a token msal still holds', async () => {
      const c = server.connection;
      const cca = confidentialClient(c);
      const client = appGraphClient(c, cca);
      const before = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
      const issuedAt = Number(decodePayload(before?.accessToken ?? '')['iat']);
      assert.ok(Math.abs(issuedAt * 1000 - server.state.now().getTime()) < 5000, 'iat is the tenant\'s time');
      await client.api('/organization').get();
      const response = await fetch(`${c.graphBaseUrl}v1.0/organization`, { headers: { Authorization: `Bearer ${before?.accessToken ?? ''}` } });
      assert.ok(Math.abs(Date.parse(response.headers.get('date') ?? '') - server.state.now().getTime()) < 2000, 'Date is the tenant\'s time');
      try {
        server.state.advanceClock(2 * 3600);
        const cached = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
        assert.equal(cached?.fromCache, true, 'msal, on this computer\'s clock, still holds the token as valid');
        const expired = await graphError(client.api('/organization').get());
        assert.equal(expired.statusCode, 401);
        assert.equal(expired.code, 'InvalidAuthenticationToken');
        assert.equal(expired.message, 'Lifetime validation failed, the token is expired.');
        const fresh = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE], skipCache: true });
        assert.ok(Number(decodePayload(fresh?.accessToken ?? '')['iat']) >= issuedAt + 7200 - 5, 'a new token is issued at the tenant\'s new time');
        await client.api('/organization').get();

        server.state.advanceClock(-2 * 3600);
        const early = await graphError(client.api('/organization').get());
        assert.equal(early.statusCode, 401);
        assert.equal(early.message, 'Lifetime validation failed, the token is not yet valid.');
      } finally {
        server.state.tenant.clock.offsetMs = 0;
      }
    });

    it('refuses a client assertion made more than five minutes off its clock (AADSTS700024)', async () => {
      const c = server.connection;
      const pems = await generate([{ name: 'commonName', value: 'dirsync-clock-cert' }], { keySize: 2048, algorithm: 'sha256' });
      const der = new X509Certificate(pems.cert).raw;
      const admin = appGraphClient(c);
      const app = await admin.api(`/applications(appId='${c.clientId}')`).select('id').get() as { id: string };
      await admin.api(`/applications/${app.id}`).patch({ keyCredentials: [{ type: 'AsymmetricX509Cert', usage: 'Verify', key: der.toString('base64') }] });
      const certificate = { thumbprintSha256: createHash('sha256').update(der).digest('hex'), privateKey: pems.private };
      try {
        server.state.advanceClock(3600);
        const skewed = new ConfidentialClientApplication({ auth: { clientId: c.clientId, clientCertificate: certificate, ...msalAuth(c) } });
        const error = await rejectsWithServerError(skewed.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] }));
        assert.equal(error.errorCode, 'invalid_client');
        assert.match(description(error), /^AADSTS700024: Client assertion is not within its valid time range\. Current time: \d{4}-\d\d-\d\dT/);
        server.state.advanceClock(-3600 + 200);
        const within = new ConfidentialClientApplication({ auth: { clientId: c.clientId, clientCertificate: certificate, ...msalAuth(c) } });
        assert.ok((await within.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] }))?.accessToken, 'a difference under five minutes is tolerated');
      } finally {
        server.state.tenant.clock.offsetMs = 0;
      }
    });
  });

  describe('app registration, consent and device code sign-in', () => {
    it('a new app gets roles only after an admin grants them; permissions are enforced per operation', async () => {
      const c = server.connection;
      const engine = appGraphClient(c);
      const created = await engine.api('/applications').post({ displayName: 'Reader app' }) as { id: string; appId: string };
      const secret = await engine.api(`/applications/${created.id}/addPassword`).post({ passwordCredential: { displayName: 'test' } }) as { secretText: string };
      assert.ok(secret.secretText.length >= 30);
      const noSp = await rejectsWithServerError(appToken(c, confidentialClient(c, { clientId: created.appId, clientSecret: secret.secretText })));
      assert.match(description(noSp), /^AADSTS7000229: /);
      await engine.api('/servicePrincipals').post({ appId: created.appId });
      const readerCca = confidentialClient(c, { clientId: created.appId, clientSecret: secret.secretText });
      const unconsented = await graphError(graphClient(c, () => appToken(c, readerCca)).api('/users').get());
      assert.equal(unconsented.statusCode, 403);
      assert.match(unconsented.message, /Required roles claim values are not provided/);

      // The administrator consents through a delegated (device code) sign-in, as the setup wizard would.
      const pca = publicClient(c);
      const approvals: Promise<unknown>[] = [];
      const result = await pca.acquireTokenByDeviceCode({
        scopes: ['https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All', 'https://graph.microsoft.com/Application.ReadWrite.All'],
        deviceCodeCallback: (response) => {
          assert.match(response.message, /devicelogin/);
          approvals.push(labControl(c, 'POST', '/device/approve', { user_code: response.userCode, upn: c.globalAdminUpn, password: server.state.globalAdminPassword }));
        },
      });
      await Promise.all(approvals);
      assert.ok(result);
      assert.equal(result.account?.username, c.globalAdminUpn);
      assert.equal(result.tenantId, c.tenantId);
      const admin = graphClient(c, async () => result.accessToken);
      const me = await admin.api('/me').select('userPrincipalName').get() as { userPrincipalName: string };
      assert.equal(me.userPrincipalName, c.globalAdminUpn);
      const appMe = await graphError(engine.api('/me').get());
      assert.equal(appMe.message, '/me request is only valid with delegated authentication flow.');
      const graphSp = await admin.api('/servicePrincipals').filter("appId eq '00000003-0000-0000-c000-000000000000'").get() as { value: { id: string; appRoles: { id: string; value: string }[] }[] };
      const graph = graphSp.value[0];
      assert.ok(graph);
      const readerSp = await admin.api(`/servicePrincipals(appId='${created.appId}')`).get() as { id: string };
      const role = graph.appRoles.find((r) => r.value === 'User.Read.All');
      assert.ok(role);
      const assignment = await admin.api(`/servicePrincipals/${graph.id}/appRoleAssignedTo`).post({ principalId: readerSp.id, resourceId: graph.id, appRoleId: role.id }) as { principalId: string };
      assert.equal(assignment.principalId, readerSp.id);

      const reader = graphClient(c, () => appToken(c, readerCca));
      const users = await reader.api('/users').get() as { value: unknown[] };
      assert.ok(users.value.length > 0);
      const denied = await graphError(reader.api('/users').post({ accountEnabled: true, displayName: 'x', mailNickname: 'x', userPrincipalName: 'x@contoso.com', passwordProfile: { password: 'Str0ng!Passw0rd' } }));
      assert.equal(denied.statusCode, 403);
      assert.equal(denied.code, 'Authorization_RequestDenied');
      assert.equal(denied.message, 'Insufficient privileges to complete the operation.');

      const silent = await pca.acquireTokenSilent({ account: result.account!, scopes: ['https://graph.microsoft.com/Application.ReadWrite.All'], forceRefresh: true });
      assert.ok(silent?.accessToken && silent.accessToken !== result.accessToken, 'the refresh token should give a new access token');
    });

    it('keeps polling while the device code is pending (authorization_pending)', async () => {
      const c = server.connection;
      const pca = publicClient(c);
      let userCode = '';
      const pending = pca.acquireTokenByDeviceCode({
        scopes: ['https://graph.microsoft.com/User.Read'],
        deviceCodeCallback: (response) => {
          userCode = response.userCode;
        },
      });
      await new Promise((r) => setTimeout(r, 2500));
      const polls = server.state.requestLog().filter((e) => e.path.includes('/oauth2/v2.0/token') && e.status === 400);
      assert.ok(polls.length >= 1, 'msal should have polled at least once');
      server.state.approveDeviceCode(userCode, c.globalAdminUpn);
      const result = await pending;
      assert.equal(result?.account?.username, c.globalAdminUpn);
      const scp = decodePayload(result?.accessToken ?? '')['scp'];
      assert.equal(scp, 'User.Read');
    });
  });
});
