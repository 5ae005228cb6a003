import {
  Body1, Button, Checkbox, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Text,
} from '@fluentui/react-components';
import { useEffect, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import type { OwnershipHolder, RunProgress } from '../../../../engine/src/contract/control-api.ts';
import type { OperationCounts, RunSummary } from '../../../../engine/src/contract/model.ts';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { RunProgressView } from '../../components/run-progress.tsx';
import { RunSources } from '../../components/run-sources.tsx';
import { WizardFrame } from '../../components/wizard-frame.tsx';
import { asControlError, call, subscribe, type ControlError } from '../../lib/engine-client.ts';
import { ConfigureStep, configureSteps } from './configure-steps.ts';
import { OwnershipHeld } from './finish-parts.tsx';
import { defaultOptions, useConfigurationWizardState } from './wizard-state.tsx';

/** Where the Finish button has got to. */
type Stage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'held'; readonly holder?: OwnershipHolder }
  | { readonly kind: 'confirm-take-over'; readonly holder?: OwnershipHolder }
  | { readonly kind: 'claiming' }
  | { readonly kind: 'taking-over' }
  | { readonly kind: 'running'; readonly runId?: number; readonly progress?: RunProgress; readonly waiting?: { readonly run?: RunSummary } }
  | { readonly kind: 'finished'; readonly run?: RunSummary; readonly nextRunAt?: string; readonly planningOnlyFor?: OwnershipHolder };

function sum(counts: OperationCounts, kinds: ReadonlyArray<keyof OperationCounts>): number {
  return kinds.reduce((total, kind) => total + (counts[kind] ?? 0), 0);
}


/** Memberships and managers are links between objects, not updates of them: "3 added, 1 removed", or "none". */
function addedRemoved(counts: OperationCounts, added: keyof OperationCounts, removed: keyof OperationCounts, verb: 'added' | 'set'): string {
  const a = counts[added] ?? 0;
  const r = counts[removed] ?? 0;
  if (a === 0 && r === 0) return 'none';
  return [a > 0 ? `${a} ${verb}` : undefined, r > 0 ? `${r} removed` : undefined].filter(Boolean).join(', ');
}

function RunResult(props: { readonly run: RunSummary }) {
  const layout = usePageLayoutStyles();
  const { run } = props;
  const restored = run.exported['restore-user'] ?? 0;
  const ok = run.status === 'succeeded';
  const intent = ok ? 'success' : run.status === 'failed' ? 'error' : 'warning';
  const title = ok ? 'The synchronization is complete'
    : run.status === 'waiting-for-approval' ? 'The synchronization is waiting for your approval'
      : run.status === 'failed' ? 'The synchronization failed' : 'The synchronization completed with errors';
  return (
    <section aria-label="Result" className={layout.stack} data-testid="run-result" data-status={run.status}>
      {run.tenantSynchronized && (
        <MessageBar intent="warning" layout="multiline" data-testid="result-tenant-synchronized">
          <MessageBarBody>
            <MessageBarTitle>This tenant is synchronized by another tool</MessageBarTitle>
            Entra Connect, Cloud Sync or DirSync synchronizes it{run.tenantSynchronized.lastSyncDateTime ? ` (last on ${run.tenantSynchronized.lastSyncDateTime})` : ''}:
            {' '}Directory Sync wrote none of its users and groups and created none of them again.
          </MessageBarBody>
        </MessageBar>
      )}
      <MessageBar intent={intent} layout="multiline">
        <MessageBarBody>
          <MessageBarTitle>{title}</MessageBarTitle>
          {run.message}
        </MessageBarBody>
      </MessageBar>
      <dl className={layout.summary}>
        <dt className={layout.term}>Created</dt><dd className={layout.detail} data-testid="result-created">{sum(run.exported, ['create-user', 'create-group'])}</dd>
        <dt className={layout.term}>Updated</dt><dd className={layout.detail} data-testid="result-updated">{sum(run.exported, ['update-user', 'update-group'])}</dd>
        {restored > 0 && <><dt className={layout.term}>Restored</dt><dd className={layout.detail} data-testid="result-restored">{restored}</dd></>}
        <dt className={layout.term}>Deleted</dt><dd className={layout.detail} data-testid="result-deleted">{sum(run.exported, ['delete-user', 'delete-group'])}</dd>
        <dt className={layout.term}>Group memberships</dt>
        <dd className={layout.detail} data-testid="result-memberships">{addedRemoved(run.exported, 'add-member', 'remove-member', 'added')}</dd>
        <dt className={layout.term}>Managers</dt>
        <dd className={layout.detail} data-testid="result-managers">{addedRemoved(run.exported, 'set-manager', 'remove-manager', 'set')}</dd>
        <dt className={layout.term}>Write requests to Microsoft Graph</dt><dd className={layout.detail} data-testid="result-writes">{run.writeRequests ?? 0}</dd>
        <dt className={layout.term}>Errors</dt><dd className={layout.detail} data-testid="result-errors">{run.errors}</dd>
        {(run.waitingOnErrors ?? 0) > 0 && <>
          <dt className={layout.term}>Waiting on objects in error</dt>
          <dd className={layout.detail} data-testid="result-waiting">{run.waitingOnErrors} membership and manager changes</dd>
        </>}
        <dt className={layout.term}>Held for approval</dt><dd className={layout.detail} data-testid="result-held">{run.held}</dd>
      </dl>
      <RunSources run={run} />
      {run.heldReasons && run.heldReasons.length > 0 && (
        <ul>{run.heldReasons.map((reason) => <li key={reason}><Text>{reason}</Text></li>)}</ul>
      )}
    </section>
  );
}

/**
 * Configuration Wizard — Finished: "Synchronize directories now" is ticked; Finish claims the tenant
 * (asking before it takes it over from another server) and runs a full synchronization, showing its
 * progress and result. Rerunning the wizard and finishing it forces that full synchronization.
 */
export function FinishPage(props: { readonly onBack: () => void }) {
  const layout = usePageLayoutStyles();
  const { draft } = useConfigurationWizardState();
  const navigate = useNavigate();
  const [syncNow, setSyncNow] = useState(true);
  const [stage, setStage] = useState<Stage>({ kind: 'ready' });
  const [error, setError] = useState<ControlError | undefined>();
  const unsubscribe = useRef<(() => void) | undefined>(undefined);

  const left = useRef(false);
  useEffect(() => {
    left.current = false;
    return () => {
      left.current = true;
      unsubscribe.current?.();
    };
  }, []);

  // The event stream opens asynchronously: in case it missed the end of the run, ask for the run now and then.
  const followedRun = stage.kind === 'running' ? stage.runId : undefined;
  useEffect(() => {
    if (followedRun === undefined) return undefined;
    const timer = window.setInterval(() => {
      call('listRuns', { limit: 10 }).then((runs) => {
        const run = runs.find((r) => r.id === followedRun);
        if (!run || run.status === 'running') return;
        setStage((previous) => (previous.kind === 'running' && previous.runId === followedRun ? { kind: 'finished', run } : previous));
      }, (caught: unknown) => setError(asControlError(caught)));
    }, 5000);
    return () => window.clearInterval(timer);
  }, [followedRun]);

  const options = draft.options ?? defaultOptions;

  /** Starts the full run; a run already in progress (scheduled, or started elsewhere) is waited for first, as it may predate this configuration. */
  async function startFullRun(): Promise<number> {
    for (;;) {
      try {
        return (await call('startRun', { kind: 'full' })).runId;
      } catch (caught) {
        const failure = asControlError(caught);
        // Leaving the page gives up waiting: the schedule runs it instead.
        if (failure.code !== 'run-in-progress' || left.current) throw failure;
        const current = (await call('listRuns', { limit: 1 }))[0];
        setStage((previous) => (previous.kind === 'running' ? { kind: 'running', waiting: { run: current?.status === 'running' ? current : undefined } } : previous));
        await new Promise((resolve) => window.setTimeout(resolve, 2000));
      }
    }
  }

  async function synchronize(): Promise<void> {
    if (!syncNow) {
      // Without a run now the schedule takes over: say when it starts.
      const status = await call('getStatus', {}).catch(() => undefined);
      setStage({ kind: 'finished', nextRunAt: status?.nextRunAt });
      return;
    }
    setStage({ kind: 'running' });
    // Listen before starting, so that a quick run's events are not missed; keep them until the run id is known.
    let runId: number | undefined;
    const early: Array<{ readonly event: string; readonly data: RunProgress | RunSummary }> = [];
    const handle = (event: string, data: RunProgress | RunSummary): void => {
      if (runId === undefined) {
        // Only the last few events matter once the run id is known (a run waited for sends many).
        early.push({ event, data });
        if (early.length > 50) early.shift();
        return;
      }
      if (event === 'onDidProgress' && (data as RunProgress).runId === runId && (data as RunProgress).preview !== true) {
        setStage((previous) => (previous.kind === 'running' ? { kind: 'running', runId, progress: data as RunProgress } : previous));
      } else if (event === 'onDidFinishRun' && (data as RunSummary).id === runId) {
        // The stream stays open until the page closes (aborting it shows as a failed request in the browser).
        setStage((previous) => (previous.kind === 'running' ? { kind: 'finished', run: data as RunSummary } : previous));
      }
    };
    unsubscribe.current = subscribe((event, data) => {
      if (event === 'onDidProgress' || event === 'onDidFinishRun') handle(event, data as RunProgress | RunSummary);
    }, (failure) => {
      unsubscribe.current = undefined;
      setError(failure);
    });
    try {
      runId = await startFullRun();
      setStage({ kind: 'running', runId });
      for (const { event, data } of early.splice(0)) handle(event, data);
    } catch (caught) {
      unsubscribe.current?.();
      unsubscribe.current = undefined;
      setStage({ kind: 'ready' });
      setError(asControlError(caught));
    }
  }

  async function finish(): Promise<void> {
    setStage({ kind: 'claiming' });
    setError(undefined);
    await claimThenSynchronize(false);
  }

  async function takeOver(): Promise<void> {
    setStage({ kind: 'taking-over' });
    setError(undefined);
    await claimThenSynchronize(true);
  }

  /** Claims the tenant (showing who holds it when refused), then runs the first sync if asked. */
  async function claimThenSynchronize(takeOverLease: boolean): Promise<void> {
    try {
      const ownership = await call('claimOwnership', { takeOver: takeOverLease });
      if (!ownership.claimed) {
        setStage({ kind: 'held', holder: ownership.holder });
        return;
      }
    } catch (caught) {
      setStage({ kind: 'ready' });
      setError(asControlError(caught));
      return;
    }
    await synchronize();
  }

  const idle = stage.kind === 'ready';
  const finished = stage.kind === 'finished';

  return (
    <WizardFrame title={finished ? 'Directory Sync is configured' : 'Configuration complete'} steps={configureSteps} currentStep={ConfigureStep.Finish}
      onBack={idle ? props.onBack : undefined} onNext={idle ? () => void finish() : undefined} nextLabel="Finish" nextDisabled={!idle}>
      <div className={layout.stack}>
        <Body1 as="p">
          {draft.saved ? 'The configuration is applied. Finish synchronizes now, with a full run that reads everything again.'
            : 'The configuration is applied. The first synchronization reads Active Directory and your tenant, then creates and joins the objects in scope.'}
        </Body1>
        <Checkbox label="Synchronize directories now" checked={syncNow} disabled={!idle} onChange={(_event, data) => setSyncNow(data.checked === true)} />
        {!idle && stage.kind !== 'held' && stage.kind !== 'confirm-take-over' && stage.kind !== 'running' && !finished && (
          <Spinner size="tiny" label={stage.kind === 'claiming' ? 'Claiming the tenant for this server…' : 'Taking the tenant over…'} />
        )}
        {(stage.kind === 'held' || stage.kind === 'confirm-take-over') && (
          <OwnershipHeld holder={stage.holder} confirming={stage.kind === 'confirm-take-over'} onTakeOver={() => setStage({ kind: 'confirm-take-over', holder: stage.holder })}
            onNotNow={() => setStage({ kind: 'finished', planningOnlyFor: stage.holder })} onConfirm={() => void takeOver()}
            onCancel={() => setStage({ kind: 'held', holder: stage.holder })} />
        )}
        {stage.kind === 'running' && stage.waiting && (
          <Spinner size="tiny" data-testid="waiting-for-run"
            label={`Waiting for the ${stage.waiting.run ? `${stage.waiting.run.kind} synchronization in progress (run ${stage.waiting.run.id})` : 'synchronization in progress'} to finish; then the full synchronization starts…`} />
        )}
        {stage.kind === 'running' && !stage.waiting && <RunProgressView progress={stage.progress} label="Synchronization in progress" starting="Starting the synchronization…" />}
        {finished && stage.planningOnlyFor && (
          <MessageBar intent="info" layout="multiline" data-testid="planning-only">
            <MessageBarBody>
              The configuration is saved. {stage.planningOnlyFor.hostName} keeps synchronizing the tenant; this server only plans, every
              {' '}{options.intervalMinutes} minutes, until you take the tenant over by running the Configuration Wizard again.
            </MessageBarBody>
          </MessageBar>
        )}
        {finished && !stage.run && !stage.planningOnlyFor && (
          <MessageBar intent="success" data-testid="configured">
            <MessageBarBody>
              The configuration is saved. Directory Sync synchronizes every {options.intervalMinutes} minutes
              {stage.nextRunAt ? `, starting at ${new Date(stage.nextRunAt).toLocaleTimeString()}` : ''}.
            </MessageBarBody>
          </MessageBar>
        )}
        {finished && stage.run && <RunResult run={stage.run} />}
        {finished && <div className={layout.row}><Button appearance="primary" onClick={() => navigate('/operations')}>Open the Operations view</Button></div>}
        <ErrorBar error={error} title={stage.kind === 'running' ? 'The synchronization could not be followed' : 'The synchronization could not start'} />
      </div>
    </WizardFrame>
  );
}
