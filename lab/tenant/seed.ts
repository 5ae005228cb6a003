/**
 * What a fresh tenant contains: the "Contoso Lab" organisation with its verified domains, the Microsoft
 * Graph service principal (the resource of application permissions), the engine's consented app
 * registration, directory roles with a Global Administrator, and a few cloud-only users, groups and a
 * contact. Tests pass a `TenantSeed` whose fields replace the defaults.
 */
import { createHash, randomBytes } from 'node:crypto';
import { graphDateTime } from './clock.ts';
import type { JsonObject } from './model.ts';
import { newGroupProps, newUserProps } from './records.ts';
import { DirectoryStore } from './store.ts';
import { GRAPH_APP_ID, type TenantSettings } from './tenant.ts';

export type SeedDomain = { readonly name: string; readonly type?: 'Managed' | 'Federated'; readonly isDefault?: boolean };

export type SeedUser = {
  readonly userPrincipalName: string;
  readonly displayName: string;
  readonly id?: string;
  /** Default `Lab-Passw0rd!`. */
  readonly password?: string;
  /** Directory role display names, e.g. `Global Administrator`. */
  readonly roles?: ReadonlyArray<string>;
  /** The user's manager: another seed user's UPN. */
  readonly manager?: string;
  /** Any other Graph properties, including read-only ones such as `onPremisesSyncEnabled: true` (synced fixtures). */
  readonly props?: JsonObject;
};

export type SeedGroup = {
  readonly displayName: string;
  readonly mailNickname: string;
  /** `security` (default) or `m365` (groupTypes Unified, mail-enabled). */
  readonly kind?: 'security' | 'm365';
  readonly id?: string;
  /** Members by user principal name, object id, or group mailNickname. */
  readonly members?: ReadonlyArray<string>;
  readonly props?: JsonObject;
};

export type SeedContact = { readonly displayName: string; readonly mail: string; readonly id?: string; readonly props?: JsonObject };

export type SeedApp = {
  readonly displayName?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Application permissions (Microsoft Graph app role values) granted with admin consent. */
  readonly roles?: ReadonlyArray<string>;
};

export type TenantSeed = {
  readonly tenantId?: string;
  readonly displayName?: string;
  /** `contoso.onmicrosoft.com` */
  readonly initialDomain?: string;
  /** Verified domains besides the initial one. */
  readonly domains?: ReadonlyArray<SeedDomain>;
  readonly app?: SeedApp;
  readonly globalAdmin?: { readonly userPrincipalName?: string; readonly password?: string; readonly displayName?: string };
  /** Added to the default sample users (unless includeSampleObjects is false). */
  readonly users?: ReadonlyArray<SeedUser>;
  /** Added to the default sample groups (unless includeSampleObjects is false). */
  readonly groups?: ReadonlyArray<SeedGroup>;
  /** Added to the default sample contact (unless includeSampleObjects is false). */
  readonly contacts?: ReadonlyArray<SeedContact>;
  /** Keep the default cloud-only sample users, groups and contact (default true). */
  readonly includeSampleObjects?: boolean;
  /** Extra organization properties (e.g. `onPremisesSyncEnabled`). */
  readonly organization?: JsonObject;
  readonly labControlKey?: string;
};

export const DEFAULT_TENANT_ID = 'f3b7c2d1-5a4e-4c8b-9d6f-1e2a3b4c5d6e';
export const DEFAULT_CLIENT_ID = '5d2c9b7a-3e1f-4a6b-8c0d-2f4e6a8b0c1d';
export const DEFAULT_USER_PASSWORD = 'Lab-Passw0rd!';
export const DEFAULT_ADMIN_PASSWORD = 'Lab-Admin-Passw0rd!';
/** Microsoft Graph Command Line Tools: a first-party public client accepted for the device-code flow. */
export const GRAPH_CLI_APP_ID = '14d82eec-204b-4c2f-b7e8-296a70dab67e';
const MICROSOFT_TENANT_ID = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';

export const ENGINE_APP_ROLES = ['User.ReadWrite.All', 'Group.ReadWrite.All', 'Organization.ReadWrite.All', 'Application.ReadWrite.OwnedBy',
  'RoleManagement.Read.Directory'];

/** Microsoft Graph application permissions the emulator knows (value → app role id). */
export const GRAPH_APP_ROLES: Readonly<Record<string, string>> = {
  'User.Read.All': 'df021288-bdef-4463-88db-98f22de89214',
  'User.ReadWrite.All': '741f803b-c850-494e-b5df-cde7c675a1ca',
  'User-PasswordProfile.ReadWrite.All': 'cc117bb9-00cf-4eb8-b580-ea2a878fe8f7',
  'Group.Read.All': '5b567255-7703-4780-807c-7be8301ae99b',
  'Group.ReadWrite.All': '62a82d76-70ea-41e2-9197-370581804d09',
  'Group.Create': 'bf7b1a76-6e77-406b-b258-bf5c7720e98f',
  'GroupMember.Read.All': '98830695-27a2-44f7-8c18-0c3ebc9698f6',
  'GroupMember.ReadWrite.All': 'dbaae8cf-10b5-4b86-a4a1-f871c94c6695',
  'Directory.Read.All': '7ab1d382-f21e-4acd-a863-ba3e13f7da61',
  'Directory.ReadWrite.All': '19dbc75e-c2e2-444c-a770-ec69d8559fc7',
  'Organization.Read.All': '498476ce-e0fe-48b0-b801-37ba7e2685c6',
  'Organization.ReadWrite.All': '292d869f-3427-49a8-9dab-8c70152b74e9',
  'Application.Read.All': '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30',
  'Application.ReadWrite.All': '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9',
  'Application.ReadWrite.OwnedBy': '18a4783c-866b-4cc7-a460-3d5e5662c884',
  'AppRoleAssignment.ReadWrite.All': '06b708a9-e830-4db3-a914-8e69da51d44f',
  'OrgContact.Read.All': 'e1a88a34-94c4-4418-be12-c87b00e26bea',
  'RoleManagement.Read.Directory': '483bed4a-2ad3-4361-a73b-c83ccdbdc53c',
  'RoleManagement.Read.All': 'c7fbd983-d9aa-4fa7-84b8-17382c103bc4',
  'Device.Read.All': '7438b122-aefc-4978-80ed-43db9fcc7715',
};

/** Delegated permission scopes the emulator knows. */
export const GRAPH_DELEGATED_SCOPES = ['User.Read', 'User.Read.All', 'User.ReadWrite.All', 'Group.Read.All',
  'Group.ReadWrite.All', 'GroupMember.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All',
  'Directory.AccessAsUser.All', 'Organization.Read.All', 'Organization.ReadWrite.All', 'Application.Read.All',
  'Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All',
  'RoleManagement.Read.Directory', 'OrgContact.Read.All', 'OnPremDirectorySynchronization.Read.All', 'OnPremDirectorySynchronization.ReadWrite.All'];

export const DIRECTORY_ROLE_TEMPLATES: Readonly<Record<string, string>> = {
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
  'User Administrator': 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  'Privileged Role Administrator': 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  'Directory Synchronization Accounts': 'd29b2b05-8046-44ba-8758-1e26182fcf32',
};

/** A stable GUID derived from text, so default seed objects keep their ids across runs. */
export function deterministicGuid(...parts: ReadonlyArray<string>): string {
  const h = createHash('sha1').update(parts.join('|')).digest('hex');
  const variant = ((parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A secret in the shape Entra generates (`xxx8Q~…`, 40 characters). */
export function newClientSecret(): string {
  const body = randomBytes(30).toString('base64').replace(/[+/=]/g, '').slice(0, 34);
  return `${body.slice(0, 3)}8Q~${body.slice(3)}`.slice(0, 40);
}

export function defaultSeed(): TenantSeed {
  return {
    tenantId: DEFAULT_TENANT_ID,
    displayName: 'Contoso Lab',
    initialDomain: 'contoso.onmicrosoft.com',
    domains: [
      { name: 'contoso.com', type: 'Managed', isDefault: true },
      { name: 'fed.contoso.com', type: 'Federated' },
    ],
    app: { displayName: 'Directory Sync Lab', clientId: DEFAULT_CLIENT_ID, roles: ENGINE_APP_ROLES },
    globalAdmin: { userPrincipalName: 'admin@contoso.onmicrosoft.com', password: DEFAULT_ADMIN_PASSWORD, displayName: 'Lab Administrator' },
    users: [
      { userPrincipalName: 'megan.bowen@contoso.com', displayName: 'Megan Bowen',
        props: { givenName: 'Megan', surname: 'Bowen', mail: 'megan.bowen@contoso.com', mailNickname: 'megan.bowen', jobTitle: 'Marketing Manager', department: 'Marketing', usageLocation: 'US' } },
      { userPrincipalName: 'alex.wilber@contoso.com', displayName: 'Alex Wilber',
        props: { givenName: 'Alex', surname: 'Wilber', mail: 'alex.wilber@contoso.com', mailNickname: 'alex.wilber', jobTitle: 'Sales Representative', department: 'Sales', usageLocation: 'US' } },
      { userPrincipalName: 'svc.backup@contoso.onmicrosoft.com', displayName: 'Cloud Backup Service',
        props: { mailNickname: 'svc.backup', accountEnabled: false } },
    ],
    groups: [
      { displayName: 'Contoso Cloud Team', mailNickname: 'cloudteam', kind: 'm365',
        members: ['megan.bowen@contoso.com', 'alex.wilber@contoso.com'], props: { description: 'A cloud-only Microsoft 365 group' } },
      { displayName: 'Cloud App Admins', mailNickname: 'cloudappadmins', kind: 'security',
        members: ['admin@contoso.onmicrosoft.com'], props: { description: 'A cloud-only security group' } },
    ],
    contacts: [
      { displayName: 'Fabrikam Partner Desk', mail: 'partners@fabrikam.example', props: { companyName: 'Fabrikam' } },
    ],
  };
}

export type BuiltTenant = { readonly settings: TenantSettings; readonly store: DirectoryStore };

function role(value: string, id: string): JsonObject {
  return {
    allowedMemberTypes: ['Application'], description: `Allows the app to use ${value} without a signed-in user.`,
    displayName: value, id, isEnabled: true, origin: 'Application', value,
  };
}

/** Builds the initial directory from a seed merged over the default seed. */
export function buildTenant(seedInput: TenantSeed | undefined, options: { tenantId?: string; now: number }): BuiltTenant {
  const base = defaultSeed();
  const input = seedInput ?? {};
  const samples = input.includeSampleObjects !== false;
  // A seed user with a sample user's UPN takes its place (as Entra Connect's soft match takes over a cloud user).
  const seededUpns = new Set((input.users ?? []).map((u) => u.userPrincipalName.toLowerCase()));
  const seed: TenantSeed = {
    ...base, ...input,
    users: [...(samples ? (base.users ?? []).filter((u) => !seededUpns.has(u.userPrincipalName.toLowerCase())) : []), ...(input.users ?? [])],
    groups: [...(samples ? base.groups ?? [] : []), ...(input.groups ?? [])],
    contacts: [...(samples ? base.contacts ?? [] : []), ...(input.contacts ?? [])],
  };
  const tenantId = (options.tenantId ?? seed.tenantId ?? DEFAULT_TENANT_ID).toLowerCase();
  const now = options.now;
  const at = graphDateTime(now);
  const initialDomain = seed.initialDomain ?? 'contoso.onmicrosoft.com';
  const app = { ...base.app, ...(seed.app ?? {}) };
  const clientId = (app.clientId ?? DEFAULT_CLIENT_ID).toLowerCase();
  const clientSecret = app.clientSecret ?? newClientSecret();
  const admin = { ...base.globalAdmin, ...(seed.globalAdmin ?? {}) };
  const adminUpn = admin.userPrincipalName ?? `admin@${initialDomain}`;
  const adminPassword = admin.password ?? DEFAULT_ADMIN_PASSWORD;
  const settings: TenantSettings = {
    tenantId,
    displayName: seed.displayName ?? 'Contoso Lab',
    initialDomain,
    clientId,
    clientSecret,
    labControlKey: seed.labControlKey ?? randomBytes(24).toString('base64url'),
    globalAdminUpn: adminUpn,
    globalAdminPassword: adminPassword,
  };
  const store = new DirectoryStore();
  const gid = (...parts: string[]): string => deterministicGuid(tenantId, ...parts);

  const domains = [{ name: initialDomain, type: 'Managed' as const, isDefault: false, isInitial: true },
    ...(seed.domains ?? []).map((d) => ({ name: d.name, type: d.type ?? 'Managed', isDefault: d.isDefault === true, isInitial: false }))];
  if (!domains.some((d) => d.isDefault)) domains[0] = { ...domains[0]!, isDefault: true };
  store.insert({
    id: tenantId,
    type: 'organization',
    props: {
      assignedPlans: [], businessPhones: ['+1 425 555 0100'], city: 'Redmond', country: null, countryLetterCode: 'US',
      createdDateTime: at, defaultUsageLocation: null, deletedDateTime: null, displayName: settings.displayName,
      marketingNotificationEmails: [], onPremisesLastSyncDateTime: null, onPremisesSyncEnabled: null, postalCode: '98052',
      preferredLanguage: 'en', privacyProfile: null, provisionedPlans: [], securityComplianceNotificationMails: [],
      securityComplianceNotificationPhones: [], state: 'WA', street: '1 Microsoft Way', technicalNotificationMails: [`admin@${initialDomain}`],
      tenantType: 'AAD',
      verifiedDomains: domains.map((d) => ({
        capabilities: d.type === 'Federated' ? 'None' : 'Email, OfficeCommunicationsOnline',
        isDefault: d.isDefault, isInitial: d.isInitial, name: d.name, type: d.type,
      })),
      ...(seed.organization ?? {}),
    },
  });

  const graphSpId = gid('sp', GRAPH_APP_ID);
  store.insert({
    id: graphSpId,
    type: 'servicePrincipal',
    props: {
      accountEnabled: true, appDisplayName: 'Microsoft Graph', appId: GRAPH_APP_ID, appOwnerOrganizationId: MICROSOFT_TENANT_ID,
      appRoleAssignmentRequired: false, appRoles: Object.entries(GRAPH_APP_ROLES).map(([value, id]) => role(value, id)),
      deletedDateTime: null, description: null, displayName: 'Microsoft Graph', keyCredentials: [],
      oauth2PermissionScopes: GRAPH_DELEGATED_SCOPES.map((value) => ({
        adminConsentDescription: value, adminConsentDisplayName: value, id: deterministicGuid('scope', value),
        isEnabled: true, type: 'Admin', userConsentDescription: null, userConsentDisplayName: null, value,
      })),
      passwordCredentials: [], servicePrincipalNames: [GRAPH_APP_ID, 'https://graph.microsoft.com', 'https://graph.microsoft.com/'],
      servicePrincipalType: 'Application', signInAudience: 'AzureADMultipleOrgs', tags: [],
    },
  });
  store.insert({
    id: gid('sp', GRAPH_CLI_APP_ID),
    type: 'servicePrincipal',
    props: {
      accountEnabled: true, appDisplayName: 'Microsoft Graph Command Line Tools', appId: GRAPH_CLI_APP_ID,
      appOwnerOrganizationId: MICROSOFT_TENANT_ID, appRoleAssignmentRequired: false, appRoles: [], deletedDateTime: null,
      description: null, displayName: 'Microsoft Graph Command Line Tools', keyCredentials: [], oauth2PermissionScopes: [],
      passwordCredentials: [], servicePrincipalNames: [GRAPH_CLI_APP_ID], servicePrincipalType: 'Application',
      signInAudience: 'AzureADandPersonalMicrosoftAccount', tags: [],
    },
    internal: { publicClient: true },
  });

  const appObjectId = gid('app', clientId);
  const appSpId = gid('sp', clientId);
  const keyId = gid('secret', clientId);
  const endDateTime = graphDateTime(now + 2 * 365 * 24 * 3600 * 1000);
  const appRoles = app.roles ?? ENGINE_APP_ROLES;
  store.insert({
    id: appObjectId,
    type: 'application',
    props: {
      api: { requestedAccessTokenVersion: null, oauth2PermissionScopes: [] }, appId: clientId, applicationTemplateId: null,
      appRoles: [], createdDateTime: at, deletedDateTime: null, description: 'The Directory Sync engine (lab registration).',
      displayName: app.displayName ?? 'Directory Sync Lab', identifierUris: [], info: null, isFallbackPublicClient: true,
      keyCredentials: [], notes: null, optionalClaims: null,
      passwordCredentials: [{ customKeyIdentifier: null, displayName: 'lab secret', endDateTime, hint: clientSecret.slice(0, 3), keyId, secretText: null, startDateTime: at }],
      publicClient: { redirectUris: [] }, publisherDomain: initialDomain,
      requiredResourceAccess: [{ resourceAppId: GRAPH_APP_ID, resourceAccess: appRoles.map((r) => ({ id: GRAPH_APP_ROLES[r] ?? r, type: 'Role' })) }],
      signInAudience: 'AzureADMyOrg', spa: { redirectUris: [] }, tags: [], uniqueName: null,
      web: { homePageUrl: null, logoutUrl: null, redirectUris: [] },
    },
    owners: [appSpId],
    internal: { secrets: [{ keyId, secret: clientSecret, endDateTime }], keys: [] },
  });
  store.insert({
    id: appSpId,
    type: 'servicePrincipal',
    props: {
      accountEnabled: true, appDisplayName: app.displayName ?? 'Directory Sync Lab', appId: clientId, appOwnerOrganizationId: tenantId,
      appRoleAssignmentRequired: false, appRoles: [], deletedDateTime: null, description: null,
      displayName: app.displayName ?? 'Directory Sync Lab', keyCredentials: [], oauth2PermissionScopes: [], passwordCredentials: [],
      servicePrincipalNames: [clientId], servicePrincipalType: 'Application', signInAudience: 'AzureADMyOrg', tags: [],
    },
  });
  for (const value of appRoles) {
    const appRoleId = GRAPH_APP_ROLES[value];
    if (!appRoleId) throw new Error(`Unknown Microsoft Graph application permission in seed: ${value}`);
    store.addAppRoleAssignment({
      id: gid('assignment', clientId, value), appRoleId, principalId: appSpId, principalType: 'ServicePrincipal',
      resourceId: graphSpId, createdDateTime: at,
    });
  }

  const roleIds = new Map<string, string>();
  for (const [displayName, templateId] of Object.entries(DIRECTORY_ROLE_TEMPLATES)) {
    const id = gid('role', templateId);
    roleIds.set(displayName.toLowerCase(), id);
    store.insert({
      id, type: 'directoryRole',
      props: { deletedDateTime: null, description: `${displayName} (emulated)`, displayName, roleTemplateId: templateId },
    });
  }

  const users: SeedUser[] = [
    { userPrincipalName: adminUpn, displayName: admin.displayName ?? 'Lab Administrator', password: adminPassword,
      roles: ['Global Administrator'], props: { mailNickname: adminUpn.split('@')[0] ?? 'admin' } },
    ...(seed.users ?? []),
  ];
  for (const u of users) {
    const id = (u.id ?? gid('user', u.userPrincipalName.toLowerCase())).toLowerCase();
    const input: JsonObject = {
      displayName: u.displayName, userPrincipalName: u.userPrincipalName,
      mailNickname: u.userPrincipalName.split('@')[0] ?? u.userPrincipalName, ...(u.props ?? {}),
    };
    store.insert({ id, type: 'user', props: newUserProps(id, input, now), internal: { password: u.password ?? DEFAULT_USER_PASSWORD } });
    for (const roleName of u.roles ?? []) {
      const roleId = roleIds.get(roleName.toLowerCase());
      const roleObj = roleId ? store.get(roleId) : undefined;
      const user = store.get(id);
      if (!roleObj || !user) throw new Error(`Unknown directory role in seed: ${roleName}`);
      store.addMembers(roleObj, [user]);
    }
  }
  for (const u of users) {
    if (u.manager === undefined) continue;
    const user = store.userByUpn(u.userPrincipalName);
    const manager = store.userByUpn(u.manager);
    if (!user || !manager) throw new Error(`Unknown manager '${u.manager}' of seed user ${u.userPrincipalName}`);
    store.setManager(user, manager.id);
  }

  const domainsForGroups = { defaultDomain: domains.find((d) => d.isDefault)?.name ?? initialDomain, initialDomain };
  const groupIds = new Map<string, string>();
  for (const g of seed.groups ?? []) {
    const id = (g.id ?? gid('group', g.mailNickname.toLowerCase())).toLowerCase();
    groupIds.set(g.mailNickname.toLowerCase(), id);
    const m365 = g.kind === 'm365';
    const input: JsonObject = {
      displayName: g.displayName, mailNickname: g.mailNickname, groupTypes: m365 ? ['Unified'] : [],
      mailEnabled: m365, securityEnabled: !m365, ...(g.props ?? {}),
    };
    store.insert({ id, type: 'group', props: newGroupProps(id, input, now, domainsForGroups) });
  }
  for (const g of seed.contacts ?? []) {
    const id = (g.id ?? gid('contact', g.mail.toLowerCase())).toLowerCase();
    store.insert({
      id, type: 'orgContact',
      props: {
        addresses: [], companyName: null, deletedDateTime: null, department: null, displayName: g.displayName, givenName: null,
        jobTitle: null, mail: g.mail, mailNickname: g.mail.split('@')[0] ?? null, onPremisesLastSyncDateTime: null,
        onPremisesProvisioningErrors: [], onPremisesSyncEnabled: null, phones: [], proxyAddresses: [`SMTP:${g.mail}`],
        serviceProvisioningErrors: [], surname: null, ...(g.props ?? {}),
      },
    });
  }
  for (const g of seed.groups ?? []) {
    const group = store.get(groupIds.get(g.mailNickname.toLowerCase()) ?? '');
    if (!group) continue;
    const members = (g.members ?? []).map((ref) => {
      const member = store.userByUpn(ref) ?? store.get(ref) ?? store.get(groupIds.get(ref.toLowerCase()) ?? '');
      if (!member) throw new Error(`Unknown member '${ref}' of seed group ${g.displayName}`);
      return member;
    });
    store.addMembers(group, members);
  }
  return { settings, store };
}
