/**
 * The tool a tenant is synchronized by before Directory Sync takes over (Entra Connect, Cloud Sync or DirSync),
 * and the tenant-wide switch that ends it (graph-reference.md §9.2; docs/takeover.md).
 *
 * - **The old server**: while it "runs", the organization's `onPremisesLastSyncDateTime` moves to the end of
 *   each of its cycles (`cycleMs`); stopped, it stays. Once directory synchronization is off, it stops moving
 *   whatever the old server does (Connect's exports are refused then).
 * - **The switch**: `PATCH /organization/{id}` with `{"OnPremisesSyncEnabled": false}` — the request
 *   Microsoft's Set-EntraDirSyncEnabled sends — needs the delegated scope
 *   `OnPremDirectorySynchronization.ReadWrite.All` of a Global or Hybrid Identity Administrator (or that
 *   application permission); `Organization.ReadWrite.All` alone is refused (403). The organization says
 *   `onPremisesSyncEnabled: false` at once; its synchronized objects are converted to cloud objects
 *   asynchronously, `conversionPerSecond` at a time ("can take up to 72 hours"), each keeping its
 *   on-premises identifiers (immutable id, SID) with `onPremisesSyncEnabled: false`. While objects remain,
 *   turning synchronization back on is refused (400: the process cannot be cancelled).
 *
 * Everything advances lazily, on the tenant's clock, when a request arrives: no timers.
 */
import type { Principal } from './context.ts';
import { GraphHttpError, forbidden } from './errors.ts';
import type { DirectoryObject } from './model.ts';
import type { Tenant } from './tenant.ts';

export const DIRSYNC_SWITCH_PERMISSION = 'OnPremDirectorySynchronization.ReadWrite.All';
/** Roles whose holders may turn directory synchronization off (delegated). */
const SWITCH_ROLES = new Set(['Global Administrator', 'Hybrid Identity Administrator']);

export type OldSyncSettings = {
  /** Whether the old server still runs its sync cycles. */
  readonly running: boolean;
  /** Its cycle (Entra Connect: 30 min by default; Cloud Sync: 2 min). */
  readonly cycleMs: number;
  /** How many synchronized objects the switch converts per second. */
  readonly conversionPerSecond: number;
};

export type OldSyncState = OldSyncSettings & {
  readonly lastSyncDateTime: string | null;
  readonly onPremisesSyncEnabled: boolean | null;
  /** Synchronized users, groups and contacts not yet converted. */
  readonly remaining: number;
  readonly converting: boolean;
};

export const DEFAULT_OLD_SYNC: OldSyncSettings = { running: false, cycleMs: 30 * 60_000, conversionPerSecond: 50 };

const SYNCED_TYPES = new Set(['user', 'group', 'orgContact']);

export class OldSync {
  settings: OldSyncSettings = DEFAULT_OLD_SYNC;
  /** When the old server's current run of cycles began (cycle ends are counted from it). */
  private cyclesFrom = 0;
  /** The conversion in progress: when it (or this process's part of it) began, and how many it converted since. */
  private conversion: { startedAt: number; converted: number } | undefined;
  /** Synchronization is off and nothing is left to convert: nothing to look at until it is turned on again. */
  private settled = false;

  constructor(private readonly tenant: Tenant) {}

  configure(patch: Partial<OldSyncSettings>): void {
    const wasRunning = this.settings.running;
    this.settings = { ...this.settings, ...patch };
    if (this.settings.running && (!wasRunning || patch.cycleMs !== undefined)) {
      this.cyclesFrom = this.tenant.clock.now();
      this.stamp(this.cyclesFrom);
    }
  }

  /** A new directory (lab reset): no old server running, no conversion. */
  reset(): void {
    this.settings = DEFAULT_OLD_SYNC;
    this.conversion = undefined;
    this.settled = false;
  }

  /** Brings the old server and the conversion up to the tenant's clock. */
  advance(): void {
    const org = this.tenant.organization();
    const now = this.tenant.clock.now();
    if (org.props['onPremisesSyncEnabled'] === true && this.settings.running) {
      const cycles = Math.floor((now - this.cyclesFrom) / this.settings.cycleMs);
      const end = this.cyclesFrom + cycles * this.settings.cycleMs;
      const last = Date.parse(String(org.props['onPremisesLastSyncDateTime'] ?? ''));
      if (!Number.isFinite(last) || end > last) this.stamp(end);
    }
    if (org.props['onPremisesSyncEnabled'] !== false) {
      this.settled = false;
      return;
    }
    if (this.settled) return;
    const remaining = this.syncedObjects();
    if (remaining.length === 0) {
      this.conversion = undefined;
      this.settled = true;
      return;
    }
    this.conversion ??= { startedAt: now, converted: 0 };
    const due = Math.floor(((now - this.conversion.startedAt) / 1000) * this.settings.conversionPerSecond) - this.conversion.converted;
    for (const obj of remaining.slice(0, Math.max(0, due))) {
      this.tenant.store.update(obj, { onPremisesSyncEnabled: false });
      this.conversion.converted += 1;
    }
  }

  /**
   * `onPremisesSyncEnabled` in a PATCH of the organization: who may change it, and what follows. Returns
   * the value to store.
   */
  switchTo(principal: Principal, value: boolean): boolean {
    if (!this.maySwitch(principal)) throw forbidden();
    this.advance();
    const org = this.tenant.organization();
    if (value && org.props['onPremisesSyncEnabled'] === false && this.syncedObjects().length > 0) {
      throw new GraphHttpError(400, 'Request_BadRequest',
        'Directory synchronization is being turned off for this tenant. The process cannot be cancelled; try again after it has completed.');
    }
    if (!value && org.props['onPremisesSyncEnabled'] !== false) {
      this.conversion = { startedAt: this.tenant.clock.now(), converted: 0 };
      this.settled = false;
    }
    return value;
  }

  state(): OldSyncState {
    this.advance();
    const org = this.tenant.organization();
    const remaining = this.settled ? 0 : this.syncedObjects().length;
    const enabled = org.props['onPremisesSyncEnabled'];
    return {
      ...this.settings,
      lastSyncDateTime: typeof org.props['onPremisesLastSyncDateTime'] === 'string' ? org.props['onPremisesLastSyncDateTime'] : null,
      onPremisesSyncEnabled: typeof enabled === 'boolean' ? enabled : null, remaining, converting: enabled === false && remaining > 0,
    };
  }

  private maySwitch(principal: Principal): boolean {
    if (principal.kind === 'app') return principal.roles.has(DIRSYNC_SWITCH_PERMISSION);
    return principal.scopes.has(DIRSYNC_SWITCH_PERMISSION) && this.tenant.rolesOf(principal.userId).some((r) => SWITCH_ROLES.has(r));
  }

  private stamp(time: number): void {
    this.tenant.store.update(this.tenant.organization(), { onPremisesLastSyncDateTime: new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z') });
  }

  private syncedObjects(): DirectoryObject[] {
    return [...this.tenant.store.allObjects()]
      .filter((o) => SYNCED_TYPES.has(o.type) && o.deletedAt === null && o.props['onPremisesSyncEnabled'] === true)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/** `PUT /_lab/old-sync` body → settings, or an error message. */
export function parseOldSync(input: unknown): Partial<OldSyncSettings> | string {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return 'Body must be a JSON object.';
  const out: { running?: boolean; cycleMs?: number; conversionPerSecond?: number } = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'running') {
      if (typeof value !== 'boolean') return 'running must be true or false.';
      out.running = value;
    } else if (key === 'cycleMs' || key === 'conversionPerSecond') {
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return `${key} must be a positive number.`;
      out[key] = value;
    } else {
      return `Unknown setting ${key} (running, cycleMs, conversionPerSecond).`;
    }
  }
  return out;
}
