import {
  Body1, Button, Caption1, MessageBar, MessageBarBody, MessageBarTitle, Subtitle2, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text,
  makeStyles, tokens,
} from '@fluentui/react-components';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ConfigPreview, PreviewCategory, PreviewObject, RunProgress } from '../../../../engine/src/contract/control-api.ts';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { RunProgressView } from '../../components/run-progress.tsx';
import { WizardFrame } from '../../components/wizard-frame.tsx';
import { asControlError, call, subscribe, type ControlError } from '../../lib/engine-client.ts';
import { ConfigureStep, configureSteps } from './configure-steps.ts';
import { buildConfig, useConfigurationWizardState } from './wizard-state.tsx';

const useStyles = makeStyles({
  tiles: { display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(200px, 1fr))', gap: '8px' },
  tile: { display: 'flex', flexDirection: 'column', alignItems: 'flex-start', height: 'auto', padding: '8px 12px', textAlign: 'left', fontWeight: tokens.fontWeightRegular },
  meaning: { color: 'inherit', opacity: 0.85 },
  count: { fontSize: tokens.fontSizeBase500, fontWeight: tokens.fontWeightSemibold },
  dn: { overflowWrap: 'anywhere' },
  forests: { overflowX: 'auto', display: 'flex', flexDirection: 'column', gap: '4px' },
  forestTable: { tableLayout: 'auto' },
  list: { maxHeight: '360px', overflowY: 'auto', border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium },
});

const PAGE_SIZE = 100;

/** The report's categories, in the order an administrator reads them, with what each means. */
const CATEGORIES: ReadonlyArray<{ readonly id: PreviewCategory; readonly label: string; readonly meaning: string }> = [
  { id: 'create', label: 'To create', meaning: 'New in Microsoft Entra ID.' },
  { id: 'matched', label: 'Matched', meaning: 'Already in the tenant: joined to their AD object, never duplicated.' },
  { id: 'conflict', label: 'In conflict', meaning: 'A cloud object has the same name but is not theirs: skipped until resolved.' },
  { id: 'blocked', label: 'Blocked', meaning: 'A cloud object Directory Sync never takes over (administrators, or objects another tool synchronizes): skipped.' },
  { id: 'invalid', label: 'Invalid', meaning: 'Data Microsoft Entra ID refuses: skipped and reported; everything else synchronizes.' },
  { id: 'out-of-scope', label: 'Out of scope', meaning: 'Not synchronized with this scope.' },
  { id: 'delete', label: 'To delete', meaning: 'Objects in the tenant this configuration deletes: over the deletion threshold they wait for your approval.' },
];

type Listing = { readonly category: PreviewCategory; readonly total: number; readonly objects: ReadonlyArray<PreviewObject>; readonly loading: boolean };

function ObjectList(props: { readonly listing: Listing; readonly onMore: () => void }) {
  const styles = useStyles();
  const layout = usePageLayoutStyles();
  const { listing } = props;
  const label = CATEGORIES.find((c) => c.id === listing.category)?.label ?? listing.category;
  return (
    <section id="preview-list" aria-label={`${label}: the objects`} className={layout.stack} data-testid="preview-list" data-category={listing.category}>
      <Subtitle2 as="h2">{label} ({listing.total})</Subtitle2>
      {listing.total === 0 ? <Text>None.</Text> : (
        <div className={styles.list}>
          <Table size="small" aria-label={label}>
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Object</TableHeaderCell>
                <TableHeaderCell>Type</TableHeaderCell>
                <TableHeaderCell>Why</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {listing.objects.map((object, index) => (
                <TableRow key={`${object.dn}-${index}`} data-testid="preview-object" data-dn={object.dn}>
                  <TableCell className={styles.dn}>{object.dn}</TableCell>
                  <TableCell>{object.objectType}</TableCell>
                  <TableCell>
                    <Text>{object.reason}</Text>
                    {object.detail && <Caption1 as="p" block>{object.detail}</Caption1>}
                    {object.hint && <Caption1 as="p" block>Fix: {object.hint}</Caption1>}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
      {listing.objects.length < listing.total && (
        <div className={layout.row}>
          <Button disabled={listing.loading} onClick={props.onMore}>Show more</Button>
          <Text>{listing.objects.length} of {listing.total} shown</Text>
        </div>
      )}
    </section>
  );
}

/** With several domains: the same counts for each forest, with its domains. */
function ForestCounts(props: { readonly forests: NonNullable<ConfigPreview['forests']> }) {
  const styles = useStyles();
  return (
    <section aria-label="By forest" data-testid="preview-forests" className={styles.forests}>
      <Subtitle2 as="h2">By forest</Subtitle2>
      <Table size="small" className={styles.forestTable} aria-label="What this configuration does in each forest">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Forest</TableHeaderCell>
            <TableHeaderCell>Domains</TableHeaderCell>
            {CATEGORIES.map((category) => <TableHeaderCell key={category.id}>{category.label}</TableHeaderCell>)}
          </TableRow>
        </TableHeader>
        <TableBody>
          {props.forests.map((forest) => (
            <TableRow key={forest.forest} data-testid="preview-forest" data-forest={forest.forest}>
              <TableCell><strong>{forest.forest}</strong></TableCell>
              <TableCell>{forest.domains.join(', ')}</TableCell>
              {CATEGORIES.map((category) => (
                <TableCell key={category.id} data-testid={`preview-forest-count-${category.id}`} data-count={forest.counts[category.id]}>{forest.counts[category.id]}</TableCell>
              ))}
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </section>
  );
}

/**
 * Configuration Wizard — Readiness: before anything is saved or written, the service previews the
 * configuration against the live directory and tenant, and the page counts what would be created,
 * matched, in conflict, blocked, invalid, out of scope and deleted; each count opens its list.
 */
export function ReadinessPage(props: { readonly onBack: () => void; readonly onNext: () => void }) {
  const styles = useStyles();
  const layout = usePageLayoutStyles();
  const { draft, pendingSecrets } = useConfigurationWizardState();
  const [preview, setPreview] = useState<ConfigPreview | undefined>();
  const [progress, setProgress] = useState<RunProgress | undefined>();
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<ControlError | undefined>();
  const [listing, setListing] = useState<Listing | undefined>();
  /** Each check and each list request has a number: only the latest one's answer is shown (effects may run twice, clicks may overtake). */
  const checkSeq = useRef(0);
  const listSeq = useRef(0);

  const check = useCallback(async () => {
    const config = buildConfig(draft);
    if (!config) return;
    const mine = ++checkSeq.current;
    const current = (): boolean => checkSeq.current === mine;
    setChecking(true);
    setError(undefined);
    setPreview(undefined);
    setListing(undefined);
    setProgress(undefined);
    const unsubscribe = subscribe((event, data) => {
      if (event === 'onDidProgress' && (data as RunProgress).preview === true && current()) setProgress(data as RunProgress);
    }, () => undefined);
    for (;;) {
      try {
        const result = await call('previewConfig', { config, secrets: pendingSecrets() });
        if (current()) setPreview(result);
      } catch (caught) {
        const failure = asControlError(caught);
        // A check this page started a moment ago (React may mount twice): wait for it, then check with the current answer.
        if (failure.code === 'preview-in-progress' && current()) {
          await new Promise((resolve) => window.setTimeout(resolve, 1000));
          continue;
        }
        if (current()) setError(failure);
      }
      break;
    }
    unsubscribe();
    if (current()) setChecking(false);
  }, [draft, pendingSecrets]);

  useEffect(() => {
    void check();
    // Leaving the page makes any answer still to come stale.
    return () => { checkSeq.current += 1; listSeq.current += 1; };
  }, [check]);

  async function open(category: PreviewCategory, offset: number): Promise<void> {
    if (!preview) return;
    const mine = ++listSeq.current;
    const previous = offset > 0 && listing?.category === category ? listing.objects : [];
    setListing({ category, total: listing?.category === category ? listing.total : preview.counts[category], objects: previous, loading: true });
    try {
      const page = await call('listPreviewObjects', { previewId: preview.previewId, category, offset, limit: PAGE_SIZE });
      if (listSeq.current === mine) setListing({ category, total: page.total, objects: [...previous, ...page.objects], loading: false });
    } catch (caught) {
      if (listSeq.current !== mine) return;
      setListing(undefined);
      setError(asControlError(caught));
    }
  }

  const counts = preview?.counts;
  // In a tenant another tool synchronizes, its objects are the blocked ones: the banner says why, and nothing needs fixing.
  const synchronized = preview?.run.tenantSynchronized !== undefined;
  const skipped = counts ? counts.conflict + (synchronized ? 0 : counts.blocked) + counts.invalid : 0;

  return (
    <WizardFrame title="Check what will be synchronized" steps={configureSteps} currentStep={ConfigureStep.Readiness}
      onBack={checking ? undefined : props.onBack} onNext={preview && !checking ? props.onNext : undefined}>
      <div className={layout.stack}>
        <Body1 as="p">
          Directory Sync reads Active Directory and your tenant and works out what this configuration would do. Nothing is saved or written yet.
        </Body1>
        {checking && <RunProgressView progress={progress} label="Checking the configuration" starting="Starting the check…" testId="preview-progress" />}
        <ErrorBar error={error} title="The configuration could not be checked" />
        {error && !checking && <div className={layout.row}><Button onClick={() => void check()}>Check again</Button></div>}
        {preview && counts && (
          <>
            {preview.run.tenantSynchronized && (
              <MessageBar intent="warning" layout="multiline" data-testid="preview-tenant-synchronized">
                <MessageBarBody>
                  <MessageBarTitle>This tenant is synchronized by another tool</MessageBarTitle>
                  Entra Connect, Cloud Sync or DirSync synchronizes it{preview.run.tenantSynchronized.lastSyncDateTime ? ` (last on ${preview.run.tenantSynchronized.lastSyncDateTime})` : ''}.
                  {' '}Its users and groups are counted as blocked: Directory Sync never writes them nor creates them again.
                  {counts.create > 0 ? ` The ${counts.create} object${counts.create === 1 ? '' : 's'} to create have no synchronized counterpart; they wait for your approval in the Operations view.` : ''}
                </MessageBarBody>
              </MessageBar>
            )}
            <section aria-label="What this configuration does" className={styles.tiles} data-testid="preview-counts">
              {CATEGORIES.map((category) => (
                <Button key={category.id} className={styles.tile} data-testid={`preview-count-${category.id}`} data-count={counts[category.id]}
                  appearance={listing?.category === category.id ? 'primary' : 'secondary'} aria-pressed={listing?.category === category.id}
                  aria-controls={listing ? 'preview-list' : undefined} onClick={() => void open(category.id, 0)}>
                  <span className={styles.count}>{counts[category.id]}</span>
                  <strong>{category.label}</strong>
                  <Caption1 className={styles.meaning}>{category.meaning}</Caption1>
                </Button>
              ))}
            </section>
            {preview.forests && preview.forests.length > 0 && <ForestCounts forests={preview.forests} />}
            {skipped > 0 && (
              <MessageBar intent="warning" layout="multiline" data-testid="preview-skipped">
                <MessageBarBody>
                  <MessageBarTitle>{skipped} object{skipped === 1 ? '' : 's'} will not be synchronized until fixed</MessageBarTitle>
                  They are reported with the reason and the fix after every run; all other objects synchronize.
                </MessageBarBody>
              </MessageBar>
            )}
            {counts.delete > 0 && (
              <MessageBar intent="warning" layout="multiline" data-testid="preview-deletions">
                <MessageBarBody>
                  <MessageBarTitle>This configuration deletes {counts.delete} object{counts.delete === 1 ? '' : 's'} from the tenant</MessageBarTitle>
                  {preview.run.held > 0 ? `${preview.run.held} of them are over the deletion threshold and wait for your approval in the Operations view.` : 'They are within the deletion threshold.'}
                  {draft.options ? '' : ' (This check used the default threshold, 500 objects or 10%: the next page sets yours.)'}
                </MessageBarBody>
              </MessageBar>
            )}
            {counts.create + counts.matched + counts.blocked + counts.conflict + counts.invalid === 0 && (
              <MessageBar intent="warning" data-testid="preview-empty">
                <MessageBarBody>Nothing is in scope: go back and choose other organizational units or another filter.</MessageBarBody>
              </MessageBar>
            )}
            {listing ? <ObjectList listing={listing} onMore={() => void open(listing.category, listing.objects.length)} />
              : <Text>Select a count to see its objects.</Text>}
            <div className={layout.row}><Button onClick={() => void check()}>Check again</Button></div>
          </>
        )}
      </div>
    </WizardFrame>
  );
}
