/**
 * `dirsync handover`: the takeover from Entra Connect, Cloud Sync or DirSync (docs/takeover.md). Through the
 * running service when there is one (it then follows the conversion at once), else on the store directly.
 */
import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import type { CloudSignInPrompt } from '../contract/control-api.ts';
import type { HandoverObject, HandoverReport, HandoverStatus } from '../contract/handover.ts';
import { storeFiles } from '../base/config.ts';
import { createLogger } from '../base/logger.ts';
import { formatDuration } from '../run/handover.ts';
import { readConfig } from '../run/session.ts';
import { openPreviewStore, previewFile, removePreviewFiles } from '../run/preview.ts';
import { callControl, type ControlEndpoint } from '../service/control-client.ts';
import { HandoverControl } from '../service/handover-control.ts';
import type { Store } from '../store/store.ts';
import { ExitCode } from './exit-codes.ts';

export type CliHelpers = {
  dataDir(): string;
  print(value: unknown, text: () => string): void;
  serviceEndpoint(dataDir: string): Promise<ControlEndpoint | undefined>;
  withStore<T>(work: (store: Store) => Promise<T> | T): Promise<T>;
};

/** The takeover's requests: the service's, or the same code on this process's store. */
type Handover = {
  status(): Promise<HandoverStatus>;
  report(): Promise<HandoverReport>;
  beginSwitch(args: { confirmation: string; oldToolGone: boolean }): Promise<CloudSignInPrompt>;
  completeSwitch(signInId: string): Promise<HandoverStatus>;
};

function local(store: Store, dataDir: string): Handover {
  const control = new HandoverControl({
    store, log: createLogger({ logDir: storeFiles(dataDir).logs }), now: () => Date.now(), config: () => readConfig(store),
    previewCopy: () => {
      const file = previewFile(dataDir, randomUUID());
      const copy = openPreviewStore(store, file, storeFiles(dataDir).key);
      return { store: copy, discard: () => {
        copy.close();
        removePreviewFiles(file);
      } };
    },
    // The service follows the conversion and starts the adoption run; without it, the next `dirsync sync --full` adopts.
    startAdoptionRun: async () => false,
    changed: () => undefined,
  });
  return { status: () => control.status(), report: () => control.report(), beginSwitch: (a) => control.beginSwitch(a), completeSwitch: (id) => control.completeSwitch({ signInId: id }) };
}

function remote(endpoint: ControlEndpoint): Handover {
  return {
    status: () => callControl(endpoint, 'getHandover', {}),
    report: () => callControl(endpoint, 'handoverReport', {}),
    beginSwitch: (a) => callControl(endpoint, 'beginHandoverSwitch', a),
    completeSwitch: (signInId) => callControl(endpoint, 'completeHandoverSwitch', { signInId }),
  };
}

async function withHandover<T>(cli: CliHelpers, work: (handover: Handover) => Promise<T>): Promise<T> {
  const endpoint = await cli.serviceEndpoint(cli.dataDir());
  if (endpoint) return work(remote(endpoint));
  return cli.withStore((store) => work(local(store, cli.dataDir())));
}

export function describeHandoverStatus(status: HandoverStatus): string {
  const lines = [status.summary];
  const state = status.state;
  if (state) {
    lines.push(`Takeover: ${state.phase} — switched at ${state.switchedAt} by ${state.switchedBy}; synchronized then: ${state.synchronizedAtSwitch.user} users, ${state.synchronizedAtSwitch.group} groups.`);
    if (state.remaining) lines.push(`Still to convert: ${state.remaining.user} users, ${state.remaining.group} groups (checked ${state.remaining.checkedAt})${state.etaSeconds !== undefined ? `, about ${formatDuration(state.etaSeconds)} left` : ''}.`);
  } else if (status.tenantSynchronized) {
    lines.push(`To take over: dirsync handover report, then dirsync handover switch --confirm "${status.confirmation}".`);
  }
  return lines.join('\n');
}

function describeObject(o: HandoverObject): string {
  const changes = o.changes && o.changes.length > 0 ? `: ${o.changes.map((c) => `${c.property} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join('; ')}` : '';
  return `  ${o.objectType} ${o.name}${changes}${o.category === 'adopt' || o.category === 'member' || o.category === 'manager' ? '' : ` — ${o.reason}`}`;
}

export function describeHandoverReport(report: HandoverReport): string {
  const c = report.counts;
  const section = (title: string, objects: ReadonlyArray<HandoverObject>): string[] => (objects.length === 0 ? [] : [title, ...objects.map(describeObject)]);
  const by = (category: HandoverObject['category']): HandoverObject[] => report.objects.filter((o) => o.category === category);
  return [
    `Adopted by their anchors: ${c.adopt} (${c.adoptWithChanges} with attribute changes; every adopted object also gets Directory Sync's anchor).`,
    `Created (no cloud counterpart): ${c.create}. Orphans of the old tool (held for approval, never deleted silently): ${c.orphan}.`,
    `Conflicts: ${c.conflict}. Blocked: ${c.blocked}. Invalid in AD: ${c.invalid}. Membership changes: ${c.memberChanges}. Manager changes: ${c.managerChanges}.`,
    ...section('Attribute changes the first run writes:', by('adopt').filter((o) => (o.changes?.length ?? 0) > 0)),
    ...section('Membership changes:', by('member')), ...section('Manager changes:', by('manager')),
    ...section('Created:', by('create')), ...section('Orphans:', by('orphan')), ...section('Conflicts:', by('conflict')),
    ...section('Blocked:', by('blocked')), ...section('Invalid:', by('invalid')),
    '', ...report.notes,
  ].join('\n');
}

export function registerHandoverCommands(program: Command, cli: CliHelpers): void {
  const handover = program.command('handover').description('take over from Entra Connect, Cloud Sync or DirSync: status, report, switch');
  handover.command('status').description('whether another tool synchronizes the tenant, whether it still runs, and where a takeover stands').action(async () => {
    const status = await withHandover(cli, (h) => h.status());
    cli.print(status, () => describeHandoverStatus(status));
  });
  handover.command('report').description('what the takeover would do, object by object (nothing is written)').action(async () => {
    const report = await withHandover(cli, (h) => h.report());
    cli.print(report, () => describeHandoverReport(report));
  });
  handover.command('switch').description('turn the tenant\'s directory synchronization off (a Global Administrator signs in), then adopt')
    .requiredOption('--confirm <tenant name>', 'the tenant\'s name, typed to confirm')
    .option('--old-tool-gone', 'the old server is gone for good: do not wait for its last sync time to stop moving', false)
    .action(async (o: { confirm: string; oldToolGone: boolean }) => {
      const status = await withHandover(cli, async (h) => {
        const prompt = await h.beginSwitch({ confirmation: o.confirm, oldToolGone: o.oldToolGone });
        console.error(prompt.message);
        return h.completeSwitch(prompt.signInId);
      });
      cli.print(status, () => describeHandoverStatus(status));
      process.exitCode = ExitCode.ok;
    });
}
