/**
 * A real Squid forward proxy for the network tests (docs/network.md), from Debian's squid-openssl: HTTP
 * CONNECT with Basic authentication (basic_ncsa_auth), a destination it denies, an outgoing address of its
 * own (so a tenant that accepts only that address is reachable only through it), and optionally TLS
 * inspection (ssl-bump): every tunnel re-signed with a CA the test gives, as company proxies do.
 *
 * Runs in the foreground (`squid -N`) from a directory of its own; as root, Squid drops to the `proxy`
 * account, which then owns that directory.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SQUID = '/usr/sbin/squid';
const HELPERS = '/usr/lib/squid';

export type SquidOptions = {
  /** Basic-authentication users (name → password); none = the proxy asks for no credentials. */
  readonly users?: Readonly<Record<string, string>>;
  /** The source address of Squid's own connections (e.g. 127.0.0.3). */
  readonly outgoingAddress?: string;
  /** Host names Squid refuses to tunnel to (403), e.g. `blocked.invalid`. */
  readonly deniedDomains?: ReadonlyArray<string>;
  /** TLS inspection: re-sign every tunnel with this CA; trust upstream servers issued by `upstreamCaFile`. */
  readonly bump?: { readonly caCertPem: string; readonly caKeyPem: string; readonly upstreamCaFile: string };
};

export type Squid = {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** The access log's lines (one per tunnel or request, once it ends). */
  accessLog(): string[];
  stop(): Promise<void>;
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** An htpasswd line basic_ncsa_auth reads (Apache MD5, made by openssl). */
function htpasswdLine(user: string, password: string): string {
  const hash = execFileSync('openssl', ['passwd', '-apr1', '-stdin'], { input: password, encoding: 'utf8' }).trim();
  return `${user}:${hash}`;
}

function configText(dir: string, port: number, options: SquidOptions, runAs: string | undefined): string {
  const auth = options.users && Object.keys(options.users).length > 0;
  const bump = options.bump;
  return [
    `http_port 127.0.0.1:${port}${bump ? ` ssl-bump generate-host-certificates=on dynamic_cert_mem_cache_size=4MB tls-cert=${join(dir, 'bump.pem')}` : ''}`,
    `pid_filename ${join(dir, 'squid.pid')}`,
    `access_log stdio:${join(dir, 'access.log')}`,
    `cache_log ${join(dir, 'cache.log')}`,
    `cache_store_log none`,
    `coredump_dir ${dir}`,
    `netdb_filename none`,
    'cache deny all',
    'cache_mem 8 MB',
    'icp_port 0',
    'htcp_port 0',
    'pinger_enable off',
    'shutdown_lifetime 0 seconds',
    'dns_v4_first on',
    ...(runAs ? [`cache_effective_user ${runAs}`] : []),
    ...(options.outgoingAddress ? [`tcp_outgoing_address ${options.outgoingAddress}`] : []),
    ...(auth ? [
      `auth_param basic program ${HELPERS}/basic_ncsa_auth ${join(dir, 'passwd')}`,
      'auth_param basic realm Directory Sync test proxy',
      'acl authenticated proxy_auth REQUIRED',
    ] : []),
    ...(options.deniedDomains?.length ? [`acl denied dstdomain ${options.deniedDomains.join(' ')}`, 'http_access deny denied'] : []),
    auth ? 'http_access allow authenticated' : 'http_access allow all',
    'http_access deny all',
    ...(bump ? [
      `sslcrtd_program ${HELPERS}/security_file_certgen -s ${join(dir, 'ssl_db')} -M 4MB`,
      'sslcrtd_children 2 startup=1 idle=1',
      // Peek at the server first, then bump: the certificate Squid makes mimics the server's (its names), as inspecting proxies do.
      'acl step1 at_step SslBump1',
      'ssl_bump peek step1',
      'ssl_bump bump all',
      `tls_outgoing_options cafile=${bump.upstreamCaFile}`,
    ] : []),
  ].join('\n');
}

/** Starts Squid with its own configuration and waits until it listens. */
export async function startSquid(options: SquidOptions = {}): Promise<Squid> {
  if (!existsSync(SQUID)) throw new Error(`${SQUID} is not installed: run the prerequisites script (installer/linux/install-prerequisites.sh), which installs squid-openssl.`);
  const dir = mkdtempSync(join(tmpdir(), 'dirsync-squid-'));
  const port = await freePort();
  const root = process.getuid?.() === 0;
  if (options.users) writeFileSync(join(dir, 'passwd'), Object.entries(options.users).map(([u, p]) => htpasswdLine(u, p)).join('\n') + '\n');
  if (options.bump) {
    writeFileSync(join(dir, 'bump.pem'), `${options.bump.caCertPem.trim()}\n${options.bump.caKeyPem.trim()}\n`, { mode: 0o600 });
    execFileSync(`${HELPERS}/security_file_certgen`, ['-c', '-s', join(dir, 'ssl_db'), '-M', '4MB'], { stdio: 'ignore' });
  }
  writeFileSync(join(dir, 'squid.conf'), configText(dir, port, options, root ? 'proxy' : undefined));
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'proxy'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'proxy'], { encoding: 'utf8' }).trim());
    execFileSync('chown', ['-R', `${uid}:${gid}`, dir]);
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const child: ChildProcess = spawn(SQUID, ['-N', '-f', join(dir, 'squid.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const deadline = Date.now() + 20_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = existsSync(join(dir, 'cache.log')) ? readFileSync(join(dir, 'cache.log'), 'utf8').slice(-2000) : '';
      throw new Error(`Squid did not start (exit ${child.exitCode}): ${stderr.slice(-1000)}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    accessLog: () => (existsSync(join(dir, 'access.log')) ? readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter((l) => l !== '') : []),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
