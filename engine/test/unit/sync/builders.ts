import { parseConfig, type DirSyncConfig } from '../../../src/base/config.ts';
import type { AdEntry } from '../../../src/sync/ad-entry.ts';
import type { CloudObject } from '../../../src/sync/cloud-object.ts';

let counter = 0;

function guid(n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

export function adUser(attributes: Record<string, string | string[]>, extra: Partial<AdEntry> = {}): AdEntry {
  counter += 1;
  const normalized: Record<string, string[]> = {};
  for (const [k, v] of Object.entries({ cn: `User ${counter}`, sAMAccountName: `user${counter}`, userAccountControl: '512', ...attributes })) {
    normalized[k.toLowerCase()] = Array.isArray(v) ? v : [v];
  }
  const id = guid(counter);
  return {
    guid: id, guidBase64: Buffer.from(id.replace(/-/g, ''), 'hex').toString('base64'),
    dn: `CN=${attributes['cn'] ?? `User ${counter}`},OU=Sales,DC=contoso,DC=test`, objectClass: 'user', deleted: false,
    attributes: normalized, ...extra,
  };
}

export function adGroup(attributes: Record<string, string | string[]>, extra: Partial<AdEntry> = {}): AdEntry {
  const user = adUser({ groupType: String(-2147483646), ...attributes }, extra);
  return { ...user, objectClass: 'group', dn: `CN=${attributes['cn'] ?? 'Group'},OU=Groups,DC=contoso,DC=test`, ...extra };
}

export function cloudUser(id: string, props: Record<string, unknown>, extra: Partial<CloudObject> = {}): CloudObject {
  return {
    id, objectType: 'user', properties: props,
    userPrincipalName: typeof props['userPrincipalName'] === 'string' ? props['userPrincipalName'] : undefined,
    ...extra,
  };
}

/** The anchor extension property of the test configuration's application. */
export const TEST_ANCHOR_PROPERTY = 'extension_5d2c9b7a3e1f4a6b8c0d2f4e6a8b0c1d_sourceAnchor';

/** A minimal valid configuration for planning tests (`label` names it in a validation error). */
export function testConfig(label: string): DirSyncConfig {
  return parseConfig({
    version: 1,
    ad: { url: 'ldaps://dc1.contoso.test', bindDn: 'CN=MSOL_1,CN=Users,DC=contoso,DC=test', baseDn: 'DC=contoso,DC=test' },
    cloud: { tenantId: 'f3b7c2d1-5a4e-4c8b-9d6f-1e2a3b4c5d6e', clientId: '5d2c9b7a-3e1f-4a6b-8c0d-2f4e6a8b0c1d', credential: 'secret' },
  }, label);
}
