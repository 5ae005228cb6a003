/**
 * `POST /_lab/reset` on a running tenant (the lab's daemon or any other), trusting the lab CA explicitly so the
 * caller needs no NODE_EXTRA_CA_CERTS (the lab CLI).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { TenantConnection } from '../connection.ts';
import type { TenantSeed } from './seed.ts';

/** Resets the tenant to a seed (merged over the default seed), or to its start seed when none is given. */
export async function resetLabTenant(connection: TenantConnection, seed?: TenantSeed, timeoutMs = 60_000): Promise<void> {
  await labControl(connection, 'POST', 'reset', seed === undefined ? {} : { seed }, timeoutMs);
}

/** One request to the lab control API; its JSON answer (undefined for 204). Throws on any other status than 200, 201 and 204. */
export function labControl(connection: TenantConnection, method: string, path: string, payload?: unknown, timeoutMs = 60_000): Promise<unknown> {
  const body = payload === undefined ? '' : JSON.stringify(payload);
  const url = `${connection.labControlUrl}/${path}`;
  return new Promise((resolveReset, reject) => {
    const req = request(url, {
      method,
      ca: readFileSync(connection.tenantCaCertFile, 'utf8'),
      timeout: timeoutMs,
      headers: { Authorization: `Bearer ${connection.labControlKey}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 204) resolveReset(undefined);
        else if (res.statusCode === 200 || res.statusCode === 201) resolveReset(JSON.parse(text) as unknown);
        else reject(new Error(`${method} ${url} answered ${res.statusCode}: ${text}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
