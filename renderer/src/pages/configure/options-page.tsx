import { Body1, Checkbox, Field, Input, Subtitle2, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useState } from 'react';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import { WizardFrame } from '../../components/wizard-frame.tsx';
import { ConfigureStep, configureSteps } from './configure-steps.ts';
import { defaultOptions, useConfigurationWizardState } from './wizard-state.tsx';

const useStyles = makeStyles({
  explanation: { color: tokens.colorNeutralForeground2, paddingLeft: '32px' },
});

/** A whole number within [min, max], or undefined. */
function wholeNumber(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text.trim())) return undefined;
  const value = Number(text.trim());
  return value >= min && value <= max ? value : undefined;
}

/**
 * Configuration Wizard — Options: the deletion threshold (deletions above it wait for approval),
 * how often to synchronize, and staging mode.
 */
export function OptionsPage(props: { readonly onBack: () => void; readonly onNext: () => void }) {
  const styles = useStyles();
  const layout = usePageLayoutStyles();
  const { draft, setOptions } = useConfigurationWizardState();
  const initial = draft.options ?? defaultOptions;
  const [count, setCount] = useState(String(initial.deletionThreshold.count));
  const [percent, setPercent] = useState(String(initial.deletionThreshold.percent));
  const [interval, setIntervalText] = useState(String(initial.intervalMinutes));
  const [stagingMode, setStagingMode] = useState(initial.stagingMode);

  const countValue = wholeNumber(count, 0, 1_000_000);
  const percentValue = wholeNumber(percent, 0, 100);
  const intervalValue = wholeNumber(interval, 1, 1440);
  const valid = countValue !== undefined && percentValue !== undefined && intervalValue !== undefined;

  function next(): void {
    if (countValue === undefined || percentValue === undefined || intervalValue === undefined) return;
    setOptions({ deletionThreshold: { count: countValue, percent: percentValue }, intervalMinutes: intervalValue, stagingMode });
    props.onNext();
  }

  return (
    <WizardFrame title="Options" steps={configureSteps} currentStep={ConfigureStep.Options} onBack={props.onBack} onNext={valid ? next : undefined}>
      <div className={layout.stack}>
        <Subtitle2 as="h2">Deletion threshold</Subtitle2>
        <Body1 as="p">
          When a run would delete more objects from Microsoft Entra ID than this, it deletes none of them and waits for your approval.
          The run stops at whichever limit it reaches first.
        </Body1>
        <div className={layout.row}>
          <Field label="Objects" validationState={countValue === undefined ? 'error' : 'none'}
            validationMessage={countValue === undefined ? 'A whole number, 0 or more.' : undefined}>
            <Input type="number" min={0} value={count} onChange={(_event, data) => setCount(data.value)} />
          </Field>
          <Field label="Percent of synchronized objects" validationState={percentValue === undefined ? 'error' : 'none'}
            validationMessage={percentValue === undefined ? 'A whole number from 0 to 100.' : undefined}>
            <Input type="number" min={0} max={100} value={percent} onChange={(_event, data) => setPercent(data.value)} />
          </Field>
        </div>
        <Subtitle2 as="h2">Schedule</Subtitle2>
        <Field label="Synchronize every (minutes)" validationState={intervalValue === undefined ? 'error' : 'none'}
          validationMessage={intervalValue === undefined ? 'A whole number from 1 to 1440.' : 'A full synchronization also runs once a day.'}>
          <Input type="number" min={1} max={1440} value={interval} onChange={(_event, data) => setIntervalText(data.value)} />
        </Field>
        <Subtitle2 as="h2">Staging mode</Subtitle2>
        <Checkbox label="Enable staging mode" checked={stagingMode} onChange={(_event, data) => setStagingMode(data.checked === true)} />
        <Text as="p" className={styles.explanation}>
          In staging mode this server imports and plans every run but changes nothing in Microsoft Entra ID. Use it for a standby
          server, or to review what the first synchronization would do before you let it export.
        </Text>
      </div>
    </WizardFrame>
  );
}
