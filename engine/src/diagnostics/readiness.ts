/**
 * The Setup wizard's readiness checks: what must be true of this computer before Directory Sync is
 * configured, each with a fix the administrator can apply.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statfsSync } from 'node:fs';
import { arch, platform } from 'node:os';
import type { ReadinessCheck } from '../contract/control-api.ts';

const GiB = 1024 ** 3;

function commandSucceeds(command: string, args: ReadonlyArray<string>): boolean {
  try {
    execFileSync(command, [...args], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export function readinessChecks(options: { readonly dataDir: string; readonly now?: number; readonly referenceTime?: number }): ReadonlyArray<ReadinessCheck> {
  const checks: ReadinessCheck[] = [];
  const bits64 = ['x64', 'arm64', 'ppc64', 's390x'].includes(arch());
  checks.push(bits64
    ? { id: 'os-64-bit', title: '64-bit operating system', status: 'pass', detail: `${platform()} on ${arch()}` }
    : { id: 'os-64-bit', title: '64-bit operating system', status: 'fail', detail: `${platform()} on ${arch()}`, fix: 'Install Directory Sync on a 64-bit operating system.' });

  if (platform() === 'win32') {
    const adfs = commandSucceeds('sc.exe', ['query', 'adfssrv']);
    checks.push(adfs
      ? { id: 'no-adfs', title: 'Not an AD FS server', status: 'fail', detail: 'The AD FS service (adfssrv) is installed on this computer.', fix: 'Install Directory Sync on a computer that is not an AD FS server.' }
      : { id: 'no-adfs', title: 'Not an AD FS server', status: 'pass', detail: 'AD FS is not installed.' });
  }

  try {
    const stats = statfsSync(existsSync(options.dataDir) ? options.dataDir : '/');
    const free = stats.bavail * stats.bsize;
    checks.push(free >= 2 * GiB
      ? { id: 'disk-space', title: 'Disk space', status: 'pass', detail: `${(free / GiB).toFixed(1)} GiB free for ${options.dataDir}` }
      : { id: 'disk-space', title: 'Disk space', status: free >= 0.5 * GiB ? 'warn' : 'fail', detail: `${(free / GiB).toFixed(1)} GiB free for ${options.dataDir}`,
        fix: 'Free at least 2 GiB: the state store grows to about 1 GB for 100,000 users.' });
  } catch (error) {
    checks.push({ id: 'disk-space', title: 'Disk space', status: 'warn', detail: `Could not measure free space: ${(error as Error).message}`, fix: 'Make sure the data directory has at least 2 GiB free.' });
  }

  if (options.referenceTime !== undefined) {
    const skew = Math.abs((options.now ?? Date.now()) - options.referenceTime) / 1000;
    checks.push(skew <= 300
      ? { id: 'clock', title: 'Clock', status: 'pass', detail: `Within ${Math.round(skew)} s of the reference time.` }
      : { id: 'clock', title: 'Clock', status: 'fail', detail: `This computer's clock is ${Math.round(skew)} s off.`, fix: 'Synchronize the clock with the domain (w32tm /resync on Windows, or enable NTP / systemd-timesyncd).' });
  } else {
    const synced = platform() === 'linux' && commandSucceeds('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']);
    checks.push({ id: 'clock', title: 'Clock', status: synced ? 'pass' : 'warn', detail: synced ? 'The clock is synchronized by the system.' : 'Clock synchronization could not be confirmed on this computer.',
      fix: synced ? undefined : 'Keep the clock synchronized with the domain: Kerberos, certificates and the schedule depend on it.' });
  }

  const registered = platform() === 'win32' ? commandSucceeds('sc.exe', ['query', 'DirectorySync'])
    : ['/etc/systemd/system/dirsync.service', '/lib/systemd/system/dirsync.service', '/usr/lib/systemd/system/dirsync.service'].some((f) => existsSync(f));
  checks.push({ id: 'service-running', title: 'Directory Synchronization Service running', status: 'pass', detail: 'The service answered this check.' });
  checks.push(registered
    ? { id: 'service-registered', title: 'Service registered with the system', status: 'pass', detail: 'It starts with the computer.' }
    : { id: 'service-registered', title: 'Service registered with the system', status: 'warn', detail: 'The service is not registered to start with the computer (it runs from this session).',
      fix: 'Install Directory Sync with its installer, which registers the service (systemd on Linux, a Windows service on Windows).' });
  return checks;
}
