/**
 * `POST /_lab/reset` on a running tenant (the lab's daemon or any other), trusting the lab CA explicitly so the
 * caller needs no NODE_EXTRA_CA_CERTS (the lab CLI).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { TenantConnection } from '../connection.ts';
import type { TenantSeed } from './seed.ts';

/** Resets the tenant to a seed (merged over the default seed), or to its start seed when none is given. */
export function resetLabTenant(connection: TenantConnection, seed?: TenantSeed, timeoutMs = 60_000): Promise<void> {
  const body = JSON.stringify(seed === undefined ? {} : { seed });
  return new Promise((resolveReset, reject) => {
    const req = request(`${connection.labControlUrl}/reset`, {
      method: 'POST',
      ca: readFileSync(connection.tenantCaCertFile, 'utf8'),
      timeout: timeoutMs,
      headers: { Authorization: `Bearer ${connection.labControlKey}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        if (res.statusCode === 204) resolveReset();
        else reject(new Error(`POST ${connection.labControlUrl}/reset answered ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8')}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`POST ${connection.labControlUrl}/reset timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
