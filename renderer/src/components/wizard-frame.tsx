import { Button, Title2, makeStyles, tokens } from '@fluentui/react-components';
import type { ReactNode } from 'react';

const useStyles = makeStyles({
  frame: { display: 'grid', gridTemplateColumns: '220px 1fr', minHeight: '100vh' },
  steps: { backgroundColor: tokens.colorNeutralBackground3, padding: '24px 16px', margin: 0, listStyle: 'none' },
  step: { padding: '6px 8px', color: tokens.colorNeutralForeground3 },
  current: { padding: '6px 8px', fontWeight: tokens.fontWeightSemibold, color: tokens.colorNeutralForeground1,
    borderLeft: `3px solid ${tokens.colorBrandStroke1}` },
  main: { display: 'flex', flexDirection: 'column', padding: '24px 32px' },
  body: { flexGrow: 1, paddingTop: '16px', maxWidth: '760px' },
  buttons: { display: 'flex', justifyContent: 'flex-end', gap: '8px', paddingTop: '16px',
    borderTop: `1px solid ${tokens.colorNeutralStroke2}` },
});

export type WizardStepLabel = { readonly id: string; readonly label: string };

/** The classic administration-wizard frame: the list of steps on the left, the page, Back / Next. */
export function WizardFrame(props: {
  readonly title: string;
  readonly steps: ReadonlyArray<WizardStepLabel>;
  readonly currentStep: string;
  readonly children: ReactNode;
  readonly onBack?: () => void;
  readonly onNext?: () => void;
  readonly nextLabel?: string;
  readonly nextDisabled?: boolean;
}) {
  const styles = useStyles();
  return (
    <div className={styles.frame}>
      <nav aria-label="Wizard steps">
        <ol className={styles.steps}>
          {props.steps.map((step) => (
            <li key={step.id} className={step.id === props.currentStep ? styles.current : styles.step}
              aria-current={step.id === props.currentStep ? 'step' : undefined}>
              {step.label}
            </li>
          ))}
        </ol>
      </nav>
      <main className={styles.main}>
        <Title2 as="h1">{props.title}</Title2>
        <div className={styles.body}>{props.children}</div>
        <div className={styles.buttons}>
          <Button onClick={props.onBack} disabled={!props.onBack}>Back</Button>
          <Button appearance="primary" onClick={props.onNext} disabled={props.nextDisabled ?? !props.onNext}>
            {props.nextLabel ?? 'Next'}
          </Button>
        </div>
      </main>
    </div>
  );
}
