/**
 * The takeover from the tool that synchronized a tenant before Directory Sync (Entra Connect, Cloud Sync,
 * DirSync): what the control API, the CLI and the wizard say of it (docs/takeover.md).
 */
import type { SyncObjectType } from './model.ts';

export type SyncToolKind = 'entra-connect' | 'cloud-sync' | 'unknown';

/** The other tool, as far as the tenant tells it (its cloud sync account). */
export type SyncToolIdentity = {
  readonly kind: SyncToolKind;
  /** Entra Connect and DirSync: the computer their cloud sync account names (`Sync_<server>_<hex>`). */
  readonly server?: string;
  /** The cloud sync accounts found (users holding Directory Synchronization Accounts). */
  readonly accounts: ReadonlyArray<string>;
  /** In words: "Microsoft Entra Connect (or DirSync) on SYNC01". */
  readonly description: string;
};

/** Whether the old tool still synchronizes: its last sync time, as seen to move. */
export type OldToolActivity = {
  readonly lastSyncDateTime?: string;
  /** Its cycle: the median interval seen between last sync times, else the tool's default. */
  readonly cycleSeconds: number;
  readonly cycleObserved: boolean;
  /** Two cycles without a new last sync time (or none at all): stopped. */
  readonly stopped: boolean;
  /** When it will count as stopped if its last sync time does not move again. */
  readonly stoppedAfter?: string;
};

export type HandoverPhase = 'converting' | 'adopting' | 'done';

/** The takeover once the switch is made (kept in the store; survives restarts). */
export type HandoverState = {
  readonly phase: HandoverPhase;
  readonly switchedAt: string;
  /** The administrator who turned directory synchronization off. */
  readonly switchedBy: string;
  readonly tool: SyncToolIdentity;
  /** Objects the old tool synchronized when the switch was made. */
  readonly synchronizedAtSwitch: Readonly<Record<SyncObjectType, number>>;
  /** Objects still synchronized (read-only) at the last check. */
  readonly remaining?: Readonly<Record<SyncObjectType, number>> & { readonly checkedAt: string };
  readonly etaSeconds?: number;
  /** The full run that adopted the converted objects. */
  readonly adoptionRunId?: number;
  readonly doneAt?: string;
};

export type HandoverStatus = {
  /** organization.onPremisesSyncEnabled now. */
  readonly tenantSynchronized: boolean;
  /** Users and groups another tool synchronizes now (read-only in the tenant). */
  readonly synchronized: Readonly<Record<SyncObjectType, number>>;
  readonly tool?: SyncToolIdentity;
  readonly activity?: OldToolActivity;
  readonly state?: HandoverState;
  /** What the administrator types to confirm the switch: the tenant's name. */
  readonly confirmation: string;
  /** A sentence for the administrator: where the takeover stands and what to do next. */
  readonly summary: string;
};

/** `member` and `manager`: a membership or manager change of the first run (its object, and the member or manager in `changes`). */
export type HandoverCategory = 'adopt' | 'create' | 'orphan' | 'conflict' | 'blocked' | 'invalid' | 'member' | 'manager';

export type HandoverChange = { readonly property: string; readonly from: unknown; readonly to: unknown };

export type HandoverObject = {
  readonly category: HandoverCategory;
  readonly objectType: SyncObjectType;
  /** The AD object (adopt, create, conflict, blocked, invalid), or the cloud object's last on-premises DN or name (orphan). */
  readonly name: string;
  readonly cloudId?: string;
  /** Adopt: the attribute changes the first run writes (besides Directory Sync's anchor, written to every adopted object). */
  readonly changes?: ReadonlyArray<HandoverChange>;
  readonly reason: string;
};

/**
 * What the takeover would do, object by object, computed on a copy of the store as if the conversion were done.
 * Adopted objects whose only write is Directory Sync's anchor are counted, not listed.
 */
export type HandoverReport = {
  readonly generatedAt: string;
  readonly counts: {
    readonly adopt: number;
    /** Adopted objects with at least one attribute difference (beyond the anchor). */
    readonly adoptWithChanges: number;
    readonly create: number;
    readonly orphan: number;
    readonly conflict: number;
    readonly blocked: number;
    readonly invalid: number;
    /** Membership and manager changes of the first run. */
    readonly memberChanges: number;
    readonly managerChanges: number;
  };
  readonly objects: ReadonlyArray<HandoverObject>;
  /** The old tool's accounts, which can be removed after the takeover (Directory Sync never removes them itself). */
  readonly oldAccounts: { readonly cloud: ReadonlyArray<string>; readonly ad: ReadonlyArray<string> };
  /** What changes for users and what to do afterwards, in words. */
  readonly notes: ReadonlyArray<string>;
};
