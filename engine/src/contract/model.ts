/**
 * The shapes the engine, the CLI and the wizard share. Types only: no Node, no DOM, no libraries.
 */

export type SyncObjectType = 'user' | 'group';

/** What AD holds that Directory Sync reads; contacts and OUs are read for reporting and scoping. */
export type AdObjectClass = 'user' | 'group' | 'contact' | 'organizationalUnit' | 'container' | 'computer' | 'other';

export type RunKind = 'full' | 'delta';
export type RunStatus = 'running' | 'succeeded' | 'completed-with-errors' | 'failed' | 'waiting-for-approval';

export type OperationKind =
  | 'delete-user'
  | 'delete-group'
  | 'create-user'
  | 'create-group'
  | 'restore-user'
  | 'update-user'
  | 'update-group'
  | 'add-member'
  | 'remove-member'
  | 'set-manager'
  | 'remove-manager';

/** One change the engine will make (or made) in the tenant, with the reason it is needed. */
export type PlannedOperation = {
  readonly kind: OperationKind;
  readonly objectType: SyncObjectType;
  /** The source anchor (base64) of the AD object, or of the managed cloud object for orphans. */
  readonly sourceAnchor: string;
  /** The AD object's GUID, absent for orphans (cloud objects with no AD source). */
  readonly adGuid?: string;
  readonly cloudId?: string;
  /** DN in AD (or the last known DN, for deletions). */
  readonly dn?: string;
  readonly displayName?: string;
  readonly reason: string;
  /** Properties to write (create: all; update: only those that differ, `null` clears). */
  readonly properties?: Readonly<Record<string, unknown>>;
  /** Property names and their current cloud values, for a readable preview of updates. */
  readonly previous?: Readonly<Record<string, unknown>>;
  /** For membership operations: the member's source anchor, type and DN; for set-manager, the manager's. */
  readonly member?: { readonly sourceAnchor: string; readonly objectType: SyncObjectType; readonly dn?: string; readonly cloudId?: string };
  /** True when the deletion gate holds this operation until an administrator approves it. */
  readonly gated?: boolean;
  /** The AD object (GUID) whose link to this cloud object this operation's object takes over, once confirmed (docs/forests.md: migrated objects). */
  readonly takesOverFrom?: string;
};

/** A per-object problem: the object is skipped, the run goes on. */
export type ObjectError = {
  readonly dn: string;
  readonly adGuid?: string;
  readonly objectType?: SyncObjectType | 'contact';
  readonly attribute?: string;
  readonly value?: string;
  /** Stable code, e.g. `upn-unverified-domain`. */
  readonly code: string;
  readonly reason: string;
  /** What the administrator can do about it. */
  readonly hint: string;
};

export type MatchKind = 'linked' | 'hard-match' | 'soft-match-upn' | 'soft-match-mail' | 'create' | 'conflict' | 'blocked';

export type MatchReportEntry = {
  readonly kind: MatchKind;
  readonly objectType: SyncObjectType;
  readonly dn: string;
  readonly sourceAnchor: string;
  readonly cloudId?: string;
  readonly reason: string;
};

export type OperationCounts = Readonly<Partial<Record<OperationKind, number>>>;

export type RunSummary = {
  readonly id: number;
  readonly kind: RunKind;
  readonly dryRun: boolean;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly imported: { readonly ad: number; readonly cloud: number };
  readonly planned: OperationCounts;
  readonly exported: OperationCounts;
  readonly held: number;
  readonly errors: number;
  readonly outOfScope: number;
  readonly inScope?: number;
  /** Contacts, distribution and mail-enabled groups: reported, not writable through Graph. */
  readonly notWritable?: number;
  readonly matchReport?: Readonly<Partial<Record<MatchKind, number>>>;
  readonly heldReasons?: ReadonlyArray<string>;
  /**
   * Membership and manager additions that wait for an object in error (a refused or conflicting member or
   * manager): never sent while it is, so not in `planned`; each is in the plan as skipped, naming the object.
   */
  readonly waitingOnErrors?: number;
  /** 429 answers from Graph during export (each retried). */
  readonly throttled?: number;
  /** Members of planned groups that are accounts of another forest (foreign security principals): reported per group, not written. */
  readonly foreignMembers?: number;
  /** With several domains: what each gave this run (objects read) or why it could not be read. */
  readonly sources?: ReadonlyArray<SourceRunSummary>;
  /** Write requests sent to Graph (inner requests of $batch). */
  readonly writeRequests?: number;
  /** The same by kind of request: each operation's kind, `add-members` for several memberships of one group sent in one request. */
  readonly writeRequestsByKind?: Readonly<Record<string, number>>;
  /** How many `members@odata.bind` requests carried 2, 3, … 20 members (index = members); absent when none did. */
  readonly membersPerBind?: ReadonlyArray<number>;
  readonly planId?: number;
  readonly message?: string;
  /**
   * Set when the tenant said another tool (Entra Connect, Cloud Sync, DirSync) synchronizes it
   * (organization onPremisesSyncEnabled): every surface says so first.
   */
  readonly tenantSynchronized?: TenantSynchronized;
};

/** One domain's part of a run (configurations of several domains). */
export type SourceRunSummary = {
  /** The source's id in the configuration. */
  readonly id: string;
  /** The domain's DNS name, e.g. emea.contoso.com. */
  readonly domain: string;
  /** The forest's root domain, e.g. contoso.com. */
  readonly forest: string;
  /** AD objects read from it this run. */
  readonly imported: number;
  /** Why it could not be read: its objects were left as they are, none deleted. */
  readonly error?: string;
};

/** What the tenant says of the other tool that synchronizes it. */
export type TenantSynchronized = {
  readonly lastSyncDateTime?: string;
  /** Which tool, where it can be told (its cloud sync account): "Microsoft Entra Connect (or the older DirSync) on the server SYNC01". */
  readonly tool?: string;
  /** Users and groups it synchronizes. */
  readonly objects?: { readonly user: number; readonly group: number };
  /** Whether it still runs: its last sync time is within two of its cycles. */
  readonly stillRunning?: boolean;
};

