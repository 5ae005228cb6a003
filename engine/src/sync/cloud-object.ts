/** A tenant object as the cloud connector imports it and the pipeline reads it. */
import type { SyncObjectType } from '../contract/model.ts';

export type CloudObject = {
  readonly id: string;
  readonly objectType: SyncObjectType;
  /** The anchor this product wrote (its directory extension property), if any: the object is managed. */
  readonly managedAnchor?: string;
  /**
   * When the anchor was written by an earlier Directory Sync registration of this tenant (another app's
   * extension property): that registration's name. Absent when the anchor is the current app's.
   */
  readonly anchorRegistration?: string;
  /** onPremisesSecurityIdentifier: the AD objectSid that Entra Connect, Cloud Sync or DirSync wrote. */
  readonly securityIdentifier?: string;
  /** Users: onPremisesImmutableId. */
  readonly immutableId?: string;
  readonly userPrincipalName?: string;
  readonly mail?: string;
  readonly proxyAddresses?: ReadonlyArray<string>;
  readonly displayName?: string;
  /** Current values of the properties the attribute flow writes. */
  readonly properties: Readonly<Record<string, unknown>>;
  /** Holds a directory role (never soft-matched). */
  readonly isAdmin?: boolean;
  /** Synchronized by another tool (Entra Connect): Graph refuses writes. */
  readonly onPremisesSyncEnabled?: boolean;
  /** Users: the object id of their manager in the tenant, if any. */
  readonly managerId?: string;
  /** In the tenant's recycle bin (deletedItems): restorable. */
  readonly softDeleted?: boolean;
  /**
   * When the object came into existence (ISO): Graph's createdDateTime, or the moment this product's create or
   * restore was confirmed. Recent objects may not be on every replica yet (cloud/replication.ts).
   */
  readonly createdAt?: string;
};
