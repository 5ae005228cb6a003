/**
 * The service's part of a takeover (run/handover.ts): the control API's handover requests, and the follow-up
 * of the conversion — checked every `pollSeconds` until Microsoft has converted every object, then the
 * adoption run. Everything it needs to resume is in the store, so a restart picks it up where it stood.
 */
import { randomUUID } from 'node:crypto';
import type { CloudSignInPrompt } from '../contract/control-api.ts';
import type { HandoverReport, HandoverStatus } from '../contract/handover.ts';
import { beginAdminSignIn, type AdminSignIn } from '../cloud/app-registration.ts';
import { DIRSYNC_SWITCH_SCOPE } from '../cloud/sync-tool.ts';
import type { DirSyncConfig } from '../base/config.ts';
import type { Logger } from '../base/logger.ts';
import { NotConfiguredError } from '../errors/run-errors.ts';
import { checkSwitch, handoverReport, handoverStatus, readHandover, switchDirectorySync } from '../run/handover.ts';
import { runSync } from '../run/run.ts';
import { cloudConnectorFor, cloudNetworkFor, sessionFor } from '../run/session.ts';
import type { Store } from '../store/store.ts';

/** What the switch's sign-in asks for: the switch's own permission, and who signs in. Nothing else; forgotten after. */
export const SWITCH_SIGN_IN_SCOPES: ReadonlyArray<string> = ['User.Read', 'Organization.Read.All', DIRSYNC_SWITCH_SCOPE];

export type HandoverHost = {
  readonly store: Store;
  readonly log: Logger;
  now(): number;
  config(): DirSyncConfig | undefined;
  /** A copy of the store for a preview, and how to discard it. */
  previewCopy(): { readonly store: Store; discard(): void };
  /** Starts the adoption run (a full run) unless a run is in progress; false when it could not start now. */
  startAdoptionRun(): Promise<boolean>;
  /** Something changed that the scheduler and the wizard should know. */
  changed(): void;
};

type PendingSwitch = { readonly sign: AdminSignIn; readonly confirmation: string; readonly oldToolGone: boolean };

export class HandoverControl {
  private readonly switches = new Map<string, PendingSwitch>();

  public constructor(private readonly host: HandoverHost) {}

  private configured(): DirSyncConfig {
    const config = this.host.config();
    if (!config) throw new NotConfiguredError('Directory Sync is not configured yet: finish the Configuration Wizard (or `dirsync init`) before a takeover.');
    return config;
  }

  public async status(): Promise<HandoverStatus> {
    const config = this.configured();
    const before = readHandover(this.host.store)?.phase;
    const status = await handoverStatus(this.host.store, cloudConnectorFor(this.host.store, config), this.host.now());
    // A takeover found under way (switched before a stop, or by hand): the scheduler follows it from now on.
    if (status.state?.phase !== before && !this.ticking) this.host.changed();
    return status;
  }

  private ticking = false;

  /** The takeover's report: a full dry run on a copy of the store, as if Microsoft had converted every object. */
  public async report(): Promise<HandoverReport> {
    const config = this.configured();
    const status = await this.status();
    const copy = this.host.previewCopy();
    try {
      const session = sessionFor(copy.store, config, { log: this.host.log.child({ handoverReport: true }) });
      const run = await runSync(session, { kind: 'full', dryRun: true, takeoverPreview: true, scratchStore: true });
      if (run.status === 'failed') throw new NotConfiguredError(`The takeover report could not be made: ${run.message ?? 'the preview run failed'}`);
      return handoverReport(copy.store, run.id, run.planId, session.cloud().anchorProperty(), status.tool, config.serviceAccountNames);
    } finally {
      copy.discard();
    }
  }

  /** Checks that the switch is allowed now, then starts the administrator's sign-in for it (its own permission only). */
  public async beginSwitch(args: { readonly confirmation: string; readonly oldToolGone?: boolean }): Promise<CloudSignInPrompt> {
    const config = this.configured();
    const request = { confirmation: args.confirmation, oldToolGone: args.oldToolGone === true };
    checkSwitch(await this.status(), request);
    const sign = await beginAdminSignIn({ instance: config.cloud.instance, authorityHost: config.cloud.authorityHost, graphBaseUrl: config.cloud.graphBaseUrl,
      network: cloudNetworkFor(this.host.store, config), tenant: config.cloud.tenantId, scopes: SWITCH_SIGN_IN_SCOPES });
    const signInId = randomUUID();
    this.switches.set(signInId, { sign, ...request });
    return { signInId, userCode: sign.userCode, verificationUri: sign.verificationUri, message: sign.message, expiresAt: sign.expiresAt.toISOString() };
  }

  /** Waits for the administrator, makes the switch in that session, then forgets the session and its permission. */
  public async completeSwitch(args: { readonly signInId: string }): Promise<HandoverStatus> {
    const pending = this.switches.get(args.signInId);
    if (!pending) throw new NotConfiguredError('That sign-in is unknown or finished: start the switch again.');
    try {
      const admin = await pending.sign.result;
      try {
        const config = this.configured();
        const state = await switchDirectorySync({ store: this.host.store, cloud: cloudConnectorFor(this.host.store, config), admin,
          confirmation: pending.confirmation, oldToolGone: pending.oldToolGone, nowMs: this.host.now() });
        this.host.log.info({ switchedBy: state.switchedBy, synchronized: state.synchronizedAtSwitch, tool: state.tool.description }, 'directory synchronization turned off: the takeover follows the conversion');
      } finally {
        await admin.signOut();
      }
      this.host.changed();
      return await this.status();
    } finally {
      this.switches.delete(args.signInId);
    }
  }

  public cancelSwitch(signInId: string): boolean {
    const pending = this.switches.get(signInId);
    pending?.sign.cancel();
    this.switches.delete(signInId);
    return pending !== undefined;
  }

  /** Whether the scheduler should follow a takeover rather than run (the conversion, or the adoption run to start). */
  public following(): boolean {
    const phase = readHandover(this.host.store)?.phase;
    return phase === 'converting' || phase === 'adopting';
  }

  /** One check of the conversion; when it is done, the adoption run. `look`: check the tenant even when no takeover is on record. */
  public async tick(look = false): Promise<void> {
    const config = this.host.config();
    if (!config || (!look && !this.following())) return;
    this.ticking = true;
    try {
      if (look || readHandover(this.host.store)?.phase === 'converting') await this.status();
      if (readHandover(this.host.store)?.phase === 'adopting') await this.host.startAdoptionRun();
    } catch (error) {
      this.host.log.warn({ err: error }, 'the takeover could not be checked: trying again later');
    } finally {
      this.ticking = false;
    }
    this.host.changed();
  }
}
