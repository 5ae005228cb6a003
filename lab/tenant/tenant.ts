/**
 * The state of one emulated tenant: directory, clock, token signing key, throttling, faults, request log,
 * pending device codes, and the settings that end up in the TenantConnection.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Clock } from './clock.ts';
import {
  Consistency, Replication, consistencyState, type ConsistencyOptions, type ConsistencyState, type PendingReplication,
} from './consistency.ts';
import { FaultInjector } from './faults.ts';
import type { AppRoleAssignment, DirectoryObject, JsonObject } from './model.ts';
import { OldSync } from './old-sync.ts';
import { RequestLog } from './request-log.ts';
import type { DirectoryStore, StoreSnapshot } from './store.ts';
import { Throttler, type ThrottleBudgets } from './throttling.ts';

export type TenantSettings = {
  readonly tenantId: string;
  readonly displayName: string;
  readonly initialDomain: string;
  /** The engine's application (client credentials). */
  readonly clientId: string;
  readonly clientSecret: string;
  readonly labControlKey: string;
  readonly globalAdminUpn: string;
  readonly globalAdminPassword: string;
};

export type VerifiedDomain = {
  readonly name: string;
  readonly type: 'Managed' | 'Federated';
  readonly isDefault: boolean;
  readonly isInitial: boolean;
};

export type TenantSnapshot = {
  readonly version: 1;
  readonly settings: TenantSettings;
  readonly store: StoreSnapshot;
  readonly signingKeyPem: string;
  readonly clockOffsetMs: number;
  readonly port?: number;
};

export type DeviceCodeEntry = {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly clientId: string;
  readonly scopes: ReadonlyArray<string>;
  readonly expiresAt: number;
  approvedUserId?: string;
  redeemed?: boolean;
};

export type RefreshTokenEntry = { readonly userId: string; readonly clientId: string; readonly scopes: ReadonlyArray<string> };

export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const RETENTION_MS = 30 * 24 * 3600 * 1000;

export class Tenant {
  readonly settings: TenantSettings;
  store: DirectoryStore;
  readonly clock: Clock;
  readonly signingKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly signingKeyPem: string;
  readonly kid: string;
  readonly throttler: Throttler;
  readonly faults: FaultInjector;
  readonly log = new RequestLog();
  readonly deviceCodes = new Map<string, DeviceCodeEntry>();
  readonly refreshTokens = new Map<string, RefreshTokenEntry>();
  readonly timeScale: number;
  /** Eventual consistency settings and request context (off unless configured). */
  readonly consistency: Consistency;
  private lastPurge = 0;
  /** The tool that synchronized the tenant before, and the switch that turns it off. */
  readonly oldSync: OldSync = new OldSync(this);
  /** Called whenever persisted state changes. */
  onChange: () => void = () => undefined;

  constructor(options: {
    settings: TenantSettings; store: DirectoryStore; signingKeyPem?: string; clockOffsetMs?: number;
    budgets: ThrottleBudgets; timeScale: number; faultSeed?: number; consistency?: ConsistencyOptions;
  }) {
    this.settings = options.settings;
    this.store = options.store;
    this.clock = new Clock(options.clockOffsetMs ?? 0);
    this.signingKeyPem = options.signingKeyPem
      ?? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    this.signingKey = createPrivateKey(this.signingKeyPem);
    this.publicKey = createPublicKey(this.signingKey);
    this.kid = createHash('sha1').update(this.publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
    this.timeScale = options.timeScale;
    this.throttler = new Throttler(options.budgets, options.timeScale, this.settings.tenantId);
    this.faults = new FaultInjector(options.faultSeed ?? 1);
    this.consistency = new Consistency(this.clock, options.consistency);
    this.attachStore();
  }

  private attachStore(): void {
    this.store.onChange = () => this.onChange();
    this.store.replication = this.consistency.options ? new Replication(this.consistency) : undefined;
  }

  /**
   * Turns eventual consistency on, changes its settings (changes not replicated yet keep their lags), or turns
   * it off (undefined: everything is visible at once).
   */
  setConsistency(options: ConsistencyOptions | undefined): void {
    const wasOn = this.store.replication !== undefined;
    this.consistency.configure(options);
    if (!options) this.store.replication = undefined;
    else if (!wasOn) this.store.replication = new Replication(this.consistency);
  }

  consistencyState(): ConsistencyState {
    return consistencyState(this.consistency.options);
  }

  pendingReplication(): PendingReplication {
    return this.store.replication?.describe() ?? { changes: [], tokens: [] };
  }

  /** Whether the token endpoint knows of something yet (`object:<id>`, `secret:<keyId>`, `key:<keyId>`). */
  tokenVisible(key: string): boolean {
    return this.store.replication?.tokenVisible(key) ?? true;
  }

  replaceStore(store: DirectoryStore): void {
    this.store = store;
    this.attachStore();
    this.deviceCodes.clear();
    this.refreshTokens.clear();
    this.throttler.reset();
    this.oldSync.reset();
    this.onChange();
  }

  snapshot(port?: number): TenantSnapshot {
    return {
      version: 1,
      settings: this.settings,
      store: this.store.snapshot(),
      signingKeyPem: this.signingKeyPem,
      clockOffsetMs: this.clock.offsetMs,
      ...(port !== undefined ? { port } : {}),
    };
  }

  organization(): DirectoryObject {
    const org = this.store.get(this.settings.tenantId, 'organization');
    if (!org) throw new Error('The tenant has no organization object.');
    return org;
  }

  verifiedDomains(): VerifiedDomain[] {
    const domains = this.organization().props['verifiedDomains'];
    if (!Array.isArray(domains)) return [];
    return domains.map((d) => {
      const o = (d ?? {}) as JsonObject;
      return {
        name: String(o['name']),
        type: o['type'] === 'Federated' ? 'Federated' : 'Managed',
        isDefault: o['isDefault'] === true,
        isInitial: o['isInitial'] === true,
      };
    });
  }

  domain(name: string): VerifiedDomain | undefined {
    const lower = name.toLowerCase();
    return this.verifiedDomains().find((d) => d.name.toLowerCase() === lower);
  }

  defaultDomain(): string {
    return this.verifiedDomains().find((d) => d.isDefault)?.name ?? this.settings.initialDomain;
  }

  /** The Microsoft Graph service principal (resource of application permissions). */
  graphServicePrincipal(): DirectoryObject | undefined {
    return this.store.byAppId('servicePrincipal', GRAPH_APP_ID);
  }

  /**
   * Application permission values granted to a client service principal on Microsoft Graph; `forToken`: as the
   * token endpoint knows them (eventual consistency: a new or removed assignment counts after its lag).
   */
  grantedRoles(servicePrincipalId: string, options: { forToken?: boolean } = {}): string[] {
    const graph = this.graphServicePrincipal();
    if (!graph) return [];
    const appRoles = Array.isArray(graph.props['appRoles']) ? graph.props['appRoles'] as JsonObject[] : [];
    const byId = new Map(appRoles.map((r) => [String(r['id']), String(r['value'])]));
    const replication = options.forToken ? this.store.replication : undefined;
    const assignments: ReadonlyArray<AppRoleAssignment> = replication ? replication.tokenAssignments(this.store.appRoleAssignments) : this.store.appRoleAssignments;
    return assignments
      .filter((a) => a.principalId === servicePrincipalId && a.resourceId === graph.id)
      .map((a) => byId.get(a.appRoleId))
      .filter((v): v is string => v !== undefined);
  }

  /** Display names of the directory roles a user holds. */
  rolesOf(objectId: string): string[] {
    return [...this.store.memberOf(objectId)]
      .map((id) => this.store.get(id, 'directoryRole'))
      .filter((r): r is DirectoryObject => r !== undefined)
      .map((r) => String(r.props['displayName']));
  }

  isAdministrator(objectId: string): boolean {
    return this.rolesOf(objectId).length > 0;
  }

  /** Permanently deletes recycle-bin objects older than 30 days (emulator clock); at most once a second. */
  purgeExpired(): void {
    const now = this.clock.now();
    if (now - this.lastPurge < 1000) return;
    this.lastPurge = now;
    for (const obj of [...this.store.allObjects()]) {
      if (obj.deletedAt !== null && now - obj.deletedAt > RETENTION_MS) this.store.hardDelete(obj, now);
    }
  }

  forcePurge(): void {
    this.lastPurge = 0;
    this.purgeExpired();
  }
}
