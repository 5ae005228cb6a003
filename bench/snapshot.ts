/**
 * Builds the benchmark directory of a size once and keeps it as a snapshot of the stopped DC's
 * directory (ad-reference.md §8.3), which every bench run starts a copy of.
 *
 * The loader is Samba's own `ldbadd`/`ldbmodify` on the stopped DC's sam.ldb, in 1,000-entry
 * files: every object goes through the full dsdb module stack (schema checks, objectSid, USNs,
 * replication metadata, backlinks), as an LDAP add would, without LDAP and TLS around it.
 *
 * They run with ldb's `batch_mode` option, which leaves out the nested transaction (and the copy
 * of the index cache) that ldb wraps around every single operation so that one failed add can be
 * rolled back alone. That per-add copy grows with the database and made loading quadratic (1,000
 * users took 2 s at the start and 20 s at 27,000: ad-reference.md §8's ~93 users/s); without it
 * 1,000 users take ~1.7 s at any size. The price is that a failing add aborts its whole file,
 * which a loader of generated, valid entries does not mind: the build stops with ldbadd's error and
 * resumes at that file. With DIRSYNC_BENCH_DBCHECK=1, `samba-tool dbcheck` must then find no error
 * in the whole directory, or the snapshot is not kept.
 *
 * A build is resumable: progress is recorded after each chunk, and an interrupted build goes on
 * from the last finished chunk (ldbadd commits a file in one transaction).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../lab/connection.ts';
import { ensureSambaTemplate } from '../lab/samba/index.ts';
import { requireExecutable, runCommand } from '../lab/samba/system.ts';
import { benchDirectory } from './directory.ts';

export const defaultBenchDir = () => process.env['DIRSYNC_BENCH_DIR'] ?? join(repoRoot, '.bench');

export type SnapshotInfo = {
  readonly users: number;
  readonly groups: number;
  readonly memberships: number;
  readonly largestGroup: number;
  /** Wall time of the whole build (summed over resumed sessions), and per chunk kind. */
  readonly buildMs: number;
  readonly userChunkMs: ReadonlyArray<number>;
  readonly groupMs: number;
  /** `samba-tool dbcheck` of the whole directory after loading (0 errors, or no snapshot). */
  readonly dbcheckMs?: number;
  readonly builtAt: string;
};

type Progress = { done: number; buildMs: number; userChunkMs: number[]; groupMs: number };

const infoFile = 'bench-snapshot.json';

export function snapshotDir(benchDir: string, users: number): string {
  return join(resolve(benchDir), `dc-${users}`);
}

export function readSnapshotInfo(dir: string): SnapshotInfo | undefined {
  const file = join(dir, infoFile);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as SnapshotInfo : undefined;
}

export async function ensureSnapshot(benchDir: string, users: number, log: (line: string) => void = () => {}): Promise<{ dir: string; info: SnapshotInfo; built: boolean }> {
  const dir = snapshotDir(benchDir, users);
  const existing = readSnapshotInfo(dir);
  if (existing) return { dir, info: existing, built: false };

  const building = `${dir}.building`;
  const progressFile = join(building, 'bench-progress.json');
  if (!existsSync(progressFile)) {
    const template = join(resolve(benchDir), 'samba-template');
    await ensureSambaTemplate(template);
    rmSync(building, { recursive: true, force: true });
    mkdirSync(resolve(benchDir), { recursive: true });
    const copy = await runCommand('cp', ['-a', template, building], { timeoutMs: 120_000 });
    if (copy.code !== 0) throw new Error(`Copying the template ${template} to ${building} failed: ${copy.stderr.trim()}`);
    writeFileSync(progressFile, JSON.stringify({ done: 0, buildMs: 0, userChunkMs: [], groupMs: 0 } satisfies Progress));
  }
  const progress = JSON.parse(readFileSync(progressFile, 'utf8')) as Progress;
  const tools = { add: requireExecutable('ldbadd', 'loading the bench directory'), modify: requireExecutable('ldbmodify', 'loading the bench directory') };
  const samLdb = join(building, 'private', 'sam.ldb');
  const ldif = join(building, 'bench-chunk.ldif');
  const directory = benchDirectory(users);
  let index = 0;
  for (const chunk of directory.chunks()) {
    if (index < progress.done) {
      index += 1;
      continue;
    }
    writeFileSync(ldif, chunk.ldif);
    const t0 = Date.now();
    const result = await runCommand(tools[chunk.tool], ['-o', 'batch_mode', '-H', samLdb, ldif], { timeoutMs: 3_600_000 });
    if (result.code !== 0) {
      throw new Error(`Loading chunk ${index} of the ${users}-user bench directory failed (${chunk.tool}): ${(result.stderr || result.stdout).trim().slice(0, 2000)}`);
    }
    const ms = Date.now() - t0;
    const isUsers = chunk.ldif.includes('objectClass: user');
    if (isUsers) progress.userChunkMs.push(ms);
    else if (index > 0) progress.groupMs += ms;
    progress.buildMs += ms;
    index += 1;
    progress.done = index;
    writeFileSync(progressFile, JSON.stringify(progress));
    if (isUsers && progress.userChunkMs.length % 10 === 0) log(`  ${progress.userChunkMs.length * 1000} users loaded (last 1,000 in ${(ms / 1000).toFixed(1)} s)`);
  }
  rmSync(ldif, { force: true });
  // DIRSYNC_BENCH_DBCHECK=1: the whole directory checked as Samba checks a DC's database (links,
  // backlinks, metadata, indexes). It takes minutes at 10,000 users (link checks), hours at 100,000,
  // so it is a switch; every bench run checks the directory end to end anyway (the tenant must hold
  // every user, group and membership that was loaded).
  let dbcheckMs: number | undefined;
  if (process.env['DIRSYNC_BENCH_DBCHECK'] === '1') {
    const checkStart = Date.now();
    const check = await runCommand(requireExecutable('samba-tool', 'checking the loaded bench directory'), ['dbcheck', '--configfile=/dev/null', '-H', samLdb], { timeoutMs: 6 * 3_600_000 });
    const checkOutput = `${check.stdout}\n${check.stderr}`;
    if (check.code !== 0 || !/Checked \d+ objects \(0 errors\)/.test(checkOutput)) {
      throw new Error(`samba-tool dbcheck found errors in the loaded ${users}-user bench directory (${building}); delete that folder to build it again:\n${checkOutput.trim().slice(-3000)}`);
    }
    dbcheckMs = Date.now() - checkStart;
    log(`  dbcheck: ${checkOutput.match(/Checked \d+ objects \(0 errors\)/)?.[0] ?? ''} in ${(dbcheckMs / 1000).toFixed(0)} s`);
  }
  rmSync(progressFile, { force: true });
  const info: SnapshotInfo = {
    users, groups: directory.groups, memberships: directory.memberships, largestGroup: directory.largestGroup,
    buildMs: progress.buildMs, userChunkMs: progress.userChunkMs, groupMs: progress.groupMs, ...(dbcheckMs === undefined ? {} : { dbcheckMs }), builtAt: new Date().toISOString(),
  };
  writeFileSync(join(building, infoFile), `${JSON.stringify(info, null, 2)}\n`);
  renameSync(building, dir);
  return { dir, info, built: true };
}
