/**
 * The parts the Operations view is made of: the run history, the objects with errors, the takeover's banner.
 */
import {
  Badge, Body1, Button, Caption1, MessageBar, MessageBarBody, MessageBarTitle, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text,
} from '@fluentui/react-components';
import type { HandoverState } from '../../../../engine/src/contract/handover.ts';
import type { ObjectError, RunSummary } from '../../../../engine/src/contract/model.ts';

function counts(record: Readonly<Record<string, number | undefined>>): string {
  const entries = Object.entries(record).filter(([, n]) => (n ?? 0) > 0);
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ${n}`).join(', ');
}

/** Recent runs: when, what kind, how they ended, what they exported. */
export function RunHistory(props: { readonly runs: ReadonlyArray<RunSummary> }) {
  const { runs } = props;
  return (
    <Table aria-label="Run history" size="small">
      <TableHeader>
        <TableRow>
          <TableHeaderCell>Run</TableHeaderCell><TableHeaderCell>Started</TableHeaderCell><TableHeaderCell>Kind</TableHeaderCell>
          <TableHeaderCell>Status</TableHeaderCell><TableHeaderCell>Exported</TableHeaderCell><TableHeaderCell>Errors</TableHeaderCell>
        </TableRow>
      </TableHeader>
      <TableBody>
        {runs.map((run) => (
          <TableRow key={run.id}>
            <TableCell>{run.id}</TableCell><TableCell>{new Date(run.startedAt).toLocaleString()}</TableCell>
            <TableCell>{run.kind}{run.dryRun ? ' (preview)' : ''}{run.message?.startsWith('Takeover:') ? ' — takeover: adoption' : ''}</TableCell>
            <TableCell><Badge appearance="tint" color={run.status === 'succeeded' ? 'success' : run.status === 'failed' ? 'danger' : 'warning'}>{run.status}</Badge></TableCell>
            <TableCell>{counts(run.exported)}</TableCell><TableCell>{run.errors}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** The objects the last run skipped, each with its problem and how to fix it. */
export function ObjectErrors(props: { readonly errors: ReadonlyArray<ObjectError> }) {
  const { errors } = props;
  if (errors.length === 0) return <Body1>No errors.</Body1>;
  return (
    <Table aria-label="Objects with errors" size="small">
        <TableHeader><TableRow><TableHeaderCell>Object</TableHeaderCell><TableHeaderCell>Problem</TableHeaderCell><TableHeaderCell>How to fix it</TableHeaderCell></TableRow></TableHeader>
        <TableBody>
          {errors.map((e) => (
            <TableRow key={`${e.dn}-${e.code}`}>
              <TableCell><Text>{e.dn}</Text></TableCell>
              <TableCell><Text>{e.attribute ? `${e.attribute}${e.value !== undefined ? ` "${e.value}"` : ''}: ` : ''}{e.reason}</Text></TableCell>
              <TableCell><Caption1>{e.hint}</Caption1></TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
  );
}

/** The takeover as its own step: converting, adopting, done. */
export function HandoverBanner(props: { readonly state: HandoverState; readonly onDetails: () => void }) {
  const { state } = props;
  return (
    <MessageBar intent={state.phase === 'done' ? 'success' : 'info'} layout="multiline" data-testid="handover-status" data-phase={state.phase}>
      <MessageBarBody>
        <MessageBarTitle>Takeover: {state.phase === 'converting' ? 'Microsoft converts the objects' : state.phase === 'adopting' ? 'adopting the objects' : 'done'}</MessageBarTitle>
        {state.phase === 'done' ? `The objects ${state.tool.description} synchronized were adopted by run ${state.adoptionRunId ?? '?'}.`
          : `Directory synchronization was turned off at ${new Date(state.switchedAt).toLocaleString()}; runs wait for the conversion, then the adoption run starts.`}
        <div><Button onClick={props.onDetails}>Details…</Button></div>
      </MessageBarBody>
    </MessageBar>
  );
}
