/**
 * The lab's certificate authority. It is created once per checkout (default `<repo>/.lab/ca/`, or
 * `$DIRSYNC_TENANT_CA_DIR`) and every tenant server, in-process or daemon, gets a fresh leaf
 * certificate for 127.0.0.1/localhost issued by it. Clients trust the CA once, with
 * `NODE_EXTRA_CA_CERTS=<dir>/ca.pem`, which must be set before the Node process starts (it is read
 * at start-up and also covers the global `fetch` that the Graph client uses).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { generate } from 'selfsigned';
import { repoRoot } from '../connection.ts';

export type LabCa = {
  /** Directory holding `ca.pem` and `ca-key.pem`. */
  readonly dir: string;
  /** Path of the CA certificate: point NODE_EXTRA_CA_CERTS at it. */
  readonly certFile: string;
  readonly certPem: string;
  readonly keyPem: string;
};

export type ServerCertificate = { readonly certPem: string; readonly keyPem: string };

/** `$DIRSYNC_TENANT_CA_DIR`, else `<repo>/.lab/ca`. */
export function defaultCaDir(): string {
  return resolve(process.env['DIRSYNC_TENANT_CA_DIR'] ?? join(repoRoot, '.lab', 'ca'));
}

function readCa(dir: string): LabCa | undefined {
  const certFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'ca-key.pem');
  if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
  return { dir, certFile, certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

/**
 * Returns the lab CA in `dir`, creating it on first use. Safe when several processes race: the CA is
 * written to a temporary directory that is renamed into place, and the loser reads the winner's.
 */
export async function ensureLabCa(dir: string = defaultCaDir()): Promise<LabCa> {
  const existing = readCa(dir);
  if (existing) return existing;
  mkdirSync(dirname(dir), { recursive: true });
  const notBeforeDate = new Date(Date.now() - 24 * 3600 * 1000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 10 * 365 * 24 * 3600 * 1000);
  const pems = await generate([
    { name: 'commonName', value: 'Directory Sync Lab CA' },
    { name: 'organizationName', value: 'Directory Sync Lab' },
  ], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const staging = mkdtempSync(join(dirname(dir), '.ca-staging-'));
  writeFileSync(join(staging, 'ca.pem'), pems.cert);
  writeFileSync(join(staging, 'ca-key.pem'), pems.private, { mode: 0o600 });
  try {
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const winner = readCa(dir);
    if (!winner) throw error;
    return winner;
  }
  const created = readCa(dir);
  if (!created) throw new Error(`The lab CA could not be read back from ${dir}.`);
  return created;
}

/** A TLS server certificate for 127.0.0.1, ::1 and localhost (plus `extraHosts`), issued by the lab CA. */
export async function issueServerCertificate(ca: LabCa, extraHosts: ReadonlyArray<string> = []): Promise<ServerCertificate> {
  const notBeforeDate = new Date(Date.now() - 3600 * 1000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 365 * 24 * 3600 * 1000);
  const dnsNames = ['localhost', ...extraHosts.filter((h) => !/^[\d.:]+$/.test(h))];
  const ips = ['127.0.0.1', '::1', ...extraHosts.filter((h) => /^[\d.:]+$/.test(h) && h !== '127.0.0.1' && h !== '::1')];
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.keyPem, cert: ca.certPem },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...dnsNames.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}
