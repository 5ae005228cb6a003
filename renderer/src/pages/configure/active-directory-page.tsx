import { Body1, Button } from '@fluentui/react-components';
import { useCallback, useRef, useState } from 'react';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import { WizardFrame } from '../../components/wizard-frame.tsx';
import { forestNameOf, type ForestDraft } from './configuration-draft.ts';
import { ConfigureStep, configureSteps } from './configure-steps.ts';
import { ForestSection } from './forest-section.tsx';
import { useConfigurationWizardState } from './wizard-state.tsx';

/** A forest added after the first, while it is set up (no value until its service account is made). */
type AddedForest = { readonly key: number; readonly value?: ForestDraft };

/** The key of the first forest's section among the sections busy. */
const FIRST = -1;

/**
 * Configuration Wizard — Active Directory: for the first forest, then for each forest added after it ("Add another
 * forest"), a domain controller and an enterprise administrator, the LDAPS certificate to trust, the forest's domains
 * to synchronize, then the forest's MSOL_ service account and its rights self-test on each domain. Next once every
 * forest has its account.
 */
export function ActiveDirectoryPage(props: { readonly onBack: () => void; readonly onNext?: () => void }) {
  const layout = usePageLayoutStyles();
  const { draft, setAd, setForests } = useConfigurationWizardState();
  const [added, setAdded] = useState<ReadonlyArray<AddedForest>>(() => (draft.forests ?? []).map((value, key) => ({ key, value })));
  // The sections as last set: a section's answer arrives after an await, when another may have changed meanwhile.
  const current = useRef(added);
  const nextKey = useRef(added.length);
  const [busySections, setBusySections] = useState<ReadonlySet<number>>(new Set());

  const onBusy = useCallback((key: number, working: boolean) => setBusySections((previous) => {
    const next = new Set(previous);
    if (working) next.add(key);
    else next.delete(key);
    return next;
  }), []);

  function update(change: (sections: ReadonlyArray<AddedForest>) => ReadonlyArray<AddedForest>): void {
    const next = change(current.current);
    current.current = next;
    setAdded(next);
    setForests(next.flatMap((section) => (section.value ? [section.value] : [])));
  }

  function addForest(): void {
    const key = nextKey.current++;
    update((sections) => [...sections, { key }]);
  }

  function removeForest(key: number): void {
    update((sections) => sections.filter((section) => section.key !== key));
    onBusy(key, false);
  }

  const first = draft.ad ? forestNameOf(draft.ad) : undefined;
  const names = (except: number): string[] => [...(except === FIRST || !first ? [] : [first]),
    ...added.filter((section) => section.key !== except && section.value).map((section) => (section.value as ForestDraft).forest)];
  const busy = busySections.size > 0;
  const complete = draft.ad !== undefined && added.every((section) => section.value !== undefined);
  const ready = complete && !busy && props.onNext !== undefined;
  const several = added.length > 0;

  return (
    <WizardFrame title="Connect to Active Directory" steps={configureSteps} currentStep={ConfigureStep.ActiveDirectory}
      onBack={busy ? undefined : props.onBack} onNext={ready ? props.onNext : undefined} nextDisabled={!ready}>
      <div className={layout.stack}>
        <Body1 as="p">
          Give a domain controller of the forest and an Enterprise Administrator. Directory Sync uses these credentials once, to create
          its own service account; they are not stored. Once connected, the forest&apos;s domains are listed: tick those to synchronize.
        </Body1>
        <ForestSection index={0} value={draft.ad} onChange={setAd} otherForests={names(FIRST)} onBusy={(working) => onBusy(FIRST, working)}
          heading={several ? `Forest ${first ?? '1'}` : undefined} />
        {added.map((section, index) => (
          <ForestSection key={section.key} index={index + 1} value={section.value} otherForests={names(section.key)}
            heading={`Forest ${section.value?.forest ?? index + 2}`} onBusy={(working) => onBusy(section.key, working)}
            onChange={(value) => update((sections) => sections.map((s) => (s.key === section.key ? { key: s.key, value: value && { ...value, forest: forestNameOf(value) } } : s)))}
            onRemove={() => removeForest(section.key)} />
        ))}
        {complete && !busy && (
          <div className={layout.row}>
            <Button onClick={addForest}>Add another forest</Button>
          </div>
        )}
      </div>
    </WizardFrame>
  );
}
