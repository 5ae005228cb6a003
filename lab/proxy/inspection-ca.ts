/**
 * A company's TLS-inspection authority for the tests: a self-signed CA (as a proxy's ssl-bump is given)
 * whose name the wizard and the errors must show. Made fresh for each test; nothing on the machine trusts it.
 */
import { generate } from 'selfsigned';

export type InspectionCa = { readonly certPem: string; readonly keyPem: string };

export async function createInspectionCa(commonName = 'Contoso Inspection CA'): Promise<InspectionCa> {
  const notBeforeDate = new Date(Date.now() - 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'Contoso' }], {
    keySize: 2048, algorithm: 'sha256', notBeforeDate, notAfterDate: new Date(notBeforeDate.getTime() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}
