/**
 * Runs the service in the foreground (what the OS service manager starts): the local control socket,
 * optionally browser mode on loopback, the schedule. Stops cleanly on SIGTERM/SIGINT, after the run
 * in progress.
 */
import { join } from 'node:path';
import { appRoot } from '../app-root.ts';
import type { WriteBudget } from '../cloud/governor.ts';
import { controlKeyFile, defaultSocketPath } from '../base/locations.ts';
import { EventHub, listenOnLoopback, listenOnSocket, type ControlServer } from './control-server.ts';
import { DirSyncService, type ServiceClock } from './service.ts';

export { defaultSocketPath } from '../base/locations.ts';

export const rendererDist = join(appRoot, 'renderer', 'dist');

export type RunningService = {
  readonly service: DirSyncService;
  readonly events: EventHub;
  readonly socket: ControlServer;
  readonly browser?: ControlServer & { url: string; token: string; port: number };
  stop(): Promise<void>;
};

export async function startService(options: {
  readonly dataDir: string;
  readonly socketPath?: string;
  readonly browser?: { readonly port?: number; readonly serveRenderer?: boolean; readonly token?: string };
  readonly clock?: ServiceClock;
  readonly schedule?: boolean;
  readonly writeBudget?: WriteBudget;
  readonly ownershipSettleMs?: number;
  readonly ownershipVerifySeconds?: number;
  readonly hostName?: string;
  /** How often a takeover's conversion is checked (default 60 s). */
  readonly handoverPollSeconds?: number;
  /** A client asked the service to stop (stopService); default: stop the service and close its channels. */
  readonly onStopRequested?: () => void;
}): Promise<RunningService> {
  const events = new EventHub();
  const service = new DirSyncService({ dataDir: options.dataDir, events, clock: options.clock, schedule: options.schedule, writeBudget: options.writeBudget,
    ownershipSettleMs: options.ownershipSettleMs, ownershipVerifySeconds: options.ownershipVerifySeconds, hostName: options.hostName,
    handoverPollSeconds: options.handoverPollSeconds, onStopRequested: () => (options.onStopRequested ? options.onStopRequested() : void running.stop()) });
  const socketPath = options.socketPath ?? defaultSocketPath(options.dataDir);
  const socket = await listenOnSocket(service, events, socketPath, controlKeyFile(socketPath, options.dataDir));
  const browser = options.browser
    ? await listenOnLoopback(service, events, { port: options.browser.port, token: options.browser.token, rendererDist: options.browser.serveRenderer === false ? undefined : rendererDist })
    : undefined;
  service.start();
  let stopping: Promise<void> | undefined;
  const running: RunningService = {
    service, events, socket, browser,
    stop() {
      stopping ??= (async () => {
        // The run in progress ends after its current page; the channels stay open until the store is closed, so
        // `dirsync service stop` sees the service gone only when it is.
        await service.stop();
        await browser?.close();
        await socket.close();
      })();
      return stopping;
    },
  };
  return running;
}
