/**
 * The control API of the Directory Synchronization Service: what the wizard (renderer, through
 * Electron or browser mode) and the CLI can ask of it. Two type maps (house-style.md): requests, each
 * taking exactly one object argument and returning a Promise, and events named `onDid…`.
 * Types only: no Node, no DOM, no library.
 */
import type { MatchReportEntry, ObjectError, PlannedOperation, RunKind, RunSummary, TenantSynchronized } from './model.ts';
import type { HandoverReport, HandoverState, HandoverStatus } from './handover.ts';

export type RunPhase = 'starting' | 'importing-ad' | 'importing-cloud' | 'planning' | 'exporting' | 'done';

export type RunProgress = {
  readonly runId: number;
  readonly phase: RunPhase;
  readonly done: number;
  readonly total?: number;
  /** Estimated seconds left in this phase, when it can be estimated. */
  readonly etaSeconds?: number;
  readonly message?: string;
  /** Set on the progress of a configuration preview (previewConfig), which is not a run of the history. */
  readonly preview?: boolean;
};

export type DomainStatus = {
  readonly id: string;
  readonly domain: string;
  readonly forest: string;
  /** The domain controller it is read from. */
  readonly url: string;
  readonly changeTracking: 'dirsync' | 'usn' | 'none';
  /** Users, groups and contacts read from it (in the store). */
  readonly objects: number;
  /** Why the last run could not read it (its objects were left as they are). */
  readonly lastError?: string;
};

export type OwnershipHolder = { readonly serverId: string; readonly hostName: string; readonly claimedAt: string; readonly generation: number };

export type ServiceStatus = {
  readonly serviceVersion: string;
  readonly configured: boolean;
  readonly stagingMode: boolean;
  /** `active`: this server exports; `staging`: plans only; `not-owner`: another server holds the lease. */
  readonly role: 'active' | 'staging' | 'not-owner' | 'unconfigured';
  readonly ownership?: { readonly thisServer: boolean; readonly holder?: OwnershipHolder };
  /** How the first domain's changes are read (every domain's: `domains`). */
  readonly changeTracking: 'dirsync' | 'usn' | 'none';
  /** Every configured domain: its forest, how its changes are read, its objects, and what the last run made of it. */
  readonly domains?: ReadonlyArray<DomainStatus>;
  readonly running?: RunProgress;
  readonly lastRun?: RunSummary;
  readonly nextRunAt?: string;
  readonly scheduleMinutes?: number;
  readonly pendingApprovals: ReadonlyArray<{ readonly planId: number; readonly held: number; readonly reasons: ReadonlyArray<string> }>;
  readonly managed: { readonly user: number; readonly group: number };
  /**
   * Set when the tenant said, at the last run, that another tool (Entra Connect, Cloud Sync, DirSync)
   * synchronizes it, with how many of its users and groups that tool synchronizes: said first.
   */
  readonly tenantSynchronized?: TenantSynchronized & { readonly objects: { readonly user: number; readonly group: number } };
  /** A takeover from the tool that synchronized the tenant before, once switched (docs/takeover.md). */
  readonly handover?: HandoverState;
  /** Conditions the administrator should know about, in words. */
  readonly warnings: ReadonlyArray<string>;
};

export type CertificateInfo = {
  readonly subject: string;
  readonly issuer: string;
  readonly validFrom: string;
  readonly validTo: string;
  /** SHA-256 fingerprint, colon-separated hex. */
  readonly fingerprintSha256: string;
  /**
   * PEM of what "trust" stores: the top of the chain the DC presented — the issuing CA when the DC
   * sends it, else the DC's certificate itself (then trusted as a pin: exactly that certificate).
   */
  readonly caPem: string;
  /** Subject and SHA-256 fingerprint of the certificate in `caPem`: what the administrator trusts, shown before they do. */
  readonly trustSubject: string;
  readonly trustFingerprintSha256: string;
  /** The top of the chain is self-signed (a root): trusted, it anchors the chain. An intermediate alone does not. */
  readonly trustSelfSigned: boolean;
  readonly trusted: boolean;
};

export type AdConnectionInput = {
  readonly url: string;
  readonly tlsServerName?: string;
  /** A CA the administrator chose to trust (after seeing its fingerprint). */
  readonly trustedCaPem?: string;
  readonly bindDn: string;
  readonly password: string;
};

export type AdConnectionTest =
  | { readonly ok: true; readonly baseDn: string; readonly certificate: CertificateInfo; readonly dirSync: boolean }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly certificate?: CertificateInfo };

export type OuNode = { readonly guid: string; readonly dn: string; readonly name: string; readonly children: ReadonlyArray<OuNode> };

export type ObjectLookup = {
  readonly query: string;
  readonly ad?: {
    readonly dn: string; readonly guid: string; readonly objectClass: string; readonly attributes: Readonly<Record<string, ReadonlyArray<string>>>;
    readonly inScope: boolean; readonly scopeReason?: string;
  };
  readonly cloud?: { readonly id: string; readonly properties: Readonly<Record<string, unknown>> };
  readonly planned?: ReadonlyArray<PlannedOperation>;
  readonly lastExport?: { readonly runId: number; readonly kind: string; readonly status: string; readonly at?: string };
  readonly errors: ReadonlyArray<ObjectError>;
};

export type PlanDetails = {
  readonly planId: number;
  readonly status: string;
  readonly reasons: ReadonlyArray<string>;
  readonly operations: ReadonlyArray<PlannedOperation & { readonly status: string; readonly error?: string }>;
};

export type RightsReport = {
  readonly bind: boolean;
  readonly readDirectory: boolean;
  readonly dirSync: boolean;
  readonly checks: ReadonlyArray<{ readonly name: string; readonly ok: boolean; readonly detail: string }>;
};

/** The service account as the wizard sees it: its password never leaves the service. */
export type ServiceAccountView = {
  readonly dn: string;
  readonly samAccountName: string;
  readonly userPrincipalName: string;
  readonly created: boolean;
  readonly rights: RightsReport;
  /** A forest added after the first: its root domain's DNS name (its account's password is kept apart). */
  readonly forest?: string;
  /** The rights self-test on the forest's other ticked domains, one by one. */
  readonly domainRights?: ReadonlyArray<{ readonly baseDn: string; readonly rights: RightsReport }>;
};

/** A forest as its domain controller describes it (CN=Partitions): every domain, with the DC Directory Sync would read it from. */
export type ForestView = {
  /** The forest root domain's DNS name. */
  readonly name: string;
  readonly domains: ReadonlyArray<{
    readonly dnsName: string;
    readonly netbiosName: string;
    readonly baseDn: string;
    readonly parent?: string;
    readonly forestRoot: boolean;
    /** `ldaps://…:636`: the DC given (its own domain), one DNS names for the domain, or none (type one). */
    readonly dcUrl?: string;
    readonly dcFoundBy: 'given' | 'dns' | 'none';
  }>;
};

export type CloudInstanceName = 'global' | 'usgov' | 'china' | 'custom';

export type CloudSignInPrompt = { readonly signInId: string; readonly userCode: string; readonly verificationUri: string; readonly message: string; readonly expiresAt: string };

/** The app registration made for this server; its private key stays in the service. */
/** An existing app registration tried on the Microsoft Entra page: signed in with its secret, its token's permissions against the ones needed. */
export type ExistingAppTest = {
  readonly tenantId: string;
  readonly tenantDisplayName: string;
  readonly verifiedDomains: ReadonlyArray<string>;
  /** The application permissions its token carries. */
  readonly roles: ReadonlyArray<string>;
  /** Those Directory Sync needs (DIRECTORY_SYNC_GRAPH_PERMISSIONS) that its token lacks: empty when it may be used. */
  readonly missing: ReadonlyArray<string>;
  /** True when the tenant is synchronized by another tool (Entra Connect, Cloud Sync, DirSync). */
  readonly tenantSynchronized: boolean;
};

export type CloudRegistrationView = {
  readonly tenantId: string;
  readonly tenantDisplayName: string;
  readonly verifiedDomains: ReadonlyArray<string>;
  readonly appId: string;
  readonly displayName: string;
  readonly created: boolean;
  readonly certificatePem: string;
  readonly certificateExpiresAt: string;
  readonly permissions: ReadonlyArray<string>;
  /** Graph permissions consented earlier that Directory Sync no longer needs: their consent was revoked. */
  readonly revokedPermissions: ReadonlyArray<string>;
  readonly warnings: ReadonlyArray<string>;
  /** Set when the tenant says another tool (Entra Connect, Cloud Sync, DirSync) synchronizes it. */
  readonly tenantSynchronized?: TenantSynchronized;
  /** Other Directory Sync registrations found in the tenant: what they synchronized is adopted, never created again. */
  readonly earlierRegistrations: ReadonlyArray<{ readonly appId: string; readonly displayName: string }>;
};

export type RegisteredTenant = { readonly tenantDisplayName: string; readonly verifiedDomains: ReadonlyArray<string>; readonly appDisplayName: string };

/** Secrets the wizard may hand to the service once (bring your own app); they never come back. */
/** How the wizard says the cloud is reached before the configuration is saved (docs/network.md). */
export type ProxyInput =
  | { readonly mode: 'none' }
  | { readonly mode: 'system' }
  | { readonly mode: 'url'; readonly url: string; readonly username?: string };

export type CloudNetworkInput = {
  readonly proxy: ProxyInput;
  /** The proxy user's password; without it, the stored one for the same proxy and user. */
  readonly proxyPassword?: string;
  /** Authorities trusted for cloud traffic (PEM): what "Trust this certificate" added. */
  readonly trustedCaPem?: string;
};

/** What the Microsoft Entra page's connection test found: the route, or the first step that failed and why. */
export type CloudConnectionTest =
  | { readonly ok: true; readonly route: string; readonly endpoints: ReadonlyArray<string> }
  | {
    readonly ok: false;
    readonly reason: 'proxy-unreachable' | 'proxy-auth' | 'proxy-denied' | 'destination-unreachable' | 'tls-untrusted' | 'unreachable' | 'bad-proxy-setting' | 'unknown-tenant';
    readonly message: string;
    /** The chain presented, when it is not trusted: what "Trust this certificate" would trust. */
    readonly certificate?: CertificateInfo;
  };

export type CloudAndAdSecrets = {
  readonly adPassword?: string;
  readonly clientSecret?: string;
  readonly certificateKeyPem?: string;
  readonly certificateThumbprintSha256?: string;
  /** The password of the proxy's user (network.proxy.username). */
  readonly proxyPassword?: string;
};

export type ReadinessCheck = {
  readonly id: string;
  readonly title: string;
  readonly status: 'pass' | 'warn' | 'fail';
  readonly detail: string;
  /** What to do when it is not a pass. */
  readonly fix?: string;
};

/**
 * Where a configuration preview puts each object of the domain: `matched` joins an object already in
 * the tenant (linked, hard or soft match); `invalid` objects fail validation and are skipped;
 * `delete` lists the tenant objects the configuration would delete (held or not).
 */
export type PreviewCategory = 'create' | 'matched' | 'conflict' | 'blocked' | 'out-of-scope' | 'invalid' | 'delete';

/** The validation and match report of a configuration, made before it is saved; nothing is written anywhere. */
export type ConfigPreview = {
  readonly previewId: string;
  readonly run: RunSummary;
  readonly counts: Readonly<Record<PreviewCategory, number>>;
  /** With several domains: the same counts for each forest (its domains named), by the domain that holds each object. */
  readonly forests?: ReadonlyArray<{ readonly forest: string; readonly domains: ReadonlyArray<string>; readonly counts: Readonly<Record<PreviewCategory, number>> }>;
};

export type PreviewObject = {
  readonly dn: string;
  readonly objectType: string;
  readonly reason: string;
  /** The match kind, the attribute at fault, or whether a deletion would be held. */
  readonly detail?: string;
  /** What to do about it, for invalid objects. */
  readonly hint?: string;
};

/** Where listOus reads the OUs: with credentials typed in the wizard, or (without them) as the configured service account. */
export type OuSource = { readonly baseDn: string } & (AdConnectionInput | {
  readonly bindDn?: undefined; readonly password?: undefined;
  /** A domain not configured yet, read as the service account of its forest (`forest`, made by createServiceAccount). */
  readonly url?: string; readonly tlsServerName?: string; readonly trustedCaPem?: string; readonly forest?: string;
});

export type ControlRequests = {
  getStatus(args: Record<string, never>): Promise<ServiceStatus>;
  /** The Setup wizard's readiness checks of this computer. */
  getReadiness(args: Record<string, never>): Promise<ReadonlyArray<ReadinessCheck>>;
  /** Connects and binds; returns the DC's certificate (with its fingerprint) even when it is not trusted yet. */
  testAdConnection(args: AdConnectionInput): Promise<AdConnectionTest>;
  /** The OU tree, read live with the credentials given, or as the configured service account when none are given. */
  listOus(args: OuSource): Promise<ReadonlyArray<OuNode>>;
  /** The forest of the DC given (read as the credentials given): its domains, each with a DC found for it. */
  discoverForest(args: AdConnectionInput): Promise<ForestView>;
  startRun(args: { readonly kind: RunKind; readonly dryRun?: boolean }): Promise<{ readonly runId: number }>;
  listRuns(args: { readonly limit?: number }): Promise<ReadonlyArray<RunSummary>>;
  listErrors(args: { readonly runId?: number }): Promise<ReadonlyArray<ObjectError>>;
  matchReport(args: { readonly runId: number }): Promise<ReadonlyArray<MatchReportEntry>>;
  getPlan(args: { readonly planId: number }): Promise<PlanDetails>;
  approvePlan(args: { readonly planId: number }): Promise<RunSummary>;
  rejectPlan(args: { readonly planId: number }): Promise<{ readonly rejected: number }>;
  lookupObject(args: { readonly query: string }): Promise<ObjectLookup>;
  /** The configuration without secrets (undefined before the first save). */
  getConfig(args: Record<string, never>): Promise<{ readonly config?: Readonly<Record<string, unknown>>; readonly secrets: ReadonlyArray<string>;
    /** The MSOL_ account in use and its last rights self-test, once created. */
    readonly serviceAccount?: ServiceAccountView;
    /** The accounts of the forests added after the first, by forest. */
    readonly forestAccounts?: Readonly<Record<string, ServiceAccountView>>;
    /** The tenant as the administrator's sign-in saw it, while the configuration uses the app it registered. */
    readonly tenant?: RegisteredTenant }>;
  /**
   * Runs a full preview of a configuration before it is saved (the Configuration Wizard's Readiness
   * page): reads AD and the tenant, validates, matches and plans on a copy of the state, writes
   * nothing, and keeps the result for listPreviewObjects until the next preview or save.
   */
  previewConfig(args: { readonly config: Readonly<Record<string, unknown>>; readonly secrets?: CloudAndAdSecrets }): Promise<ConfigPreview>;
  listPreviewObjects(args: { readonly previewId: string; readonly category: PreviewCategory; readonly offset?: number; readonly limit?: number }):
    Promise<{ readonly total: number; readonly objects: ReadonlyArray<PreviewObject> }>;
  /**
   * Validates and saves the configuration (and any secrets given); says whether the next run must be
   * full. `holdScheduleSeconds` (at most an hour) keeps scheduled runs waiting while the Configuration
   * Wizard goes on to start the run itself; a full run started ends the hold.
   */
  saveConfig(args: { readonly config: Readonly<Record<string, unknown>>; readonly secrets?: CloudAndAdSecrets; readonly holdScheduleSeconds?: number }):
    Promise<{ readonly fullRunNeeded: boolean }>;
  /**
   * Creates (or, when confirmed, reuses) the MSOL_ service account with the enterprise administrator's
   * credentials, which are used for this call only and never stored; stores the account's password.
   */
  createServiceAccount(args: { readonly url: string; readonly tlsServerName?: string; readonly trustedCaPem?: string; readonly adminBindDn: string;
    readonly adminPassword: string; readonly baseDn: string; readonly reuseExisting: boolean;
    /** A forest added after the first (its root domain's DNS name): the account's password is kept for it alone. */
    readonly forest?: string;
    /** The forest's other ticked domains: the account gets the same rights on each, through its DC. */
    readonly otherDomains?: ReadonlyArray<{ readonly url: string; readonly tlsServerName?: string; readonly trustedCaPem?: string; readonly baseDn: string }> }): Promise<ServiceAccountView>;
  /** The effective-rights self-test of the configured account. */
  verifyServiceAccount(args: {
    /** A forest added after the first (its root domain's DNS name); without it, the first forest's account. */
    readonly forest?: string;
  }): Promise<RightsReport & {
    /** The self-test on each of that forest's other configured domains, with the same account. */
    readonly domainRights?: ReadonlyArray<{ readonly baseDn: string; readonly rights: RightsReport }>;
  }>;
  /** A new password for a forest's service account (the first forest's without `forest`), set with its enterprise administrator's credentials. */
  rotateServiceAccountPassword(args: { readonly adminBindDn: string; readonly adminPassword: string; readonly forest?: string }): Promise<{ readonly rotated: true }>;
  /** Starts an administrator's device-code sign-in; the wizard shows the code and the address. */
  beginCloudSignIn(args: { readonly instance: CloudInstanceName; readonly tenant?: string; readonly authorityHost?: string; readonly graphBaseUrl?: string;
    readonly network?: CloudNetworkInput }): Promise<CloudSignInPrompt>;
  /**
   * Reaches the identity platform and Microsoft Graph of the instance the way the service will (the proxy
   * given, else the saved one, and the trusted authorities): the route, or what failed — the proxy, its
   * credentials, the destination, or a certificate chain not trusted (with the chain, to trust it).
   */
  testCloudConnection(args: { readonly instance: CloudInstanceName; readonly tenant?: string; readonly authorityHost?: string; readonly graphBaseUrl?: string;
    readonly network?: CloudNetworkInput }): Promise<CloudConnectionTest>;
  /**
   * Waits for that sign-in, then creates or updates the app registration "Directory Sync (<host>)"
   * with a certificate credential and the least permissions, consented; stores its key.
   */
  completeCloudSignIn(args: { readonly signInId: string }): Promise<CloudRegistrationView>;
  /**
   * Signs in as an existing app registration with its client secret (or, without one, the secret the service
   * stores for the same app) and reads the organization: the token's permissions against those Directory Sync needs.
   */
  /** The Microsoft Graph application permissions Directory Sync's application needs (the one definition, for the wizard to show). */
  graphPermissions(args: Record<string, never>): Promise<ReadonlyArray<string>>;
  testExistingApp(args: { readonly instance: CloudInstanceName; readonly tenant: string; readonly clientId: string; readonly clientSecret?: string;
    readonly authorityHost?: string; readonly graphBaseUrl?: string; readonly network?: CloudNetworkInput }): Promise<ExistingAppTest>;
  cancelCloudSignIn(args: { readonly signInId: string }): Promise<{ readonly cancelled: boolean }>;
  /** Where a sign-in's completion stands (the wizard polls it while completeCloudSignIn runs): after the sign-in, the registration, then the wait for it to replicate. */
  cloudSignInProgress(args: { readonly signInId: string }): Promise<CloudSignInProgress>;
  /** Who holds the tenant ownership lease (only the holder exports). */
  getOwnership(args: Record<string, never>): Promise<{ readonly thisServer: boolean; readonly holder?: OwnershipHolder }>;
  /** Claims the lease; without takeOver it returns the current holder instead of replacing it. */
  claimOwnership(args: { readonly takeOver: boolean }): Promise<{ readonly claimed: boolean; readonly holder?: OwnershipHolder }>;
  /** The takeover from the tool that synchronizes the tenant today: who it is, whether it still runs, where the takeover stands. */
  getHandover(args: Record<string, never>): Promise<HandoverStatus>;
  /** What the takeover would do, object by object (a dry run on a copy of the store, as if every object were converted). */
  handoverReport(args: Record<string, never>): Promise<HandoverReport>;
  /**
   * Checks the switch is allowed (the tenant's name typed; the old tool stopped, or said to be gone), then starts a
   * Global Administrator's sign-in asking only for the switch's permission.
   */
  beginHandoverSwitch(args: { readonly confirmation: string; readonly oldToolGone?: boolean }): Promise<CloudSignInPrompt>;
  /** Waits for that sign-in, turns the tenant's directory synchronization off in it, and forgets the session. */
  completeHandoverSwitch(args: { readonly signInId: string }): Promise<HandoverStatus>;
  cancelHandoverSwitch(args: { readonly signInId: string }): Promise<{ readonly cancelled: boolean }>;
  /**
   * A graceful stop (what `dirsync service stop`, WinSW's stop executable and systemd ask for): no new run starts,
   * a run in progress stops after its current export page and records why, then the service exits.
   */
  stopService(args: Record<string, never>): Promise<{ readonly stopping: true; readonly runId?: number }>;
};

export type CloudSignInProgress = {
  readonly stage: 'waiting-for-administrator' | 'registering' | 'waiting-for-replication' | 'finished';
  /** What the service is doing, as the wizard says it. */
  readonly message: string;
  /** Seconds spent waiting for the new registration to replicate. */
  readonly elapsedSeconds?: number;
};

export type ControlEvents = {
  onDidProgress: RunProgress;
  onDidFinishRun: RunSummary;
  onDidChangeStatus: ServiceStatus;
};

export type ControlMethod = keyof ControlRequests;
export type ControlArgs<M extends ControlMethod> = Parameters<ControlRequests[M]>[0];
export type ControlResult<M extends ControlMethod> = Awaited<ReturnType<ControlRequests[M]>>;

/** How errors cross the process boundary (Electron IPC keeps only `message`, so this is explicit). */
export type SerializedError = { readonly $isError: true; readonly name: string; readonly code: string; readonly message: string };
