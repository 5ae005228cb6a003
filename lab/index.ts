/**
 * The lab: a real Samba AD domain controller and the emulated Entra tenant, started together for
 * tests, demos and trying the product safely. `npm run lab` / `npm run lab:stop` drive it; tests use
 * the same functions.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { defaultLabDir, writeConnection, type LabConnection } from './connection.ts';
import { buildOrganisation } from './fixtures/organisation.ts';
import { sambaDcStatus, seedDirectory, startSambaDc, stopSambaDc } from './samba/index.ts';
import { startTenantDaemon, stopTenantDaemon, tenantDaemonStatus } from './tenant/index.ts';

export type LabTimings = { readonly adStartMs: number; readonly seedMs: number; readonly tenantStartMs: number };

export type StartedLab = { readonly connection: LabConnection; readonly connectionFile: string; readonly timings: LabTimings };

/** Starts a fresh lab (stopping any previous one in the same directory). */
export async function startLab(options: { labDir?: string } = {}): Promise<StartedLab> {
  const labDir = options.labDir ?? defaultLabDir();
  await stopLab({ labDir });
  const t0 = Date.now();
  const ad = await startSambaDc({ labDir });
  const t1 = Date.now();
  await seedDirectory(ad, buildOrganisation(ad.baseDn));
  const t2 = Date.now();
  // Both halves fresh: the DC was provisioned anew (new objectGUIDs), so the tenant starts from its seed too.
  const tenant = await startTenantDaemon({ labDir, fresh: true });
  const t3 = Date.now();
  const connection: LabConnection = { version: 1, labDir, ad, tenant };
  const connectionFile = writeConnection(connection);
  return { connection, connectionFile, timings: { adStartMs: t1 - t0, seedMs: t2 - t1, tenantStartMs: t3 - t2 } };
}

/** Stops everything the lab started in this directory. Leaves no process behind. Idempotent. */
export async function stopLab(options: { labDir?: string } = {}): Promise<void> {
  const labDir = options.labDir ?? defaultLabDir();
  await stopTenantDaemon({ labDir });
  await stopSambaDc({ labDir });
  rmSync(join(labDir, 'connection.json'), { force: true });
}

export type LabStatus = { readonly ad: { running: boolean; pid?: number }; readonly tenant: { running: boolean; pid?: number } };

export function labStatus(options: { labDir?: string } = {}): LabStatus {
  const labDir = options.labDir ?? defaultLabDir();
  return { ad: sambaDcStatus({ labDir }), tenant: tenantDaemonStatus({ labDir }) };
}
