/**
 * Opens the engine over a data directory: the store, the configuration, the secrets, and connectors
 * built from them. The CLI, the service and the tests all start here.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudAndAdSecrets } from '../contract/control-api.ts';
import { AdConnector } from '../ad/connector.ts';
import { CloudConnector, type CloudCredential } from '../cloud/connector.ts';
import type { WriteBudget } from '../cloud/governor.ts';
import { ConfigError } from '../errors/config-error.ts';
import { NotConfiguredError } from '../errors/run-errors.ts';
import { Store } from '../store/store.ts';
import { parseConfig, storeFiles, type DirSyncConfig } from '../base/config.ts';
import type { Logger } from '../base/logger.ts';
import type { EngineSession } from './run.ts';
import type { AdSource } from './sources.ts';

import { SECRET_AD_PASSWORD, SECRET_CERTIFICATE_KEY, SECRET_CERTIFICATE_THUMBPRINT, SECRET_CLIENT_SECRET } from '../store/keys.ts';

export { SECRET_AD_PASSWORD, SECRET_CERTIFICATE_KEY, SECRET_CERTIFICATE_THUMBPRINT, SECRET_CLIENT_SECRET };

/** Stores the secrets given (the wizard hands each over once); those not given stay as they are. */
export function storeSecrets(store: Store, secrets: CloudAndAdSecrets | undefined): void {
  if (secrets?.adPassword) store.secrets.set(SECRET_AD_PASSWORD, secrets.adPassword);
  if (secrets?.clientSecret) store.secrets.set(SECRET_CLIENT_SECRET, secrets.clientSecret);
  if (secrets?.certificateKeyPem) store.secrets.set(SECRET_CERTIFICATE_KEY, secrets.certificateKeyPem);
  if (secrets?.certificateThumbprintSha256) store.secrets.set(SECRET_CERTIFICATE_THUMBPRINT, secrets.certificateThumbprintSha256);
}

export function openStore(dataDir: string): Store {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const files = storeFiles(dataDir);
  return Store.open(files.store, files.key);
}

export function readConfig(store: Store): DirSyncConfig | undefined {
  const json = store.readConfigJson();
  return json === undefined ? undefined : parseConfig(JSON.parse(json), 'the state store');
}

export function requireConfig(store: Store): DirSyncConfig {
  const config = readConfig(store);
  if (!config) throw new NotConfiguredError('Directory Sync is not configured yet: run the Configuration Wizard, or `dirsync init`.');
  return config;
}

/** The file the CLI points NODE_EXTRA_CA_CERTS at when the configuration trusts an extra CA for the cloud. */
export function cloudCaFile(dataDir: string): string {
  return join(dataDir, 'cloud-ca.pem');
}

export function saveConfig(store: Store, dataDir: string, config: DirSyncConfig): void {
  store.writeConfigJson(JSON.stringify(config));
  const caFile = cloudCaFile(dataDir);
  if (config.cloud.trustedCaPem) writeFileSync(caFile, config.cloud.trustedCaPem, { mode: 0o644 });
  else if (existsSync(caFile)) writeFileSync(caFile, '');
}

function cloudCredential(store: Store, config: DirSyncConfig): CloudCredential {
  if (config.cloud.credential === 'secret') {
    const clientSecret = store.secrets.get(SECRET_CLIENT_SECRET);
    if (!clientSecret) throw new ConfigError('The client secret of the application is not stored: enter it again with `dirsync init --client-secret …` or the Configuration Wizard.');
    return { kind: 'secret', clientSecret };
  }
  const privateKeyPem = store.secrets.get(SECRET_CERTIFICATE_KEY);
  const thumbprintSha256 = store.secrets.get(SECRET_CERTIFICATE_THUMBPRINT);
  if (!privateKeyPem || !thumbprintSha256) throw new ConfigError('The certificate credential of the application is not stored: run the Configuration Wizard again.');
  return { kind: 'certificate', privateKeyPem, thumbprintSha256, certificatePem: config.cloud.certificatePem };
}

export function cloudConnectorFor(store: Store, config: DirSyncConfig): CloudConnector {
  return new CloudConnector({
    instance: config.cloud.instance, tenantId: config.cloud.tenantId, clientId: config.cloud.clientId,
    credential: cloudCredential(store, config), authorityHost: config.cloud.authorityHost, graphBaseUrl: config.cloud.graphBaseUrl,
    earlierRegistrations: config.cloud.earlierRegistrations.filter((r) => r.appId.toLowerCase() !== config.cloud.clientId.toLowerCase()),
  });
}

/** Connects to a directory source as its account (its password from the store's secrets). */
export function adConnect(store: Store, source: AdSource): Promise<AdConnector> {
  const password = store.secrets.get(source.passwordSecret);
  if (!password) return Promise.reject(new ConfigError('The password of the AD account is not stored: enter it again with `dirsync init --ad-password …` or the Configuration Wizard.'));
  const { connection } = source;
  return AdConnector.connect({
    url: connection.url, bindDn: connection.bindDn, password, baseDn: connection.baseDn, trustedCaPem: connection.trustedCaPem,
    tlsServerName: connection.tlsServerName, pageSize: connection.pageSize, ldapFilter: source.scope.ldapFilter,
  });
}

export function sessionFor(store: Store, config: DirSyncConfig, options: { writeBudget?: WriteBudget; replicationWaitMs?: number; log?: Logger } = {}): EngineSession {
  let cloud: CloudConnector | undefined;
  return {
    store, config, writeBudget: options.writeBudget, log: options.log, ...(options.replicationWaitMs !== undefined ? { replicationWaitMs: options.replicationWaitMs } : {}),
    connectAd: (source) => adConnect(store, source),
    cloud: () => (cloud ??= cloudConnectorFor(store, config)),
  };
}
