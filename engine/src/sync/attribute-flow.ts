/**
 * The declarative attribute flow from AD to Microsoft Graph: Entra Connect's default rules
 * (ad-reference.md §6), limited to what Graph lets an application write (graph-reference.md §2.2).
 * The configuration can replace or add rules; each rule names its Graph property, the AD attributes
 * it reads (the first one present wins) and a transform.
 */
import type { SyncObjectType } from '../contract/model.ts';

export type FlowTransform =
  /** First value, trimmed; empty becomes absent. */
  | 'trim'
  /** All values, trimmed, duplicates removed. */
  | 'trim-all'
  /** A single-valued Graph collection (e.g. businessPhones). */
  | 'as-list'
  /** userAccountControl → accountEnabled (bit 2 not set). */
  | 'account-enabled'
  /** The object's source anchor (base64). */
  | 'source-anchor'
  /** A mail alias: characters Graph refuses are removed. */
  | 'mail-nickname'
  /** A two-letter country code (upper-cased) or nothing. */
  | 'country-code';

export type FlowRule = {
  /** Graph property; `onPremisesExtensionAttributes.extensionAttributeN` writes inside that complex property. */
  readonly target: string;
  readonly sources: ReadonlyArray<string>;
  readonly transform: FlowTransform;
  /** Longest value Graph accepts; longer values are an object error, not silently cut. */
  readonly maxLength?: number;
  /** The object cannot be exported without it. */
  readonly required?: boolean;
};

export type AttributeFlow = { readonly user: ReadonlyArray<FlowRule>; readonly group: ReadonlyArray<FlowRule> };

const extensionAttributes: ReadonlyArray<FlowRule> = Array.from({ length: 15 }, (_, i) => ({
  target: `onPremisesExtensionAttributes.extensionAttribute${i + 1}`,
  sources: [`extensionAttribute${i + 1}`],
  transform: 'trim' as const,
  maxLength: 1024,
}));

export const defaultAttributeFlow: AttributeFlow = {
  user: [
    { target: 'accountEnabled', sources: ['userAccountControl'], transform: 'account-enabled', required: true },
    { target: 'displayName', sources: ['displayName', 'cn'], transform: 'trim', maxLength: 256, required: true },
    { target: 'userPrincipalName', sources: ['userPrincipalName'], transform: 'trim', maxLength: 113, required: true },
    { target: 'mailNickname', sources: ['mailNickname', 'sAMAccountName'], transform: 'mail-nickname', maxLength: 64, required: true },
    { target: 'onPremisesImmutableId', sources: [], transform: 'source-anchor', required: true },
    { target: 'givenName', sources: ['givenName'], transform: 'trim', maxLength: 64 },
    { target: 'surname', sources: ['sn'], transform: 'trim', maxLength: 64 },
    { target: 'mail', sources: ['mail'], transform: 'trim', maxLength: 256 },
    { target: 'jobTitle', sources: ['title'], transform: 'trim', maxLength: 128 },
    { target: 'department', sources: ['department'], transform: 'trim', maxLength: 64 },
    { target: 'companyName', sources: ['company'], transform: 'trim', maxLength: 64 },
    { target: 'employeeId', sources: ['employeeID'], transform: 'trim', maxLength: 16 },
    { target: 'officeLocation', sources: ['physicalDeliveryOfficeName'], transform: 'trim', maxLength: 128 },
    { target: 'streetAddress', sources: ['streetAddress'], transform: 'trim', maxLength: 1024 },
    { target: 'city', sources: ['l'], transform: 'trim', maxLength: 128 },
    { target: 'state', sources: ['st'], transform: 'trim', maxLength: 128 },
    { target: 'postalCode', sources: ['postalCode'], transform: 'trim', maxLength: 40 },
    { target: 'country', sources: ['co'], transform: 'trim', maxLength: 128 },
    { target: 'usageLocation', sources: ['c'], transform: 'country-code' },
    { target: 'businessPhones', sources: ['telephoneNumber'], transform: 'as-list', maxLength: 64 },
    { target: 'mobilePhone', sources: ['mobile'], transform: 'trim', maxLength: 64 },
    { target: 'faxNumber', sources: ['facsimileTelephoneNumber'], transform: 'trim', maxLength: 64 },
    { target: 'preferredLanguage', sources: ['preferredLanguage'], transform: 'trim', maxLength: 16 },
    ...extensionAttributes,
  ],
  group: [
    { target: 'displayName', sources: ['displayName', 'cn'], transform: 'trim', maxLength: 256, required: true },
    { target: 'mailNickname', sources: ['mailNickname', 'sAMAccountName', 'cn'], transform: 'mail-nickname', maxLength: 64, required: true },
    { target: 'description', sources: ['description'], transform: 'trim', maxLength: 1024 },
  ],
};

export function rulesFor(flow: AttributeFlow, objectType: SyncObjectType): ReadonlyArray<FlowRule> {
  return objectType === 'user' ? flow.user : flow.group;
}

/**
 * Applies configured overrides: a rule with the same target replaces the default one; a rule with
 * `sources: []` and transform `trim` removes the flow of that property.
 */
export function withOverrides(base: AttributeFlow, overrides: Partial<Record<SyncObjectType, ReadonlyArray<FlowRule>>>): AttributeFlow {
  const merge = (rules: ReadonlyArray<FlowRule>, extra: ReadonlyArray<FlowRule> | undefined): ReadonlyArray<FlowRule> => {
    if (!extra) return rules;
    const byTarget = new Map(rules.map((r) => [r.target, r] as const));
    for (const rule of extra) {
      if (rule.sources.length === 0 && rule.transform !== 'source-anchor') byTarget.delete(rule.target);
      else byTarget.set(rule.target, rule);
    }
    return [...byTarget.values()];
  };
  return { user: merge(base.user, overrides.user), group: merge(base.group, overrides.group) };
}
