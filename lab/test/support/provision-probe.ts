/**
 * Starts a lab DC from nothing (a new lab directory, so the domain is provisioned) in a network
 * namespace of its own, and prints what went wrong as JSON: `{ "error": "…" }`, or `{ "error": null }`
 * when it started (it is stopped again). prerequisites.test.ts runs it in a private mount namespace
 * where a Debian package's files are hidden, to see what the lab tells an administrator then.
 *
 *   node --import tsx lab/test/support/provision-probe.ts <labDir> <netns>
 */
import { startSambaDc, stopSambaDc } from '../../samba/index.ts';

const [labDir, netns] = process.argv.slice(2);
if (labDir === undefined || netns === undefined) {
  console.error('usage: provision-probe.ts <labDir> <netns>');
  process.exit(2);
}
try {
  await startSambaDc({ labDir, netns });
  await stopSambaDc({ labDir, netns });
  console.log(JSON.stringify({ error: null }));
} catch (error) {
  console.log(JSON.stringify({ error: (error as Error).message }));
}
