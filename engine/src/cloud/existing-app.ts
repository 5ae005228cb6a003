/**
 * "Use an existing app registration" on the wizard's Microsoft Entra page, tried before it is saved: a sign-in
 * with its client secret (client credentials, through the engine's own connector), the application permissions
 * its token carries against the ones Directory Sync needs, and the organization it reaches. A wrong secret, an
 * unknown app or tenant, and a missing permission are said here, not first on the Readiness page.
 */
import type { ExistingAppTest } from '../contract/control-api.ts';
import { tokenPermissions, type CloudSettings } from './app-registration.ts';
import { CloudConnector } from './connector.ts';

export async function testExistingApp(settings: CloudSettings & { readonly tenant: string; readonly clientId: string; readonly clientSecret: string }): Promise<ExistingAppTest> {
  const connector = new CloudConnector({
    instance: settings.instance, authorityHost: settings.authorityHost, graphBaseUrl: settings.graphBaseUrl, network: settings.network,
    tenantId: settings.tenant, clientId: settings.clientId, credential: { kind: 'secret', clientSecret: settings.clientSecret },
  });
  const { roles, missing } = await tokenPermissions(connector);
  // Without Organization.ReadWrite.All (or Read) the organization cannot be read: the missing permission says why.
  const organization = missing.some((p) => p.startsWith('Organization.')) ? undefined : await connector.organization();
  return {
    tenantId: organization?.id ?? settings.tenant,
    tenantDisplayName: organization?.displayName ?? '',
    verifiedDomains: organization?.verifiedDomains.map((d) => d.name) ?? [],
    roles: [...roles].sort(), missing, tenantSynchronized: organization?.onPremisesSyncEnabled === true,
  };
}
