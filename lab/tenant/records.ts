/**
 * Full property sets of new users and groups (what Graph stores beyond what the client sent), shared by
 * the create handlers and the seed.
 */
import { graphDateTime } from './clock.ts';
import type { Json, JsonObject } from './model.ts';
import { stringArray } from './store.ts';

/** `S-1-12-1-…`: the SID Entra derives from an object id. */
export function securityIdentifierOf(id: string): string {
  const hex = id.replaceAll('-', '');
  const raw = Buffer.from(hex, 'hex');
  if (raw.length !== 16) return 'S-1-12-1-0-0-0-0';
  const bytes = Buffer.concat([
    Buffer.from(raw.subarray(0, 4)).reverse(),
    Buffer.from(raw.subarray(4, 6)).reverse(),
    Buffer.from(raw.subarray(6, 8)).reverse(),
    raw.subarray(8),
  ]);
  return `S-1-12-1-${bytes.readUInt32LE(0)}-${bytes.readUInt32LE(4)}-${bytes.readUInt32LE(8)}-${bytes.readUInt32LE(12)}`;
}

export function emptyExtensionAttributes(): JsonObject {
  return Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`extensionAttribute${i + 1}`, null]));
}

/** Makes `mail` the primary `SMTP:` address and keeps the others as secondary `smtp:`. */
export function proxyAddressesForMail(existing: ReadonlyArray<string>, mail: string | null): string[] {
  const demoted = existing.map((a) => (a.startsWith('SMTP:') ? `smtp:${a.slice(5)}` : a));
  if (mail === null) return demoted;
  const primary = `SMTP:${mail}`;
  return [primary, ...demoted.filter((a) => a.toLowerCase() !== primary.toLowerCase())];
}

/** Unset properties are stored as absent (read as null): a large directory stays small in memory and on disk. */
function withoutNulls(props: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== null));
}

export function newUserProps(id: string, input: JsonObject, now: number): JsonObject {
  const props: JsonObject = {
    accountEnabled: true,
    ageGroup: null,
    assignedLicenses: [],
    assignedPlans: [],
    businessPhones: [],
    city: null,
    companyName: null,
    consentProvidedForMinor: null,
    country: null,
    createdDateTime: graphDateTime(now),
    creationType: null,
    deletedDateTime: null,
    department: null,
    displayName: null,
    employeeHireDate: null,
    employeeId: null,
    employeeLeaveDateTime: null,
    employeeOrgData: null,
    employeeType: null,
    externalUserState: null,
    faxNumber: null,
    givenName: null,
    imAddresses: [],
    jobTitle: null,
    lastPasswordChangeDateTime: graphDateTime(now),
    legalAgeGroupClassification: null,
    mail: null,
    mailNickname: null,
    mobilePhone: null,
    officeLocation: null,
    onPremisesDistinguishedName: null,
    onPremisesDomainName: null,
    onPremisesExtensionAttributes: emptyExtensionAttributes(),
    onPremisesImmutableId: null,
    onPremisesLastSyncDateTime: null,
    onPremisesProvisioningErrors: [],
    onPremisesSamAccountName: null,
    onPremisesSecurityIdentifier: null,
    onPremisesSyncEnabled: null,
    onPremisesUserPrincipalName: null,
    otherMails: [],
    passwordPolicies: null,
    postalCode: null,
    preferredDataLocation: null,
    preferredLanguage: null,
    proxyAddresses: [],
    securityIdentifier: securityIdentifierOf(id),
    showInAddressList: null,
    signInSessionsValidFromDateTime: graphDateTime(now),
    state: null,
    streetAddress: null,
    surname: null,
    usageLocation: null,
    userPrincipalName: null,
    userType: 'Member',
  };
  for (const [key, value] of Object.entries(input)) {
    if (key === 'onPremisesExtensionAttributes' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      props[key] = { ...emptyExtensionAttributes(), ...value };
    } else {
      props[key] = value;
    }
  }
  if (!('proxyAddresses' in input) && typeof props['mail'] === 'string') {
    props['proxyAddresses'] = proxyAddressesForMail([], props['mail']);
  }
  return withoutNulls(props);
}

export function isUnifiedGroup(props: JsonObject): boolean {
  return stringArray(props['groupTypes']).some((t) => t.toLowerCase() === 'unified');
}

export function newGroupProps(id: string, input: JsonObject, now: number, domains: { defaultDomain: string; initialDomain: string }): JsonObject {
  const props: JsonObject = {
    classification: null,
    createdDateTime: graphDateTime(now),
    deletedDateTime: null,
    description: null,
    displayName: null,
    expirationDateTime: null,
    groupTypes: [],
    isAssignableToRole: null,
    mail: null,
    mailEnabled: false,
    mailNickname: null,
    membershipRule: null,
    membershipRuleProcessingState: null,
    onPremisesDomainName: null,
    onPremisesLastSyncDateTime: null,
    onPremisesNetBiosName: null,
    onPremisesProvisioningErrors: [],
    onPremisesSamAccountName: null,
    onPremisesSecurityIdentifier: null,
    onPremisesSyncEnabled: null,
    preferredDataLocation: null,
    preferredLanguage: null,
    proxyAddresses: [],
    renewedDateTime: graphDateTime(now),
    resourceBehaviorOptions: [],
    resourceProvisioningOptions: [],
    securityEnabled: true,
    securityIdentifier: securityIdentifierOf(id),
    serviceProvisioningErrors: [],
    theme: null,
    visibility: null,
  };
  for (const [key, value] of Object.entries(input)) props[key] = value;
  if (isUnifiedGroup(props) && typeof props['mailNickname'] === 'string' && !('mail' in input)) {
    const nick = props['mailNickname'];
    const mail = `${nick}@${domains.defaultDomain}`;
    props['mail'] = mail;
    const addresses: Json[] = [`SMTP:${mail}`];
    if (domains.initialDomain.toLowerCase() !== domains.defaultDomain.toLowerCase()) addresses.push(`smtp:${nick}@${domains.initialDomain}`);
    props['proxyAddresses'] = addresses;
    if (props['visibility'] === null) props['visibility'] = 'Public';
  }
  return withoutNulls(props);
}
