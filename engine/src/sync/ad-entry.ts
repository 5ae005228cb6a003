/**
 * An Active Directory object as the AD connector imports it and the pipeline reads it. Attribute
 * names are lower-case; binary values are base64; DN-valued links (member, manager) are GUIDs.
 */
import type { AdObjectClass } from '../contract/model.ts';

export type AdEntry = {
  /** objectGUID in its string form (`b563d64f-c78c-40f1-bfd7-a80f72274a5b`). */
  readonly guid: string;
  /** base64 of the 16 raw objectGUID bytes. */
  readonly guidBase64: string;
  /** base64 of mS-DS-ConsistencyGuid, when set. */
  readonly consistencyGuidBase64?: string;
  readonly dn: string;
  /** objectGUID of the parent container (absent for the domain head). */
  readonly parentGuid?: string;
  readonly objectClass: AdObjectClass;
  /** objectSid as `S-1-5-21-…` (users and groups): Entra Connect, Cloud Sync and DirSync carry it as onPremisesSecurityIdentifier. */
  readonly sid?: string;
  readonly deleted: boolean;
  /** Every other attribute read, by lower-case name. */
  readonly attributes: Readonly<Record<string, ReadonlyArray<string>>>;
  /** Groups: objectGUIDs of direct members (resolved from extended DNs, ranged retrieval included). */
  readonly memberGuids?: ReadonlyArray<string>;
  /**
   * Groups: members that are foreign security principals (CN=<SID>,CN=ForeignSecurityPrincipals,…) — accounts of
   * another forest, which the tenant cannot hold as this group's members; reported per group. Absent when none.
   */
  readonly foreignMembers?: ReadonlyArray<{ readonly sid: string; readonly dn: string }>;
  /** Users: objectGUID of the manager. */
  readonly managerGuid?: string;
};

export function first(entry: AdEntry, attribute: string): string | undefined {
  const values = entry.attributes[attribute.toLowerCase()];
  return values && values.length > 0 ? values[0] : undefined;
}

export function all(entry: AdEntry, attribute: string): ReadonlyArray<string> {
  return entry.attributes[attribute.toLowerCase()] ?? [];
}

/** The source anchor: mS-DS-ConsistencyGuid when present, else objectGUID (ARCHITECTURE.md "Identity"). */
export function sourceAnchorOf(entry: AdEntry): string {
  return entry.consistencyGuidBase64 ?? entry.guidBase64;
}

/** The objectGUID anchor, when the source anchor is another (a consistency GUID): what DirSync and older Connect wrote. */
export function objectGuidAnchorOf(entry: AdEntry): { readonly objectGuidAnchor?: string } {
  return entry.consistencyGuidBase64 !== undefined && entry.consistencyGuidBase64 !== entry.guidBase64 ? { objectGuidAnchor: entry.guidBase64 } : {};
}

export const UAC_ACCOUNTDISABLE = 0x2;

/** groupType bit 0x80000000: security group (otherwise distribution). */
export function isSecurityGroup(entry: AdEntry): boolean {
  const groupType = Number(first(entry, 'groupType') ?? '0');
  return (groupType & 0x80000000) !== 0;
}

/** A group with a mail address or proxy addresses is mail-enabled in Exchange terms. */
export function isMailEnabled(entry: AdEntry): boolean {
  return first(entry, 'mail') !== undefined || all(entry, 'proxyAddresses').length > 0;
}
