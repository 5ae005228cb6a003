import { Body1, Button, PresenceBadge, Spinner, Subtitle2, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useCallback, useEffect, useRef, useState } from 'react';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { WizardFrame } from '../../components/wizard-frame.tsx';
import { asControlError, call, type ControlError } from '../../lib/engine-client.ts';
import { ConfigureStep, configureSteps } from './configure-steps.ts';
import { domainScope, draftDomains } from './configuration-draft.ts';
import { buildConfig, defaultOptions, useConfigurationWizardState, type ConfigurationDraft } from './wizard-state.tsx';

const useStyles = makeStyles({
  tasks: { listStyle: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', gap: '8px' },
  task: { display: 'grid', gridTemplateColumns: '20px 1fr', gap: '2px 8px', alignItems: 'center' },
  taskDetail: { gridColumn: '2', color: tokens.colorNeutralForeground3 },
});

type TaskId = 'save' | 'account' | 'cloud' | 'schedule';
type TaskState = { readonly status: 'waiting' | 'running' | 'done' | 'warning' | 'failed'; readonly detail?: string };

const TASKS: ReadonlyArray<{ readonly id: TaskId; readonly label: string }> = [
  { id: 'save', label: 'Saving the configuration' },
  { id: 'account', label: 'Checking the service account in Active Directory' },
  { id: 'cloud', label: 'Checking the connection to Microsoft Entra ID' },
  { id: 'schedule', label: 'Scheduling synchronization' },
];

/** Long enough to read the Configure page and click Finish; short enough that a wizard left open delays nothing for long. */
const SCHEDULE_HOLD_SECONDS = 15 * 60;

const initialTasks: Readonly<Record<TaskId, TaskState>> = { save: { status: 'waiting' }, account: { status: 'waiting' }, cloud: { status: 'waiting' }, schedule: { status: 'waiting' } };

function TaskIcon(props: { readonly state: TaskState }) {
  switch (props.state.status) {
    case 'running': return <Spinner size="extra-tiny" aria-hidden />;
    case 'done': return <PresenceBadge status="available" aria-hidden />;
    case 'warning': return <PresenceBadge status="away" aria-hidden />;
    case 'failed': return <PresenceBadge status="blocked" aria-hidden />;
    default: return <PresenceBadge status="offline" aria-hidden />;
  }
}

function statusWord(state: TaskState): string {
  return { waiting: 'waiting', running: 'in progress', done: 'done', warning: 'done, with a warning', failed: 'failed' }[state.status];
}

/** The scope in words: the OUs ticked, or the whole domain (with several domains, counted over all of them). */
function scopeText(draft: ConfigurationDraft): string {
  const domains = draftDomains(draft);
  if (domains.length <= 1) {
    const count = draft.scope?.includedOuGuids.length ?? 0;
    return count === 0 ? 'The whole domain' : `${count} organizational unit${count === 1 ? '' : 's'}`;
  }
  const counts = domains.map((domain) => domainScope(draft, domain).includedOuGuids.length);
  const whole = counts.filter((count) => count === 0).length;
  const ous = counts.reduce((total, count) => total + count, 0);
  return [ous > 0 ? `${ous} organizational unit${ous === 1 ? '' : 's'}` : undefined, whole > 0 ? `the whole of ${whole} domain${whole === 1 ? '' : 's'}` : undefined]
    .filter(Boolean).join(' and ') + ` in ${domains.length} domains`;
}

function ConfigurationSummary(props: { readonly draft: ConfigurationDraft }) {
  const layout = usePageLayoutStyles();
  const { draft } = props;
  const options = draft.options ?? defaultOptions;
  const scope = draft.scope;
  const domains = draftDomains(draft);
  const forests = [...(draft.ad ? [draft.ad] : []), ...(draft.forests ?? [])];
  return (
    <dl className={layout.summary} data-testid="configuration-summary">
      <dt className={layout.term}>Microsoft Entra ID</dt>
      <dd className={layout.detail}>{draft.cloud?.tenantDisplayName ?? draft.cloud?.tenantId}{draft.cloud?.appDisplayName ? `, as ${draft.cloud.appDisplayName}` : ''}</dd>
      <dt className={layout.term}>Active Directory</dt>
      <dd className={layout.detail}>{domains.length > 1 ? domains.map((domain) => `${domain.dnsName} (forest ${domain.forest}, ${domain.url})`).join('; ')
        : `${draft.ad?.baseDn} (${draft.ad?.url})`}</dd>
      <dt className={layout.term}>Service account{forests.length > 1 ? 's' : ''}</dt>
      <dd className={layout.detail}>{forests.map((forest) => forest.serviceAccount.userPrincipalName).join(', ')}</dd>
      <dt className={layout.term}>Scope</dt>
      <dd className={layout.detail}>
        {scopeText(draft)}
        {scope?.ldapFilter ? `, filtered by ${scope.ldapFilter}` : ''}
      </dd>
      <dt className={layout.term}>Deletion threshold</dt>
      <dd className={layout.detail}>{options.deletionThreshold.count} objects or {options.deletionThreshold.percent}%</dd>
      <dt className={layout.term}>Schedule</dt><dd className={layout.detail}>Every {options.intervalMinutes} minutes</dd>
      <dt className={layout.term}>Staging mode</dt><dd className={layout.detail}>{options.stagingMode ? 'On: nothing is written to Microsoft Entra ID' : 'Off'}</dd>
    </dl>
  );
}

/**
 * Configuration Wizard — Configure: the service applies the configuration, and the page shows each
 * step as it happens: save, the service account's rights, the tenant connection, the schedule.
 */
export function ApplyPage(props: { readonly onBack: () => void; readonly onNext: () => void }) {
  const styles = useStyles();
  const layout = usePageLayoutStyles();
  const { draft, pendingSecrets } = useConfigurationWizardState();
  const [tasks, setTasks] = useState<Readonly<Record<TaskId, TaskState>>>(initialTasks);
  const [applying, setApplying] = useState(false);
  const [error, setError] = useState<ControlError | undefined>();
  /** Only the latest application's progress is shown (effects may run twice; leaving the page ends it). */
  const applySeq = useRef(0);

  const apply = useCallback(async () => {
    const config = buildConfig(draft);
    if (!config) return;
    const mine = ++applySeq.current;
    const current = (): boolean => applySeq.current === mine;
    const set = (id: TaskId, state: TaskState): void => {
      if (current()) setTasks((previous) => ({ ...previous, [id]: state }));
    };
    const step = async (id: TaskId, work: () => Promise<TaskState>): Promise<boolean> => {
      set(id, { status: 'running' });
      try {
        set(id, await work());
        return true;
      } catch (caught) {
        const failure = asControlError(caught);
        set(id, { status: 'failed', detail: failure.message });
        if (current()) setError(failure);
        return false;
      }
    };
    setApplying(true);
    setError(undefined);
    setTasks(initialTasks);
    const ok = await step('save', async () => {
      // The Finished page starts the run: scheduled runs wait meanwhile (a wizard left open resumes the schedule after the hold).
      const saved = await call('saveConfig', { config, secrets: pendingSecrets(), holdScheduleSeconds: SCHEDULE_HOLD_SECONDS });
      return { status: 'done', detail: saved.fullRunNeeded ? 'The next run is a full run.' : 'The configuration did not change what is synchronized.' };
    }) && await step('account', async () => {
      // Every forest's account, on every domain it reads.
      const failed: string[] = [];
      for (const forest of [undefined, ...(draft.forests ?? []).map((f) => f.forest)]) {
        const rights = await call('verifyServiceAccount', forest === undefined ? {} : { forest });
        const reports = [{ baseDn: undefined as string | undefined, rights }, ...(rights.domainRights ?? [])];
        for (const report of reports) {
          for (const check of report.rights.checks) if (!check.ok) failed.push(`${forest ? `${forest}: ` : ''}${check.name}: ${check.detail}`);
        }
      }
      return failed.length === 0 ? { status: 'done', detail: `Every right it needs is in place${(draft.forests?.length ?? 0) > 0 ? ', in every forest' : ''}.` }
        : { status: 'warning', detail: failed.join(' ') };
    }) && await step('cloud', async () => {
      const ownership = await call('getOwnership', {});
      if (ownership.holder && !ownership.thisServer) return { status: 'warning', detail: `Connected. The tenant is synchronized by ${ownership.holder.hostName}: the next page asks before taking it over.` };
      return { status: 'done', detail: 'Connected with the app registration’s credential.' };
    }) && await step('schedule', async () => {
      const status = await call('getStatus', {});
      return { status: 'done', detail: status.stagingMode ? `Staging mode: every ${status.scheduleMinutes ?? '?'} minutes Directory Sync plans, and writes nothing.`
        : `Every ${status.scheduleMinutes ?? '?'} minutes${status.nextRunAt ? `; next run at ${new Date(status.nextRunAt).toLocaleTimeString()}` : ''}.` };
    });
    if (current()) setApplying(false);
    return ok;
  }, [draft, pendingSecrets]);

  useEffect(() => {
    void apply();
    return () => { applySeq.current += 1; };
  }, [apply]);

  const done = !applying && TASKS.every((task) => tasks[task.id].status === 'done' || tasks[task.id].status === 'warning');

  return (
    <WizardFrame title={done ? 'The configuration is applied' : 'Applying the configuration'} steps={configureSteps} currentStep={ConfigureStep.Configure}
      onBack={applying ? undefined : props.onBack} onNext={done ? props.onNext : undefined}>
      <div className={layout.stack}>
        <ConfigurationSummary draft={draft} />
        <Subtitle2 as="h2">Progress</Subtitle2>
        <ol className={styles.tasks} aria-live="polite" data-testid="apply-tasks">
          {TASKS.map((task) => {
            const state = tasks[task.id];
            return (
              <li key={task.id} className={styles.task} data-testid={`apply-${task.id}`} data-status={state.status}>
                <TaskIcon state={state} />
                <Text weight={state.status === 'running' ? 'semibold' : 'regular'}>{task.label} — {statusWord(state)}</Text>
                {state.detail && <Text className={styles.taskDetail}>{state.detail}</Text>}
              </li>
            );
          })}
        </ol>
        <ErrorBar error={error} title="The configuration could not be applied" />
        {error && !applying && <div className={layout.row}><Button onClick={() => void apply()}>Try again</Button></div>}
        {done && <Body1 as="p">Directory Sync is configured on this server. Next, start the first synchronization.</Body1>}
      </div>
    </WizardFrame>
  );
}
