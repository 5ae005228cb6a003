/**
 * The parts of the Takeover page: what the report says (counts, then object by object), and where the
 * takeover stands once the switch is made.
 */
import {
  Badge, Body1, Caption1, ProgressBar, Subtitle2, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text,
} from '@fluentui/react-components';
import type { HandoverCategory, HandoverObject, HandoverReport, HandoverState } from '../../../../engine/src/contract/handover.ts';

/** Rows shown per category (the CLI's `dirsync --json handover report` lists them all). */
const ROWS_SHOWN = 200;

const COUNTS: ReadonlyArray<readonly [keyof HandoverReport['counts'], string]> = [
  ['adopt', 'Adopted by their anchors'], ['adoptWithChanges', '… of which with attribute changes'], ['create', 'Created (no cloud counterpart)'],
  ['orphan', 'Orphans of the old tool (held for approval)'], ['conflict', 'Conflicts'], ['blocked', 'Blocked'], ['invalid', 'Refused for their data (invalid)'],
  ['memberChanges', 'Membership changes'], ['managerChanges', 'Manager changes'],
];

const SECTIONS: ReadonlyArray<readonly [HandoverCategory, string]> = [
  ['adopt', 'Attribute changes the first run writes'], ['member', 'Membership changes'], ['manager', 'Manager changes'], ['create', 'Created'],
  ['orphan', 'Orphans of the old tool: their deletion waits for your approval'], ['conflict', 'Conflicts'], ['blocked', 'Blocked'], ['invalid', 'Refused for their data'],
];

function describeChanges(o: HandoverObject): string {
  return (o.changes ?? []).map((c) => `${c.property}: ${c.from === null ? '(none)' : JSON.stringify(c.from)} → ${c.to === null ? '(none)' : JSON.stringify(c.to)}`).join('; ');
}

function ReportSection(props: { readonly title: string; readonly category: HandoverCategory; readonly objects: ReadonlyArray<HandoverObject> }) {
  // Adopted objects are listed when they change more than the anchor every adopted object gets.
  const rows = props.objects.filter((o) => o.category === props.category && (props.category !== 'adopt' || (o.changes?.length ?? 0) > 0));
  if (rows.length === 0) return null;
  return (
    <div data-testid={`report-${props.category}-list`}>
      <Subtitle2 as="h3">{props.title} ({rows.length})</Subtitle2>
      <Table aria-label={props.title} size="small">
        <TableHeader><TableRow><TableHeaderCell>Object</TableHeaderCell><TableHeaderCell>What happens</TableHeaderCell></TableRow></TableHeader>
        <TableBody>
          {rows.slice(0, ROWS_SHOWN).map((o, i) => (
            <TableRow key={`${o.name}-${i}`} data-testid="report-object">
              <TableCell><Text>{o.objectType} {o.name}</Text></TableCell>
              <TableCell><Text>{o.changes && o.changes.length > 0 ? describeChanges(o) : o.reason}</Text></TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {rows.length > ROWS_SHOWN && <Caption1>… and {rows.length - ROWS_SHOWN} more (dirsync --json handover report lists every one).</Caption1>}
    </div>
  );
}

/** The report: counts first, then the objects, then what changes for users. */
export function HandoverReportView(props: { readonly report: HandoverReport }) {
  const { report } = props;
  return (
    <div data-testid="handover-report" style={{ display: 'flex', flexDirection: 'column', gap: '12px' }}>
      <div style={{ display: 'grid', gridTemplateColumns: '340px 1fr', rowGap: '4px' }}>
        {COUNTS.map(([key, label]) => (
          <span key={key} style={{ display: 'contents' }}><Text>{label}</Text><Text data-testid={`report-${key}`}>{report.counts[key]}</Text></span>
        ))}
      </div>
      {SECTIONS.map(([category, title]) => <ReportSection key={category} title={title} category={category} objects={report.objects} />)}
      <Subtitle2 as="h3">What changes for your users</Subtitle2>
      <ul data-testid="handover-notes">{report.notes.map((n) => <li key={n}><Body1>{n}</Body1></li>)}</ul>
    </div>
  );
}

const PHASE_LABEL: Readonly<Record<HandoverState['phase'], string>> = {
  converting: 'Microsoft converts the objects', adopting: 'Adopting the objects', done: 'Done',
};

/** Where the takeover stands after the switch: the conversion counted down, then the adoption run. */
export function HandoverProgress(props: { readonly state: HandoverState }) {
  const { state } = props;
  const total = state.synchronizedAtSwitch.user + state.synchronizedAtSwitch.group;
  const left = state.phase === 'converting' ? (state.remaining?.user ?? total) + (state.remaining?.group ?? 0) : 0;
  return (
    <div data-testid="handover-progress" style={{ display: 'flex', flexDirection: 'column', gap: '6px' }}>
      <Text>Step: <Badge appearance="tint" color={state.phase === 'done' ? 'success' : 'informative'} data-testid="handover-phase" data-phase={state.phase}>{PHASE_LABEL[state.phase]}</Badge></Text>
      <Text>Directory synchronization was turned off at {new Date(state.switchedAt).toLocaleString()} by {state.switchedBy}.</Text>
      {state.phase === 'converting' && (
        <>
          <ProgressBar value={total === 0 ? 1 : (total - left) / total} />
          <Text data-testid="handover-remaining">{left} of {total} objects still to convert{state.etaSeconds !== undefined ? `, about ${Math.max(1, Math.round(state.etaSeconds / 60))} min left` : ''}. Nothing is written to them until then (it can take up to 72 hours).</Text>
        </>
      )}
      {state.phase === 'done' && <Text data-testid="handover-done">The objects were adopted by run {state.adoptionRunId}. Directory Sync synchronizes them from now on.</Text>}
    </div>
  );
}
