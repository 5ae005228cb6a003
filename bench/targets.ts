/** The product's speed and memory targets, judged on the measurements: each met or not, with the number behind it. */
import type { SizeMeasurements } from './measure.ts';

export type TargetResult = { readonly target: string; readonly size: number; readonly value: string; readonly met: boolean };

const mb = (bytes: number) => bytes / 1024 / 1024;
const hours = (seconds: number) => seconds / 3600;

/** Peak RSS of every engine run of a size (the preview is judged on its own target). */
export const peakRss = (m: SizeMeasurements): number => Math.max(...Object.values(m.peakRssBytes));

export function judgeTargets(results: ReadonlyArray<SizeMeasurements>): TargetResult[] {
  const out: TargetResult[] = [];
  const bySize = [...results].sort((a, b) => a.users - b.users);
  for (const m of bySize) {
    const size = m.users;
    const ratio = m.fullImport.perSecond / m.ldapsearch.perSecond;
    out.push({ target: 'import ≥ 0.9× ldapsearch', size, value: `${ratio.toFixed(2)}× (${Math.round(m.fullImport.perSecond)} vs ${Math.round(m.ldapsearch.perSecond)} entries/s)`, met: ratio >= 0.9 });
    out.push({ target: 'no-change delta < 2 s', size, value: `${(m.noChangeDelta.wallMs / 1000).toFixed(2)} s`, met: m.noChangeDelta.wallMs < 2000 });
    const share = m.onePercentDelta.wallMs / m.firstFull.wallMs;
    out.push({ target: '1% delta < 10% of the full run', size, value: `${(share * 100).toFixed(1)}% (${(m.onePercentDelta.wallMs / 1000).toFixed(1)} s of ${(m.firstFull.wallMs / 1000).toFixed(1)} s; ${m.onePercentDelta.writes} writes for ${m.onePercentDelta.changed} changes)`, met: share < 0.1 && m.onePercentDelta.writes === m.onePercentDelta.changed });
    out.push({ target: 'planning < 6 s (full run, nothing to change)', size, value: `${(m.noChangeFull.planningMs / 1000).toFixed(2)} s`, met: m.noChangeFull.planningMs < 6_000 });
    const budgetShare = m.firstFull.writesPerBudgetWindow / m.firstFull.budgetPerWindow;
    const throttledShare = m.firstFull.writeRequests > 0 ? m.firstFull.throttled / (m.firstFull.writeRequests + m.firstFull.throttled) : 0;
    out.push({ target: 'export ≥ 0.9 of the write budget, < 1% throttled', size, value: `${budgetShare.toFixed(2)} of the budget (${Math.round(m.firstFull.writesPerBudgetWindow)}/${m.firstFull.budgetPerWindow} per window), ${(throttledShare * 100).toFixed(2)}% 429`, met: budgetShare >= 0.9 && throttledShare < 0.01 });
    // 300,000 write requests for 100,000 users (and their 5,000 groups and 550,000 memberships): 3 per user at any size.
    const writeLimit = 3 * size;
    out.push({ target: `first full run ≤ ${writeLimit.toLocaleString('en-US')} write requests (3 per user)`, size, value: `${m.firstFull.writeRequests.toLocaleString('en-US')} (${Object.entries(m.firstFull.writeRequestsByKind).map(([k, v]) => `${k} ${v}`).join(', ')})`, met: m.firstFull.writeRequests <= writeLimit });
    const projected = m.firstFull.projectedExportSeconds;
    const scaleHours = size / 100_000;
    out.push({ target: `first run's writes at the real budget < ${(4.2 * scaleHours).toFixed(2)} h documented, < ${(6 * scaleHours).toFixed(2)} h observed cost`, size,
      value: `${hours(projected.documented).toFixed(2)} h documented, ${hours(projected.observed).toFixed(2)} h observed`, met: hours(projected.documented) < 4.2 * scaleHours && hours(projected.observed) < 6 * scaleHours });
    const peak = peakRss(m);
    out.push({ target: 'peak RSS < 250 MB (every engine run)', size, value: `${mb(peak).toFixed(0)} MB (${Object.entries(m.peakRssBytes).map(([k, v]) => `${k} ${mb(v).toFixed(0)}`).join(', ')})`, met: mb(peak) < 250 });
    const preview = m.preview.newInstall;
    const previewRss = Math.max(preview.peakRssBytes, m.preview.rerun.peakRssBytes);
    const previewMs = Math.max(preview.wallMs, m.preview.rerun.wallMs);
    out.push({ target: 'configuration preview < 300 MB and < 30 s', size, value: `${mb(previewRss).toFixed(0)} MB, ${(previewMs / 1000).toFixed(1)} s (new installation ${(preview.wallMs / 1000).toFixed(1)} s, rerun ${(m.preview.rerun.wallMs / 1000).toFixed(1)} s)`, met: mb(previewRss) < 300 && previewMs < 30_000 });
    out.push({ target: 'store < 600 MB', size, value: `${mb(m.storeBytes).toFixed(1)} MB`, met: mb(m.storeBytes) < 600 });
    const worst = m.firstFull.etaSamples.reduce((w, s) => Math.max(w, Math.abs(s.shownSeconds - s.actualSeconds) / Math.max(s.actualSeconds, 1e-3)), 0);
    out.push({ target: 'ETA within ±15%', size, value: m.firstFull.etaSamples.length === 0 ? 'no ETA shown' : `worst ${(worst * 100).toFixed(0)}% off (${m.firstFull.etaSamples.map((s) => `at ${s.atFraction * 100}%: ${s.shownSeconds} s shown, ${s.actualSeconds.toFixed(1)} s taken`).join('; ')})`, met: m.firstFull.etaSamples.length > 0 && worst <= 0.15 });
  }
  const smallest = bySize[0];
  const largest = bySize[bySize.length - 1];
  if (smallest && largest && largest !== smallest) {
    const growth = peakRss(largest) / peakRss(smallest);
    const sizeRatio = largest.users / smallest.users;
    out.push({ target: 'peak RSS grows less than linearly', size: largest.users, value: `×${growth.toFixed(2)} for ×${sizeRatio} objects`, met: growth < sizeRatio });
  }
  return out;
}

/** What grows with the directory: a phase's time or memory, read off each size's measurements. */
export const GROWTH_MEASURES: ReadonlyArray<{ readonly name: string; readonly unit: 's' | 'MB'; readonly of: (m: SizeMeasurements) => number }> = [
  { name: 'full import (time)', unit: 's', of: (m) => m.fullImport.ms / 1000 },
  { name: 'planning, first run (time)', unit: 's', of: (m) => m.firstFull.planningMs / 1000 },
  { name: 'planning, nothing to change (time)', unit: 's', of: (m) => m.noChangeFull.planningMs / 1000 },
  { name: 'first run\'s writes at the real budget, documented cost (time)', unit: 's', of: (m) => m.firstFull.projectedExportSeconds.documented },
  { name: 'no-change delta (time)', unit: 's', of: (m) => m.noChangeDelta.wallMs / 1000 },
  { name: 'configuration preview, new installation (time)', unit: 's', of: (m) => m.preview.newInstall.wallMs / 1000 },
  { name: 'peak RSS, first full run', unit: 'MB', of: (m) => mb(m.peakRssBytes.firstFull) },
  { name: 'peak RSS, full run with nothing to change', unit: 'MB', of: (m) => mb(m.peakRssBytes.noChangeFull) },
  { name: 'peak RSS, configuration preview', unit: 'MB', of: (m) => mb(Math.max(m.preview.newInstall.peakRssBytes, m.preview.rerun.peakRssBytes)) },
  { name: 'store on disk', unit: 'MB', of: (m) => mb(m.storeBytes) },
];

export type Growth = { readonly name: string; readonly unit: string; readonly exponent: number; readonly values: ReadonlyArray<number>; readonly projected: number };

/**
 * The exponent k of value ∝ size^k for each measure (least squares on log–log over the sizes measured),
 * and the value projected to `target` users from the largest size measured.
 */
export function growthOf(results: ReadonlyArray<SizeMeasurements>, target = 1_000_000): Growth[] {
  const bySize = [...results].sort((a, b) => a.users - b.users);
  const largest = bySize[bySize.length - 1];
  if (!largest || bySize.length < 2) return [];
  return GROWTH_MEASURES.map(({ name, unit, of }) => {
    const points = bySize.map((m) => ({ x: Math.log(m.users), y: Math.log(Math.max(of(m), 1e-6)) }));
    const mx = points.reduce((s, p) => s + p.x, 0) / points.length;
    const my = points.reduce((s, p) => s + p.y, 0) / points.length;
    const exponent = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
    return { name, unit, exponent, values: bySize.map(of), projected: of(largest) * (target / largest.users) ** exponent };
  });
}
