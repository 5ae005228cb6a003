import { ProgressBar, Spinner, Text } from '@fluentui/react-components';
import type { RunPhase, RunProgress } from '../../../engine/src/contract/control-api.ts';
import { assertNever } from '../lib/assert-never.ts';

export function phaseLabel(phase: RunPhase): string {
  switch (phase) {
    case 'starting': return 'Starting';
    case 'importing-ad': return 'Reading Active Directory';
    case 'importing-cloud': return 'Reading Microsoft Entra ID';
    case 'planning': return 'Planning the changes';
    case 'exporting': return 'Writing to Microsoft Entra ID';
    case 'done': return 'Done';
    default: return assertNever(phase);
  }
}

function formatEta(seconds: number): string {
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds))} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}

/** The live progress of a run or a preview: its phase, how far it has got and, when known, how long is left. */
export function RunProgressView(props: { readonly progress?: RunProgress; readonly label: string; readonly starting: string; readonly testId?: string }) {
  const p = props.progress;
  const fraction = p?.total !== undefined && p.total > 0 ? Math.min(1, p.done / p.total) : undefined;
  return (
    <section aria-label={props.label} data-testid={props.testId ?? 'run-progress'}>
      {/* Only the phase is announced: the counts change too often for a screen reader. */}
      <div aria-live="polite"><Spinner size="tiny" label={p ? phaseLabel(p.phase) : props.starting} /></div>
      {p && (
        <>
          <ProgressBar value={fraction} thickness="large" aria-label="Progress of this phase" />
          <Text data-testid="run-progress-counts">
            {p.total !== undefined ? `${p.done} of ${p.total}` : `${p.done} done`}
            {p.etaSeconds !== undefined ? ` — ${formatEta(p.etaSeconds)}` : ''}
          </Text>
        </>
      )}
    </section>
  );
}
