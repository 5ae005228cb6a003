/**
 * Validate: what Microsoft Entra ID would refuse, found before anything is sent
 * (graph-reference.md §2.1, §2.6, §3.2). Each problem is an object error with the DN, the
 * attribute, the value, the reason and a fix.
 */
import type { ObjectError } from '../contract/model.ts';
import type { DesiredObject } from './map.ts';

export type TenantDomains = {
  /** Verified domain names of the tenant, lower-case. */
  readonly verified: ReadonlyArray<string>;
};

const UPN_LOCAL = /^[A-Za-z0-9'.\-_!#^~]+$/;

export function validateUserPrincipalName(upn: string, domains: TenantDomains): { code: string; reason: string; hint: string } | undefined {
  const at = upn.lastIndexOf('@');
  if (at <= 0 || at === upn.length - 1 || upn.indexOf('@') !== at) {
    return { code: 'upn-format', reason: `"${upn}" is not of the form alias@domain`, hint: 'Set userPrincipalName to alias@domain with a verified domain.' };
  }
  const local = upn.slice(0, at);
  const domain = upn.slice(at + 1).toLowerCase();
  if (!UPN_LOCAL.test(local)) {
    const bad = [...new Set([...local].filter((ch) => !/[A-Za-z0-9'.\-_!#^~]/.test(ch)))].join(' ');
    return {
      code: 'upn-invalid-character',
      reason: `the part before @ contains characters Microsoft Entra ID does not allow (${bad}); only A-Z a-z 0-9 ' . - _ ! # ^ ~ are allowed`,
      hint: 'Remove accents and other special characters from userPrincipalName.',
    };
  }
  if (local.endsWith('.')) {
    return { code: 'upn-dot-before-at', reason: 'a "." immediately before the @ is not allowed', hint: 'Remove the dot before the @ in userPrincipalName.' };
  }
  if (local.length > 64) {
    return { code: 'upn-too-long', reason: `the part before @ is ${local.length} characters long; at most 64 are allowed`, hint: 'Shorten userPrincipalName to 64 characters before the @.' };
  }
  if (domain.length > 48 || upn.length > 113) {
    return { code: 'upn-too-long', reason: `the domain part or the whole name is too long (${domain.length}/48, ${upn.length}/113)`, hint: 'Use a shorter UPN suffix.' };
  }
  if (!domains.verified.includes(domain)) {
    return {
      code: 'upn-unverified-domain',
      reason: `the UPN suffix ${domain} is not a verified domain of the tenant (verified: ${domains.verified.join(', ')})`,
      hint: `Verify ${domain} in the tenant, or change the user's UPN suffix in Active Directory to a verified domain.`,
    };
  }
  return undefined;
}

const MAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** C0 control characters (NUL included) and DEL: never valid in a directory string. */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
/** Tab and line breaks: valid only in a multi-line text (a description). */
const LINE_BREAK = /[\t\r\n]/;
const MULTI_LINE = new Set(['description']);

/** Every string value of the desired properties (lists and complex properties included), with its property path. */
function stringValues(properties: Readonly<Record<string, unknown>>): Array<{ path: string; value: string }> {
  const out: Array<{ path: string; value: string }> = [];
  const visit = (path: string, value: unknown): void => {
    if (typeof value === 'string') out.push({ path, value });
    else if (Array.isArray(value)) for (const v of value) visit(path, v);
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(`${path}.${k}`, v);
  };
  for (const [k, v] of Object.entries(properties)) visit(k, v);
  return out;
}

/** Per-object checks that need no other object. */
export function validateDesired(desired: DesiredObject, domains: TenantDomains): ReadonlyArray<ObjectError> {
  const errors: ObjectError[] = [];
  const base = { dn: desired.dn, adGuid: desired.adGuid, objectType: desired.objectType } as const;
  for (const { path, value } of stringValues(desired.properties)) {
    const lineBreak = !MULTI_LINE.has(path) && LINE_BREAK.test(value);
    if (CONTROL.test(value) || lineBreak) {
      const shown = JSON.stringify(value).slice(1, -1);
      errors.push({ ...base, attribute: path, value: shown, code: 'control-character',
        reason: `${path} contains ${lineBreak && !CONTROL.test(value) ? 'a tab or line break' : 'a control character (such as NUL)'}, which Microsoft Entra ID does not accept: "${shown}"`,
        hint: `Remove the invisible characters from the attribute that flows to ${path} in Active Directory.` });
    }
  }
  if (desired.objectType === 'user') {
    const upn = String(desired.properties['userPrincipalName'] ?? '');
    const problem = validateUserPrincipalName(upn, domains);
    if (problem) errors.push({ ...base, attribute: 'userPrincipalName', value: upn, ...problem });
    const mail = desired.properties['mail'];
    if (typeof mail === 'string' && (!MAIL.test(mail) || /[^\x20-\x7e]/.test(mail))) {
      errors.push({ ...base, attribute: 'mail', value: mail, code: 'mail-format',
        reason: `"${mail}" is not a valid email address`, hint: 'Correct the mail attribute in Active Directory, or clear it.' });
    }
  }
  return errors;
}

export type UniqueKey = { readonly adGuid: string; readonly dn: string; readonly objectType: DesiredObject['objectType']; readonly value: string };

/** Which forest a DN is in, and the forest the administrator chose to win a conflict between forests (docs/forests.md). */
export type ForestRule = { readonly forestOf: (dn: string) => string | undefined; readonly preferred?: string };

/**
 * Values that must be unique in the tenant (UPN, mail): every object after the first that uses a
 * value gets an error. `preferred` (already linked objects) keep their value first; it is asked
 * only about objects that share a value. Objects of different forests are never one person to this
 * product: when neither is linked and no forest was chosen to win, none of them keeps the value.
 */
export function findDuplicates(attribute: string, keys: ReadonlyArray<UniqueKey>, preferred: Pick<ReadonlySet<string>, 'has'>, forests?: ForestRule): ReadonlyArray<ObjectError> {
  const groups = new Map<string, UniqueKey[]>();
  for (const key of keys) {
    const normalized = key.value.toLowerCase();
    const list = groups.get(normalized);
    if (list) list.push(key);
    else groups.set(normalized, [key]);
  }
  const errors: ObjectError[] = [];
  for (const list of groups.values()) {
    if (list.length < 2) continue;
    const forestOf = (key: UniqueKey): string | undefined => forests?.forestOf(key.dn);
    const spansForests = forests !== undefined && new Set(list.map(forestOf)).size > 1;
    const ordered = [...list].sort((a, b) =>
      Number(preferred.has(b.adGuid)) - Number(preferred.has(a.adGuid))
      || (spansForests ? Number(forestOf(b) === forests.preferred) - Number(forestOf(a) === forests.preferred) : 0)
      || a.dn.localeCompare(b.dn));
    const keeper = ordered[0] as UniqueKey;
    const keeps = !spansForests || preferred.has(keeper.adGuid) || (forests.preferred !== undefined && forestOf(keeper) === forests.preferred);
    for (const duplicate of keeps ? ordered.slice(1) : ordered) {
      const code = `duplicate-${attribute.toLowerCase()}`;
      const base = { dn: duplicate.dn, adGuid: duplicate.adGuid, objectType: duplicate.objectType, attribute, value: duplicate.value, code };
      if (!spansForests) {
        errors.push({ ...base, reason: `${attribute} "${duplicate.value}" is also used by ${keeper.dn}; Microsoft Entra ID requires it to be unique`,
          hint: `Give one of the two objects a different ${attribute} in Active Directory.` });
        continue;
      }
      const others = list.filter((k) => k !== duplicate).map((k) => `${k.dn} (forest ${forestOf(k) ?? '?'})`).join(', ');
      errors.push({ ...base, code: `${code}-across-forests`,
        reason: `${attribute} "${duplicate.value}" of this object (forest ${forestOf(duplicate) ?? '?'}) is also used by ${others}: objects of two forests are never joined `
          + `into one cloud object, ${keeps ? `and ${keeper.dn} keeps it (${preferred.has(keeper.adGuid) ? 'it is already synchronized' : `forest ${forests.preferred} was chosen to win`})`
            : 'and neither is written while both use it'}`,
        hint: `Give one of them a different ${attribute} in Active Directory, leave one out of scope, or choose the forest that wins (dirsync config: preferredForest).` });
    }
  }
  return errors;
}
