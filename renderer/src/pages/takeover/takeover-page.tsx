/**
 * Take over from Entra Connect, Cloud Sync or DirSync (docs/takeover.md): who synchronizes the tenant and
 * whether it still runs, the report of what the takeover would do, the confirmed switch (a Global
 * Administrator signs in for it alone), then the conversion and the adoption, followed live.
 */
import {
  Badge, Body1, Button, Checkbox, Field, Input, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Subtitle1, Text, Title2, makeStyles, tokens,
} from '@fluentui/react-components';
import { useCallback, useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import type { CloudSignInPrompt } from '../../../../engine/src/contract/control-api.ts';
import type { HandoverReport, HandoverStatus } from '../../../../engine/src/contract/handover.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { asControlError, call, subscribe, type ControlError } from '../../lib/engine-client.ts';
import { DeviceCodePrompt } from '../configure/entra-parts.tsx';
import { HandoverProgress, HandoverReportView } from './takeover-parts.tsx';

const useStyles = makeStyles({
  page: { padding: '24px 32px', display: 'flex', flexDirection: 'column', gap: '20px', maxWidth: '1100px' },
  section: { display: 'flex', flexDirection: 'column', gap: '8px', paddingTop: '8px', borderTop: `1px solid ${tokens.colorNeutralStroke2}` },
  row: { display: 'flex', gap: '8px', alignItems: 'end', flexWrap: 'wrap' },
  facts: { display: 'grid', gridTemplateColumns: '220px 1fr', rowGap: '4px' },
});

/** How often the page asks where things stand (the old server's last sync time, the conversion). */
const POLL_MS = 2000;

function OldToolFacts(props: { readonly status: HandoverStatus }) {
  const styles = useStyles();
  const { status } = props;
  const activity = status.activity;
  return (
    <div className={styles.facts} data-testid="old-tool">
      <Text>Synchronized by</Text><Text data-testid="old-tool-name">{status.tool?.description ?? 'another tool'}</Text>
      <Text>It synchronizes</Text><Text data-testid="old-tool-objects">{status.synchronized.user} users, {status.synchronized.group} groups</Text>
      <Text>Last synchronization</Text><Text>{activity?.lastSyncDateTime ? new Date(activity.lastSyncDateTime).toLocaleString() : 'unknown'}</Text>
      <Text>Its cycle</Text><Text>{activity ? `about ${activity.cycleSeconds < 120 ? `${activity.cycleSeconds} s` : `${Math.round(activity.cycleSeconds / 60)} min`}${activity.cycleObserved ? ' (seen)' : ' (its default)'}` : '—'}</Text>
      <Text>State</Text>
      <Text>
        <Badge appearance="tint" color={activity?.stopped ? 'success' : 'warning'} data-testid="old-tool-state" data-stopped={String(activity?.stopped === true)}>
          {activity?.stopped ? 'Stopped' : 'Still running'}
        </Badge>
        {activity && !activity.stopped && activity.stoppedAfter ? ` — counts as stopped after ${new Date(activity.stoppedAfter).toLocaleTimeString()} if it does not synchronize again` : ''}
      </Text>
    </div>
  );
}

export function TakeoverPage() {
  const styles = useStyles();
  const navigate = useNavigate();
  const [status, setStatus] = useState<HandoverStatus>();
  const [report, setReport] = useState<HandoverReport>();
  const [confirmation, setConfirmation] = useState('');
  const [gone, setGone] = useState(false);
  const [prompt, setPrompt] = useState<CloudSignInPrompt>();
  const [copied, setCopied] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const [failure, setFailure] = useState<ControlError>();

  const refresh = useCallback(async () => {
    try {
      setStatus(await call('getHandover', {}));
    } catch (error) {
      setFailure(asControlError(error));
    }
  }, []);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), POLL_MS);
    const unsubscribe = subscribe((event) => { if (event === 'onDidFinishRun' || event === 'onDidChangeStatus') void refresh(); });
    return () => {
      clearInterval(timer);
      unsubscribe();
    };
  }, [refresh]);

  const makeReport = async () => {
    setBusy('report');
    setFailure(undefined);
    try {
      setReport(await call('handoverReport', {}));
    } catch (error) {
      setFailure(asControlError(error));
    } finally {
      setBusy(undefined);
    }
  };

  const switchOff = async () => {
    setBusy('switch');
    setFailure(undefined);
    try {
      const started = await call('beginHandoverSwitch', { confirmation, oldToolGone: gone });
      setPrompt(started);
      setStatus(await call('completeHandoverSwitch', { signInId: started.signInId }));
    } catch (error) {
      setFailure(asControlError(error));
    } finally {
      setPrompt(undefined);
      setBusy(undefined);
    }
  };

  const cancel = async () => {
    if (prompt) await call('cancelHandoverSwitch', { signInId: prompt.signInId }).catch(() => undefined);
  };

  const state = status?.state;
  return (
    <main className={styles.page} aria-busy={busy !== undefined}>
      <Title2 as="h1">Take over from Entra Connect, Cloud Sync or DirSync</Title2>
      {!status ? <Spinner label="Asking the tenant who synchronizes it" /> : <Body1 data-testid="handover-summary">{status.summary}</Body1>}
      <ErrorBar error={failure} title="The takeover cannot go on" />

      {status && !state && status.tenantSynchronized && (
        <>
          <section className={styles.section} aria-labelledby="old-tool-heading">
            <Subtitle1 as="h2" id="old-tool-heading">Who synchronizes this tenant today</Subtitle1>
            <OldToolFacts status={status} />
          </section>
          <section className={styles.section} aria-labelledby="report-heading">
            <Subtitle1 as="h2" id="report-heading">What the takeover will do</Subtitle1>
            <Body1>Nothing changes until you switch below. The report reads Active Directory and the tenant, and plans the first run as if Microsoft had already converted every object.</Body1>
            <div className={styles.row}>
              <Button onClick={() => void makeReport()} disabled={busy !== undefined} data-testid="make-report">{report ? 'Make the report again' : 'Make the report'}</Button>
              {busy === 'report' && <Spinner size="tiny" label="Reading and planning…" />}
            </div>
            {report && <HandoverReportView report={report} />}
          </section>
          <section className={styles.section} aria-labelledby="switch-heading">
            <Subtitle1 as="h2" id="switch-heading">Switch</Subtitle1>
            <MessageBar intent="warning" layout="multiline">
              <MessageBarBody>
                <MessageBarTitle>Directory synchronization is turned off for the whole tenant</MessageBarTitle>
                Microsoft then converts every synchronized object to a cloud object, which can take up to 72 hours and cannot be cancelled. Stop the old server
                first: Directory Sync switches only once it has not synchronized for two of its cycles, or when you say it is gone.
              </MessageBarBody>
            </MessageBar>
            <Field label={`Type the tenant's name to confirm: ${status.confirmation}`}>
              <Input value={confirmation} onChange={(_e, d) => setConfirmation(d.value)} data-testid="confirmation" />
            </Field>
            <Checkbox checked={gone} onChange={(_e, d) => setGone(d.checked === true)} label="The old server is gone for good (uninstalled or shut down): do not wait for it" data-testid="old-tool-gone" />
            <div className={styles.row}>
              <Button appearance="primary" onClick={() => void switchOff()} disabled={busy !== undefined || report === undefined || confirmation.trim() === ''} data-testid="switch">
                Turn off directory synchronization and take over
              </Button>
            </div>
            {prompt && <DeviceCodePrompt prompt={prompt} copied={copied} progress="Waiting for you to sign in; then the switch is made in your session, and the session is forgotten."
              onCopy={(code) => { void navigator.clipboard?.writeText(code).then(() => setCopied('Copied.'), () => setCopied(undefined)); }} onCancel={() => void cancel()} />}
          </section>
        </>
      )}

      {state && (
        <section className={styles.section} aria-labelledby="progress-heading">
          <Subtitle1 as="h2" id="progress-heading">The takeover</Subtitle1>
          <HandoverProgress state={state} />
        </section>
      )}
      <div className={styles.row}>
        <Button onClick={() => navigate('/operations')} data-testid="to-operations">Operations</Button>
      </div>
    </main>
  );
}
