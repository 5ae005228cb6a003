/** The product's speed and memory targets, judged on the measurements: each met or not, with the number behind it. */
import type { SizeMeasurements } from './measure.ts';

export type TargetResult = { readonly target: string; readonly size: number; readonly value: string; readonly met: boolean };

const mb = (bytes: number) => bytes / 1024 / 1024;

export function judgeTargets(results: ReadonlyArray<SizeMeasurements>): TargetResult[] {
  const out: TargetResult[] = [];
  const bySize = [...results].sort((a, b) => a.users - b.users);
  const largest = bySize[bySize.length - 1];
  for (const m of bySize) {
    const size = m.users;
    const ratio = m.fullImport.perSecond / m.ldapsearch.perSecond;
    out.push({ target: 'import ≥ 0.8× ldapsearch', size, value: `${ratio.toFixed(2)}× (${Math.round(m.fullImport.perSecond)} vs ${Math.round(m.ldapsearch.perSecond)} entries/s)`, met: ratio >= 0.8 });
    out.push({ target: 'no-change delta < 2 s', size, value: `${(m.noChangeDelta.wallMs / 1000).toFixed(2)} s`, met: m.noChangeDelta.wallMs < 2000 });
    const share = m.onePercentDelta.wallMs / m.firstFull.wallMs;
    out.push({ target: '1% delta < 10% of the full run', size, value: `${(share * 100).toFixed(1)}% (${(m.onePercentDelta.wallMs / 1000).toFixed(1)} s of ${(m.firstFull.wallMs / 1000).toFixed(1)} s; ${m.onePercentDelta.writes} writes for ${m.onePercentDelta.changed} changes)`, met: share < 0.1 && m.onePercentDelta.writes === m.onePercentDelta.changed });
    out.push({ target: 'planning < 10 s (full run, nothing to change)', size, value: `${(m.noChangeFull.planningMs / 1000).toFixed(2)} s`, met: m.noChangeFull.planningMs < 10_000 });
    const budgetShare = m.firstFull.writesPerBudgetWindow / m.firstFull.budgetPerWindow;
    const throttledShare = m.firstFull.writeRequests > 0 ? m.firstFull.throttled / (m.firstFull.writeRequests + m.firstFull.throttled) : 0;
    out.push({ target: 'export ≥ 0.9 of the write budget, < 1% throttled', size, value: `${budgetShare.toFixed(2)} of the budget (${Math.round(m.firstFull.writesPerBudgetWindow)}/${m.firstFull.budgetPerWindow} per window), ${(throttledShare * 100).toFixed(2)}% 429`, met: budgetShare >= 0.9 && throttledShare < 0.01 });
    const peak = Math.max(...Object.values(m.peakRssBytes));
    out.push({ target: 'peak RSS < 300 MB', size, value: `${mb(peak).toFixed(0)} MB`, met: mb(peak) < 300 });
    out.push({ target: 'store < 1 GB', size, value: `${mb(m.storeBytes).toFixed(1)} MB`, met: m.storeBytes < 1024 ** 3 });
    const worst = m.firstFull.etaSamples.reduce((w, s) => Math.max(w, Math.abs(s.shownSeconds - s.actualSeconds) / Math.max(s.actualSeconds, 1e-3)), 0);
    out.push({ target: 'ETA within ±15%', size, value: m.firstFull.etaSamples.length === 0 ? 'no ETA shown' : `worst ${(worst * 100).toFixed(0)}% off (${m.firstFull.etaSamples.map((s) => `at ${s.atFraction * 100}%: ${s.shownSeconds} s shown, ${s.actualSeconds.toFixed(1)} s taken`).join('; ')})`, met: m.firstFull.etaSamples.length > 0 && worst <= 0.15 });
  }
  const smallest = bySize[0];
  if (smallest && largest && largest !== smallest) {
    const peak = (m: SizeMeasurements) => Math.max(...Object.values(m.peakRssBytes));
    const growth = peak(largest) / peak(smallest);
    const sizeRatio = largest.users / smallest.users;
    out.push({ target: 'peak RSS grows less than linearly', size: largest.users, value: `×${growth.toFixed(2)} for ×${sizeRatio} objects`, met: growth < sizeRatio });
  }
  return out;
}
