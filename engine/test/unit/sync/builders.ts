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
