/**
 * The Microsoft Entra page's "Test the connection": the identity platform and Microsoft Graph of the
 * instance, reached the way the service will reach them (the proxy and trusted authorities of the network
 * given). Step by step, the first failure named (tls-chain.ts); then a real request to each through the
 * same stack msal and the Graph client use: the tenant's OpenID metadata (an unknown tenant is said), and
 * Graph itself (any HTTP answer proves the route; no token is sent).
 */
import type { CloudConnectionTest } from '../contract/control-api.ts';
import { CloudNetworkError } from '../errors/network-errors.ts';
import { endpointsFor, type CloudInstance } from './instances.ts';
import type { CloudNetwork } from './network.ts';
import { describeProxy } from './proxy.ts';

export type ConnectionTestInput = {
  readonly instance: CloudInstance;
  readonly tenant?: string | undefined;
  readonly authorityHost?: string | undefined;
  readonly graphBaseUrl?: string | undefined;
};

function failed(error: CloudNetworkError): CloudConnectionTest {
  return { ok: false, reason: error.reason, message: error.message, ...(error.certificate ? { certificate: error.certificate } : {}) };
}

export async function testCloudConnection(input: ConnectionTestInput, network: CloudNetwork): Promise<CloudConnectionTest> {
  let endpoints;
  try {
    endpoints = endpointsFor(input.instance, { authorityHost: input.authorityHost, graphBaseUrl: input.graphBaseUrl });
  } catch (error) {
    return { ok: false, reason: 'unreachable', message: (error as Error).message };
  }
  const authority = new URL(endpoints.authorityHost);
  const graph = new URL(endpoints.graphBaseUrl);
  let pathFailure: CloudNetworkError | undefined;
  try {
    pathFailure = await network.diagnose([authority, graph]);
  } catch (error) {
    return { ok: false, reason: 'bad-proxy-setting', message: (error as Error).message };
  }
  if (pathFailure) return failed(pathFailure);
  const tenant = (input.tenant ?? '').trim() || 'organizations';
  try {
    const metadata = await network.fetch(`${endpoints.authorityHost}/${encodeURIComponent(tenant)}/v2.0/.well-known/openid-configuration`);
    await metadata.body?.cancel();
    if (metadata.status === 400 || metadata.status === 404) {
      return { ok: false, reason: 'unknown-tenant', message: `The identity platform (${authority.host}) does not know the tenant "${tenant}": check the tenant id or domain.` };
    }
    const answer = await network.fetch(`${endpoints.graphBaseUrl}v1.0/organization`);
    await answer.body?.cancel();
  } catch (error) {
    if (error instanceof CloudNetworkError) return failed(error);
    return { ok: false, reason: 'unreachable', message: `The route to ${authority.host} and ${graph.host} is open, but a request failed: ${(error as Error).message}.` };
  }
  const authorityRoute = describeProxy(network.proxyFor(authority));
  const graphRoute = describeProxy(network.proxyFor(graph));
  const route = authorityRoute === graphRoute ? authorityRoute : `${authorityRoute} for ${authority.host}, ${graphRoute} for ${graph.host}`;
  return { ok: true, route, endpoints: [authority.host, graph.host] };
}
