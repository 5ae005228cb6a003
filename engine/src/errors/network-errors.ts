/**
 * The cloud could not be reached for a reason of the network between this computer and it: the proxy, or
 * a certificate chain this computer does not trust. `reason` says which (the wizard's connection test
 * names it); the message says what to change. It is a CloudUnreachableError (code cloud-unreachable), as
 * every failure to reach the cloud is.
 */
import type { CertificateInfo } from '../contract/control-api.ts';
import { CloudUnreachableError } from './cloud-errors.ts';

export type NetworkFailureReason =
  | 'proxy-unreachable' | 'proxy-auth' | 'proxy-denied' | 'destination-unreachable' | 'tls-untrusted' | 'unreachable' | 'bad-proxy-setting';

export class CloudNetworkError extends CloudUnreachableError {
  public override readonly name = 'CloudNetworkError';
  public constructor(message: string, public readonly reason: NetworkFailureReason, public readonly certificate?: CertificateInfo) {
    super(message);
  }
}
