/**
 * The lab every test shares: started once by `npm test` (lab/cli.ts run) or by hand with
 * `npm run lab`, described by `<labDir>/connection.json`.
 */
import { readFileSync } from 'node:fs';
import { Client } from 'ldapts';
import { connectionFile, defaultLabDir, readConnection, type AdConnection, type TenantConnection } from '../../connection.ts';
import { fabrikamForest, sambaDcStatus, startSambaDc, stopSambaDc } from '../../samba/index.ts';
import { entraConnectSeed, type EntraConnectSeedOptions } from '../../tenant/connect-seed.ts';
import { tenantDaemonStatus } from '../../tenant/index.ts';
import { resetLabTenant } from '../../tenant/lab-reset.ts';
import type { TenantSeed } from '../../tenant/seed.ts';

/** The shared lab's AD connection; throws, saying how to start the lab, when none is running. */
export async function sharedAd(): Promise<AdConnection> {
  const labDir = defaultLabDir();
  const connection = readConnection(labDir);
  if (!connection) {
    throw new Error(`No lab is running (${connectionFile(labDir)} does not exist). ` +
      'Run the tests with `npm test`, which starts the lab, or start it first with `npm run lab`.');
  }
  if (!sambaDcStatus({ labDir }).running) {
    throw new Error(`${connectionFile(labDir)} exists but the lab's Samba DC is not running. ` +
      'Start a fresh lab with `npm run lab` (or run the tests with `npm test`).');
  }
  return connection.ad;
}

/**
 * Every forest of the shared lab, contoso.test first, then fabrikam.test (the second forest, 127.0.0.2);
 * throws, saying how to start the lab, when none is running or its second forest's DC is not.
 */
export async function sharedForests(): Promise<ReadonlyArray<AdConnection>> {
  const labDir = defaultLabDir();
  await sharedAd();
  const connection = readConnection(labDir);
  if (!connection || connection.forests.length < 2) {
    throw new Error(`${connectionFile(labDir)} describes a lab without its second forest (started by an older checkout?). ` +
      'Start a fresh lab with `npm run lab` (or run the tests with `npm test`).');
  }
  if (!sambaDcStatus({ labDir, forest: fabrikamForest }).running) {
    throw new Error(`${connectionFile(labDir)} exists but the lab's second forest's Samba DC (${fabrikamForest.dnsDomain}) is not running. ` +
      'Start a fresh lab with `npm run lab` (or run the tests with `npm test`); a test that stopped it with stopSecondForestDc() starts it again with startSecondForestDc().');
  }
  return connection.forests;
}

/**
 * Stops the shared lab's second forest's DC (fabrikam.test) and keeps its directory, so startSecondForestDc()
 * brings the same directory back. For tests of a forest that goes away mid-run; always start it again after.
 */
export async function stopSecondForestDc(): Promise<void> {
  await stopSambaDc({ labDir: defaultLabDir(), forest: fabrikamForest });
}

/**
 * Starts the shared lab's second forest's DC again on the database it had when stopped (stopSecondForestDc): the
 * same objects with the same objectGUIDs and the same connection (address, certificate, password). Resolves once
 * it accepts an LDAPS bind.
 */
export async function startSecondForestDc(): Promise<AdConnection> {
  const labDir = defaultLabDir();
  if (!readConnection(labDir)) {
    throw new Error(`No lab is running (${connectionFile(labDir)} does not exist): start it with \`npm run lab\` first.`);
  }
  return startSambaDc({ labDir, forest: fabrikamForest, resume: true });
}

/** A client bound as the lab's Administrator over LDAPS, validating the DC certificate. Unbind it when done. */
export async function adminClient(ad: AdConnection): Promise<Client> {
  const client = new Client({
    url: ad.ldapsUrl,
    connectTimeout: 5000,
    timeout: 30_000,
    tlsOptions: { ca: [readFileSync(ad.caCertFile)], servername: ad.dcHostName },
  });
  await client.bind(ad.adminUpn, ad.adminPassword);
  return client;
}

/** The shared lab's emulated tenant; throws, saying how to start the lab, when none is running. */
export function sharedTenant(): TenantConnection {
  const labDir = defaultLabDir();
  const connection = readConnection(labDir);
  if (!connection || !tenantDaemonStatus({ labDir }).running) {
    throw new Error(`The lab's tenant is not running (see ${connectionFile(labDir)}). ` +
      'Run the tests with `npm test`, which starts the lab, or start it first with `npm run lab`.');
  }
  return connection.tenant;
}

/**
 * Resets a tenant (the shared lab's unless given) to a tenant synchronized by Entra Connect from an AD (the shared
 * lab's unless given) and returns the seed it used. Undo it with resetTenantToDefault().
 */
export async function resetTenantToEntraConnect(
  options: EntraConnectSeedOptions & { readonly ad?: AdConnection; readonly tenant?: TenantConnection } = {},
): Promise<TenantSeed> {
  const { ad, tenant, ...seedOptions } = options;
  const target = tenant ?? sharedTenant();
  const seed = await entraConnectSeed(ad ?? await sharedAd(), seedOptions);
  await resetLabTenant(target, seed);
  return seed;
}

/** Resets a tenant (the shared lab's unless given) to its default seed. */
export async function resetTenantToDefault(tenant: TenantConnection = sharedTenant()): Promise<void> {
  await resetLabTenant(tenant);
}
