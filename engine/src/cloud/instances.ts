/**
 * National clouds (graph-reference.md §10.3): where to sign in and where Graph is, per instance.
 */
export type CloudInstance = 'global' | 'usgov' | 'china' | 'custom';

export type CloudEndpoints = { readonly authorityHost: string; readonly graphBaseUrl: string };

export const cloudEndpoints: Readonly<Record<Exclude<CloudInstance, 'custom'>, CloudEndpoints>> = {
  global: { authorityHost: 'https://login.microsoftonline.com', graphBaseUrl: 'https://graph.microsoft.com/' },
  usgov: { authorityHost: 'https://login.microsoftonline.us', graphBaseUrl: 'https://graph.microsoft.us/' },
  china: { authorityHost: 'https://login.chinacloudapi.cn', graphBaseUrl: 'https://microsoftgraph.chinacloudapi.cn/' },
};

export function endpointsFor(instance: CloudInstance, custom: { authorityHost?: string; graphBaseUrl?: string }): CloudEndpoints {
  if (instance !== 'custom') return cloudEndpoints[instance];
  if (!custom.authorityHost || !custom.graphBaseUrl) {
    throw new Error('A custom cloud instance needs both cloud.authorityHost and cloud.graphBaseUrl (https URLs).');
  }
  return { authorityHost: custom.authorityHost.replace(/\/$/, ''), graphBaseUrl: custom.graphBaseUrl.endsWith('/') ? custom.graphBaseUrl : `${custom.graphBaseUrl}/` };
}
