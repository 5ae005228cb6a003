/**
 * Map: one in-scope AD object → the cloud object it should be, by the declarative attribute flow.
 * Objects Graph cannot write (contacts, distribution and mail-enabled groups) are reported, never
 * silently dropped.
 */
import type { ObjectError, SyncObjectType } from '../contract/model.ts';
import type { AdEntry } from './ad-entry.ts';
import { isMailEnabled, isSecurityGroup, objectGuidAnchorOf, sourceAnchorOf, UAC_ACCOUNTDISABLE } from './ad-entry.ts';
import type { AttributeFlow, FlowRule } from './attribute-flow.ts';
import { rulesFor } from './attribute-flow.ts';

export type DesiredProperties = Readonly<Record<string, unknown>>;

/** The cloud object an AD object should become. */
export type DesiredObject = {
  readonly objectType: SyncObjectType;
  readonly adGuid: string;
  readonly dn: string;
  readonly sourceAnchor: string;
  /**
   * The objectGUID (base64) when the source anchor is a different ms-DS-ConsistencyGuid: DirSync and older
   * Entra Connect installations wrote it as the immutable id, so a cloud object carrying it is this object too.
   */
  readonly objectGuidAnchor?: string;
  readonly properties: DesiredProperties;
  readonly memberGuids: ReadonlyArray<string>;
};

export type MapResult =
  | { readonly kind: 'mapped'; readonly desired: DesiredObject }
  | { readonly kind: 'invalid'; readonly errors: ReadonlyArray<ObjectError> }
  | { readonly kind: 'not-writable'; readonly objectType: 'contact' | 'group'; readonly dn: string; readonly reason: string };

/** Characters Graph refuses in a mail alias (group-post-groups.md), plus control characters and non-ASCII. */
// eslint-disable-next-line no-control-regex -- control characters are what it removes
const NICKNAME_FORBIDDEN = /[@()\\[\]";:.<>, \u0000-\u001f\u007f-\uffff]/g;

function trimmed(values: ReadonlyArray<string>): string[] {
  const out: string[] = [];
  for (const v of values) {
    const t = v.trim();
    if (t.length > 0) out.push(t);
  }
  return out;
}

/** A rule with what mapEntry needs of it worked out once (it runs for every object of every run). */
type CompiledRule = FlowRule & { readonly lowerSources: ReadonlyArray<string>; readonly head: string; readonly child: string | undefined };

const compiledByRules = new WeakMap<ReadonlyArray<FlowRule>, ReadonlyArray<CompiledRule>>();
function compiled(rules: ReadonlyArray<FlowRule>): ReadonlyArray<CompiledRule> {
  let out = compiledByRules.get(rules);
  if (!out) {
    out = rules.map((rule) => {
      const [head, child] = rule.target.split('.', 2) as [string, string | undefined];
      return { ...rule, lowerSources: rule.sources.map((s) => s.toLowerCase()), head, child };
    });
    compiledByRules.set(rules, out);
  }
  return out;
}

function sourceValues(entry: AdEntry, rule: CompiledRule): { attribute: string; values: ReadonlyArray<string> } | undefined {
  for (let i = 0; i < rule.lowerSources.length; i += 1) {
    const raw = entry.attributes[rule.lowerSources[i] as string];
    if (raw === undefined || raw.length === 0) continue;
    const values = trimmed(raw);
    if (values.length > 0) return { attribute: rule.sources[i] as string, values };
  }
  return undefined;
}

function applyRule(entry: AdEntry, rule: CompiledRule): { value: unknown; attribute: string } | undefined {
  switch (rule.transform) {
    case 'source-anchor':
      return { value: sourceAnchorOf(entry), attribute: entry.consistencyGuidBase64 ? 'mS-DS-ConsistencyGuid' : 'objectGUID' };
    case 'account-enabled': {
      const found = sourceValues(entry, rule);
      const uac = Number(found?.values[0] ?? '0');
      return { value: (uac & UAC_ACCOUNTDISABLE) === 0, attribute: found?.attribute ?? 'userAccountControl' };
    }
    case 'trim': {
      const found = sourceValues(entry, rule);
      return found ? { value: found.values[0], attribute: found.attribute } : undefined;
    }
    case 'trim-all': {
      const found = sourceValues(entry, rule);
      return found ? { value: [...new Set(found.values)], attribute: found.attribute } : undefined;
    }
    case 'as-list': {
      const found = sourceValues(entry, rule);
      return found ? { value: [found.values[0]], attribute: found.attribute } : undefined;
    }
    case 'mail-nickname': {
      // The first source that still has characters once those Graph refuses are removed.
      for (let i = 0; i < rule.lowerSources.length; i += 1) {
        for (const value of trimmed(entry.attributes[rule.lowerSources[i] as string] ?? [])) {
          const cleaned = value.replace(NICKNAME_FORBIDDEN, '');
          if (cleaned.length > 0) return { value: cleaned, attribute: rule.sources[i] as string };
          break;
        }
      }
      return undefined;
    }
    case 'country-code': {
      const found = sourceValues(entry, rule);
      const code = found?.values[0]?.toUpperCase();
      return found && code && /^[A-Z]{2}$/.test(code) ? { value: code, attribute: found.attribute } : undefined;
    }
  }
}

function lengthOf(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return Math.max(0, ...value.map((v) => String(v).length));
  return 0;
}

function setProperty(target: Record<string, unknown>, rule: CompiledRule, value: unknown): void {
  const { head, child } = rule;
  if (child === undefined) {
    target[head] = value;
    return;
  }
  const nested = (target[head] as Record<string, unknown> | undefined) ?? {};
  nested[child] = value;
  target[head] = nested;
}

/** Graph properties that always hold a full object of this shape, so absent values are explicit nulls. */
function completeExtensionAttributes(properties: Record<string, unknown>, rules: ReadonlyArray<FlowRule>): void {
  const keys = extensionAttributeKeys(rules);
  if (keys.length === 0) return;
  const bag = (properties['onPremisesExtensionAttributes'] as Record<string, unknown> | undefined) ?? {};
  for (const key of keys) {
    if (!(key in bag)) bag[key] = null;
  }
  properties['onPremisesExtensionAttributes'] = bag;
}

/** The onPremisesExtensionAttributes keys a flow's rules write (worked out once per rule list: mapEntry runs for every object). */
const extensionKeysByRules = new WeakMap<ReadonlyArray<FlowRule>, ReadonlyArray<string>>();
function extensionAttributeKeys(rules: ReadonlyArray<FlowRule>): ReadonlyArray<string> {
  let keys = extensionKeysByRules.get(rules);
  if (!keys) {
    keys = rules.filter((r) => r.target.startsWith('onPremisesExtensionAttributes.')).map((r) => r.target.split('.')[1] as string);
    extensionKeysByRules.set(rules, keys);
  }
  return keys;
}

export function mapEntry(entry: AdEntry, flow: AttributeFlow): MapResult {
  if (entry.objectClass === 'contact') {
    return { kind: 'not-writable', objectType: 'contact', dn: entry.dn,
      reason: 'Organizational contacts are read-only in Microsoft Graph: not writable through Microsoft Graph' };
  }
  if (entry.objectClass === 'group' && !isSecurityGroup(entry)) {
    return { kind: 'not-writable', objectType: 'group', dn: entry.dn,
      reason: 'Distribution groups are not writable through Microsoft Graph' };
  }
  if (entry.objectClass === 'group' && isMailEnabled(entry)) {
    return { kind: 'not-writable', objectType: 'group', dn: entry.dn,
      reason: 'Mail-enabled security groups are not writable through Microsoft Graph' };
  }
  const objectType: SyncObjectType = entry.objectClass === 'group' ? 'group' : 'user';
  const rules = rulesFor(flow, objectType);
  const compiledRules = compiled(rules);
  const properties: Record<string, unknown> = {};
  const errors: ObjectError[] = [];
  for (const rule of compiledRules) {
    const result = applyRule(entry, rule);
    if (result === undefined) {
      if (rule.required) {
        errors.push({
          dn: entry.dn, adGuid: entry.guid, objectType, attribute: rule.sources[0] ?? rule.target, code: 'required-value-missing',
          reason: `${rule.target} is required by Microsoft Entra ID, and none of ${rule.sources.join(', ')} has a value`,
          hint: `Set ${rule.sources[0] ?? rule.target} on the object in Active Directory.`,
        });
      }
      continue;
    }
    if (rule.maxLength !== undefined && lengthOf(result.value) > rule.maxLength) {
      errors.push({
        dn: entry.dn, adGuid: entry.guid, objectType, attribute: result.attribute, value: String(result.value), code: 'value-too-long',
        reason: `${result.attribute} is ${lengthOf(result.value)} characters long; Microsoft Entra ID accepts at most ${rule.maxLength} for ${rule.target}`,
        hint: `Shorten ${result.attribute} to ${rule.maxLength} characters or fewer.`,
      });
      continue;
    }
    setProperty(properties, rule, result.value);
  }
  if (errors.length > 0) return { kind: 'invalid', errors };
  if (objectType === 'user') completeExtensionAttributes(properties, rules);
  if (objectType === 'group') {
    properties['securityEnabled'] = true;
    properties['mailEnabled'] = false;
  }
  return {
    kind: 'mapped',
    desired: {
      objectType, adGuid: entry.guid, dn: entry.dn, sourceAnchor: sourceAnchorOf(entry), ...objectGuidAnchorOf(entry), properties,
      memberGuids: objectType === 'group' ? [...(entry.memberGuids ?? [])] : [],
    },
  };
}
