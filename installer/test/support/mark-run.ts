/**
 * Marks a synchronization run as started, or the running one as finished, in a data directory's
 * store — what a run of the service does at its start and end — for the uninstall test.
 *
 *   node --import tsx installer/test/support/mark-run.ts <dataDir> start|finish
 */
import { openStore } from '../../../engine/src/run/session.ts';

const [dataDir, action] = process.argv.slice(2);
if (dataDir === undefined || (action !== 'start' && action !== 'finish')) {
  console.error('usage: mark-run.ts <dataDir> start|finish');
  process.exit(2);
}
const store = openStore(dataDir);
try {
  if (action === 'start') console.log(store.startRun('full', false));
  else store.db.prepare("UPDATE runs SET status = 'succeeded', ended_at = ? WHERE status = 'running'").run(new Date().toISOString());
} finally {
  store.close();
}
