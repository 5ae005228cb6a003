/**
 * What every wizard test needs: the shared lab's DC, an in-process emulated tenant, the real service
 * in browser mode on an empty data directory, and a watched Chromium page. `close` removes the
 * MSOL_ accounts the test created.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright';
import type { AdConnection } from '../../lab/connection.ts';
import { startTenantServer, type ConsistencyOptions, type TenantServer } from '../../lab/tenant/index.ts';
import type { TenantSeed } from '../../lab/tenant/seed.ts';
import { sharedAd } from '../../lab/test/support/shared-lab.ts';
import { startService, type RunningService } from '../../engine/src/service/daemon.ts';
import { adminLdap } from '../../engine/test/support/ad-sandbox.ts';
import { launchChromium, openWatchedPage } from './browser.ts';

export type WizardSession = {
  readonly ad: AdConnection;
  readonly tenant: TenantServer;
  readonly service: RunningService;
  readonly browser: Browser;
  readonly page: Page;
  readonly consoleErrors: string[];
  /** The browser-mode address with the service's token. */
  readonly startUrl: string;
  close(createdAccountDns: ReadonlyArray<string | undefined>): Promise<void>;
};

export type WizardSessionOptions = {
  /** The service's own scheduler runs too, as in production (off by default, so runs happen only when a test starts them). */
  readonly schedule?: boolean;
  /** What the emulated tenant starts with (default: the lab's default seed). */
  readonly tenantSeed?: TenantSeed;
  /** A tenant the test owns (e.g. one an earlier installation synchronized): the session does not close it. */
  readonly tenant?: TenantServer;
  /** The computer's name the service registers its app under (default: this computer's). */
  readonly hostName?: string;
  /** The tenant lags as Microsoft Entra ID does (docs/eventual-consistency.md); default: strongly consistent. */
  readonly consistency?: ConsistencyOptions;
  /** How often the service checks a takeover's conversion (default 60 s). */
  readonly handoverPollSeconds?: number;
};

export async function startWizardSession(name: string, options: WizardSessionOptions = {}): Promise<WizardSession> {
  const ad = await sharedAd();
  const tenant = options.tenant ?? await startTenantServer({ timeScale: 60, ...(options.tenantSeed ? { seed: options.tenantSeed } : {}),
    ...(options.consistency ? { consistency: options.consistency } : {}) });
  const service = await startService({ dataDir: mkdtempSync(join(tmpdir(), `dirsync-e2e-${name}-`)), schedule: options.schedule ?? false, browser: {},
    ...(options.hostName ? { hostName: options.hostName } : {}), ...(options.handoverPollSeconds ? { handoverPollSeconds: options.handoverPollSeconds } : {}) });
  const browser = await launchChromium();
  const { page, consoleErrors } = await openWatchedPage(browser);
  return {
    ad, tenant, service, browser, page, consoleErrors,
    startUrl: `${service.browser?.url}?token=${service.browser?.token}`,
    async close(createdAccountDns) {
      await browser.close();
      await service.stop();
      if (!options.tenant) await tenant.close();
      const dns = createdAccountDns.filter((dn): dn is string => dn !== undefined);
      if (dns.length === 0) return;
      const client = await adminLdap(ad);
      try {
        for (const dn of dns) await client.del(dn);
      } finally {
        await client.unbind();
      }
    },
  };
}
