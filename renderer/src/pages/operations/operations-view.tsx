import {
  Body1, Button, Field, Input, MessageBar, MessageBarBody, MessageBarTitle, Spinner, Subtitle1, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow,
  Text, Title2, makeStyles, tokens,
} from '@fluentui/react-components';
import { useCallback, useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import type { ObjectLookup, PlanDetails, ServiceStatus } from '../../../../engine/src/contract/control-api.ts';
import type { ObjectError, RunSummary } from '../../../../engine/src/contract/model.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { RunSources } from '../../components/run-sources.tsx';
import { call, ControlError, subscribe } from '../../lib/engine-client.ts';
import { HandoverBanner, ObjectErrors, RunHistory } from './operations-parts.tsx';

const useStyles = makeStyles({
  page: { padding: '24px 32px', display: 'flex', flexDirection: 'column', gap: '24px', maxWidth: '1100px' },
  section: { display: 'flex', flexDirection: 'column', gap: '8px', paddingTop: '8px', borderTop: `1px solid ${tokens.colorNeutralStroke2}` },
  row: { display: 'flex', gap: '8px', alignItems: 'end' },
  facts: { display: 'grid', gridTemplateColumns: '180px 1fr', rowGap: '4px' },
});

function isDeletion(op: { readonly kind: string }): boolean {
  return op.kind === 'delete-user' || op.kind === 'delete-group';
}

/** What a plan holds, in words: deletions (the deletion gate), or creates and what needs them too (a synchronized tenant). */
function heldWhat(held: ReadonlyArray<{ readonly kind: string }>): string {
  return held.every(isDeletion) ? 'deletions are' : held.some(isDeletion) ? 'operations (deletions and creates) are' : 'operations (creates and the changes that need them) are';
}

function asControlError(error: unknown): ControlError {
  if (error instanceof ControlError) return error;
  throw error;
}

/** What the service is doing and has done, and what waits for the administrator. */
export function OperationsView() {
  const styles = useStyles();
  const navigate = useNavigate();
  const [status, setStatus] = useState<ServiceStatus>();
  const [runs, setRuns] = useState<ReadonlyArray<RunSummary>>([]);
  const [errors, setErrors] = useState<ReadonlyArray<ObjectError>>([]);
  const [plans, setPlans] = useState<ReadonlyArray<PlanDetails>>([]);
  const [failure, setFailure] = useState<ControlError>();
  const [busy, setBusy] = useState<string>();
  const [query, setQuery] = useState('');
  const [lookup, setLookup] = useState<ObjectLookup>();

  const refresh = useCallback(async () => {
    try {
      const current = await call('getStatus', {});
      setStatus(current);
      setRuns(await call('listRuns', { limit: 20 }));
      setErrors(current.lastRun ? await call('listErrors', { runId: current.lastRun.id }) : []);
      setPlans(await Promise.all(current.pendingApprovals.map((p) => call('getPlan', { planId: p.planId }))));
      setFailure(undefined);
    } catch (error) {
      setFailure(asControlError(error));
    }
  }, []);

  useEffect(() => {
    void refresh();
    return subscribe((event) => {
      if (event === 'onDidFinishRun' || event === 'onDidChangeStatus') void refresh();
    });
  }, [refresh]);

  const decide = async (planId: number, approve: boolean) => {
    setBusy(`plan-${planId}`);
    try {
      if (approve) await call('approvePlan', { planId });
      else await call('rejectPlan', { planId });
      await refresh();
    } catch (error) {
      setFailure(asControlError(error));
    } finally {
      setBusy(undefined);
    }
  };

  const runNow = async (kind: 'full' | 'delta') => {
    setBusy('run');
    try {
      await call('startRun', { kind });
    } catch (error) {
      setFailure(asControlError(error));
    } finally {
      setBusy(undefined);
    }
  };

  const find = async () => {
    setBusy('lookup');
    try {
      setLookup(await call('lookupObject', { query }));
    } catch (error) {
      setFailure(asControlError(error));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <main className={styles.page} aria-busy={busy !== undefined}>
      <Title2 as="h1">Directory Sync — Operations</Title2>
      {status?.tenantSynchronized && (
        <MessageBar intent="warning" layout="multiline" data-testid="tenant-synchronized">
          <MessageBarBody>
            <MessageBarTitle>This tenant is synchronized by another tool</MessageBarTitle>
            Entra Connect, Cloud Sync or DirSync synchronizes {status.tenantSynchronized.objects.user} users and {status.tenantSynchronized.objects.group} groups
            {status.tenantSynchronized.lastSyncDateTime ? ` (last on ${status.tenantSynchronized.lastSyncDateTime})` : ''}. Directory Sync never writes them nor
            creates them again, and what it would create waits for your approval below.
            <div><Button onClick={() => navigate('/takeover')} data-testid="open-takeover">Take over from it…</Button></div>
          </MessageBarBody>
        </MessageBar>
      )}
      {status?.handover && <HandoverBanner state={status.handover} onDetails={() => navigate('/takeover')} />}
      <ErrorBar error={failure} title="The service could not do that" />
      <section className={styles.section} aria-labelledby="status-heading">
        <Subtitle1 as="h2" id="status-heading">Status</Subtitle1>
        {!status ? <Spinner label="Reading the service's status" /> : (
          <div className={styles.facts} data-testid="status">
            <Text>Role</Text><Text data-testid="role">{status.role === 'active' ? 'Active: this server exports' : status.role === 'staging' ? 'Staging: plans only, never exports' : status.role === 'not-owner' ? `Not the owner: ${status.ownership?.holder?.hostName ?? 'another server'} exports` : 'Not configured'}</Text>
            <Text>Last run</Text><Text data-testid="last-run">{status.lastRun ? `${status.lastRun.kind} run ${status.lastRun.id}: ${status.lastRun.status}` : 'none yet'}</Text>
            {status.lastRun && (status.lastRun.sources !== undefined || (status.lastRun.foreignMembers ?? 0) > 0) && <div style={{ gridColumn: '2' }}><RunSources run={status.lastRun} /></div>}
            <Text>Next run</Text><Text>{status.running ? `running now (${status.running.phase}, ${status.running.done}${status.running.total ? `/${status.running.total}` : ''})` : status.nextRunAt ? new Date(status.nextRunAt).toLocaleString() : 'not scheduled'}</Text>
            <Text>Managed in the tenant</Text><Text>{status.managed.user} users, {status.managed.group} groups</Text>
            {status.warnings.map((w) => <Text key={w} style={{ gridColumn: '1 / 3', color: tokens.colorPaletteDarkOrangeForeground1 }}>{w}</Text>)}
          </div>
        )}
        <div className={styles.row}>
          <Button onClick={() => void runNow('delta')} disabled={busy !== undefined || !status?.configured}>Synchronize now</Button>
          <Button onClick={() => void runNow('full')} disabled={busy !== undefined || !status?.configured}>Full synchronization</Button>
          <Button onClick={() => navigate('/configure/welcome')} disabled={busy !== undefined}>Configuration Wizard…</Button>
        </div>
      </section>

      <section className={styles.section} aria-labelledby="approvals-heading">
        <Subtitle1 as="h2" id="approvals-heading">Waiting for approval</Subtitle1>
        {plans.length === 0 ? <Body1>Nothing waits for approval.</Body1> : plans.map((plan) => {
          const held = plan.operations.filter((o) => o.status === 'held');
          return (
            <div key={plan.planId} data-testid={`plan-${plan.planId}`}>
              <Body1 as="p">Plan {plan.planId}: {held.length} {heldWhat(held)} held. {plan.reasons.join(' ')}</Body1>
              <Table aria-label={`${held.some((op) => !isDeletion(op)) ? 'Operations' : 'Deletions'} held in plan ${plan.planId}`} size="small">
                <TableHeader><TableRow><TableHeaderCell>Operation</TableHeaderCell><TableHeaderCell>Object</TableHeaderCell><TableHeaderCell>Reason</TableHeaderCell></TableRow></TableHeader>
                <TableBody>
                  {held.map((op) => (
                    <TableRow key={`${op.kind}-${op.sourceAnchor}`}><TableCell>{op.kind}</TableCell><TableCell>{op.dn ?? op.displayName ?? op.sourceAnchor}</TableCell><TableCell>{op.reason}</TableCell></TableRow>
                  ))}
                </TableBody>
              </Table>
              <div className={styles.row}>
                <Button appearance="primary" onClick={() => void decide(plan.planId, true)} disabled={busy !== undefined}>Approve {held.length} {held.some((op) => !isDeletion(op)) ? 'operations' : 'deletions'}</Button>
                <Button onClick={() => void decide(plan.planId, false)} disabled={busy !== undefined}>Reject</Button>
                {busy === `plan-${plan.planId}` && <Spinner size="tiny" label="Applying" />}
              </div>
            </div>
          );
        })}
      </section>

      <section className={styles.section} aria-labelledby="history-heading">
        <Subtitle1 as="h2" id="history-heading">Run history</Subtitle1>
        <RunHistory runs={runs} />
      </section>

      <section className={styles.section} aria-labelledby="errors-heading">
        <Subtitle1 as="h2" id="errors-heading">Objects with errors in the last run</Subtitle1>
        <ObjectErrors errors={errors} />
      </section>

      <section className={styles.section} aria-labelledby="lookup-heading">
        <Subtitle1 as="h2" id="lookup-heading">Where is this object?</Subtitle1>
        <div className={styles.row}>
          <Field label="User principal name, account name, mail or DN">
            <Input value={query} onChange={(_e, d) => setQuery(d.value)} onKeyDown={(e) => { if (e.key === 'Enter' && query) void find(); }} />
          </Field>
          <Button onClick={() => void find()} disabled={!query || busy !== undefined}>Look up</Button>
        </div>
        {lookup && (
          <div className={styles.facts} data-testid="lookup">
            <Text>In Active Directory</Text><Text>{lookup.ad ? `${lookup.ad.dn} (${lookup.ad.inScope ? 'in scope' : `out of scope: ${lookup.ad.scopeReason}`})` : 'not found'}</Text>
            <Text>In the tenant</Text><Text>{lookup.cloud ? `${String(lookup.cloud.properties['displayName'] ?? '')} (${lookup.cloud.id})` : 'not synchronized'}</Text>
            <Text>Last export</Text><Text>{lookup.lastExport ? `${lookup.lastExport.kind} in run ${lookup.lastExport.runId}` : 'none'}</Text>
            <Text>Planned</Text><Text>{lookup.planned && lookup.planned.length > 0 ? lookup.planned.map((p) => `${p.kind}: ${p.reason}`).join('; ') : 'nothing'}</Text>
            <Text>Errors</Text><Text>{lookup.errors.length > 0 ? lookup.errors.map((e) => `${e.reason} — ${e.hint}`).join('; ') : 'none'}</Text>
          </div>
        )}
      </section>
    </main>
  );
}
