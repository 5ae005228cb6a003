/**
 * The takeover from the tool that synchronizes a tenant today (docs/takeover.md): detection, whether the old
 * tool still runs, the switch that turns the tenant's directory synchronization off, the conversion that
 * follows (objects counted down), the adoption run, and the report of what the takeover would do.
 *
 * Its state is kept in the store (HANDOVER_STATE), so a restart of the service or the computer resumes it
 * where it stood; nothing is ever written to an object while Graph still says another tool synchronizes it
 * (the match step blocks those: sync/match.ts).
 */
import type {
  HandoverChange, HandoverObject, HandoverReport, HandoverState, HandoverStatus, OldToolActivity, SyncToolIdentity, SyncToolKind,
} from '../contract/handover.ts';
import type { SyncObjectType, TenantSynchronized } from '../contract/model.ts';
import { countSynchronized, syncAccounts, syncToolOf, turnOffDirectorySync } from '../cloud/sync-tool.ts';
import type { CloudConnector, Organization } from '../cloud/connector.ts';
import { HandoverRefusedError } from '../errors/handover-errors.ts';
import { HANDOVER_OBSERVATIONS, HANDOVER_STATE } from '../store/keys.ts';
import type { Store } from '../store/store.ts';
import type { Client } from '@microsoft/microsoft-graph-client';
import { recordTenantSyncState } from './tenant-state.ts';

/** Each tool's default cycle, when its last sync time has not been seen to move twice (Connect 30 min, Cloud Sync 2 min). */
const DEFAULT_CYCLE_SECONDS: Readonly<Record<SyncToolKind, number>> = { 'entra-connect': 30 * 60, 'cloud-sync': 2 * 60, unknown: 30 * 60 };
/** How many distinct last sync times are kept. */
const OBSERVATIONS_KEPT = 12;
/** The reason planning gives an old tool's orphan (the report finds them by it). */
export const OLD_TOOL_ORPHAN_REASON = 'orphan of the old tool: it synchronized this object before the takeover, and no object in Active Directory in scope is its source';

type Observation = { readonly lastSync: string; readonly seenAt: string };

export function readHandover(store: Store): HandoverState | undefined {
  const value = store.getCursor(HANDOVER_STATE);
  return value === undefined ? undefined : (JSON.parse(value) as HandoverState);
}

export function writeHandover(store: Store, state: HandoverState): void {
  store.setCursor(HANDOVER_STATE, JSON.stringify(state));
}

/** Whether full runs also plan the old tool's orphans (the adoption run and every full run after it). */
export function plansOldToolOrphans(store: Store): boolean {
  const phase = readHandover(store)?.phase;
  return phase === 'adopting' || phase === 'done';
}

/** Keeps the old tool's last sync time each time it is read; a new value is a cycle seen. */
export function observeLastSync(store: Store, lastSync: string | null | undefined, nowMs: number): void {
  if (!lastSync) return;
  const seen = readObservations(store);
  if (seen[seen.length - 1]?.lastSync === lastSync) return;
  store.setCursor(HANDOVER_OBSERVATIONS, JSON.stringify([...seen, { lastSync, seenAt: new Date(nowMs).toISOString() }].slice(-OBSERVATIONS_KEPT)));
}

function readObservations(store: Store): Observation[] {
  const value = store.getCursor(HANDOVER_OBSERVATIONS);
  return value === undefined ? [] : (JSON.parse(value) as Observation[]);
}

/**
 * Whether the old tool still synchronizes. Its cycle is the median interval between the last sync times
 * seen (else the tool's default); it has stopped when its last sync time is older than two cycles.
 */
export function oldToolActivity(store: Store, kind: SyncToolKind, lastSync: string | null | undefined, nowMs: number): OldToolActivity {
  const times = readObservations(store).map((o) => Date.parse(o.lastSync)).filter(Number.isFinite).sort((a, b) => a - b);
  const gaps = times.slice(1).map((t, i) => t - (times[i] as number)).filter((g) => g > 0).sort((a, b) => a - b);
  const observed = gaps.length > 0;
  // The median interval, rounded up: last sync times have a resolution of a second, and one early cycle must not make the tool look stopped.
  const cycleSeconds = observed ? Math.max(1, Math.ceil((gaps[Math.floor(gaps.length / 2)] as number) / 1000)) : DEFAULT_CYCLE_SECONDS[kind];
  const last = lastSync ? Date.parse(lastSync) : Number.NaN;
  if (!Number.isFinite(last)) return { cycleSeconds, cycleObserved: observed, stopped: true };
  const stoppedAt = last + 2 * cycleSeconds * 1000;
  return { lastSyncDateTime: lastSync ?? undefined, cycleSeconds, cycleObserved: observed, stopped: nowMs >= stoppedAt, stoppedAfter: new Date(stoppedAt).toISOString() };
}

/**
 * What the tenant tells of the tool that synchronizes it, as the app just registered reads it (the Microsoft
 * Entra page): which tool, how many objects, whether it still runs. Undefined when it cannot be read.
 */
export async function detectOtherTool(store: Store, cloud: Pick<CloudConnector, 'graph'>, organization: Organization, nowMs: number): Promise<Omit<TenantSynchronized, 'lastSyncDateTime'> | undefined> {
  try {
    const tool = syncToolOf(await syncAccounts(cloud.graph));
    const objects = await countSynchronized(cloud.graph);
    observeLastSync(store, organization.onPremisesLastSyncDateTime, nowMs);
    const activity = oldToolActivity(store, tool.kind, organization.onPremisesLastSyncDateTime, nowMs);
    return { tool: tool.description, objects, stillRunning: !activity.stopped };
  } catch {
    return undefined;
  }
}

/** Where the takeover stands, read from the tenant now (and kept: the observation, the tenant's sync state, the conversion's progress). */
export async function handoverStatus(store: Store, cloud: CloudConnector, nowMs: number): Promise<HandoverStatus> {
  const organization = await cloud.organization();
  recordTenantSyncState(store, organization);
  observeLastSync(store, organization.onPremisesLastSyncDateTime, nowMs);
  let state = readHandover(store);
  const tenantSynchronized = organization.onPremisesSyncEnabled === true;
  // Turned off (false, not null) with no takeover on record: the switch was made and the service stopped before it
  // kept it, or an administrator turned it off by hand. While objects remain to convert, the takeover follows it.
  const turnedOff = organization.onPremisesSyncEnabled === false && state === undefined;
  const counting = tenantSynchronized || turnedOff || state?.phase === 'converting';
  const synchronized = counting ? await countSynchronized(cloud.graph) : { user: 0, group: 0 };
  const tool = tenantSynchronized || state === undefined ? syncToolOf(await syncAccounts(cloud.graph)) : state.tool;
  if (turnedOff && synchronized.user + synchronized.group > 0) {
    state = { phase: 'converting', switchedAt: organization.onPremisesLastSyncDateTime ?? new Date(nowMs).toISOString(), switchedBy: 'found turned off in the tenant',
      tool, synchronizedAtSwitch: synchronized };
    writeHandover(store, state);
  }
  if (state?.phase === 'converting') {
    state = progressed(state, synchronized, nowMs);
    writeHandover(store, state);
  }
  const activity = tenantSynchronized ? oldToolActivity(store, tool.kind, organization.onPremisesLastSyncDateTime, nowMs) : undefined;
  return { tenantSynchronized, synchronized, tool, ...(activity ? { activity } : {}), ...(state ? { state } : {}), confirmation: organization.displayName,
    summary: describeHandover(tenantSynchronized, synchronized, tool, activity, state) };
}

/** The conversion counted down; all converted: the adoption run is next. */
function progressed(state: HandoverState, remaining: Record<SyncObjectType, number>, nowMs: number): HandoverState {
  const total = state.synchronizedAtSwitch.user + state.synchronizedAtSwitch.group;
  const left = remaining.user + remaining.group;
  const elapsed = (nowMs - Date.parse(state.switchedAt)) / 1000;
  const done = total - left;
  const etaSeconds = left > 0 && done > 0 && elapsed > 0 ? Math.round((left * elapsed) / done) : undefined;
  return { ...state, phase: left === 0 ? 'adopting' : 'converting', remaining: { ...remaining, checkedAt: new Date(nowMs).toISOString() },
    ...(etaSeconds !== undefined ? { etaSeconds } : {}) };
}

function describeHandover(tenantSynchronized: boolean, synchronized: Record<SyncObjectType, number>, tool: SyncToolIdentity, activity: OldToolActivity | undefined,
  state: HandoverState | undefined): string {
  if (state?.phase === 'done') return `The takeover is done: Directory Sync synchronizes the objects ${state.tool.description} synchronized (adopted by run ${state.adoptionRunId ?? '?'}).`;
  if (state?.phase === 'adopting') return 'Microsoft Entra ID has converted every object: Directory Sync adopts them by their anchors in a full run.';
  if (state?.phase === 'converting') {
    const left = (state.remaining?.user ?? synchronized.user) + (state.remaining?.group ?? synchronized.group);
    return `Directory synchronization was turned off at ${state.switchedAt}. Microsoft Entra ID converts the synchronized objects (it can take up to 72 hours): `
      + `${left} still to convert${state.etaSeconds !== undefined ? `, about ${formatDuration(state.etaSeconds)} left` : ''}. Nothing is written to them until then.`;
  }
  if (!tenantSynchronized) return 'No other tool synchronizes this tenant: there is nothing to take over.';
  const running = activity && !activity.stopped
    ? ` It still runs: its last synchronization was at ${activity.lastSyncDateTime ?? '?'} (cycle about ${formatDuration(activity.cycleSeconds)}); stop it, and the switch is possible once it has not synchronized for two cycles (after ${activity.stoppedAfter ?? '?'}), or say it is gone.`
    : ' It has stopped (its last synchronization is older than two of its cycles).';
  return `This tenant is synchronized by ${tool.description}: ${synchronized.user} users and ${synchronized.group} groups.${running}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * Refuses the switch unless the administrator typed the tenant's name, and the old tool has stopped (or the
 * administrator says it is gone). Throws HandoverRefusedError with what to do.
 */
export function checkSwitch(status: HandoverStatus, request: { readonly confirmation: string; readonly oldToolGone: boolean }): void {
  if (status.state !== undefined && status.state.phase !== 'done') throw new HandoverRefusedError(`The takeover is already under way: ${status.summary}`);
  if (!status.tenantSynchronized) throw new HandoverRefusedError('No other tool synchronizes this tenant (organization onPremisesSyncEnabled is not true): there is nothing to take over.');
  if (request.confirmation.trim() !== status.confirmation) {
    throw new HandoverRefusedError(`To confirm the takeover, type the tenant's name exactly: "${status.confirmation}".`);
  }
  if (!request.oldToolGone && status.activity && !status.activity.stopped) {
    throw new HandoverRefusedError(`${status.tool?.description ?? 'The old tool'} still synchronizes this tenant: its last synchronization was at ${status.activity.lastSyncDateTime ?? '?'}. `
      + 'Stop it first (Entra Connect: Set-ADSyncScheduler -SyncCycleEnabled $false, or stop the "Microsoft Azure AD Sync" service; Cloud Sync: disable its configuration), '
      + `then switch after ${status.activity.stoppedAfter ?? 'two of its cycles'} — or, if the old server is gone for good, say so.`);
  }
}

/**
 * The switch, in the administrator's delegated session (with DIRSYNC_SWITCH_SCOPE): directory synchronization
 * off, and the handover kept as converting. The status is read again first: it must still allow the switch.
 */
export async function switchDirectorySync(input: {
  readonly store: Store; readonly cloud: CloudConnector; readonly admin: { readonly graph: Client; readonly tenantId: string; readonly userPrincipalName: string };
  readonly confirmation: string; readonly oldToolGone: boolean; readonly nowMs: number;
}): Promise<HandoverState> {
  const { store, cloud, admin, nowMs } = input;
  const status = await handoverStatus(store, cloud, nowMs);
  checkSwitch(status, input);
  await turnOffDirectorySync(admin.graph, admin.tenantId);
  const state: HandoverState = { phase: 'converting', switchedAt: new Date(nowMs).toISOString(), switchedBy: admin.userPrincipalName,
    tool: status.tool ?? syncToolOf([]), synchronizedAtSwitch: status.synchronized, remaining: { ...status.synchronized, checkedAt: new Date(nowMs).toISOString() } };
  writeHandover(store, state);
  return state;
}

/** The adoption run finished: done when it did not fail (a failed one is run again). */
export function adoptionFinished(store: Store, runId: number, failed: boolean, nowMs: number): HandoverState | undefined {
  const state = readHandover(store);
  if (state?.phase !== 'adopting' || failed) return state;
  const done: HandoverState = { ...state, phase: 'done', adoptionRunId: runId, doneAt: new Date(nowMs).toISOString() };
  writeHandover(store, done);
  return done;
}

/** The organization's sync state as a takeover preview assumes it: converted. */
export function asConverted(organization: Organization): Organization {
  return { ...organization, onPremisesSyncEnabled: false };
}

/** In a preview's copy of the store: every synchronized cloud object as the conversion will leave it. */
export function assumeConverted(store: Store): number {
  return store.db.prepare("UPDATE cloud_objects SET synced = 0, object = json_set(object, '$.onPremisesSyncEnabled', json('false')) WHERE synced = 1").run().changes;
}

/** What a takeover preview's plan says, object by object (see HandoverReport). */
export function handoverReport(store: Store, runId: number, planId: number | undefined, anchorProperty: string, tool: SyncToolIdentity | undefined,
  ownAccounts: ReadonlyArray<string> = []): HandoverReport {
  const objects: HandoverObject[] = [];
  const counts = { adopt: 0, adoptWithChanges: 0, create: 0, orphan: 0, conflict: 0, blocked: 0, invalid: 0, memberChanges: 0, managerChanges: 0 };
  const add = (object: HandoverObject & { category: 'adopt' | 'create' | 'orphan' | 'conflict' | 'blocked' | 'invalid' }): void => {
    counts[object.category] += 1;
    objects.push(object);
  };
  for (const { operation: op, status } of planId === undefined ? [] : store.listOperations(planId)) {
    if (status === 'skipped') continue; // waits for an object in error: never written by the takeover
    const name = op.dn ?? op.displayName ?? op.cloudId ?? op.sourceAnchor;
    const other = op.member?.dn ?? op.member?.sourceAnchor ?? null;
    if (op.kind === 'add-member' || op.kind === 'remove-member') {
      counts.memberChanges += 1;
      objects.push({ category: 'member', objectType: op.objectType, name, cloudId: op.cloudId,
        changes: [{ property: 'members', from: op.kind === 'remove-member' ? other : null, to: op.kind === 'add-member' ? other : null }], reason: op.reason });
    } else if (op.kind === 'set-manager' || op.kind === 'remove-manager') {
      counts.managerChanges += 1;
      objects.push({ category: 'manager', objectType: op.objectType, name, cloudId: op.cloudId,
        changes: [{ property: 'manager', from: op.previous?.['manager'] ?? null, to: op.kind === 'set-manager' ? other : null }], reason: op.reason });
    } else if (op.kind === 'create-user' || op.kind === 'create-group') add({ category: 'create', objectType: op.objectType, name, reason: op.reason });
    else if ((op.kind === 'delete-user' || op.kind === 'delete-group') && op.reason === OLD_TOOL_ORPHAN_REASON) {
      add({ category: 'orphan', objectType: op.objectType, name, cloudId: op.cloudId, reason: 'held for approval: never deleted without it' });
    } else if (op.kind === 'update-user' || op.kind === 'update-group') {
      const properties = op.properties ?? {};
      if (!(anchorProperty in properties)) continue; // an object Directory Sync already manages
      const previous = op.previous ?? {};
      const changes: HandoverChange[] = Object.keys(properties).filter((p) => p !== anchorProperty).sort()
        .map((property) => ({ property, from: previous[property] ?? null, to: properties[property] ?? null }));
      counts.adopt += 1;
      // An adoption that writes only the anchor is counted, not listed: at 100,000 objects the list would say nothing.
      if (changes.length === 0) continue;
      counts.adoptWithChanges += 1;
      objects.push({ category: 'adopt', objectType: op.objectType, name, cloudId: op.cloudId, changes, reason: op.reason.split(';')[0] ?? op.reason });
    }
  }
  for (const category of ['conflict', 'blocked'] as const) {
    for (const r of store.db.prepare('SELECT dn, object_type, reason FROM object_reports WHERE run_id = ? AND category = ? ORDER BY rowid').all(runId, category) as Array<{ dn: string; object_type: SyncObjectType; reason: string }>) {
      add({ category, objectType: r.object_type, name: r.dn, reason: r.reason });
    }
  }
  for (const e of store.db.prepare("SELECT dn, object_type, group_concat(reason, ' ') AS reason FROM object_errors WHERE run_id = ? AND code NOT LIKE 'match-%' GROUP BY dn ORDER BY min(id)")
    .all(runId) as Array<{ dn: string; object_type: SyncObjectType; reason: string }>) {
    add({ category: 'invalid', objectType: e.object_type, name: e.dn, reason: e.reason });
  }
  const ad = oldServiceAccounts(store, ownAccounts);
  return { generatedAt: new Date().toISOString(), counts, objects, oldAccounts: { cloud: tool?.accounts ?? [], ad }, notes: handoverNotes(tool, ad) };
}

/** AD accounts the old tool signs in with (DirSync's and Connect's `MSOL_…`, Connect's `AAD_…`), besides Directory Sync's own. */
function oldServiceAccounts(store: Store, ownAccounts: ReadonlyArray<string>): string[] {
  const own = new Set(ownAccounts.map((n) => n.toLowerCase()));
  const rows = store.db.prepare(`SELECT dn FROM ad_objects WHERE object_class = 'user' AND deleted = 0 AND (dn LIKE 'CN=MSOL\\_%' ESCAPE '\\' OR dn LIKE 'CN=AAD\\_%' ESCAPE '\\')
    ORDER BY dn`).all() as Array<{ dn: string }>;
  return rows.map((r) => r.dn).filter((dn) => !own.has((/^CN=([^,]+)/i.exec(dn)?.[1] ?? '').toLowerCase()));
}

/** What changes for users, and what to do afterwards, said plainly. */
export function handoverNotes(tool: SyncToolIdentity | undefined, adAccounts: ReadonlyArray<string> = []): string[] {
  const who = tool?.description ?? 'the old tool';
  return [
    `Passwords ${who} synchronized keep working: users sign in as before. But password changes made in Active Directory no longer reach Microsoft Entra ID, `
      + 'because Directory Sync does not synchronize password hashes: have users change their password in the cloud (self-service password reset), or move them to a federated or pass-through sign-in.',
    'Turning directory synchronization off cannot be cancelled while Microsoft converts the objects (up to 72 hours). Until each object is converted it stays read-only, and Directory Sync does not write it.',
    `Afterwards you can remove ${who}'s cloud sync account${tool && tool.accounts.length > 0 ? ` (${tool.accounts.join(', ')})` : ''} and its service account in Active Directory `
      + `(${adAccounts.length > 0 ? `found: ${adAccounts.join('; ')}` : 'MSOL_… for DirSync and Connect\'s express settings, or the account you gave Connect'}) — Directory Sync lists them and never removes them itself.`,
    'Going back to Entra Connect: turn directory synchronization on again (Set-EntraDirSyncEnabled -EnableDirsync $true) after the conversion has finished, then run Entra Connect: it matches the objects again by their immutable id.',
  ];
}

/** Whether the tenant is in the middle of a takeover where runs must wait (the conversion). */
export function runsWaitForHandover(store: Store): string | undefined {
  const state = readHandover(store);
  return state?.phase === 'converting' ? 'Runs wait while Microsoft Entra ID converts the objects the old tool synchronized (the takeover): the adoption run follows.' : undefined;
}
