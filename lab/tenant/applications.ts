/**
 * Application registrations: list/get (also `applications(appId='…')`), create, PATCH (including
 * certificate keyCredentials), addPassword/removePassword, addKey/removeKey, soft delete, and
 * directory extension definitions (`/applications/{id}/extensionProperties`).
 */
import { X509Certificate, createHash, randomUUID } from 'node:crypto';
import { graphDateTime } from './clock.ts';
import type { GraphContext, GraphResult } from './context.ts';
import {
  badRequest, forbidden, invalidValue, notFound, objectConflict, readOnlyProperty, requiredProperty, unknownProperty,
} from './errors.ts';
import { decodeJwt, sha256Base64url, verifyJwtSignature } from './jwt.ts';
import type { DirectoryObject, ExtensionPropertyDef, Json, JsonObject } from './model.ts';
import { PERMISSIONS, canManageApplication } from './permissions.ts';
import { contextUrl, getOne, listCollection, projectObject } from './query.ts';
import { APPLICATION_RESOURCE, isExtensionPropertyName } from './resources.ts';
import type { Router } from './router.ts';
import { newClientSecret } from './seed.ts';
import { referencedId } from './groups.ts';
import { idWithoutDashes } from './store.ts';
import { checkExtensionValue, isGuid, requireObjectBody } from './validation.ts';

const CREATABLE = new Set(['displayName', 'description', 'signInAudience', 'requiredResourceAccess', 'isFallbackPublicClient',
  'publicClient', 'web', 'spa', 'api', 'identifierUris', 'tags', 'notes', 'keyCredentials', 'appRoles', 'info', 'optionalClaims',
  'uniqueName']);
const EXTENSION_TARGETS = ['User', 'Group', 'AdministrativeUnit', 'Application', 'Device', 'Organization'];
const EXTENSION_TYPES = new Set(['String', 'Boolean', 'DateTime', 'Integer', 'LargeInteger', 'Binary']);

/** Certificate credential kept by the emulator (the public key verifies client assertions). */
export type StoredKey = { keyId: string; certificate: string; sha1: string; sha256: string; endDateTime: string };

export function storedKeys(app: DirectoryObject): StoredKey[] {
  const keys = app.internal['keys'];
  return Array.isArray(keys) ? keys as unknown as StoredKey[] : [];
}

export function storedSecrets(app: DirectoryObject): { keyId: string; secret: string; endDateTime: string }[] {
  const secrets = app.internal['secrets'];
  return Array.isArray(secrets) ? secrets as unknown as { keyId: string; secret: string; endDateTime: string }[] : [];
}

/** `POST /applications/{id}/owners/$ref` (application-post-owners.md): a user or service principal becomes an owner; 204. */
function addOwnerRef(ctx: GraphContext, key: string): GraphResult {
  const app = managed(ctx, key);
  const body = requireObjectBody(ctx.req.body);
  const refKey = Object.keys(body).find((k) => k.toLowerCase() === '@odata.id');
  const ownerId = referencedId(refKey ? body[refKey] : undefined);
  const owner = ctx.tenant.store.get(ownerId);
  if (!owner || (owner.type !== 'user' && owner.type !== 'servicePrincipal')) throw notFound(ownerId);
  if (app.owners.includes(owner.id)) {
    throw badRequest("One or more added object references already exist for the following modified properties: 'owners'.");
  }
  ctx.tenant.store.setOwners(app, [...app.owners, owner.id]);
  return { status: 204 };
}

/** `DELETE /applications/{id}/owners/{ownerId}/$ref`; 204, 404 when not an owner. */
function removeOwnerRef(ctx: GraphContext, key: string, ownerId: string): GraphResult {
  const app = managed(ctx, key);
  const id = ownerId.toLowerCase();
  if (!app.owners.includes(id)) throw notFound(ownerId);
  ctx.tenant.store.setOwners(app, app.owners.filter((o) => o !== id));
  return { status: 204 };
}

/** `/applications/{objectId}` or `/applications(appId='…')`. */
export function resolveApplication(ctx: GraphContext, key: string): DirectoryObject {
  const store = ctx.tenant.store;
  const appId = /^appId=(.*)$/i.exec(key)?.[1];
  const app = appId !== undefined ? store.byAppId('application', appId) : isGuid(key) ? store.get(key, 'application') : undefined;
  if (!app) throw notFound(appId ?? key);
  return app;
}

function managed(ctx: GraphContext, key: string): DirectoryObject {
  const app = resolveApplication(ctx, key);
  if (!canManageApplication(ctx.principal, app.owners)) throw forbidden();
  return app;
}

function visible(ctx: GraphContext, app: DirectoryObject): boolean {
  const p = ctx.principal;
  if (p.kind === 'user') return true;
  const broad = ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'].some((r) => p.roles.has(r));
  return broad || app.owners.includes(p.servicePrincipalId);
}

/** Parses a keyCredential `key` (base64 of DER, or of a PEM) into a stored key. */
function parseCertificate(key: Json | undefined, keyId: string): { stored: StoredKey; credential: JsonObject } {
  if (typeof key !== 'string' || key === '') throw invalidValue('keyCredentials', 'Application');
  let cert: X509Certificate;
  try {
    const raw = Buffer.from(key, 'base64');
    const text = raw.toString('utf8');
    cert = new X509Certificate(text.includes('-----BEGIN CERTIFICATE-----') ? text : raw);
  } catch (error) {
    if (error instanceof Error) throw badRequest('Key credential content is not a valid X.509 certificate.');
    throw error;
  }
  const sha1 = createHash('sha1').update(cert.raw).digest('hex').toUpperCase();
  const end = graphDateTime(Date.parse(cert.validTo));
  return {
    stored: { keyId, certificate: cert.toString(), sha1, sha256: sha256Base64url(cert.raw), endDateTime: end },
    credential: {
      customKeyIdentifier: sha1, displayName: `CN=${cert.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? 'certificate'}`,
      endDateTime: end, key: null, keyId, startDateTime: graphDateTime(Date.parse(cert.validFrom)), type: 'AsymmetricX509Cert', usage: 'Verify',
    },
  };
}

function applyKeyCredentials(app: DirectoryObject, value: Json): { props: JsonObject; keys: StoredKey[] } {
  if (!Array.isArray(value)) throw invalidValue('keyCredentials', 'Application');
  const existing = storedKeys(app);
  const existingCreds = Array.isArray(app.props['keyCredentials']) ? app.props['keyCredentials'] as JsonObject[] : [];
  const keys: StoredKey[] = [];
  const creds: JsonObject[] = [];
  for (const entry of value) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw invalidValue('keyCredentials', 'Application');
    const keyId = typeof entry['keyId'] === 'string' ? entry['keyId'] : randomUUID();
    if ((entry['key'] === null || entry['key'] === undefined) && existing.some((k) => k.keyId === keyId)) {
      const kept = existing.find((k) => k.keyId === keyId);
      const keptCred = existingCreds.find((c) => c['keyId'] === keyId);
      if (kept && keptCred) {
        keys.push(kept);
        creds.push(keptCred);
      }
      continue;
    }
    if (entry['type'] !== undefined && entry['type'] !== 'AsymmetricX509Cert') throw invalidValue('keyCredentials', 'Application');
    if (entry['usage'] !== undefined && entry['usage'] !== 'Verify') throw invalidValue('keyCredentials', 'Application');
    const parsed = parseCertificate(entry['key'], keyId);
    keys.push(parsed.stored);
    creds.push({ ...parsed.credential, ...(typeof entry['displayName'] === 'string' ? { displayName: entry['displayName'] } : {}) });
  }
  return { props: { keyCredentials: creds }, keys };
}

function prepareAppWrite(ctx: GraphContext, body: JsonObject, app: DirectoryObject | undefined): { props: JsonObject; keys?: StoredKey[] } {
  const out: JsonObject = {};
  let keys: StoredKey[] | undefined;
  for (const [rawKey, value] of Object.entries(body)) {
    if (rawKey.startsWith('@odata.')) continue;
    if (isExtensionPropertyName(rawKey)) {
      out[checkExtensionValue(ctx.tenant.store, rawKey, value, 'Application')] = value;
      continue;
    }
    const key = [...APPLICATION_RESOURCE.knownProps].find((k) => k.toLowerCase() === rawKey.toLowerCase());
    if (!key) throw unknownProperty(rawKey);
    if (!CREATABLE.has(key)) throw readOnlyProperty(key);
    if (key === 'displayName' && (typeof value !== 'string' || value === '' || value.length > 256)) throw invalidValue('displayName', 'Application');
    if (key === 'keyCredentials') {
      const applied = applyKeyCredentials(app ?? { props: {}, internal: {} } as DirectoryObject, value);
      Object.assign(out, applied.props);
      keys = applied.keys;
      continue;
    }
    out[key] = value;
  }
  return keys ? { props: out, keys } : { props: out };
}

function createApplication(ctx: GraphContext): GraphResult {
  const body = requireObjectBody(ctx.req.body);
  const { props, keys } = prepareAppWrite(ctx, body, undefined);
  if (typeof props['displayName'] !== 'string') throw requiredProperty('displayName', 'Application');
  const id = randomUUID();
  const now = ctx.tenant.clock.now();
  const owner = ctx.principal.kind === 'app' ? ctx.principal.servicePrincipalId : ctx.principal.userId;
  const app = ctx.tenant.store.insert({
    id, type: 'application',
    props: {
      api: { requestedAccessTokenVersion: null, oauth2PermissionScopes: [] }, appId: randomUUID(), applicationTemplateId: null,
      appRoles: [], createdDateTime: graphDateTime(now), deletedDateTime: null, description: null, identifierUris: [], info: null,
      isFallbackPublicClient: null, keyCredentials: [], notes: null, optionalClaims: null, passwordCredentials: [],
      publicClient: { redirectUris: [] }, publisherDomain: ctx.tenant.settings.initialDomain, requiredResourceAccess: [],
      signInAudience: 'AzureADMyOrg', spa: { redirectUris: [] }, tags: [], uniqueName: null,
      web: { homePageUrl: null, logoutUrl: null, redirectUris: [] }, ...props,
    },
    owners: [owner],
    internal: { secrets: [], keys: (keys ?? []) as unknown as Json },
  });
  return { status: 201, body: { '@odata.context': contextUrl(ctx, 'applications', undefined, true), ...projectObject(ctx, app, {}) } };
}

function updateApplication(ctx: GraphContext, key: string): GraphResult {
  const app = managed(ctx, key);
  const { props, keys } = prepareAppWrite(ctx, requireObjectBody(ctx.req.body), app);
  ctx.tenant.store.update(app, props);
  if (keys) ctx.tenant.store.setInternal(app, 'keys', keys as unknown as Json);
  return { status: 204 };
}

function deleteApplication(ctx: GraphContext, key: string): GraphResult {
  const app = managed(ctx, key);
  const store = ctx.tenant.store;
  const sp = store.onPrimary(() => store.byAppId('servicePrincipal', String(app.props['appId'])));
  const now = ctx.tenant.clock.now();
  if (sp) store.hardDelete(sp, now);
  store.softDelete(app, now);
  return { status: 204 };
}

function addPassword(ctx: GraphContext, key: string): GraphResult {
  const app = managed(ctx, key);
  const body = ctx.req.body === undefined ? {} : requireObjectBody(ctx.req.body);
  const input = (body['passwordCredential'] ?? {}) as JsonObject;
  const now = ctx.tenant.clock.now();
  const secret = newClientSecret();
  const keyId = randomUUID();
  const end = typeof input['endDateTime'] === 'string' ? graphDateTime(Date.parse(input['endDateTime'])) : graphDateTime(now + 2 * 365 * 24 * 3600 * 1000);
  const start = typeof input['startDateTime'] === 'string' ? graphDateTime(Date.parse(input['startDateTime'])) : graphDateTime(now);
  const credential: JsonObject = {
    customKeyIdentifier: null, displayName: typeof input['displayName'] === 'string' ? input['displayName'] : null,
    endDateTime: end, hint: secret.slice(0, 3), keyId, secretText: null, startDateTime: start,
  };
  const existing = Array.isArray(app.props['passwordCredentials']) ? app.props['passwordCredentials'] : [];
  ctx.tenant.store.update(app, { passwordCredentials: [...existing, credential] });
  ctx.tenant.store.setInternal(app, 'secrets', [...storedSecrets(app), { keyId, secret, endDateTime: end }] as unknown as Json);
  return { status: 200, body: { '@odata.context': `${ctx.graphUrl}/$metadata#microsoft.graph.passwordCredential`, ...credential, secretText: secret } };
}

function removePassword(ctx: GraphContext, key: string): GraphResult {
  const app = managed(ctx, key);
  const keyId = String(requireObjectBody(ctx.req.body)['keyId'] ?? '');
  const creds = Array.isArray(app.props['passwordCredentials']) ? app.props['passwordCredentials'] as JsonObject[] : [];
  if (!creds.some((c) => c['keyId'] === keyId)) throw notFound(keyId);
  ctx.tenant.store.update(app, { passwordCredentials: creds.filter((c) => c['keyId'] !== keyId) });
  ctx.tenant.store.setInternal(app, 'secrets', storedSecrets(app).filter((s) => s.keyId !== keyId) as unknown as Json);
  return { status: 204 };
}

/** addKey/removeKey need a proof-of-possession JWT signed with one of the app's current certificates. */
function verifyProof(ctx: GraphContext, app: DirectoryObject, proof: Json | undefined): void {
  const jwt = typeof proof === 'string' ? decodeJwt(proof) : undefined;
  if (!jwt) throw badRequest('Invalid proof: a JWT signed with an existing certificate of the application is required.');
  const now = Math.floor(ctx.tenant.clock.now() / 1000);
  const p = jwt.payload;
  const keys = storedKeys(app);
  const thumb = jwt.header['x5t#S256'] ?? jwt.header['x5t'];
  const key = keys.find((k) => k.sha256 === thumb || Buffer.from(k.sha1, 'hex').toString('base64url') === thumb) ?? (keys.length === 1 ? keys[0] : undefined);
  const ok = key !== undefined && verifyJwtSignature(jwt, new X509Certificate(key.certificate).publicKey)
    && p['aud'] === '00000002-0000-0000-c000-000000000000' && p['iss'] === app.id
    && typeof p['exp'] === 'number' && p['exp'] >= now && (typeof p['nbf'] !== 'number' || p['nbf'] <= now + 300);
  if (!ok) throw badRequest('Invalid proof: the proof of possession token could not be validated.');
}

function addKey(ctx: GraphContext, key: string): GraphResult {
  const app = managed(ctx, key);
  const body = requireObjectBody(ctx.req.body);
  verifyProof(ctx, app, body['proof']);
  const input = body['keyCredential'];
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw requiredProperty('keyCredential', 'Application');
  const parsed = parseCertificate(input['key'], randomUUID());
  const creds = Array.isArray(app.props['keyCredentials']) ? app.props['keyCredentials'] : [];
  ctx.tenant.store.update(app, { keyCredentials: [...creds, parsed.credential] });
  ctx.tenant.store.setInternal(app, 'keys', [...storedKeys(app), parsed.stored] as unknown as Json);
  return { status: 200, body: { '@odata.context': `${ctx.graphUrl}/$metadata#microsoft.graph.keyCredential`, ...parsed.credential } };
}

function removeKey(ctx: GraphContext, key: string): GraphResult {
  const app = managed(ctx, key);
  const body = requireObjectBody(ctx.req.body);
  verifyProof(ctx, app, body['proof']);
  const keyId = String(body['keyId'] ?? '');
  const creds = Array.isArray(app.props['keyCredentials']) ? app.props['keyCredentials'] as JsonObject[] : [];
  if (!creds.some((c) => c['keyId'] === keyId)) throw notFound(keyId);
  ctx.tenant.store.update(app, { keyCredentials: creds.filter((c) => c['keyId'] !== keyId) });
  ctx.tenant.store.setInternal(app, 'keys', storedKeys(app).filter((k) => k.keyId !== keyId) as unknown as Json);
  return { status: 204 };
}

export function extensionPropertyJson(def: ExtensionPropertyDef): JsonObject {
  return {
    id: def.id, deletedDateTime: null, appDisplayName: def.appDisplayName, dataType: def.dataType, isMultiValued: def.isMultiValued,
    isSyncedFromOnPremises: def.isSyncedFromOnPremises, name: def.name, targetObjects: def.targetObjects,
  };
}

function createExtensionProperty(ctx: GraphContext, key: string): GraphResult {
  const app = managed(ctx, key);
  const body = requireObjectBody(ctx.req.body);
  const name = body['name'];
  if (typeof name !== 'string' || !/^[A-Za-z0-9_]{1,100}$/.test(name)) {
    throw name === undefined ? requiredProperty('name', 'ExtensionProperty') : invalidValue('name', 'ExtensionProperty');
  }
  const dataType = body['dataType'];
  if (typeof dataType !== 'string' || !EXTENSION_TYPES.has(dataType)) {
    throw dataType === undefined ? requiredProperty('dataType', 'ExtensionProperty') : invalidValue('dataType', 'ExtensionProperty');
  }
  const targets = body['targetObjects'];
  if (!Array.isArray(targets) || targets.length === 0) throw requiredProperty('targetObjects', 'ExtensionProperty');
  const targetObjects = targets.map((t) => {
    const found = EXTENSION_TARGETS.find((x) => typeof t === 'string' && x.toLowerCase() === t.toLowerCase());
    if (!found) throw invalidValue('targetObjects', 'ExtensionProperty');
    return found;
  });
  const isMultiValued = body['isMultiValued'] === true;
  const fullName = `extension_${idWithoutDashes(String(app.props['appId']))}_${name}`;
  if (ctx.tenant.store.extensionProperty(fullName)) throw objectConflict('name');
  const def: ExtensionPropertyDef = {
    id: randomUUID(), applicationObjectId: app.id, name: fullName, dataType: dataType as ExtensionPropertyDef['dataType'], isMultiValued,
    targetObjects, appDisplayName: String(app.props['displayName']), isSyncedFromOnPremises: false, deletedDateTime: null,
  };
  ctx.tenant.store.addExtensionProperty(def);
  return {
    status: 201,
    body: { '@odata.context': `${ctx.graphUrl}/$metadata#applications('${app.id}')/extensionProperties/$entity`, ...extensionPropertyJson(def) },
  };
}

export function registerApplicationRoutes(router: Router): void {
  router.add('GET', 'applications', PERMISSIONS.appRead, (ctx) => listCollection(ctx, {
    resource: APPLICATION_RESOURCE, items: [...ctx.tenant.store.liveObjects('application')].filter((a) => visible(ctx, a)), entitySet: 'applications',
  }), { ru: 2 });
  router.add('POST', 'applications', PERMISSIONS.appWrite, createApplication);
  router.add('GET', 'applications/{id}', PERMISSIONS.appRead, (ctx, p) => {
    const app = resolveApplication(ctx, p['id'] ?? '');
    if (!visible(ctx, app)) throw forbidden();
    return getOne(ctx, app);
  });
  router.add('PATCH', 'applications/{id}', PERMISSIONS.appWrite, (ctx, p) => updateApplication(ctx, p['id'] ?? ''));
  router.add('DELETE', 'applications/{id}', PERMISSIONS.appWrite, (ctx, p) => deleteApplication(ctx, p['id'] ?? ''));
  router.add('POST', 'applications/{id}/addPassword', PERMISSIONS.appWrite, (ctx, p) => addPassword(ctx, p['id'] ?? ''));
  router.add('POST', 'applications/{id}/removePassword', PERMISSIONS.appWrite, (ctx, p) => removePassword(ctx, p['id'] ?? ''));
  router.add('POST', 'applications/{id}/addKey', PERMISSIONS.appWrite, (ctx, p) => addKey(ctx, p['id'] ?? ''));
  router.add('POST', 'applications/{id}/removeKey', PERMISSIONS.appWrite, (ctx, p) => removeKey(ctx, p['id'] ?? ''));
  router.add('GET', 'applications/{id}/extensionProperties', PERMISSIONS.appRead, (ctx, p) => {
    const app = resolveApplication(ctx, p['id'] ?? '');
    const defs = ctx.tenant.store.extensionProperties.filter((d) => d.applicationObjectId === app.id);
    return { status: 200, body: { '@odata.context': `${ctx.graphUrl}/$metadata#applications('${app.id}')/extensionProperties`, value: defs.map(extensionPropertyJson) } };
  }, { ru: 2 });
  router.add('POST', 'applications/{id}/extensionProperties', PERMISSIONS.appWrite, (ctx, p) => createExtensionProperty(ctx, p['id'] ?? ''));
  router.add('GET', 'applications/{id}/extensionProperties/{propId}', PERMISSIONS.appRead, (ctx, p) => {
    const app = resolveApplication(ctx, p['id'] ?? '');
    const def = ctx.tenant.store.extensionProperties.find((d) => d.applicationObjectId === app.id && d.id === (p['propId'] ?? '').toLowerCase());
    if (!def) throw notFound(p['propId'] ?? '');
    return { status: 200, body: { '@odata.context': `${ctx.graphUrl}/$metadata#applications('${app.id}')/extensionProperties/$entity`, ...extensionPropertyJson(def) } };
  });
  router.add('DELETE', 'applications/{id}/extensionProperties/{propId}', PERMISSIONS.appWrite, (ctx, p) => {
    const app = managed(ctx, p['id'] ?? '');
    const def = ctx.tenant.store.extensionProperties.find((d) => d.applicationObjectId === app.id && d.id === (p['propId'] ?? '').toLowerCase());
    if (!def) throw notFound(p['propId'] ?? '');
    ctx.tenant.store.removeExtensionProperty(def.id);
    return { status: 204 };
  });
  router.add('POST', 'applications/{id}/owners/$ref', PERMISSIONS.appWrite, (ctx, p) => addOwnerRef(ctx, p['id'] ?? ''));
  router.add('DELETE', 'applications/{id}/owners/{ownerId}/$ref', PERMISSIONS.appWrite, (ctx, p) => removeOwnerRef(ctx, p['id'] ?? '', p['ownerId'] ?? ''));
  router.add('GET', 'applications/{id}/owners', PERMISSIONS.appRead, (ctx, p) => {
    const app = resolveApplication(ctx, p['id'] ?? '');
    const items = app.owners.map((o) => ctx.tenant.store.get(o)).filter((o): o is DirectoryObject => o !== undefined);
    return { status: 200, body: { '@odata.context': `${ctx.graphUrl}/$metadata#directoryObjects`, value: items.map((o) => projectObject(ctx, o, { includeType: true })) } };
  });
}
