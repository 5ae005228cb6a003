import { Body1, Button, Checkbox, Field, Input, MessageBar, MessageBarBody, Spinner, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useCallback, useEffect, useState } from 'react';
import type { OuNode } from '../../../../engine/src/contract/control-api.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { WizardFrame } from '../../components/wizard-frame.tsx';
import { asControlError, call, ControlError } from '../../lib/engine-client.ts';
import { ConfigureStep, configureSteps } from './configure-steps.ts';
import { useConfigurationWizardState } from './wizard-state.tsx';

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: '12px', alignItems: 'stretch' },
  row: { display: 'flex', gap: '8px', alignItems: 'center', flexWrap: 'wrap' },
  tree: { listStyle: 'none', margin: 0, padding: 0 },
  subtree: { listStyle: 'none', margin: 0, paddingLeft: '24px' },
  treeBox: { border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium, padding: '8px', maxHeight: '360px', overflowY: 'auto' },
  legend: { padding: '0 4px' },
});

/** A parenthesised LDAP filter with balanced parentheses, or nothing. */
export function ldapFilterProblem(filter: string): string | undefined {
  const trimmed = filter.trim();
  if (trimmed === '') return undefined;
  if (!trimmed.startsWith('(') || !trimmed.endsWith(')')) return 'Put the filter in parentheses, for example (department=Sales).';
  let depth = 0;
  for (const character of trimmed) {
    if (character === '(') depth += 1;
    if (character === ')') depth -= 1;
    if (depth < 0) return 'The parentheses do not match.';
  }
  return depth === 0 ? undefined : 'The parentheses do not match.';
}

function descendantGuids(node: OuNode): string[] {
  return node.children.flatMap((child) => [child.guid, ...descendantGuids(child)]);
}

function OuTree(props: {
  readonly nodes: ReadonlyArray<OuNode>;
  readonly selected: ReadonlySet<string>;
  readonly inheritedFromParent: boolean;
  readonly onToggle: (node: OuNode, checked: boolean) => void;
  readonly nested: boolean;
}) {
  const styles = useStyles();
  return (
    <ul className={props.nested ? styles.subtree : styles.tree}>
      {props.nodes.map((node) => {
        const ticked = props.selected.has(node.guid);
        return (
          <li key={node.guid} data-testid="ou" data-dn={node.dn}>
            <Checkbox label={node.name} checked={ticked || props.inheritedFromParent} disabled={props.inheritedFromParent}
              title={props.inheritedFromParent ? 'Included with the OU above it' : node.dn}
              onChange={(_event, data) => props.onToggle(node, data.checked === true)} />
            {node.children.length > 0 && (
              <OuTree nodes={node.children} selected={props.selected} inheritedFromParent={props.inheritedFromParent || ticked}
                onToggle={props.onToggle} nested />
            )}
          </li>
        );
      })}
    </ul>
  );
}

/**
 * Configuration Wizard — Scope: the organizational units to synchronize, read live from the domain
 * with the enterprise administrator's credentials (kept in memory by the wizard), and an optional
 * LDAP filter. Nothing ticked means the whole domain.
 */
export function ScopePage(props: { readonly onBack: () => void; readonly onNext: () => void }) {
  const styles = useStyles();
  const { draft, setScope, adminCredentials } = useConfigurationWizardState();
  const [ous, setOus] = useState<ReadonlyArray<OuNode> | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ControlError | undefined>();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set(draft.scope?.includedOuGuids ?? []));
  const [ldapFilter, setLdapFilter] = useState(draft.scope?.ldapFilter ?? '');
  const ad = draft.ad;

  const load = useCallback(async (signal: { cancelled: boolean }) => {
    if (!ad) return;
    const admin = adminCredentials();
    if (!admin) {
      setError(new ControlError('ScopeError', 'admin-credentials-missing',
        'Go back to the Active Directory page and test the connection again: the wizard needs the enterprise administrator to read the organizational units.'));
      return;
    }
    setLoading(true);
    setError(undefined);
    try {
      const tree = await call('listOus', { url: ad.url, tlsServerName: ad.tlsServerName, trustedCaPem: ad.trustedCaPem, bindDn: admin.bindDn,
        password: admin.password, baseDn: ad.baseDn });
      if (!signal.cancelled) setOus(tree);
    } catch (caught) {
      if (!signal.cancelled) setError(asControlError(caught));
    } finally {
      if (!signal.cancelled) setLoading(false);
    }
  }, [ad, adminCredentials]);

  useEffect(() => {
    const signal = { cancelled: false };
    void load(signal);
    return () => { signal.cancelled = true; };
  }, [load]);

  function toggle(node: OuNode, checked: boolean): void {
    setSelected((previous) => {
      const next = new Set(previous);
      // An OU includes the OUs beneath it: keep only the topmost ticked one.
      for (const guid of descendantGuids(node)) next.delete(guid);
      if (checked) next.add(node.guid);
      else next.delete(node.guid);
      return next;
    });
  }

  const filterProblem = ldapFilterProblem(ldapFilter);
  const ready = ous !== undefined && !loading && filterProblem === undefined;

  function next(): void {
    const filter = ldapFilter.trim();
    setScope({ includedOuGuids: [...selected], ldapFilter: filter === '' ? undefined : filter });
    props.onNext();
  }

  return (
    <WizardFrame title="Choose what to synchronize" steps={configureSteps} currentStep={ConfigureStep.Scope}
      onBack={props.onBack} onNext={ready ? next : undefined}>
      <div className={styles.stack}>
        <Body1 as="p">
          Tick the organizational units whose users and groups Directory Sync keeps in Microsoft Entra ID. An OU includes the OUs beneath it.
          When nothing is ticked, the whole domain {ad?.baseDn} is synchronized.
        </Body1>
        {loading && <Spinner size="tiny" label="Reading the organizational units…" />}
        <ErrorBar error={error} title="The organizational units could not be read" />
        {error && <div className={styles.row}><Button onClick={() => void load({ cancelled: false })}>Try again</Button></div>}
        {ous && (
          <fieldset className={styles.treeBox} data-testid="ou-tree">
            <legend className={styles.legend}>Organizational units</legend>
            {ous.length === 0 ? <Text>This domain has no organizational units.</Text>
              : <OuTree nodes={ous} selected={selected} inheritedFromParent={false} onToggle={toggle} nested={false} />}
          </fieldset>
        )}
        {ous && (
          <MessageBar intent="info" data-testid="scope-summary">
            <MessageBarBody>
              {selected.size === 0 ? 'The whole domain will be synchronized.' : `${selected.size} organizational unit${selected.size === 1 ? '' : 's'} (and the OUs beneath them) will be synchronized.`}
            </MessageBarBody>
          </MessageBar>
        )}
        <Field label="LDAP filter (optional)" hint="Only objects that also match this filter are synchronized, for example (department=Sales)."
          validationState={filterProblem ? 'error' : 'none'} validationMessage={filterProblem}>
          <Input value={ldapFilter} onChange={(_event, data) => setLdapFilter(data.value)} />
        </Field>
      </div>
    </WizardFrame>
  );
}
