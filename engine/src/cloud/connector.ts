/**
 * The cloud connector: signs in with msal-node (client secret or certificate) and talks to Microsoft
 * Graph through the Graph client. Reads the tenant into CloudObjects; the writer (writer.ts) exports.
 */
import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import type { Client } from '@microsoft/microsoft-graph-client';
import { createGraphClient } from './graph-client.ts';
import type { SyncObjectType, TenantSynchronized } from '../contract/model.ts';
import { mapCloudError } from '../errors/cloud-errors.ts';
import type { EngineError } from '../errors/engine-error.ts';
import type { CloudObject } from '../sync/cloud-object.ts';
import { endpointsFor, type CloudInstance } from './instances.ts';
import { CloudNetwork } from './network.ts';
import { TokenRefusals } from './token-refusals.ts';

export type CloudCredential =
  | { readonly kind: 'secret'; readonly clientSecret: string }
  | { readonly kind: 'certificate'; readonly privateKeyPem: string; readonly thumbprintSha256: string; readonly certificatePem?: string };

export type CloudConnectorOptions = {
  readonly instance: CloudInstance;
  readonly tenantId: string;
  readonly clientId: string;
  readonly credential: CloudCredential;
  readonly authorityHost?: string;
  readonly graphBaseUrl?: string;
  /** Anchor extension properties of earlier Directory Sync registrations in this tenant: objects carrying them are adopted. */
  readonly earlierRegistrations?: ReadonlyArray<EarlierRegistration>;
  /** The proxy and trusted certificates for every request (default: direct, Node's and the system's roots). */
  readonly network?: CloudNetwork;
};

/** An earlier Directory Sync app registration of the tenant and the anchor property it wrote. */
export type EarlierRegistration = { readonly appId: string; readonly displayName: string; readonly anchorProperty: string };

export type Organization = {
  readonly id: string;
  readonly displayName: string;
  readonly verifiedDomains: ReadonlyArray<{ name: string; type: string; isDefault: boolean; isInitial: boolean }>;
  /** True when another tool (Entra Connect, Cloud Sync, DirSync) synchronizes this tenant from an on-premises directory. */
  readonly onPremisesSyncEnabled?: boolean | null;
  readonly onPremisesLastSyncDateTime?: string | null;
};

/** The organization's word that another tool synchronizes it (undefined when none does), as every surface says it. */
export function tenantSynchronizedOf(organization: Organization): TenantSynchronized | undefined {
  if (organization.onPremisesSyncEnabled !== true) return undefined;
  return organization.onPremisesLastSyncDateTime ? { lastSyncDateTime: organization.onPremisesLastSyncDateTime } : {};
}

/** What Graph says of who else writes the tenant's objects: read with every object. */
const IDENTITY_PROPERTIES = ['onPremisesSecurityIdentifier', 'createdDateTime'];

type GraphPage<T> = { value: T[]; '@odata.nextLink'?: string };
type GraphUser = Record<string, unknown> & { id: string };

/** The user properties the attribute flow can own (Graph names); read back to diff against AD. */
export const USER_PROPERTIES = [
  'accountEnabled', 'displayName', 'givenName', 'surname', 'userPrincipalName', 'mailNickname', 'mail', 'jobTitle', 'department',
  'companyName', 'employeeId', 'officeLocation', 'streetAddress', 'city', 'state', 'postalCode', 'country', 'usageLocation',
  'businessPhones', 'mobilePhone', 'faxNumber', 'preferredLanguage', 'onPremisesImmutableId', 'onPremisesExtensionAttributes',
  'proxyAddresses', 'onPremisesSyncEnabled',
];
export const GROUP_PROPERTIES = ['displayName', 'mailNickname', 'description', 'mail', 'mailEnabled', 'securityEnabled', 'groupTypes', 'proxyAddresses', 'onPremisesSyncEnabled'];

export class CloudConnector {
  public readonly graph: Client;
  public readonly graphBaseUrl: string;
  private readonly msal: ConfidentialClientApplication;
  private readonly scope: string;
  private signInError?: EngineError;

  public constructor(public readonly options: CloudConnectorOptions) {
    const endpoints = endpointsFor(options.instance, { authorityHost: options.authorityHost, graphBaseUrl: options.graphBaseUrl });
    this.graphBaseUrl = endpoints.graphBaseUrl;
    const authorityUrl = new URL(endpoints.authorityHost);
    const auth: Configuration['auth'] = {
      clientId: options.clientId,
      authority: `${endpoints.authorityHost}/${options.tenantId}`,
      ...(options.credential.kind === 'secret'
        ? { clientSecret: options.credential.clientSecret }
        : { clientCertificate: { thumbprintSha256: options.credential.thumbprintSha256, privateKey: options.credential.privateKeyPem, x5c: options.credential.certificatePem } }),
      ...(options.instance === 'custom' ? { knownAuthorities: [authorityUrl.host] } : {}),
    };
    this.network = options.network ?? CloudNetwork.direct();
    this.msal = new ConfidentialClientApplication({ auth, system: { networkClient: this.network.msalClient() } });
    // Graph's .default scope is always on the Graph host of the instance (graph.microsoft.com for custom hosts too).
    this.scope = options.instance === 'custom' ? 'https://graph.microsoft.com/.default' : `${endpoints.graphBaseUrl}.default`;
    this.graph = createGraphClient(endpoints.graphBaseUrl, () => this.accessToken(), (refused) => this.tokenRefusals.refused(refused), this.network);
  }

  public readonly network: CloudNetwork;

  /** Access tokens Graph refused (expired or not yet valid on its clock) and the clock difference seen. */
  public readonly tokenRefusals = new TokenRefusals();

  public async accessToken(): Promise<string> {
    const started = Date.now();
    try {
      // msal's cache judges a token's lifetime on this computer's clock; after Graph refused it, ask for a new one.
      const skipCache = this.tokenRefusals.takeRefresh();
      const result = await this.msal.acquireTokenByClientCredential({ scopes: [this.scope], ...(skipCache ? { skipCache } : {}) });
      if (!result?.accessToken) throw new Error('the identity platform returned no access token');
      this.signInError = undefined;
      this.tokenRefusals.issued(result.accessToken);
      return result.accessToken;
    } catch (error) {
      // msal reports a failed network path as its own code (endpoints_resolution_error): name the path's failure instead.
      this.signInError = this.network.failureSince(started) ?? mapCloudError(error, 'sign in to the tenant');
      throw this.signInError;
    }
  }

  /** The Graph client wraps a failed sign-in in its own error: report the sign-in failure itself. */
  private fail(error: unknown, operation: string): EngineError {
    return this.signInError ?? this.network.failureBehind(error) ?? mapCloudError(error, operation);
  }

  /** The directory extension property that marks objects this product manages. */
  public anchorProperty(): string {
    return `extension_${this.options.clientId.replace(/-/g, '')}_sourceAnchor`;
  }

  public async organization(): Promise<Organization> {
    try {
      const page = (await this.graph.api('/organization').select(['id', 'displayName', 'verifiedDomains', 'onPremisesSyncEnabled', 'onPremisesLastSyncDateTime']).get()) as GraphPage<Organization>;
      const org = page.value[0];
      if (!org) throw new Error('the tenant returned no organization object');
      return org;
    } catch (error) {
      throw this.fail(error, 'read the organization');
    }
  }

  /** Registers the anchor extension property on the product's application, once. */
  public async ensureAnchorExtension(): Promise<string> {
    const name = this.anchorProperty();
    try {
      let app: { id: string };
      try {
        app = (await this.graph.api(`/applications(appId='${this.options.clientId}')`).select(['id']).get()) as { id: string };
      } catch (error) {
        // Application.ReadWrite.OwnedBy reaches only an application its service principal owns: when the
        // registration could not make it its own owner (it says so), the extension it registered is used as it is.
        if ([403, 404].includes((error as { statusCode?: number }).statusCode ?? 0)) return name;
        throw error;
      }
      const existing = (await this.graph.api(`/applications/${app.id}/extensionProperties`).get()) as GraphPage<{ name: string }>;
      if (!existing.value.some((p) => p.name === name)) {
        await this.graph.api(`/applications/${app.id}/extensionProperties`).post({ name: 'sourceAnchor', dataType: 'String', targetObjects: ['User', 'Group'] });
      }
      return name;
    } catch (error) {
      throw this.fail(error, 'register the source anchor extension property on the application');
    }
  }

  private async *pages<T>(path: string, select: ReadonlyArray<string>, expand?: string): AsyncGenerator<T[]> {
    let request: string | undefined = `${path}${path.includes('?') ? '&' : '?'}$top=999&$select=${select.join(',')}${expand ? `&$expand=${expand}` : ''}`;
    while (request) {
      const page = (await this.graph.api(request).get()) as GraphPage<T>;
      yield page.value;
      request = page['@odata.nextLink'];
    }
  }

  /** The properties read of every object: the attribute flow's, the identities, and every registration's anchor. */
  private selectFor(objectType: SyncObjectType): string[] {
    const earlier = (this.options.earlierRegistrations ?? []).map((r) => r.anchorProperty);
    return ['id', ...(objectType === 'user' ? USER_PROPERTIES : GROUP_PROPERTIES), ...IDENTITY_PROPERTIES, this.anchorProperty(), ...earlier];
  }

  /** The anchor on an object, and which earlier registration wrote it when the current app's is absent. */
  private anchorOf(raw: GraphUser, anchorProperty: string): { managedAnchor?: string; anchorRegistration?: string } {
    const current = raw[anchorProperty];
    if (typeof current === 'string' && current.length > 0) return { managedAnchor: current };
    for (const earlier of this.options.earlierRegistrations ?? []) {
      const value = raw[earlier.anchorProperty];
      if (typeof value === 'string' && value.length > 0) return { managedAnchor: value, anchorRegistration: `${earlier.displayName} (${earlier.appId})` };
    }
    return {};
  }

  private toCloudObject(raw: GraphUser, objectType: SyncObjectType, anchorProperty: string, admins: ReadonlySet<string>, softDeleted: boolean): CloudObject {
    const properties: Record<string, unknown> = {};
    for (const name of objectType === 'user' ? USER_PROPERTIES : GROUP_PROPERTIES) if (name in raw) properties[name] = raw[name];
    properties[anchorProperty] = raw[anchorProperty] ?? null;
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
    const sid = str(raw['onPremisesSecurityIdentifier']);
    const createdAt = str(raw['createdDateTime']);
    return {
      id: raw.id, objectType, properties,
      ...(createdAt !== undefined ? { createdAt } : {}),
      ...this.anchorOf(raw, anchorProperty),
      ...(sid !== undefined ? { securityIdentifier: sid } : {}),
      immutableId: objectType === 'user' ? str(raw['onPremisesImmutableId']) : undefined,
      userPrincipalName: str(raw['userPrincipalName']),
      mail: str(raw['mail']),
      proxyAddresses: Array.isArray(raw['proxyAddresses']) ? (raw['proxyAddresses'] as string[]) : [],
      displayName: str(raw['displayName']),
      isAdmin: admins.has(raw.id),
      onPremisesSyncEnabled: raw['onPremisesSyncEnabled'] === true,
      ...(objectType === 'user' && typeof (raw['manager'] as { id?: unknown } | undefined)?.id === 'string' ? { managerId: (raw['manager'] as { id: string }).id } : {}),
      softDeleted,
    };
  }

  /** Ids of users that hold any directory role (never soft-matched). */
  public async administratorIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    try {
      for await (const roles of this.pages<{ id: string }>('/directoryRoles', ['id'])) {
        for (const role of roles) {
          for await (const members of this.pages<{ id: string }>(`/directoryRoles/${role.id}/members`, ['id'])) for (const m of members) ids.add(m.id);
        }
      }
    } catch (error) {
      throw this.fail(error, 'read directory role members');
    }
    return ids;
  }

  /** Every user of the tenant (and those in the recycle bin), page by page. */
  public async *readUsers(admins: ReadonlySet<string>): AsyncGenerator<ReadonlyArray<CloudObject>> {
    const anchor = this.anchorProperty();
    const select = this.selectFor('user');
    try {
      for await (const page of this.pages<GraphUser>('/users', select, 'manager($select=id)')) yield page.map((u) => this.toCloudObject(u, 'user', anchor, admins, false));
      for await (const page of this.pages<GraphUser>('/directory/deletedItems/microsoft.graph.user', select)) yield page.map((u) => this.toCloudObject(u, 'user', anchor, admins, true));
    } catch (error) {
      throw this.fail(error, 'read the tenant\'s users');
    }
  }

  /** Every security group of the tenant, page by page. */
  public async *readGroups(): AsyncGenerator<ReadonlyArray<CloudObject>> {
    const anchor = this.anchorProperty();
    try {
      for await (const page of this.pages<GraphUser>('/groups', this.selectFor('group'))) {
        yield page.map((g) => this.toCloudObject(g, 'group', anchor, new Set(), false));
      }
    } catch (error) {
      throw this.fail(error, 'read the tenant\'s groups');
    }
  }

  /** The member ids of a group; undefined when Graph does not find the group (a replica that has not seen it yet). */
  public async groupMemberIds(groupId: string): Promise<string[] | undefined> {
    const ids: string[] = [];
    try {
      for await (const page of this.pages<{ id: string }>(`/groups/${groupId}/members`, ['id'])) for (const m of page) ids.push(m.id);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw this.fail(error, `read the members of group ${groupId}`);
    }
    return ids;
  }

  /** One user or group by its id; undefined when Graph does not find it (gone, or not yet on the replica that answered). */
  public async byId(objectType: SyncObjectType, id: string): Promise<CloudObject | undefined> {
    return this.one(objectType, `${objectType === 'user' ? '/users' : '/groups'}/${encodeURIComponent(id)}`, `read the ${objectType} ${id}`);
  }

  /** The group with this alternate key (`uniqueName`), undefined when Graph does not find it. */
  public async groupByUniqueName(uniqueName: string): Promise<CloudObject | undefined> {
    return this.one('group', `/groups(uniqueName='${uniqueName.replace(/'/g, "''")}')`, `read the group ${uniqueName}`);
  }

  private async one(objectType: SyncObjectType, path: string, operation: string): Promise<CloudObject | undefined> {
    const property = this.anchorProperty();
    try {
      const raw = (await this.graph.api(path).select(this.selectFor(objectType)).get()) as GraphUser;
      return this.toCloudObject(raw, objectType, property, new Set(), false);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw this.fail(error, operation);
    }
  }

  /** Finds a managed object by its anchor (to confirm a create whose answer was lost). */
  public async findByAnchor(objectType: SyncObjectType, anchor: string): Promise<CloudObject | undefined> {
    const property = this.anchorProperty();
    const path = objectType === 'user' ? '/users' : '/groups';
    const select = this.selectFor(objectType);
    try {
      // The Graph client puts $filter into the URL as it is: a '+' of a base64 anchor would arrive as a space.
      const page = (await this.graph.api(path).filter(`${property} eq '${encodeURIComponent(anchor.replace(/'/g, "''"))}'`).select(select).get()) as GraphPage<GraphUser>;
      const found = page.value[0];
      return found ? this.toCloudObject(found, objectType, property, new Set(), false) : undefined;
    } catch (error) {
      throw this.fail(error, `look up the ${objectType} with source anchor ${anchor}`);
    }
  }
}
