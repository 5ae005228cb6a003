/**
 * Value checks shared by the write handlers: request bodies, strings and lengths, directory extension
 * values, UPN and password policies (graph-reference.md §2.1, §2.2).
 */
import { badRequest, invalidValue, unknownProperty } from './errors.ts';
import type { Json, JsonObject } from './model.ts';
import type { DirectoryStore } from './store.ts';
import type { Tenant } from './tenant.ts';

export function requireObjectBody(body: Json | undefined): JsonObject {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('Empty Payload. JSON content expected.');
  }
  return body;
}

export function checkString(value: Json, property: string, resource: string, maxLength: number, nullable = true): void {
  if (value === null) {
    if (!nullable) throw invalidValue(property, resource);
    return;
  }
  if (typeof value !== 'string' || value.length > maxLength) throw invalidValue(property, resource);
}

export function checkBoolean(value: Json, property: string, resource: string, nullable = false): void {
  if (value === null && nullable) return;
  if (typeof value !== 'boolean') throw invalidValue(property, resource);
}

export function checkStringArray(value: Json, property: string, resource: string, maxItems: number, maxLength: number): void {
  if (!Array.isArray(value) || value.length > maxItems || value.some((v) => typeof v !== 'string' || v.length > maxLength)) {
    throw invalidValue(property, resource);
  }
}

/** Validates a directory extension value against its registered definition; returns the canonical name. */
export function checkExtensionValue(store: DirectoryStore, name: string, value: Json, target: string): string {
  const def = store.extensionProperty(name);
  if (!def || !def.targetObjects.some((t) => t.toLowerCase() === target.toLowerCase())) throw unknownProperty(name);
  if (value === null) return def.name;
  const values = def.isMultiValued ? value : [value];
  if (!Array.isArray(values)) throw invalidValue(def.name, target);
  for (const v of values) {
    const ok = def.dataType === 'String' ? typeof v === 'string' && v.length <= 256
      : def.dataType === 'Boolean' ? typeof v === 'boolean'
        : def.dataType === 'Integer' ? typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2 ** 31
          : def.dataType === 'LargeInteger' ? (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))
            : def.dataType === 'DateTime' ? typeof v === 'string' && !Number.isNaN(Date.parse(v))
              : typeof v === 'string' && Buffer.from(v, 'base64').length <= 256;
    if (!ok) throw invalidValue(def.name, target);
  }
  return def.name;
}

const UPN_LOCAL = /^[A-Za-z0-9'.\-_!#^~]+$/;

export function invalidUpn(): ReturnType<typeof badRequest> {
  const message = 'Property userPrincipalName is invalid.';
  return badRequest(message, [{ code: 'InvalidCharacter', message, target: 'userPrincipalName' }]);
}

/** Charset, shape and lengths of a user principal name (not whether its domain is verified). */
export function isWellFormedUpn(upn: string): boolean {
  const parts = upn.split('@');
  if (parts.length !== 2) return false;
  const [local, domain] = parts as [string, string];
  if (local === '' || domain === '' || !UPN_LOCAL.test(local) || local.endsWith('.')) return false;
  return upn.length <= 113 && local.length <= 64 && domain.length <= 48;
}

/** Charset, shape, lengths and verified-domain rules for a user principal name. */
export function checkUserPrincipalName(tenant: Tenant, upn: Json): string {
  if (typeof upn !== 'string') throw invalidValue('userPrincipalName', 'User');
  if (!isWellFormedUpn(upn)) throw invalidUpn();
  const domain = upn.split('@')[1] ?? '';
  if (!tenant.domain(domain)) {
    const message = 'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.';
    throw badRequest(message, [{ code: 'InvalidValue', message, target: 'userPrincipalName' }]);
  }
  return upn;
}

const PASSWORD_CHARS = /^[A-Za-z0-9@#$%^&*\-_!+=[\]{}|\\:',.?/`~"();<> ]+$/;

export function passwordComplexityError(): ReturnType<typeof badRequest> {
  return badRequest('The specified password does not comply with password complexity requirements. Please provide a different password.');
}

/** 8–256 characters from the allowed set, three of four classes (unless DisableStrongPassword). */
export function checkPassword(password: Json | undefined, policies: Json | undefined): string {
  if (typeof password !== 'string' || password === '') throw badRequest("A value is required for property 'password' of resource 'PasswordProfile'.");
  const weakAllowed = typeof policies === 'string' && /DisableStrongPassword/i.test(policies);
  if (password.length > 256) throw passwordComplexityError();
  if (weakAllowed) return password;
  if (password.length < 8 || !PASSWORD_CHARS.test(password)) throw passwordComplexityError();
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < 3) throw passwordComplexityError();
  return password;
}

/** Mail nickname: printable ASCII without `@ () \ [] " ; : <> , SPACE` (groups also exclude `.`). */
export function checkMailNickname(value: Json, resource: string, allowDot: boolean): string {
  if (typeof value !== 'string' || value === '' || value.length > 64) throw invalidValue('mailNickname', resource);
  const forbidden = allowDot ? /[@()\\[\]";:<>,\s]/ : /[@()\\[\]";:.<>,\s]/;
  if (forbidden.test(value) || /[^\x20-\x7e]/.test(value)) throw invalidValue('mailNickname', resource);
  return value;
}

export function isGuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
