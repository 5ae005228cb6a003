/**
 * The tenant as a lab daemon: start detached, use it through msal-node and the Graph client, stop
 * without leaving a process, state persisted and reloaded.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTenantDaemon, stopTenantDaemon, tenantDaemonFiles, tenantDaemonStatus } from '../tenant/index.ts';
import { STRONG_PASSWORD, appGraphClient, assertLabCaTrusted, unique } from './support/tenant.ts';

/** A process that has exited but not yet been reaped (a zombie, state Z) is not alive. */
function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (existsSync(stat)) return !/^\d+ \(.*\) Z /.test(readFileSync(stat, 'utf8'));
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describe('tenant daemon', () => {
  let labDir: string;
  before(() => {
    assertLabCaTrusted();
    labDir = mkdtempSync(join(tmpdir(), 'dirsync-tenant-daemon-'));
  });
  after(async () => {
    await stopTenantDaemon({ labDir });
    rmSync(labDir, { recursive: true, force: true });
  });

  it('starts, serves msal-node and the Graph client, stops, and reloads its state', async () => {
    const connection = await startTenantDaemon({ labDir });
    const files = tenantDaemonFiles(labDir);
    const status = tenantDaemonStatus({ labDir });
    assert.equal(status.running, true);
    assert.ok(status.pid);
    assert.deepEqual(JSON.parse(readFileSync(files.connection, 'utf8')), connection);
    assert.equal(connection.tenantCaCertFile, resolve(process.env['NODE_EXTRA_CA_CERTS'] ?? ''));

    const client = appGraphClient(connection);
    const users = await client.api('/users').select('id,userPrincipalName').get() as { value: { userPrincipalName: string }[] };
    assert.ok(users.value.some((u) => u.userPrincipalName === connection.globalAdminUpn));
    const alias = unique('persist');
    await client.api('/users').post({
      accountEnabled: true, displayName: alias, mailNickname: alias, userPrincipalName: `${alias}@contoso.com`, passwordProfile: { password: STRONG_PASSWORD },
    });

    assert.equal(await startTenantDaemon({ labDir }).then((c) => c.authorityHost), connection.authorityHost, 'starting again returns the running daemon');
    await stopTenantDaemon({ labDir });
    assert.equal(tenantDaemonStatus({ labDir }).running, false);
    assert.equal(alive(status.pid), false, 'no process is left');
    assert.equal(existsSync(files.connection), false);
    assert.ok(existsSync(files.state));
    await stopTenantDaemon({ labDir });

    const restarted = await startTenantDaemon({ labDir });
    assert.equal(restarted.tenantId, connection.tenantId);
    assert.equal(restarted.clientSecret, connection.clientSecret);
    assert.equal(restarted.authorityHost, connection.authorityHost, 'the port is reused when free');
    const again = appGraphClient(restarted);
    const found = await again.api(`/users/${alias}@contoso.com`).get() as { userPrincipalName: string };
    assert.equal(found.userPrincipalName, `${alias}@contoso.com`);
    const pid = tenantDaemonStatus({ labDir }).pid;
    await stopTenantDaemon({ labDir });
    assert.ok(pid !== undefined && !alive(pid));
    assert.match(readFileSync(files.log, 'utf8'), /SIGTERM: saving state and stopping/);
  });

  it('starts fresh when the lab starts again (its DC is provisioned anew): nothing of the last lab\'s tenant comes back', async () => {
    const first = await startTenantDaemon({ labDir });
    const alias = unique('stale');
    await appGraphClient(first).api('/users').post({
      accountEnabled: true, displayName: alias, mailNickname: alias, userPrincipalName: `${alias}@contoso.com`, passwordProfile: { password: STRONG_PASSWORD },
    });
    await stopTenantDaemon({ labDir });
    const fresh = await startTenantDaemon({ labDir, fresh: true });
    const client = appGraphClient(fresh);
    await assert.rejects(client.api(`/users/${alias}@contoso.com`).get(), (e: unknown) => (e as { statusCode?: number }).statusCode === 404, 'the last lab\'s user is gone');
    const users = await client.api('/users').select('userPrincipalName').get() as { value: { userPrincipalName: string }[] };
    assert.ok(users.value.some((u) => u.userPrincipalName === fresh.globalAdminUpn), 'the default seed is there');
    await stopTenantDaemon({ labDir });
  });
});
