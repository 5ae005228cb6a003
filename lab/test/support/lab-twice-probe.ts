/**
 * The lab started twice, as an administrator does (`npm run lab`, stop, `npm run lab` again), each time
 * with a new Directory Sync installation that synchronizes one OU of the organisation in full — the
 * second must meet a tenant as fresh as its new DC: no conflict, no orphan, the same creates. Prints one
 * JSON line with both runs. Run inside a network namespace of its own (lab-twice.test.ts), so its DC and
 * tenant never meet the shared lab's:
 *
 *   ip netns exec <ns> node --import tsx lab/test/support/lab-twice-probe.ts <labDir>
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../engine/src/base/config.ts';
import { guidBufferToString } from '../../../engine/src/ad/guid.ts';
import { runSync } from '../../../engine/src/run/run.ts';
import { openStore, saveConfig, sessionFor, SECRET_AD_PASSWORD, SECRET_CLIENT_SECRET } from '../../../engine/src/run/session.ts';
import { adminLdap } from '../../../engine/test/support/ad-sandbox.ts';
import { buildOrganisation } from '../../fixtures/organisation.ts';
import { startLab, stopLab } from '../../index.ts';

const [labDir] = process.argv.slice(2);
if (labDir === undefined) {
  console.error('usage: lab-twice-probe.ts <labDir>');
  process.exit(2);
}

/** `npm run lab`, then `dirsync init --lab` in a new data directory with one OU in scope, then `dirsync sync --full`. */
async function round(): Promise<Record<string, unknown>> {
  const { connection } = await startLab({ labDir: labDir as string });
  const ad = connection.ad;
  const tenant = connection.tenant;
  const ou = buildOrganisation(ad.baseDn).notable.nestedOu;
  const client = await adminLdap(ad);
  const { searchEntries } = await client.search(ou, { scope: 'base', attributes: ['objectGUID'], explicitBufferAttributes: ['objectGUID'] });
  await client.unbind();
  const dataDir = mkdtempSync(join(tmpdir(), 'dirsync-lab-twice-'));
  const store = openStore(dataDir);
  try {
    const config = parseConfig({
      version: 1,
      ad: { url: ad.ldapsUrl, tlsServerName: ad.dcHostName, trustedCaPem: readFileSync(ad.caCertFile, 'utf8'), bindDn: ad.adminBindDn, baseDn: ad.baseDn },
      cloud: { instance: 'custom', tenantId: tenant.tenantId, clientId: tenant.clientId, credential: 'secret', authorityHost: tenant.authorityHost,
        graphBaseUrl: tenant.graphBaseUrl, trustedCaPem: readFileSync(tenant.tenantCaCertFile, 'utf8') },
      scope: { includedOuGuids: [guidBufferToString(searchEntries[0]?.['objectGUID'] as Buffer)], excludedOuGuids: [] },
    }, 'the lab-twice probe');
    saveConfig(store, dataDir, config);
    store.secrets.set(SECRET_AD_PASSWORD, ad.adminPassword);
    store.secrets.set(SECRET_CLIENT_SECRET, tenant.clientSecret);
    const run = await runSync(sessionFor(store, config), { kind: 'full', dryRun: false });
    const errors = store.listErrors(run.id).map((e) => `${e.dn}: ${e.code}`);
    return { status: run.status, planned: run.planned, exported: run.exported, held: run.held, errors, matchReport: run.matchReport ?? {} };
  } finally {
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

try {
  const first = await round();
  // The lab stopped and started again: the DC is provisioned anew (new objectGUIDs).
  await stopLab({ labDir });
  const second = await round();
  console.log(JSON.stringify({ first, second }));
} finally {
  await stopLab({ labDir });
}
