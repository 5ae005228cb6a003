/**
 * How the engine's JavaScript heap grows. By default V8 lets the heap grow to several times what is
 * live before it collects (up to 4× when collection is fast), so a full run at 100,000 objects,
 * whose live data is a few tens of megabytes, peaked at 470–900 MB RSS (`npm run bench`). A growing
 * factor of 1.3 keeps the heap near what is live at a few percent of time (planning a first run at
 * 100,000: 296 MB peak with 1.5, 280 MB with 1.3, the same time), and unlike a heap limit
 * (`--max-old-space-size`) it cannot make a larger directory run out of memory.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 30;

/** Called once at the start of every engine process (the CLI, the service, the bench's engine runs). */
export function limitHeapGrowth(): void {
  if (process.env['DIRSYNC_HEAP_GROWTH'] === 'default') return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
