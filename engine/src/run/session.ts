/**
 * Opens the engine over a data directory: the store, the configuration, the secrets, and connectors
 * built from them. The CLI, the service and the tests all start here.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudAndAdSecrets } from '../contract/control-api.ts';
import { AdConnector } from '../ad/connector.ts';
import { CloudConnector, type CloudCredential } from '../cloud/connector.ts';
import { CloudNetwork } from '../cloud/network.ts';
import type { ProxySetting } from '../cloud/proxy.ts';
import type { WriteBudget } from '../cloud/governor.ts';
import { ConfigError } from '../errors/config-error.ts';
import { NotConfiguredError } from '../errors/run-errors.ts';
import { Store } from '../store/store.ts';
import { parseConfig, storeFiles, type DirSyncConfig } from '../base/config.ts';
import type { Logger } from '../base/logger.ts';
import type { EngineSession } from './run.ts';
import type { AdSource } from './sources.ts';

import { SECRET_AD_PASSWORD, SECRET_CERTIFICATE_KEY, SECRET_CERTIFICATE_THUMBPRINT, SECRET_CLIENT_SECRET, SECRET_PROXY_PASSWORD } from '../store/keys.ts';

export { SECRET_AD_PASSWORD, SECRET_CERTIFICATE_KEY, SECRET_CERTIFICATE_THUMBPRINT, SECRET_CLIENT_SECRET, SECRET_PROXY_PASSWORD };

/**
 * Stores the secrets given (the wizard hands each over once); those not given stay as they are. The proxy's
 * password is stored for the proxy and user of `config` (their configuration, at the same time).
 */
export function storeSecrets(store: Store, secrets: CloudAndAdSecrets | undefined, config?: DirSyncConfig): void {
  if (secrets?.adPassword) store.secrets.set(SECRET_AD_PASSWORD, secrets.adPassword);
  if (secrets?.clientSecret) store.secrets.set(SECRET_CLIENT_SECRET, secrets.clientSecret);
  if (secrets?.certificateKeyPem) store.secrets.set(SECRET_CERTIFICATE_KEY, secrets.certificateKeyPem);
  if (secrets?.certificateThumbprintSha256) store.secrets.set(SECRET_CERTIFICATE_THUMBPRINT, secrets.certificateThumbprintSha256);
  if (secrets?.proxyPassword && config) storeProxyPassword(store, config.network.proxy, secrets.proxyPassword);
}

/** Which proxy and user the stored proxy password belongs to: it is never sent to another. */
const PROXY_PASSWORD_FOR = 'network.proxyPassword.for';

function proxyIdentity(proxy: ProxySetting): string | undefined {
  return proxy.mode === 'url' && proxy.username ? `${proxy.url.trim().toLowerCase()}|${proxy.username}` : undefined;
}

/** Stores the password of this proxy's user (a proxy without a user has none). */
export function storeProxyPassword(store: Store, proxy: ProxySetting, password: string): void {
  const identity = proxyIdentity(proxy);
  if (!identity) return;
  store.secrets.set(SECRET_PROXY_PASSWORD, password);
  store.setCursor(PROXY_PASSWORD_FOR, identity);
}

/** The stored password of this proxy's user: only when it was stored for this very proxy and user. */
export function proxyPasswordFor(store: Store, proxy: ProxySetting): string | undefined {
  const identity = proxyIdentity(proxy);
  if (!identity || store.getCursor(PROXY_PASSWORD_FOR) !== identity) return undefined;
  return store.secrets.get(SECRET_PROXY_PASSWORD) ?? undefined;
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

/** Where versions before the cloud network kept the cloud's trusted CA for NODE_EXTRA_CA_CERTS: removed, it is read from the configuration. */
function legacyCloudCaFile(dataDir: string): string {
  return join(dataDir, 'cloud-ca.pem');
}

export function saveConfig(store: Store, dataDir: string, config: DirSyncConfig): void {
  store.writeConfigJson(JSON.stringify(config));
  rmSync(legacyCloudCaFile(dataDir), { force: true });
}

/** The network the configuration reaches the cloud through: its proxy (the user's password from the secrets) and trusted authorities. */
export function cloudNetworkFor(store: Store, config: DirSyncConfig): CloudNetwork {
  const proxy = config.network.proxy;
  return new CloudNetwork({ proxy, trustedCaPem: config.cloud.trustedCaPem, proxyPassword: proxyPasswordFor(store, proxy) });
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
    network: cloudNetworkFor(store, config),
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
