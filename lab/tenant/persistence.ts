/**
 * Optional persistence of the tenant state to one JSON file: saved (debounced) after changes and on
 * close, loaded on start, written atomically (temporary file + rename).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TenantSnapshot } from './tenant.ts';

export function readSnapshot(file: string): TenantSnapshot | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as TenantSnapshot;
  if (parsed.version !== 1) throw new Error(`Unsupported tenant state version in ${file}: ${String(parsed.version)}`);
  return parsed;
}

export function writeSnapshot(file: string, snapshot: TenantSnapshot): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(snapshot), { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * Debounced saves. A large directory takes a while to serialise, so the delay grows with the cost of
 * the last save (at most one tenth of the time is spent saving).
 */
export class Persistence {
  private timer: NodeJS.Timeout | undefined;
  private lastCostMs = 0;

  constructor(private readonly file: string, private readonly snapshot: () => TenantSnapshot, private readonly debounceMs = 250) {}

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.save();
    }, Math.max(this.debounceMs, this.lastCostMs * 10));
    this.timer.unref();
  }

  private save(): void {
    const started = Date.now();
    writeSnapshot(this.file, this.snapshot());
    this.lastCostMs = Date.now() - started;
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.save();
  }
}
