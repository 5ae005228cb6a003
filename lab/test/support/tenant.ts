/**
 * Test support for the emulated tenant: how msal-node and the Graph client are configured against it,
 * and small helpers (lab control calls, expected Graph errors).
 *
 * TLS: the tests must run with NODE_EXTRA_CA_CERTS pointing at the lab CA (`.lab/ca/ca.pem`), e.g.
 *   NODE_EXTRA_CA_CERTS=$(node --import tsx lab/tenant/ca-cli.ts) node --import tsx --test lab/test/tenant-*.test.ts
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ConfidentialClientApplication, PublicClientApplication, type Configuration,
} from '@azure/msal-node';
import { Client, GraphError } from '@microsoft/microsoft-graph-client';
import type { TenantConnection } from '../../connection.ts';
import { defaultCaDir } from '../../tenant/ca.ts';
import { startTenantServer, type TenantOptions, type TenantServer } from '../../tenant/index.ts';

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

/** Fails fast, with the fix, when the process does not trust the lab CA. */
export function assertLabCaTrusted(): void {
  const configured = process.env['NODE_EXTRA_CA_CERTS'];
  const expected = resolve(defaultCaDir(), 'ca.pem');
  if (!configured || resolve(configured) !== expected) {
    throw new Error(`These tests need NODE_EXTRA_CA_CERTS=${expected} in the environment of the test process ` +
      `(got ${configured ?? 'nothing'}). Run: NODE_EXTRA_CA_CERTS=$(node --import tsx lab/tenant/ca-cli.ts) node --import tsx --test lab/test/tenant-*.test.ts`);
  }
  if (!existsSync(expected)) throw new Error(`NODE_EXTRA_CA_CERTS names ${expected}, which does not exist yet: create it before starting the tests with node --import tsx lab/tenant/ca-cli.ts`);
}

/** Starts an in-process tenant on a random port (after checking the TLS trust). */
export async function startTestTenant(options: TenantOptions = {}): Promise<TenantServer> {
  assertLabCaTrusted();
  return startTenantServer({ port: 0, ...options });
}

/**
 * The msal-node authority settings for the lab tenant: an https authority on 127.0.0.1:PORT, listed in
 * knownAuthorities (skips instance discovery against login.microsoftonline.com); msal then reads the
 * tenant's OpenID configuration from the emulator.
 */
export function msalAuth(connection: TenantConnection): Pick<Configuration['auth'], 'authority' | 'knownAuthorities'> {
  return { authority: connection.authority, knownAuthorities: [new URL(connection.authorityHost).host] };
}

export function confidentialClient(connection: TenantConnection, credentials?: { clientId?: string; clientSecret?: string }): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: credentials?.clientId ?? connection.clientId,
      clientSecret: credentials?.clientSecret ?? connection.clientSecret,
      ...msalAuth(connection),
    },
  });
}

export function publicClient(connection: TenantConnection, clientId: string = connection.clientId): PublicClientApplication {
  return new PublicClientApplication({ auth: { clientId, ...msalAuth(connection) } });
}

export async function appToken(connection: TenantConnection, cca: ConfidentialClientApplication = confidentialClient(connection)): Promise<string> {
  const result = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE], skipCache: true });
  assert.ok(result?.accessToken, 'msal returned no access token');
  return result.accessToken;
}

/** The Graph client wired to the emulator: https baseUrl + customHosts so the bearer token is attached. */
export function graphClient(connection: TenantConnection, getAccessToken: () => Promise<string>): Client {
  return Client.initWithMiddleware({
    authProvider: { getAccessToken },
    baseUrl: connection.graphBaseUrl,
    customHosts: new Set([new URL(connection.graphBaseUrl).hostname]),
  });
}

/** A Graph client signed in as the lab app (client credentials through msal-node; token cached by msal). */
export function appGraphClient(connection: TenantConnection, cca: ConfidentialClientApplication = confidentialClient(connection)): Client {
  return graphClient(connection, async () => {
    const result = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
    assert.ok(result?.accessToken);
    return result.accessToken;
  });
}

/** Awaits a promise that must reject with a GraphError and returns it. */
export async function graphError(promise: Promise<unknown>): Promise<GraphError & { details: unknown; innerError: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GraphError, `expected a GraphError, got ${String(error)}`);
    const body = typeof error.body === 'string' ? JSON.parse(error.body) as Record<string, unknown> : {};
    return Object.assign(error, { details: body['details'], innerError: (body['innerError'] ?? {}) as Record<string, unknown> });
  }
  assert.fail('expected the Graph call to fail');
}

/** Calls the lab control API. */
export async function labControl(connection: TenantConnection, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${connection.labControlUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${connection.labControlKey}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) as unknown : undefined };
}

/** A strong password accepted by the tenant's policy. */
export const STRONG_PASSWORD = 'Str0ng!Passw0rd';

let counter = 0;
/** A unique suffix for test object names. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`;
}
