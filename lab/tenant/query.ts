/**
 * OData query options on directory collections (graph-reference.md §2.3, §5): $select, $filter, $top,
 * $orderby, $count, $search, $expand, $skiptoken paging with absolute nextLinks, and the projection of
 * stored objects into Graph JSON.
 */
import type { GraphContext, GraphResult } from './context.ts';
import { GraphHttpError, badRequest, unsupportedQuery } from './errors.ts';
import type { DirectoryObject, Json, JsonObject } from './model.ts';
import { evaluateFilter, parseFilter, validateFilter, type FilterExpr } from './odata-filter.ts';
import {
  GROUP_RESOURCE, USER_RESOURCE, CONTACT_RESOURCE, SINGLE_USER_ONLY_PROPS, isExtensionPropertyName, resourceOf,
  type FilterCaps, type ResourceDef, type ValueType,
} from './resources.ts';

export type ExpandOption = { readonly name: string; readonly select: ReadonlyArray<string> | undefined };

export type QueryOptions = {
  readonly select: ReadonlyArray<string> | undefined;
  readonly filter: FilterExpr | undefined;
  readonly top: number;
  readonly topGiven: boolean;
  readonly orderBy: { readonly prop: string; readonly desc: boolean } | undefined;
  readonly count: boolean;
  readonly cursor: Cursor | undefined;
  readonly search: ReadonlyArray<{ prop: string; value: string; or: boolean }> | undefined;
  readonly expand: ReadonlyArray<ExpandOption>;
};

export type Cursor = { readonly s: number; readonly v?: string | number | null };

/** A pseudo resource for mixed collections (members, deleted items of several types). */
export const DIRECTORY_OBJECT_RESOURCE: ResourceDef = {
  type: 'user',
  entitySet: 'directoryObjects',
  odataType: '#microsoft.graph.directoryObject',
  resourceName: 'DirectoryObject',
  defaultProps: ['id'],
  knownProps: new Set([...USER_RESOURCE.knownProps, ...GROUP_RESOURCE.knownProps, ...CONTACT_RESOURCE.knownProps]),
  filter: { ...CONTACT_RESOURCE.filter, ...GROUP_RESOURCE.filter, ...USER_RESOURCE.filter },
  orderBy: { displayName: 'advanced' },
};

const canonicalCache = new WeakMap<ResourceDef, Map<string, string>>();

/** Graph treats property names case-insensitively. */
export function canonicalProperty(resource: ResourceDef, name: string): string {
  let map = canonicalCache.get(resource);
  if (!map) {
    map = new Map();
    for (const p of resource.knownProps) map.set(p.toLowerCase(), p);
    for (const p of Object.keys(resource.filter)) map.set(p.toLowerCase(), p);
    canonicalCache.set(resource, map);
  }
  return map.get(name.toLowerCase()) ?? name;
}

const EXTENSION_TYPES: Record<string, ValueType> = {
  String: 'string', Boolean: 'boolean', DateTime: 'datetime', Integer: 'number', LargeInteger: 'number', Binary: 'string',
};

export function filterCaps(ctx: GraphContext, resource: ResourceDef, path: string): FilterCaps | undefined {
  const canonical = canonicalProperty(resource, path);
  const caps = resource.filter[canonical];
  if (caps) return caps;
  if (isExtensionPropertyName(path)) {
    const def = ctx.tenant.store.extensionProperty(path);
    if (!def) return undefined;
    return {
      type: EXTENSION_TYPES[def.dataType] ?? 'string', eq: 'default', startsWith: 'advanced', eqNull: 'advanced',
      ...(def.isMultiValued ? { collection: true } : {}),
    };
  }
  return undefined;
}

export type PropertyReader = (obj: DirectoryObject, path: string) => Json | undefined;

/**
 * A property reader for one query: resolves each path once (case-insensitive names, directory extension
 * names through their definitions) and then reads objects directly.
 */
export function propertyReader(ctx: GraphContext | undefined, resource: ResourceDef): PropertyReader {
  const resolved = new Map<string, ReadonlyArray<string>>();
  const resolve = (path: string): ReadonlyArray<string> => {
    let segments = resolved.get(path);
    if (!segments) {
      segments = path.split('/').map((segment, index) => {
        if (index > 0) return segment.replace(/^extensionattribute(\d+)$/i, 'extensionAttribute$1');
        if (isExtensionPropertyName(segment)) return ctx?.tenant.store.extensionProperty(segment)?.name ?? segment;
        return canonicalProperty(resource, segment);
      });
      resolved.set(path, segments);
    }
    return segments;
  };
  return (obj, path) => {
    const segments = resolve(path);
    if (segments.length === 1 && segments[0]?.toLowerCase() === 'id') return obj.id;
    let value: Json | undefined = obj.props;
    for (const segment of segments) {
      if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) return undefined;
      value = (value as JsonObject)[segment];
    }
    return value;
  };
}

export function parseSelect(ctx: GraphContext, resource: ResourceDef, collection: boolean): string[] | undefined {
  const raw = ctx.req.query.get('$select');
  if (raw === null || raw.trim() === '') return undefined;
  return selectNames(ctx, resource, raw.split(',').map((n) => n.trim()).filter((n) => n !== ''), collection);
}

/** Validates `$select` names: known properties (case-insensitive) and directory extension names. */
export function selectNames(ctx: GraphContext, resource: ResourceDef, names: ReadonlyArray<string>, collection: boolean): string[] {
  return names.map((name) => {
    if (name === '*') return name;
    if (isExtensionPropertyName(name)) return ctx.tenant.store.extensionProperty(name)?.name ?? name;
    const canonical = canonicalProperty(resource, name);
    if (!resource.knownProps.has(canonical)) {
      throw badRequest(`Could not find a property named '${name}' on type '${resource.odataType.slice(1)}'.`);
    }
    if (collection && SINGLE_USER_ONLY_PROPS.has(canonical)) {
      throw new GraphHttpError(501, 'NotImplemented', 'This operation target is not yet supported.');
    }
    return canonical;
  });
}

function parseExpand(raw: string | null, allowed: ReadonlyArray<string>, resource: ResourceDef): ExpandOption[] {
  if (raw === null || raw.trim() === '') return [];
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of raw) {
    if (c === '(') depth += 1;
    if (c === ')') depth -= 1;
    if (c === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts.map((part) => {
    const m = /^\s*([A-Za-z]+)\s*(?:\((.*)\))?\s*$/.exec(part);
    const name = m?.[1];
    const found = name ? allowed.find((a) => a.toLowerCase() === name.toLowerCase()) : undefined;
    if (!found) throw badRequest(`Could not find a property named '${part.trim()}' on type '${resource.odataType.slice(1)}'.`);
    const inner = m?.[2];
    const select = inner ? /\$select=([^;]*)/i.exec(inner)?.[1]?.split(',').map((s) => s.trim()) : undefined;
    return { name: found, select };
  });
}

function parseSearch(raw: string): { prop: string; value: string; or: boolean }[] {
  const clauses: { prop: string; value: string; or: boolean }[] = [];
  const re = /(\b(?:AND|OR)\b\s*)?"([^":]+):([^"]*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(raw)) !== null) {
    clauses.push({ prop: m[2] ?? '', value: (m[3] ?? '').toLowerCase(), or: (m[1] ?? '').trim().toUpperCase() === 'OR' });
  }
  if (clauses.length === 0) throw badRequest(`Syntax error: character '${raw.charAt(0)}' is not valid at position 0 in '${raw}'.`);
  return clauses;
}

export function decodeCursor(token: string): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as Cursor).s === 'number') return parsed as Cursor;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  throw new GraphHttpError(400, 'Directory_ExpiredPageToken', 'The specified page token value has expired and can no longer be included in your request.');
}

export function encodeCursor(cursor: Cursor): string {
  return `X${Buffer.from(JSON.stringify(cursor)).toString('base64url')}`;
}

/** Parses and validates the query options of a collection request. */
export function parseQuery(ctx: GraphContext, resource: ResourceDef, options: { collection: boolean; expand?: ReadonlyArray<string> }): QueryOptions {
  const q = ctx.req.query;
  if (q.has('$skip')) throw badRequest("'$skip' is not supported by the service.");
  let top = 100;
  const topRaw = q.get('$top');
  if (topRaw !== null) {
    top = /^\d+$/.test(topRaw.trim()) ? Number(topRaw.trim()) : NaN;
    if (!(top >= 1 && top <= 999)) throw unsupportedQuery(`Invalid page size specified: '${topRaw}'. Must be between 1 and 999 inclusive.`);
  }
  const countRaw = q.get('$count');
  if (countRaw !== null && !/^(true|false)$/i.test(countRaw)) throw badRequest(`Invalid value '${countRaw}' for $count.`);
  const search = q.get('$search');
  if (search !== null && !ctx.eventual) {
    throw unsupportedQuery("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'");
  }
  const select = parseSelect(ctx, resource, options.collection);
  const filterRaw = q.get('$filter');
  let filter: FilterExpr | undefined;
  if (filterRaw !== null && filterRaw.trim() !== '') {
    filter = parseFilter(filterRaw);
    validateFilter(filter, { capsFor: (p) => filterCaps(ctx, resource, p), resourceName: resource.resourceName, advanced: ctx.advanced });
  }
  let orderBy: QueryOptions['orderBy'];
  const orderRaw = q.get('$orderby');
  if (orderRaw !== null && orderRaw.trim() !== '') {
    const m = /^\s*([A-Za-z_/]+)(?:\s+(asc|desc))?\s*$/i.exec(orderRaw);
    if (!m?.[1]) throw unsupportedQuery(`Unsupported sort specification '${orderRaw}'.`);
    const prop = canonicalProperty(resource, m[1]);
    const support = resource.orderBy[prop];
    if (!support) throw unsupportedQuery(`Unsupported sort property '${m[1]}' for '${resource.resourceName}'.`);
    if ((support === 'advanced' || filter !== undefined || search !== null) && !ctx.advanced) {
      throw unsupportedQuery('Sorting not supported for current query.');
    }
    orderBy = { prop, desc: (m[2] ?? '').toLowerCase() === 'desc' };
  }
  const expand = parseExpand(q.get('$expand'), options.expand ?? [], resource);
  if (expand.length > 0 && ctx.advanced) throw unsupportedQuery('$expand is not supported with advanced queries ($count=true and ConsistencyLevel: eventual).');
  const token = q.get('$skiptoken');
  return {
    select,
    filter,
    top,
    topGiven: topRaw !== null,
    orderBy,
    count: (countRaw ?? '').toLowerCase() === 'true',
    cursor: token ? decodeCursor(token.replace(/^X/, '')) : undefined,
    search: search !== null ? parseSearch(search) : undefined,
    expand,
  };
}

function searchMatches(obj: DirectoryObject, read: PropertyReader, clauses: ReadonlyArray<{ prop: string; value: string; or: boolean }>): boolean {
  let result = false;
  clauses.forEach((clause, index) => {
    const value = read(obj, clause.prop);
    const text = typeof value === 'string' ? value.toLowerCase() : '';
    const hit = text.startsWith(clause.value) || text.split(/[\s.,@_\-()]+/).some((w) => w.startsWith(clause.value));
    result = index === 0 ? hit : clause.or ? result || hit : result && hit;
  });
  return result;
}

export function matches(obj: DirectoryObject, read: PropertyReader, query: QueryOptions): boolean {
  if (query.filter && !evaluateFilter(query.filter, (path) => read(obj, path))) return false;
  if (query.search && !searchMatches(obj, read, query.search)) return false;
  return true;
}

export function openExtensionJson(ext: { extensionName: string; data: JsonObject }): JsonObject {
  return { '@odata.type': '#microsoft.graph.openTypeExtension', ...ext.data, extensionName: ext.extensionName, id: ext.extensionName };
}

/** Graph JSON of one object: the default property set or `$select`, plus expansions. */
export function projectObject(ctx: GraphContext, obj: DirectoryObject, options: {
  select?: ReadonlyArray<string> | undefined; includeType?: boolean; expand?: ReadonlyArray<ExpandOption>;
}): JsonObject {
  const resource = resourceOf(obj.type);
  const out: JsonObject = {};
  if (options.includeType) out['@odata.type'] = resource.odataType;
  const names = options.select && !options.select.includes('*') ? options.select : resource.defaultProps;
  for (const name of names) {
    if (name === 'id') {
      out['id'] = obj.id;
    } else if (isExtensionPropertyName(name)) {
      const key = Object.keys(obj.props).find((k) => k.toLowerCase() === name.toLowerCase());
      const value = key ? obj.props[key] : undefined;
      if (key && value !== undefined && value !== null) out[key] = value;
    } else if (resource.knownProps.has(name)) {
      out[name] = name === 'passwordProfile' ? null : obj.props[name] ?? null;
    }
  }
  if (options.select?.includes('*')) {
    for (const [key, value] of Object.entries(obj.props)) if (isExtensionPropertyName(key) && value !== null) out[key] = value;
  }
  for (const option of options.expand ?? []) {
    if (option.name === 'members') {
      const members = obj.members.map((id) => ctx.tenant.store.get(id)).filter((m): m is DirectoryObject => m !== undefined).slice(0, 20);
      out['members'] = members.map((m) => projectObject(ctx, m, { select: option.select, includeType: true }));
    } else if (option.name === 'extensions') {
      out['extensions'] = obj.extensions.map(openExtensionJson);
    } else if (option.name === 'manager') {
      const manager = ctx.tenant.store.managerOf(obj);
      if (manager) out['manager'] = projectObject(ctx, manager, { select: option.select, includeType: true });
    } else if (option.name === 'owners') {
      const owners = obj.owners.map((id) => ctx.tenant.store.get(id)).filter((m): m is DirectoryObject => m !== undefined).slice(0, 20);
      out['owners'] = owners.map((m) => projectObject(ctx, m, { select: option.select, includeType: true }));
    }
  }
  return out;
}

export function contextUrl(ctx: GraphContext, entitySet: string, select: ReadonlyArray<string> | undefined, entity = false): string {
  const selectPart = select && select.length > 0 ? `(${select.join(',')})` : '';
  return `${ctx.graphUrl}/$metadata#${entitySet}${selectPart}${entity ? '/$entity' : ''}`;
}

function nextLink(ctx: GraphContext, token: string): string {
  const kept = ctx.req.rawQuery.split('&').filter((p) => p !== '' && !/^(\$|%24)skiptoken=/i.test(p));
  kept.push(`$skiptoken=${token}`);
  return `${ctx.graphUrl}${ctx.req.path}?${kept.join('&')}`;
}

function sortValue(obj: DirectoryObject, read: PropertyReader, prop: string): string | number | null {
  const value = read(obj, prop);
  if (typeof value === 'string') return value.toLowerCase();
  if (typeof value === 'number') return value;
  return null;
}

function compareKeys(a: { v: string | number | null; s: number }, b: { v: string | number | null; s: number }, desc: boolean): number {
  if (a.v !== b.v) {
    if (a.v === null) return 1;
    if (b.v === null) return -1;
    const c = a.v < b.v ? -1 : 1;
    return desc ? -c : c;
  }
  return a.s - b.s;
}

export type CollectionSource = {
  readonly resource: ResourceDef;
  /** Candidates in paging order. */
  readonly items: Iterable<DirectoryObject>;
  /** Paging key of an item (default listSeq; index for membership lists). */
  readonly seqOf?: (obj: DirectoryObject, index: number) => number;
  /** `users`, `directoryObjects`…: the @odata.context is built from it and $select. */
  readonly entitySet: string;
  readonly includeType?: boolean;
  readonly expand?: ReadonlyArray<string>;
  /** Index lookups (`userPrincipalName`, `proxyAddresses/any`…) that narrow an eq filter before scanning. */
  readonly lookup?: IndexLookup;
};

/** Objects whose property `path` may equal `value` (a superset is fine); undefined = not indexed. */
export type IndexLookup = (path: string, value: string) => ReadonlyArray<DirectoryObject> | undefined;

/** Candidates for a filter from indices, or undefined when the filter needs a scan. */
export function indexedCandidates(expr: FilterExpr, lookup: IndexLookup): Map<string, DirectoryObject> | undefined {
  const single = (path: string, value: unknown): Map<string, DirectoryObject> | undefined => {
    if (typeof value !== 'string') return undefined;
    const found = lookup(path.toLowerCase(), value);
    return found ? new Map(found.map((o) => [o.id, o])) : undefined;
  };
  switch (expr.kind) {
    case 'cmp':
      if (expr.op !== 'eq' || expr.left.kind !== 'prop' || expr.right.kind !== 'lit') return undefined;
      return single(expr.left.path, expr.right.value);
    case 'in': {
      if (expr.left.kind !== 'prop') return undefined;
      const out = new Map<string, DirectoryObject>();
      for (const v of expr.values) {
        const part = single(expr.left.path, v);
        if (!part) return undefined;
        for (const [id, o] of part) out.set(id, o);
      }
      return out;
    }
    case 'or': {
      const left = indexedCandidates(expr.left, lookup);
      const right = left ? indexedCandidates(expr.right, lookup) : undefined;
      if (!left || !right) return undefined;
      for (const [id, o] of right) left.set(id, o);
      return left;
    }
    case 'and':
      return indexedCandidates(expr.left, lookup) ?? indexedCandidates(expr.right, lookup);
    case 'any': {
      const body = expr.body;
      if (!body || body.kind !== 'cmp' || body.op !== 'eq' || body.left.kind !== 'var' || body.right.kind !== 'lit') return undefined;
      return single(`${expr.path}/any`, body.right.value);
    }
    default:
      return undefined;
  }
}

/** Lists a collection with filter, search, order, paging and projection. */
export function listCollection(ctx: GraphContext, source: CollectionSource): GraphResult {
  const query = parseQuery(ctx, source.resource, { collection: true, expand: source.expand ?? [] });
  return listWithQuery(ctx, source, query);
}

export function listWithQuery(ctx: GraphContext, source: CollectionSource, query: QueryOptions): GraphResult {
  const seqOf = source.seqOf ?? ((obj: DirectoryObject) => obj.listSeq);
  const read = propertyReader(ctx, source.resource);
  const candidates = query.filter && source.lookup && !source.seqOf ? indexedCandidates(query.filter, source.lookup) : undefined;
  // Eventual consistency: the primary's indices do not know what a lagging replica still has (e.g. an old UPN);
  // the objects with pending changes are candidates too (every candidate is matched against the filter).
  if (candidates) for (const obj of ctx.tenant.store.pendingInView(source.resource.type)) candidates.set(obj.id, obj);
  const items: Iterable<DirectoryObject> = candidates ? [...candidates.values()].sort((a, b) => a.listSeq - b.listSeq) : source.items;
  const cursor = query.cursor;
  const pageSize = query.top;
  let page: DirectoryObject[] = [];
  let more = false;
  let last: { v: string | number | null; s: number } | undefined;
  let total = 0;
  const wantCount = query.count && ctx.advanced && cursor === undefined;
  if (query.orderBy) {
    const { prop, desc } = query.orderBy;
    const keyed: { obj: DirectoryObject; key: { v: string | number | null; s: number } }[] = [];
    let index = 0;
    for (const obj of items) {
      const s = seqOf(obj, index);
      index += 1;
      if (!matches(obj, read, query)) continue;
      keyed.push({ obj, key: { v: sortValue(obj, read, prop), s } });
    }
    total = keyed.length;
    keyed.sort((a, b) => compareKeys(a.key, b.key, desc));
    const start = cursor ? keyed.findIndex((k) => compareKeys(k.key, { v: cursor.v ?? null, s: cursor.s }, desc) > 0) : 0;
    const slice = start < 0 ? [] : keyed.slice(start, start + pageSize + 1);
    more = slice.length > pageSize;
    const taken = slice.slice(0, pageSize);
    page = taken.map((k) => k.obj);
    last = taken[taken.length - 1]?.key;
  } else {
    let index = 0;
    for (const obj of items) {
      const s = seqOf(obj, index);
      index += 1;
      if (cursor && s <= cursor.s) continue;
      if (!matches(obj, read, query)) continue;
      if (page.length >= pageSize) {
        more = true;
        if (!wantCount) break;
        total += 1;
        continue;
      }
      page.push(obj);
      total += 1;
      last = { v: null, s };
    }
  }
  const body: JsonObject = { '@odata.context': contextUrl(ctx, source.entitySet, query.select) };
  if (wantCount) body['@odata.count'] = total;
  if (more && last) body['@odata.nextLink'] = nextLink(ctx, encodeCursor(query.orderBy ? { s: last.s, v: last.v } : { s: last.s }));
  body['value'] = page.map((obj) => projectObject(ctx, obj, { select: query.select, includeType: source.includeType === true, expand: query.expand }));
  return { status: 200, body };
}

/** `GET …/$count`: text/plain, requires ConsistencyLevel: eventual. */
export function countCollection(ctx: GraphContext, resource: ResourceDef, items: Iterable<DirectoryObject>): GraphResult {
  if (!ctx.eventual) throw badRequest('$count is not currently supported.');
  const advancedCtx: GraphContext = { ...ctx, advanced: true };
  const query = parseQuery(advancedCtx, resource, { collection: true });
  const read = propertyReader(ctx, resource);
  let n = 0;
  for (const obj of items) if (matches(obj, read, query)) n += 1;
  return { status: 200, text: String(n) };
}

/** `GET /users/{id}` and friends: `$select` and `$expand` on one object. */
export function getOne(ctx: GraphContext, obj: DirectoryObject, options: { expand?: ReadonlyArray<string> } = {}): GraphResult {
  const resource = resourceOf(obj.type);
  const select = parseSelect(ctx, resource, false);
  const expand = parseExpand(ctx.req.query.get('$expand'), options.expand ?? [], resource);
  const body: JsonObject = { '@odata.context': contextUrl(ctx, resource.entitySet, select, true), ...projectObject(ctx, obj, { select, expand }) };
  return { status: 200, body };
}
