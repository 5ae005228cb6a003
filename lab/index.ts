/**
 * The lab: two real Samba AD domain controllers — the forest contoso.test (127.0.0.1) the product uses,
 * and a second forest, fabrikam.test (127.0.0.2) — and the emulated Entra tenant, started together for
 * tests, demos and trying the product safely. `npm run lab` / `npm run lab:stop` drive it; tests use
 * the same functions.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { defaultLabDir, writeConnection, type LabConnection } from './connection.ts';
import { buildFabrikamOrganisation } from './fixtures/fabrikam.ts';
import { buildOrganisation } from './fixtures/organisation.ts';
import { contosoForest, fabrikamForest, sambaDcStatus, seedDirectory, startSambaDc, stopSambaDc } from './samba/index.ts';
import { seedForeignMembers } from './samba/seed.ts';
import { startTenantDaemon, stopTenantDaemon, tenantDaemonStatus } from './tenant/index.ts';

export type LabTimings = {
  /** Both DCs, started in parallel. */
  readonly adStartMs: number;
  /** Both directories seeded (in parallel), then the second forest's foreign members. */
  readonly seedMs: number;
  /** Of seedMs: the second forest's own seed (alongside the first's) and its foreign members (after). */
  readonly secondForestSeedMs: number;
  readonly tenantStartMs: number;
};

export type StartedLab = { readonly connection: LabConnection; readonly connectionFile: string; readonly timings: LabTimings };

/** The forests of the lab, in the order of `LabConnection.forests`: contoso.test first. */
export const labForests = [contosoForest, fabrikamForest] as const;

/** Starts a fresh lab (stopping any previous one in the same directory). */
export async function startLab(options: { labDir?: string } = {}): Promise<StartedLab> {
  const labDir = options.labDir ?? defaultLabDir();
  await stopLab({ labDir });
  const t0 = Date.now();
  const started = await Promise.allSettled(labForests.map((forest) => startSambaDc({ labDir, forest })));
  const failed = started.find((result) => result.status === 'rejected');
  const [ad, fabrikam] = started.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
  if (failed !== undefined || ad === undefined || fabrikam === undefined) {
    await Promise.all(labForests.map((forest) => stopSambaDc({ labDir, forest }))); // the one that started: nothing half-started stays
    throw failed?.reason ?? new Error('A lab DC did not start.');
  }
  const t1 = Date.now();
  const contoso = buildOrganisation(ad.baseDn);
  const second = buildFabrikamOrganisation(fabrikam.baseDn, contoso);
  let secondSeedMs = 0;
  await Promise.all([
    seedDirectory(ad, contoso),
    seedDirectory(fabrikam, second).then((report) => { secondSeedMs = report.elapsedMs; }),
  ]);
  // A fabrikam group's contoso member is added by the SID contoso gave it, so only once contoso is seeded.
  const t2a = Date.now();
  await seedForeignMembers(fabrikam, [ad, fabrikam], second.foreignMembers);
  const t2 = Date.now();
  // Both halves fresh: the DCs were provisioned anew (new objectGUIDs), so the tenant starts from its seed too.
  const tenant = await startTenantDaemon({ labDir, fresh: true });
  const t3 = Date.now();
  const connection: LabConnection = { version: 1, labDir, ad, forests: [ad, fabrikam], tenant };
  const connectionFile = writeConnection(connection);
  return { connection, connectionFile, timings: { adStartMs: t1 - t0, seedMs: t2 - t1, secondForestSeedMs: secondSeedMs + (t2 - t2a), tenantStartMs: t3 - t2 } };
}

/** Stops everything the lab started in this directory (both DCs, the tenant). Leaves no process behind. Idempotent. */
export async function stopLab(options: { labDir?: string } = {}): Promise<void> {
  const labDir = options.labDir ?? defaultLabDir();
  await stopTenantDaemon({ labDir });
  await Promise.all(labForests.map((forest) => stopSambaDc({ labDir, forest })));
  rmSync(join(labDir, 'connection.json'), { force: true });
}

export type LabStatus = {
  /** The first forest's DC (contoso.test). */
  readonly ad: { running: boolean; pid?: number };
  /** The second forest's DC (fabrikam.test). */
  readonly secondForest: { running: boolean; pid?: number };
  readonly tenant: { running: boolean; pid?: number };
};

export function labStatus(options: { labDir?: string } = {}): LabStatus {
  const labDir = options.labDir ?? defaultLabDir();
  return {
    ad: sambaDcStatus({ labDir, forest: contosoForest }),
    secondForest: sambaDcStatus({ labDir, forest: fabrikamForest }),
    tenant: tenantDaemonStatus({ labDir }),
  };
}
