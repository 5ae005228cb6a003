/**
 * Ensures the lab CA exists and prints the path of its certificate, for NODE_EXTRA_CA_CERTS:
 * `NODE_EXTRA_CA_CERTS=$(node --import tsx lab/tenant/ca-cli.ts) node --import tsx --test lab/test/tenant-*.test.ts`
 */
import { ensureLabCa } from './ca.ts';

const ca = await ensureLabCa();
process.stdout.write(`${ca.certFile}\n`);
