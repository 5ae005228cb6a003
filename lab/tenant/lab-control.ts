/**
 * The lab-only control API under `/_lab` (Bearer labControlKey): fault injection, request log, state dump,
 * reset, device-code approval, clock, throttling budgets, eventual consistency, the old sync server (old-sync.ts). `GET /_lab/health` needs no key.
 */
import { parseConsistency } from './consistency.ts';
import type { Json, JsonObject } from './model.ts';
import { parseFaultRule } from './faults.ts';
import { parseOldSync } from './old-sync.ts';
import { DeviceApprovalError, approveDeviceCode } from './identity.ts';
import type { TenantSeed } from './seed.ts';
import type { Tenant } from './tenant.ts';
import type { ThrottleBudgets } from './throttling.ts';

export type LabControlHooks = {
  readonly reset: (seed?: TenantSeed) => void;
  readonly dump: () => JsonObject;
};

export type LabResponse = { readonly status: number; readonly body?: Json };

function parseJson(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** Applies a partial budget object received as JSON (numbers and `enabled` only). */
export function mergeBudgets(current: ThrottleBudgets, input: unknown): ThrottleBudgets {
  if (typeof input !== 'object' || input === null) return current;
  const out: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(input)) {
    if (!(key in current) && key !== 'appTenantResourceUnits') continue;
    if (key === 'enabled' && typeof value === 'boolean') out[key] = value;
    else if (typeof value === 'number' && value > 0) out[key] = value;
    else if (value === null && key === 'appTenantResourceUnits') out[key] = undefined;
  }
  return out as ThrottleBudgets;
}

export function handleLabControl(tenant: Tenant, hooks: LabControlHooks, method: string, url: URL, authorization: string | undefined, bodyText: string): LabResponse {
  const path = url.pathname.replace(/\/+$/, '');
  if (path === '/_lab/health' && method === 'GET') {
    return { status: 200, body: { ok: true, tenantId: tenant.settings.tenantId, now: new Date(tenant.clock.now()).toISOString() } };
  }
  if (authorization !== `Bearer ${tenant.settings.labControlKey}`) {
    return { status: 401, body: { error: { code: 'Unauthorized', message: 'The lab control API requires Authorization: Bearer <labControlKey>.' } } };
  }
  const body = parseJson(bodyText);
  if (body === undefined) return { status: 400, body: { error: { code: 'BadRequest', message: 'Body must be JSON.' } } };
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const route = `${method} ${path}`;
  switch (route) {
    case 'POST /_lab/faults': {
      const rule = parseFaultRule(body);
      if (typeof rule === 'string') return { status: 400, body: { error: { code: 'BadRequest', message: rule } } };
      const added = tenant.faults.add(rule);
      return { status: 201, body: JSON.parse(JSON.stringify(added)) as Json };
    }
    case 'GET /_lab/faults':
      return { status: 200, body: { value: JSON.parse(JSON.stringify(tenant.faults.list())) as Json } };
    case 'DELETE /_lab/faults':
      tenant.faults.clear();
      return { status: 204 };
    case 'GET /_lab/requests': {
      const since = Number(url.searchParams.get('since') ?? 0);
      return { status: 200, body: { value: JSON.parse(JSON.stringify(tenant.log.list(Number.isFinite(since) ? since : 0))) as Json } };
    }
    case 'DELETE /_lab/requests':
      tenant.log.clear();
      return { status: 204 };
    case 'GET /_lab/state':
      return { status: 200, body: hooks.dump() };
    case 'POST /_lab/reset':
      hooks.reset(b['seed'] as TenantSeed | undefined);
      return { status: 204 };
    case 'POST /_lab/device/approve': {
      try {
        const result = approveDeviceCode(tenant, String(b['user_code'] ?? ''), String(b['upn'] ?? tenant.settings.globalAdminUpn),
          typeof b['password'] === 'string' ? b['password'] : undefined);
        return { status: 200, body: { approved: true, userId: result.userId } };
      } catch (error) {
        if (error instanceof DeviceApprovalError) return { status: error.status, body: { error: { code: 'BadRequest', message: error.message } } };
        throw error;
      }
    }
    case 'GET /_lab/device/pending':
      return { status: 200, body: { value: [...tenant.deviceCodes.values()].filter((d) => !d.redeemed && d.approvedUserId === undefined)
        .map((d) => ({ user_code: d.userCode, clientId: d.clientId, scopes: [...d.scopes] })) } };
    case 'GET /_lab/clock':
      return { status: 200, body: { now: new Date(tenant.clock.now()).toISOString(), offsetSeconds: tenant.clock.offsetMs / 1000 } };
    case 'POST /_lab/clock': {
      const seconds = Number(b['advanceSeconds'] ?? 0);
      if (!Number.isFinite(seconds) || seconds < 0) return { status: 400, body: { error: { code: 'BadRequest', message: 'advanceSeconds must be a non-negative number.' } } };
      tenant.clock.advance(seconds);
      tenant.forcePurge();
      tenant.onChange();
      return { status: 200, body: { now: new Date(tenant.clock.now()).toISOString(), offsetSeconds: tenant.clock.offsetMs / 1000 } };
    }
    case 'GET /_lab/budgets':
      return { status: 200, body: { ...tenant.throttler.budgets, usage: tenant.throttler.describe() } as unknown as Json };
    case 'PUT /_lab/budgets':
    case 'PATCH /_lab/budgets':
      tenant.throttler.budgets = mergeBudgets(tenant.throttler.budgets, body);
      tenant.throttler.reset();
      return { status: 200, body: tenant.throttler.budgets as unknown as Json };
    case 'GET /_lab/consistency':
      return { status: 200, body: tenant.consistencyState() as unknown as Json };
    case 'PUT /_lab/consistency': {
      const parsed = parseConsistency(body);
      if ('error' in parsed) return { status: 400, body: { error: { code: 'BadRequest', message: parsed.error } } };
      tenant.setConsistency(parsed.options);
      return { status: 200, body: tenant.consistencyState() as unknown as Json };
    }
    case 'DELETE /_lab/consistency':
      tenant.setConsistency(undefined);
      return { status: 204 };
    case 'GET /_lab/consistency/pending':
      return { status: 200, body: tenant.pendingReplication() as unknown as Json };
    case 'GET /_lab/old-sync':
      return { status: 200, body: tenant.oldSync.state() as unknown as Json };
    case 'PUT /_lab/old-sync': {
      const parsed = parseOldSync(body);
      if (typeof parsed === 'string') return { status: 400, body: { error: { code: 'BadRequest', message: parsed } } };
      tenant.oldSync.configure(parsed);
      tenant.onChange();
      return { status: 200, body: tenant.oldSync.state() as unknown as Json };
    }
    default:
      return { status: 404, body: { error: { code: 'NotFound', message: `No lab control endpoint ${route}.` } } };
  }
}
