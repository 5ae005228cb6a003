/**
 * Per-type schema: entity set, OData type, default property set, selectable properties, and the
 * $filter / $orderby capability tables of graph-reference.md §2.4, §3.5, §4 and §5.
 */
import type { ObjectType } from './model.ts';

export type Support = 'default' | 'advanced';
export type ValueType = 'string' | 'boolean' | 'datetime' | 'number' | 'guid';

export type FilterCaps = {
  readonly type: ValueType;
  /** A collection (filter with `any()` lambdas). */
  readonly collection?: boolean;
  readonly eq?: Support;
  readonly startsWith?: Support;
  readonly endsWith?: Support;
  readonly eqNull?: Support;
  /** ge, le, gt, lt */
  readonly range?: Support;
  /** `prop/$count eq 0` */
  readonly count?: Support;
};

export type ResourceDef = {
  readonly type: ObjectType;
  readonly entitySet: string;
  readonly odataType: string;
  /** Name used in error messages: `... of resource 'User'.` */
  readonly resourceName: string;
  readonly defaultProps: ReadonlyArray<string>;
  readonly knownProps: ReadonlySet<string>;
  readonly filter: Readonly<Record<string, FilterCaps>>;
  readonly orderBy: Readonly<Record<string, Support>>;
  /** extensionProperty.targetObjects value for this type, when directory extensions apply. */
  readonly extensionTarget?: string;
};

const D: Support = 'default';
const A: Support = 'advanced';

const s = (eq: Support | undefined, startsWith?: Support, eqNull?: Support): FilterCaps =>
  ({ type: 'string', ...(eq ? { eq } : {}), ...(startsWith ? { startsWith } : {}), ...(eqNull ? { eqNull } : {}) });
const b = (eqNull?: Support): FilterCaps => ({ type: 'boolean', eq: D, ...(eqNull ? { eqNull } : {}) });
const guid: FilterCaps = { type: 'guid', eq: D };
const addressCollection: FilterCaps = { type: 'string', collection: true, eq: D, startsWith: D, endsWith: A, count: A };

export const USER_DEFAULT_PROPS = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone',
  'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];

/** Properties that only a single-user GET returns (501 on a collection $select). */
export const SINGLE_USER_ONLY_PROPS = new Set(['aboutMe', 'birthday', 'hireDate', 'interests', 'mySite', 'pastProjects',
  'preferredName', 'responsibilities', 'schools', 'skills', 'mailboxSettings']);

const USER_PROPS = ['id', 'accountEnabled', 'ageGroup', 'assignedLicenses', 'assignedPlans', 'businessPhones', 'city',
  'companyName', 'consentProvidedForMinor', 'country', 'createdDateTime', 'creationType', 'deletedDateTime', 'department',
  'displayName', 'employeeHireDate', 'employeeId', 'employeeLeaveDateTime', 'employeeOrgData', 'employeeType',
  'externalUserState', 'faxNumber', 'givenName', 'identities', 'imAddresses', 'jobTitle', 'lastPasswordChangeDateTime',
  'legalAgeGroupClassification', 'mail', 'mailNickname', 'mobilePhone', 'officeLocation', 'onPremisesDistinguishedName',
  'onPremisesDomainName', 'onPremisesExtensionAttributes', 'onPremisesImmutableId', 'onPremisesLastSyncDateTime',
  'onPremisesProvisioningErrors', 'onPremisesSamAccountName', 'onPremisesSecurityIdentifier', 'onPremisesSyncEnabled',
  'onPremisesUserPrincipalName', 'otherMails', 'passwordPolicies', 'passwordProfile', 'postalCode', 'preferredDataLocation',
  'preferredLanguage', 'proxyAddresses', 'securityIdentifier', 'showInAddressList', 'signInSessionsValidFromDateTime',
  'state', 'streetAddress', 'surname', 'usageLocation', 'userPrincipalName', 'userType', ...SINGLE_USER_ONLY_PROPS];

const extensionAttributeCaps: Record<string, FilterCaps> = Object.fromEntries(
  Array.from({ length: 15 }, (_, i) => [`onPremisesExtensionAttributes/extensionAttribute${i + 1}`, { type: 'string', eq: A, eqNull: A } as FilterCaps]));

export const USER_RESOURCE: ResourceDef = {
  type: 'user',
  entitySet: 'users',
  odataType: '#microsoft.graph.user',
  resourceName: 'User',
  defaultProps: USER_DEFAULT_PROPS,
  knownProps: new Set(USER_PROPS),
  extensionTarget: 'User',
  filter: {
    id: guid,
    userPrincipalName: { type: 'string', eq: D, startsWith: D, endsWith: A, range: A },
    onPremisesImmutableId: { type: 'string', eq: D, range: A },
    mail: { type: 'string', eq: D, startsWith: D, endsWith: A, eqNull: A },
    mailNickname: s(D, D, A),
    displayName: s(D, D, A),
    givenName: s(D, D, A),
    surname: s(D, D, A),
    jobTitle: s(D, D, A),
    employeeId: s(D, D, A),
    department: s(A, A, A),
    companyName: s(A, A, A),
    city: s(A, A, A),
    country: s(A, A, A),
    state: s(A, A, A),
    officeLocation: s(A, A, A),
    postalCode: s(A, A, A),
    employeeType: s(A, A, A),
    usageLocation: s(D, undefined, A),
    preferredLanguage: s(D),
    userType: s(D, undefined, A),
    creationType: s(D, undefined, A),
    onPremisesSamAccountName: s(D, D),
    onPremisesSecurityIdentifier: s(D),
    onPremisesUserPrincipalName: s(D, D),
    accountEnabled: b(),
    onPremisesSyncEnabled: b(A),
    createdDateTime: { type: 'datetime', eq: A, range: A },
    employeeHireDate: { type: 'datetime', eq: A, range: A },
    proxyAddresses: addressCollection,
    otherMails: addressCollection,
    imAddresses: { type: 'string', collection: true, eq: D },
    ...extensionAttributeCaps,
  },
  orderBy: { displayName: D, userPrincipalName: D, createdDateTime: A, deletedDateTime: A, mail: A, givenName: A, surname: A },
};

const GROUP_DEFAULT_PROPS = ['id', 'deletedDateTime', 'classification', 'createdDateTime', 'description', 'displayName',
  'expirationDateTime', 'groupTypes', 'isAssignableToRole', 'mail', 'mailEnabled', 'mailNickname', 'membershipRule',
  'membershipRuleProcessingState', 'onPremisesDomainName', 'onPremisesLastSyncDateTime', 'onPremisesNetBiosName',
  'onPremisesSamAccountName', 'onPremisesSecurityIdentifier', 'onPremisesSyncEnabled', 'preferredDataLocation',
  'preferredLanguage', 'proxyAddresses', 'renewedDateTime', 'resourceBehaviorOptions', 'resourceProvisioningOptions',
  'securityEnabled', 'securityIdentifier', 'theme', 'visibility', 'onPremisesProvisioningErrors'];

export const GROUP_RESOURCE: ResourceDef = {
  type: 'group',
  entitySet: 'groups',
  odataType: '#microsoft.graph.group',
  resourceName: 'Group',
  defaultProps: GROUP_DEFAULT_PROPS,
  knownProps: new Set([...GROUP_DEFAULT_PROPS, 'serviceProvisioningErrors', 'uniqueName']),
  extensionTarget: 'Group',
  filter: {
    id: guid,
    displayName: s(D, D, A),
    description: s(A, A, A),
    mail: { type: 'string', eq: D, startsWith: D, endsWith: A, eqNull: A },
    mailNickname: s(D, D),
    mailEnabled: b(),
    securityEnabled: b(),
    isAssignableToRole: b(),
    onPremisesSyncEnabled: b(A),
    onPremisesSecurityIdentifier: s(D),
    onPremisesSamAccountName: s(A, A),
    securityIdentifier: s(D),
    membershipRuleProcessingState: s(D),
    proxyAddresses: addressCollection,
    groupTypes: { type: 'string', collection: true, eq: D },
    uniqueName: s(D),
  },
  orderBy: { displayName: D, createdDateTime: A, deletedDateTime: A },
};

const CONTACT_PROPS = ['id', 'addresses', 'companyName', 'deletedDateTime', 'department', 'displayName', 'givenName',
  'jobTitle', 'mail', 'mailNickname', 'onPremisesLastSyncDateTime', 'onPremisesProvisioningErrors', 'onPremisesSyncEnabled',
  'phones', 'proxyAddresses', 'serviceProvisioningErrors', 'surname'];

export const CONTACT_RESOURCE: ResourceDef = {
  type: 'orgContact',
  entitySet: 'contacts',
  odataType: '#microsoft.graph.orgContact',
  resourceName: 'OrgContact',
  defaultProps: CONTACT_PROPS,
  knownProps: new Set(CONTACT_PROPS),
  filter: {
    id: guid,
    displayName: s(D, D),
    givenName: s(D, D),
    surname: s(D, D),
    jobTitle: s(D, D),
    mail: s(D, D),
    mailNickname: s(D, D),
    department: s(D, D),
    companyName: s(A, A),
    onPremisesSyncEnabled: b(A),
    onPremisesLastSyncDateTime: { type: 'datetime', range: D },
    proxyAddresses: addressCollection,
  },
  orderBy: { displayName: A },
};

const ORG_PROPS = ['id', 'assignedPlans', 'businessPhones', 'city', 'country', 'countryLetterCode', 'createdDateTime',
  'defaultUsageLocation', 'deletedDateTime', 'displayName', 'marketingNotificationEmails', 'onPremisesLastSyncDateTime',
  'onPremisesSyncEnabled', 'postalCode', 'preferredLanguage', 'privacyProfile', 'provisionedPlans',
  'securityComplianceNotificationMails', 'securityComplianceNotificationPhones', 'state', 'street',
  'technicalNotificationMails', 'tenantType', 'verifiedDomains'];

export const ORGANIZATION_RESOURCE: ResourceDef = {
  type: 'organization',
  entitySet: 'organization',
  odataType: '#microsoft.graph.organization',
  resourceName: 'Organization',
  defaultProps: ORG_PROPS,
  knownProps: new Set(ORG_PROPS),
  extensionTarget: 'Organization',
  filter: { id: guid },
  orderBy: {},
};

const APP_PROPS = ['id', 'appId', 'applicationTemplateId', 'appRoles', 'createdDateTime', 'deletedDateTime', 'description',
  'displayName', 'identifierUris', 'info', 'isFallbackPublicClient', 'keyCredentials', 'notes', 'passwordCredentials',
  'publicClient', 'publisherDomain', 'requiredResourceAccess', 'signInAudience', 'spa', 'tags', 'web', 'api',
  'optionalClaims', 'uniqueName'];

export const APPLICATION_RESOURCE: ResourceDef = {
  type: 'application',
  entitySet: 'applications',
  odataType: '#microsoft.graph.application',
  resourceName: 'Application',
  defaultProps: APP_PROPS,
  knownProps: new Set(APP_PROPS),
  extensionTarget: 'Application',
  filter: {
    id: guid,
    appId: guid,
    displayName: s(D, D),
    publisherDomain: s(D),
    signInAudience: s(D),
    identifierUris: { type: 'string', collection: true, eq: D, startsWith: D },
    tags: { type: 'string', collection: true, eq: D },
  },
  orderBy: { displayName: A, createdDateTime: A },
};

const SP_PROPS = ['id', 'accountEnabled', 'appDisplayName', 'appId', 'appOwnerOrganizationId', 'appRoleAssignmentRequired',
  'appRoles', 'deletedDateTime', 'description', 'displayName', 'keyCredentials', 'oauth2PermissionScopes',
  'passwordCredentials', 'servicePrincipalNames', 'servicePrincipalType', 'signInAudience', 'tags'];

export const SERVICE_PRINCIPAL_RESOURCE: ResourceDef = {
  type: 'servicePrincipal',
  entitySet: 'servicePrincipals',
  odataType: '#microsoft.graph.servicePrincipal',
  resourceName: 'ServicePrincipal',
  defaultProps: SP_PROPS,
  knownProps: new Set(SP_PROPS),
  filter: {
    id: guid,
    appId: guid,
    displayName: s(D, D),
    accountEnabled: b(),
    servicePrincipalType: s(D),
    appOwnerOrganizationId: guid,
    servicePrincipalNames: { type: 'string', collection: true, eq: D, startsWith: D },
    tags: { type: 'string', collection: true, eq: D },
  },
  orderBy: { displayName: A },
};

const ROLE_PROPS = ['id', 'deletedDateTime', 'description', 'displayName', 'roleTemplateId'];

export const DIRECTORY_ROLE_RESOURCE: ResourceDef = {
  type: 'directoryRole',
  entitySet: 'directoryRoles',
  odataType: '#microsoft.graph.directoryRole',
  resourceName: 'DirectoryRole',
  defaultProps: ROLE_PROPS,
  knownProps: new Set(ROLE_PROPS),
  filter: { id: guid, roleTemplateId: guid, displayName: s(D) },
  orderBy: {},
};

const DEVICE_PROPS = ['id', 'accountEnabled', 'deviceId', 'displayName', 'operatingSystem', 'operatingSystemVersion',
  'trustType', 'onPremisesSyncEnabled', 'deletedDateTime'];

export const DEVICE_RESOURCE: ResourceDef = {
  type: 'device',
  entitySet: 'devices',
  odataType: '#microsoft.graph.device',
  resourceName: 'Device',
  defaultProps: DEVICE_PROPS,
  knownProps: new Set(DEVICE_PROPS),
  filter: { id: guid, deviceId: guid, displayName: s(D, D), accountEnabled: b() },
  orderBy: { displayName: A },
};

const RESOURCES: Record<ObjectType, ResourceDef> = {
  user: USER_RESOURCE,
  group: GROUP_RESOURCE,
  orgContact: CONTACT_RESOURCE,
  organization: ORGANIZATION_RESOURCE,
  application: APPLICATION_RESOURCE,
  servicePrincipal: SERVICE_PRINCIPAL_RESOURCE,
  directoryRole: DIRECTORY_ROLE_RESOURCE,
  device: DEVICE_RESOURCE,
};

export function resourceOf(type: ObjectType): ResourceDef {
  return RESOURCES[type];
}

/** `microsoft.graph.user` → the user resource (OData casts). */
export function resourceByCast(cast: string): ResourceDef | undefined {
  const name = cast.replace(/^#?microsoft\.graph\./i, '').toLowerCase();
  return Object.values(RESOURCES).find((r) => r.odataType.toLowerCase() === `#microsoft.graph.${name}`);
}

/** Directory extension property names: `extension_{appIdNoDashes}_{name}`. */
export function isExtensionPropertyName(name: string): boolean {
  return /^extension_[0-9a-f]{32}_\w+$/i.test(name);
}
