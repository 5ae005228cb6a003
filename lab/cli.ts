/**
 * `npm run lab` (start), `npm run lab:stop`, `npm run lab:status`, and `run -- <command>`, which starts
 * the lab, runs the command with the lab's connection in its environment, and stops the lab.
 */
import { spawn } from 'node:child_process';
import { Command } from 'commander';
import { defaultLabDir, readConnection, type AdConnection, type LabConnection } from './connection.ts';
import { labStatus, startLab, stopLab } from './index.ts';
import { contosoForest, fabrikamForest } from './samba/index.ts';
import { parseLagRange } from './tenant/consistency.ts';
import { entraConnectSeed, type OldSyncTool } from './tenant/connect-seed.ts';
import { labControl, resetLabTenant } from './tenant/lab-reset.ts';

function describeAd(title: string, ad: AdConnection): string[] {
  return [
    title,
    `  LDAPS URL        ${ad.ldapsUrl}   (TLS name ${ad.dcHostName})`,
    `  Base DN          ${ad.baseDn}`,
    `  Administrator    ${ad.adminUpn}  /  ${ad.adminPassword}`,
    `  CA certificate   ${ad.caCertFile}`,
    `  UPN suffixes     ${ad.domain} (non-routable), ${ad.upnSuffixes.join(', ')}`,
    `  Try it           LDAPTLS_CACERT=${ad.caCertFile} ldapsearch -H ${ad.ldapsUrl} -x \\`,
    `                     -D '${ad.adminUpn}' -w '${ad.adminPassword}' -b '${ad.baseDn}' '(objectClass=user)' cn`,
    '',
  ];
}

function describeConnection(c: LabConnection, file: string): string {
  return [
    `Lab is running. Connection details: ${file}`,
    '',
    ...describeAd('Active Directory (Samba AD DC)', c.ad),
    ...c.forests.slice(1).flatMap((ad) => describeAd('Active Directory (second forest, Samba AD DC)', ad)),
    'Microsoft Entra ID (emulated tenant)',
    `  Tenant           ${c.tenant.tenantDisplayName} (${c.tenant.tenantId})`,
    `  Verified domains ${c.tenant.verifiedDomains.join(', ')}`,
    `  App (client id)  ${c.tenant.clientId}  /  secret ${c.tenant.clientSecret}`,
    `  Authority        ${c.tenant.authority}`,
    `  Token endpoint   ${c.tenant.tokenEndpoint}`,
    `  Graph base URL   ${c.tenant.graphBaseUrl}v1.0/`,
    `  In the wizard    Advanced: cloud instance → Custom; Authority host ${c.tenant.authorityHost}, Microsoft Graph address ${c.tenant.graphBaseUrl}`,
    `  TLS CA           ${c.tenant.tenantCaCertFile}  (the wizard offers to trust it; the CLI and tests: NODE_EXTRA_CA_CERTS=<this file>)`,
    `  Global admin     ${c.tenant.globalAdminUpn}  /  ${c.tenant.globalAdminPassword}`,
    `  Sign-in page     ${c.tenant.authorityHost}/devicelogin  (where the wizard's device code is entered)`,
    '',
    'Stop it with: npm run lab:stop',
  ].join('\n');
}

/** Runs a command with the lab's environment and resolves with its exit code. */
function runWithLab(connection: LabConnection, argv: ReadonlyArray<string>): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error('Nothing to run: give a command after `--`, e.g. `lab run -- node --test`.');
  return new Promise((resolveCode, reject) => {
    const child = spawn(command, args, {
      stdio: 'inherit',
      env: {
        ...process.env,
        DIRSYNC_LAB_DIR: connection.labDir,
        NODE_EXTRA_CA_CERTS: connection.tenant.tenantCaCertFile,
      },
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolveCode(code ?? (signal ? 128 : 1)));
  });
}

const program = new Command('lab').description('The Directory Sync lab: two Samba AD DCs (forests contoso.test and fabrikam.test) and an emulated Entra tenant on loopback.');

/** `start --lag`: the daemon reads its consistency settings from its environment (lab/tenant/main.ts). */
function applyLagOptions(options: { lag?: string; tokenLag?: string }): void {
  if (options.tokenLag !== undefined && options.lag === undefined) throw new Error('--token-lag needs --lag.');
  if (options.lag !== undefined) {
    parseLagRange(options.lag, '--lag');
    process.env['DIRSYNC_LAB_LAG_MS'] = options.lag;
  }
  if (options.tokenLag !== undefined) {
    parseLagRange(options.tokenLag, '--token-lag');
    process.env['DIRSYNC_LAB_TOKEN_LAG_MS'] = options.tokenLag;
  }
}

program.command('start').description('Provision, start and seed a fresh lab (both forests\' DCs and the tenant)')
  .option('--lag <min-max>', 'the emulated tenant in eventual consistency mode: each write becomes visible after min-max ms (DIRSYNC_LAB_LAG_MS)')
  .option('--token-lag <min-max>', 'with --lag: the token endpoint sees new apps, credentials and role assignments after min-max ms')
  .action(async (options: { lag?: string; tokenLag?: string }) => {
    applyLagOptions(options);
    const started = await startLab({ labDir: defaultLabDir() });
    console.log(describeConnection(started.connection, started.connectionFile));
    const t = started.timings;
    console.log(`\nStarted in ${((t.adStartMs + t.seedMs + t.tenantStartMs) / 1000).toFixed(1)} s ` +
      `(both DCs ${(t.adStartMs / 1000).toFixed(1)} s, seed ${(t.seedMs / 1000).toFixed(1)} s — of which the second forest ${(t.secondForestSeedMs / 1000).toFixed(1)} s, ` +
      `alongside the first — tenant ${(t.tenantStartMs / 1000).toFixed(1)} s).`);
  });

program.command('stop').description('Stop the lab (both DCs and the tenant); nothing is left running').action(async () => {
  await stopLab({ labDir: defaultLabDir() });
  console.log('Lab stopped.');
});

program.command('status').description('Show whether the lab is running').action(() => {
  const status = labStatus({ labDir: defaultLabDir() });
  const connection = readConnection();
  console.log(`Samba AD DC (${contosoForest.dnsDomain}, ${contosoForest.hostIp}): ${status.ad.running ? `running (pid ${status.ad.pid})` : 'stopped'}`);
  console.log(`Samba AD DC, second forest (${fabrikamForest.dnsDomain}, ${fabrikamForest.hostIp}): ${status.secondForest.running ? `running (pid ${status.secondForest.pid})` : 'stopped'}`);
  console.log(`Emulated tenant: ${status.tenant.running ? `running (pid ${status.tenant.pid})` : 'stopped'}`);
  if (connection) console.log(`Connection details: ${defaultLabDir()}/connection.json`);
});

function runningLab(): NonNullable<ReturnType<typeof readConnection>> {
  const connection = readConnection();
  if (!connection || !labStatus({ labDir: defaultLabDir() }).tenant.running) throw new Error('No lab is running: start it with `npm run lab`.');
  return connection;
}

const TOOLS: ReadonlyArray<OldSyncTool> = ['entra-connect', 'cloud-sync', 'dirsync'];

program.command('seed-tenant').description('Reset the running lab tenant to a seed: `default`, or `entra-connect` (synchronized by Entra Connect, Cloud Sync or DirSync from the lab\'s AD)')
  .argument('<seed>', 'default | entra-connect')
  .option('--ou <dn>', 'entra-connect: the synchronized OU, relative to the base DN or a full DN', 'OU=Contoso')
  .option('--source-anchor <attribute>', 'entra-connect: objectGUID or mS-DS-ConsistencyGuid', 'objectGUID')
  .option('--tool <tool>', 'entra-connect: which tool synchronized it (entra-connect, cloud-sync, dirsync)', 'entra-connect')
  .option('--orphans <n>', 'entra-connect: synchronized users whose AD object is gone', '0')
  .option('--drift-every <n>', 'entra-connect: every n-th synchronized user has drifted attributes (0: none)', '0')
  .action(async (name: string, options: { ou: string; sourceAnchor: string; tool: string; orphans: string; driftEvery: string }) => {
    const connection = runningLab();
    if (name === 'default') {
      await resetLabTenant(connection.tenant);
      console.log('The lab tenant is back to its default seed.');
      return;
    }
    if (name !== 'entra-connect') throw new Error(`Unknown seed '${name}': use default or entra-connect.`);
    if (options.sourceAnchor !== 'objectGUID' && options.sourceAnchor !== 'mS-DS-ConsistencyGuid') throw new Error('--source-anchor is objectGUID or mS-DS-ConsistencyGuid.');
    const tool = TOOLS.find((t) => t === options.tool);
    if (!tool) throw new Error(`--tool is one of ${TOOLS.join(', ')}.`);
    const seed = await entraConnectSeed(connection.ad, { baseOu: options.ou, sourceAnchor: options.sourceAnchor, tool, orphans: Number(options.orphans),
      driftEvery: Number(options.driftEvery) });
    await resetLabTenant(connection.tenant, seed);
    console.log(`The lab tenant is synchronized by ${tool} from ${options.ou}: ${seed.users?.length ?? 0} users and ` +
      `${seed.groups?.length ?? 0} security groups (plus the default cloud-only objects). Back to the default: seed-tenant default`);
  });

program.command('old-sync').description('The old sync server of a synchronized lab tenant: show it, start or stop its cycles, set the switch\'s conversion pace')
  .option('--running', 'its cycles run: the last sync time moves')
  .option('--stopped', 'it stops: the last sync time stays')
  .option('--cycle-seconds <n>', 'its cycle in seconds')
  .option('--conversion-per-second <n>', 'objects the tenant converts per second once synchronization is turned off')
  .action(async (options: { running?: boolean; stopped?: boolean; cycleSeconds?: string; conversionPerSecond?: string }) => {
    const connection = runningLab();
    const settings = {
      ...(options.running ? { running: true } : options.stopped ? { running: false } : {}),
      ...(options.cycleSeconds !== undefined ? { cycleMs: Number(options.cycleSeconds) * 1000 } : {}),
      ...(options.conversionPerSecond !== undefined ? { conversionPerSecond: Number(options.conversionPerSecond) } : {}),
    };
    const state = Object.keys(settings).length > 0 ? await labControl(connection.tenant, 'PUT', 'old-sync', settings) : await labControl(connection.tenant, 'GET', 'old-sync');
    console.log(JSON.stringify(state, null, 2));
  });

program.command('run').description('Start the lab, run a command against it, stop the lab; exits with the command\'s code')
  .argument('<command...>', 'the command and its arguments (after --)')
  .action(async (argv: string[]) => {
    const labDir = defaultLabDir();
    const started = await startLab({ labDir });
    const t = started.timings;
    console.log(`Lab ready in ${((t.adStartMs + t.seedMs + t.tenantStartMs) / 1000).toFixed(1)} s: ${started.connectionFile}`);
    let code = 1;
    try {
      code = await runWithLab(started.connection, argv);
    } finally {
      await stopLab({ labDir });
    }
    process.exitCode = code;
  });

await program.parseAsync(process.argv);
