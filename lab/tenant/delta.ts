/**
 * Delta queries (graph-reference.md §6) for users, groups and contacts: rounds of nextLink pages ending
 * in a deltaLink, `$deltatoken=latest`, `$select`-scoped change tracking, `@removed` (changed = soft
 * deleted, deleted = gone), `members@delta` on groups, `Prefer: return=minimal`, 7-day token expiry
 * (410 Gone with a Location to restart).
 */
import type { GraphContext, GraphResult } from './context.ts';
import { GraphHttpError, badRequest, unsupportedQuery } from './errors.ts';
import type { DirectoryObject, Json, JsonObject, ObjectType } from './model.ts';
import { parseFilter, type FilterExpr } from './odata-filter.ts';
import { PERMISSIONS } from './permissions.ts';
import { contextUrl, projectObject, selectNames } from './query.ts';
import { CONTACT_RESOURCE, GROUP_RESOURCE, USER_RESOURCE, resourceOf, type ResourceDef } from './resources.ts';
import type { Router } from './router.ts';
import type { DirectoryStore } from './store.ts';

const TOKEN_LIFETIME_MS = 7 * 24 * 3600 * 1000;
const DEFAULT_PAGE_SIZE = 100;

type DeltaState = {
  /** Change sequence the round starts after. */
  f: number;
  /** Snapshot sequence of the round (pages only). */
  t?: number;
  /** Last id emitted (pages only). */
  a?: string;
  sel: string[] | null;
  ids: string[] | null;
  m: boolean;
  /** Emulator-clock time the round started (expiry). */
  i: number;
};

function encodeState(state: DeltaState): string {
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

function decodeState(token: string): DeltaState {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as DeltaState).f === 'number') return parsed as DeltaState;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  throw badRequest('The delta token is not valid.');
}

function idsFromFilter(expr: FilterExpr): string[] {
  if (expr.kind === 'or') return [...idsFromFilter(expr.left), ...idsFromFilter(expr.right)];
  if (expr.kind === 'cmp' && expr.op === 'eq' && expr.left.kind === 'prop' && expr.left.path.toLowerCase() === 'id'
    && expr.right.kind === 'lit' && typeof expr.right.value === 'string') {
    return [expr.right.value.toLowerCase()];
  }
  throw unsupportedQuery('Only id filters (id eq \'…\' joined with or) are supported on delta queries.');
}

function memberDelta(ctx: GraphContext, group: DirectoryObject, from: number, to: number): Json[] {
  const store = ctx.tenant.store;
  if (from === 0) {
    return group.members
      .map((id) => store.get(id))
      .filter((m): m is DirectoryObject => m !== undefined)
      .map((m) => ({ '@odata.type': resourceOf(m.type).odataType, id: m.id }));
  }
  const last = new Map<string, { removed: boolean; type: ObjectType }>();
  for (const e of store.memberEvents.get(group.id) ?? []) {
    if (e.seq > from && e.seq <= to) last.set(e.memberId, { removed: e.removed, type: e.memberType });
  }
  return [...last].map(([id, e]) => ({
    '@odata.type': resourceOf(e.type).odataType, id, ...(e.removed ? { '@removed': { reason: 'deleted' } } : {}),
  }));
}

function relevantProps(state: DeltaState, resource: ResourceDef): string[] | null {
  if (!state.sel) return null;
  const props = new Set(state.sel);
  props.add('deletedDateTime');
  if (state.m && resource.type === 'group') props.add('members');
  return [...props];
}

function changedInRange(obj: DirectoryObject, props: string[] | null, from: number, to: number): boolean {
  const inRange = (seq: number): boolean => seq > from && seq <= to;
  if (!props) return inRange(obj.changeSeq) || inRange(obj.baseSeq) || Object.values(obj.propSeq).some(inRange);
  return inRange(obj.baseSeq) || props.some((p) => inRange(obj.propSeq[p] ?? obj.baseSeq));
}

type RoundEntry = { readonly id: string };

/** The sorted ids of one round, cached per store so that paging a large round does not rescan the directory. */
const roundCache = new WeakMap<DirectoryStore, Map<string, RoundEntry[]>>();

function roundEntries(store: DirectoryStore, resource: ResourceDef, state: DeltaState, props: string[] | null, from: number, to: number): RoundEntry[] {
  const key = JSON.stringify([resource.type, from, to, state.sel, state.ids, state.m]);
  let cache = roundCache.get(store);
  if (!cache) {
    cache = new Map();
    roundCache.set(store, cache);
  }
  // A lagging replica's round is not cached: the same range holds other objects on another replica.
  const replica = store.inReplicaView();
  const cached = replica ? undefined : cache.get(key);
  if (cached) return cached;
  const wanted = (id: string): boolean => !state.ids || state.ids.includes(id);
  const entries: RoundEntry[] = [];
  for (const obj of store.allObjects()) {
    if (obj.type !== resource.type || !wanted(obj.id)) continue;
    if (from === 0 ? obj.deletedAt === null : changedInRange(obj, props, from, to)) entries.push({ id: obj.id });
  }
  if (from > 0) {
    for (const t of store.tombstones) if (t.type === resource.type && t.seq > from && t.seq <= to && wanted(t.id)) entries.push({ id: t.id });
  }
  entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (replica) return entries;
  cache.set(key, entries);
  if (cache.size > 16) cache.delete(cache.keys().next().value ?? '');
  return entries;
}

function deltaRound(ctx: GraphContext, resource: ResourceDef, entitySet: string): GraphResult {
  const q = ctx.req.query;
  const tenant = ctx.tenant;
  const store = tenant.store;
  const now = tenant.clock.now();
  const skip = q.get('$skiptoken');
  const delta = q.get('$deltatoken') ?? q.get('$deltaToken');
  const restart = `${ctx.graphUrl}/${entitySet}/delta?$deltatoken=`;
  let state: DeltaState;
  if (skip) {
    state = decodeState(skip);
  } else if (delta && delta.toLowerCase() === 'latest') {
    const fresh = initialState(ctx, resource);
    const link = `${ctx.graphUrl}/${entitySet}/delta?$deltatoken=${encodeState({ ...fresh, f: store.visibleSeq(), i: now })}`;
    return { status: 200, body: { '@odata.context': contextUrl(ctx, entitySet, fresh.sel ?? undefined), value: [], '@odata.deltaLink': link } };
  } else if (delta) {
    state = decodeState(delta);
  } else {
    state = initialState(ctx, resource);
  }
  if (now - state.i > TOKEN_LIFETIME_MS || state.f > store.seq) {
    throw new GraphHttpError(410, 'syncStateNotFound', 'The sync state is no longer available (the delta token has expired). Restart with a full synchronization.',
      { headers: { Location: restart } });
  }
  // On a lagging replica the round ends before the first change the replica has not received, so that the
  // next round (which starts where this one ends) delivers it once it has replicated: no change is lost.
  const from = state.f;
  const to = state.t ?? Math.max(from, store.visibleSeq());
  const props = relevantProps(state, resource);
  const minimal = /return=minimal/i.test(ctx.req.headers['prefer'] ?? '') && from > 0;
  const pageSize = Math.min(999, Math.max(1, Number(/odata\.maxpagesize=(\d+)/i.exec(ctx.req.headers['prefer'] ?? '')?.[1] ?? DEFAULT_PAGE_SIZE)));
  const entries = roundEntries(store, resource, state, props, from, to);
  const start = state.a ? entries.findIndex((e) => e.id > (state.a ?? '')) : 0;
  const page = start < 0 ? [] : entries.slice(start, start + pageSize);
  const more = start >= 0 && entries.length > start + pageSize;
  const value: Json[] = page.map((e) => {
    const obj = store.getAny(e.id);
    if (!obj) return { id: e.id, '@removed': { reason: 'deleted' } };
    if (obj.deletedAt !== null) return { id: e.id, '@removed': { reason: 'changed' } };
    let select = state.sel ?? resource.defaultProps.filter((p) => p !== 'id');
    if (minimal) select = select.filter((p) => (obj.propSeq[p] ?? obj.baseSeq) > from);
    const out: JsonObject = { ...projectObject(ctx, obj, { select: ['id', ...select.filter((p) => p !== 'members')] }) };
    for (const [key, v] of Object.entries(out)) {
      if (v === null && obj.propSeq[key] === undefined) delete out[key];
    }
    if (resource.type === 'group' && state.m) {
      const members = memberDelta(ctx, obj, from, to);
      if (members.length > 0 || from === 0) out['members@delta'] = members;
    }
    return out;
  });
  const body: JsonObject = { '@odata.context': contextUrl(ctx, entitySet, state.sel ?? undefined) };
  const lastId = page[page.length - 1]?.id;
  if (more && lastId) body['@odata.nextLink'] = `${ctx.graphUrl}/${entitySet}/delta?$skiptoken=${encodeState({ ...state, t: to, a: lastId })}`;
  else body['@odata.deltaLink'] = `${ctx.graphUrl}/${entitySet}/delta?$deltatoken=${encodeState({ f: to, sel: state.sel, ids: state.ids, m: state.m, i: now })}`;
  body['value'] = value;
  return { status: 200, body };
}

function initialState(ctx: GraphContext, resource: ResourceDef): DeltaState {
  const q = ctx.req.query;
  if (q.has('$orderby')) throw unsupportedQuery('$orderby is not supported on delta queries.');
  const names = (q.get('$select') ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
  const wantsMembers = names.some((n) => n.toLowerCase() === 'members');
  const selectRaw = names.length > 0 ? selectNames(ctx, resource, names.filter((n) => n.toLowerCase() !== 'members'), true) : undefined;
  const expand = (q.get('$expand') ?? '').toLowerCase();
  if (expand !== '' && !(resource.type === 'group' && expand.startsWith('members'))) throw unsupportedQuery('$expand is not supported on delta queries.');
  const sel = selectRaw ? [...selectRaw.filter((p) => p !== 'id'), ...(wantsMembers ? ['members'] : [])] : null;
  const members = resource.type === 'group' && (sel === null || sel.includes('members') || expand.startsWith('members'));
  const filterRaw = q.get('$filter');
  let ids: string[] | null = null;
  if (filterRaw) {
    ids = idsFromFilter(parseFilter(filterRaw));
    if (ids.length > 50) throw unsupportedQuery('A delta query filter can name at most 50 ids.');
  }
  return { f: 0, sel, ids, m: members, i: ctx.tenant.clock.now() };
}

export function registerDeltaRoutes(router: Router): void {
  router.add('GET', 'users/delta', PERMISSIONS.userRead, (ctx) => deltaRound(ctx, USER_RESOURCE, 'users'));
  router.add('GET', 'groups/delta', PERMISSIONS.groupRead, (ctx) => deltaRound(ctx, GROUP_RESOURCE, 'groups'));
  router.add('GET', 'contacts/delta', PERMISSIONS.contactRead, (ctx) => deltaRound(ctx, CONTACT_RESOURCE, 'contacts'));
}
