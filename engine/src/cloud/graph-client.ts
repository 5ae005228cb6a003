/**
 * The one way the engine builds a Microsoft Graph client: the instance's Graph base URL, and its host
 * named in customHosts so the SDK sends the bearer token there (graph-reference.md §10.5).
 */
import { Client } from '@microsoft/microsoft-graph-client';

export function createGraphClient(graphBaseUrl: string, getAccessToken: () => Promise<string>): Client {
  return Client.initWithMiddleware({
    baseUrl: graphBaseUrl,
    defaultVersion: 'v1.0',
    customHosts: new Set([new URL(graphBaseUrl).hostname]),
    authProvider: { getAccessToken },
  });
}
