import { Body1, Caption1, PresenceBadge, Spinner, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import type { ReadinessCheck } from '../../../engine/src/contract/control-api.ts';
import { ErrorBar } from '../components/error-bar.tsx';
import { call, ControlError } from '../lib/engine-client.ts';

const useStyles = makeStyles({
  list: { listStyle: 'none', padding: 0, margin: 0, display: 'flex', flexDirection: 'column', gap: '12px' },
  item: { display: 'grid', gridTemplateColumns: '24px 1fr', columnGap: '8px' },
  fix: { color: tokens.colorPaletteDarkOrangeForeground1 },
});

/** Runs the service's readiness checks and reports whether Setup may go on (no check failed). */
export function ReadinessList(props: { readonly onResult: (ready: boolean) => void }) {
  const styles = useStyles();
  const [checks, setChecks] = useState<ReadonlyArray<ReadinessCheck>>();
  const [error, setError] = useState<ControlError>();
  const { onResult } = props;

  useEffect(() => {
    let live = true;
    call('getReadiness', {}).then((result) => {
      if (!live) return;
      setChecks(result);
      onResult(!result.some((c) => c.status === 'fail'));
    }, (failure: unknown) => {
      if (!(failure instanceof ControlError)) throw failure;
      if (live) setError(failure);
    });
    return () => { live = false; };
  }, [onResult]);

  if (error) return <ErrorBar error={error} title="The readiness checks could not run" />;
  if (!checks) return <Spinner label="Checking this computer" />;
  return (
    <ul className={styles.list} aria-label="Readiness checks" data-testid="readiness">
      {checks.map((check) => (
        <li key={check.id} className={styles.item} data-status={check.status}>
          <PresenceBadge status={check.status === 'pass' ? 'available' : check.status === 'warn' ? 'away' : 'blocked'}
            aria-label={check.status === 'pass' ? 'passed' : check.status === 'warn' ? 'warning' : 'failed'} />
          <div>
            <Text weight="semibold" block>{check.title}</Text>
            <Body1 block>{check.detail}</Body1>
            {check.fix && <Caption1 block className={styles.fix}>Fix: {check.fix}</Caption1>}
          </div>
        </li>
      ))}
    </ul>
  );
}
