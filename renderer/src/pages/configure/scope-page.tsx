import { Body1, Button, Field, Input, MessageBar, MessageBarBody, Spinner, Text, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { OuNode } from '../../../../engine/src/contract/control-api.ts';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { WizardFrame } from '../../components/wizard-frame.tsx';
import { asControlError, call, ControlError } from '../../lib/engine-client.ts';
import { ConfigureStep, configureSteps } from './configure-steps.ts';
import { useConfigurationWizardState } from './wizard-state.tsx';

const useStyles = makeStyles({
  tree: { listStyle: 'none', margin: 0, padding: 0 },
  item: {
    display: 'flex', alignItems: 'center', gap: '6px', minHeight: '28px', paddingRight: '4px', cursor: 'pointer',
    borderRadius: tokens.borderRadiusMedium,
    ':hover': { backgroundColor: tokens.colorSubtleBackgroundHover },
    ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: '-2px' },
  },
  inheritedItem: { color: tokens.colorNeutralForegroundDisabled, cursor: 'default' },
  chevron: { display: 'inline-flex', width: '16px', height: '16px', alignItems: 'center', justifyContent: 'center', flexShrink: 0 },
  chevronExpanded: { transform: 'rotate(90deg)' },
  box: {
    display: 'inline-flex', width: '16px', height: '16px', alignItems: 'center', justifyContent: 'center', flexShrink: 0,
    boxSizing: 'border-box', border: `1px solid ${tokens.colorNeutralStrokeAccessible}`, borderRadius: tokens.borderRadiusSmall,
    color: tokens.colorNeutralForegroundInverted,
  },
  boxTicked: { backgroundColor: tokens.colorCompoundBrandBackground, border: `1px solid ${tokens.colorCompoundBrandBackground}` },
  boxInherited: {
    backgroundColor: tokens.colorNeutralBackgroundDisabled, border: `1px solid ${tokens.colorNeutralStrokeDisabled}`,
    color: tokens.colorNeutralForegroundDisabled,
  },
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

/** One row of the tree as shown: the OUs of collapsed parents are left out. */
type VisibleOu = {
  readonly node: OuNode;
  readonly level: number;
  readonly parentGuid: string | undefined;
  readonly posInSet: number;
  readonly setSize: number;
  /** Ticked because an OU above it is: shown checked, cannot be changed on its own. */
  readonly inherited: boolean;
};

/**
 * The tree flattened in display order. Rendering one flat list (with aria-level, aria-setsize and
 * aria-posinset, as Fluent's FlatTree does) keeps each treeitem to its own row, so a click in its
 * middle lands on it and not on a child.
 */
function visibleOus(nodes: ReadonlyArray<OuNode>, collapsed: ReadonlySet<string>, selected: ReadonlySet<string>,
  level = 1, parentGuid: string | undefined = undefined, inherited = false): VisibleOu[] {
  return nodes.flatMap((node, index) => {
    const row: VisibleOu = { node, level, parentGuid, posInSet: index + 1, setSize: nodes.length, inherited };
    if (collapsed.has(node.guid)) return [row];
    return [row, ...visibleOus(node.children, collapsed, selected, level + 1, node.guid, inherited || selected.has(node.guid))];
  });
}

type TreeKeyAction =
  | { readonly kind: 'focus'; readonly guid: string }
  | { readonly kind: 'collapse'; readonly guid: string; readonly collapsed: boolean }
  | { readonly kind: 'toggle' };

/** What a key does on the row at `index`, following the WAI-ARIA tree view pattern. */
function treeKeyAction(key: string, rows: ReadonlyArray<VisibleOu>, index: number, collapsed: ReadonlySet<string>): TreeKeyAction | undefined {
  const row = rows[index];
  if (!row) return undefined;
  const focus = (target: VisibleOu | undefined): TreeKeyAction | undefined => target && { kind: 'focus', guid: target.node.guid };
  const hasChildren = row.node.children.length > 0;
  const isCollapsed = collapsed.has(row.node.guid);
  switch (key) {
    case 'ArrowDown': return focus(rows[index + 1]);
    case 'ArrowUp': return focus(rows[index - 1]);
    case 'Home': return focus(rows[0]);
    case 'End': return focus(rows[rows.length - 1]);
    case 'ArrowRight':
      if (!hasChildren) return undefined;
      // An expanded node's first child is the next row.
      return isCollapsed ? { kind: 'collapse', guid: row.node.guid, collapsed: false } : focus(rows[index + 1]);
    case 'ArrowLeft':
      if (hasChildren && !isCollapsed) return { kind: 'collapse', guid: row.node.guid, collapsed: true };
      return focus(rows.find((candidate) => candidate.node.guid === row.parentGuid));
    case ' ':
    case 'Enter':
      return { kind: 'toggle' };
    default:
      return undefined;
  }
}

const checkmark = (
  <svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">
    <path fill="currentColor" d="M9.76 3.2a.75.75 0 0 1 .04 1.06l-4.25 4.5a.75.75 0 0 1-1.09 0l-2.25-2.38a.75.75 0 1 1 1.09-1.03l1.7 1.8 3.7-3.92a.75.75 0 0 1 1.06-.03Z" />
  </svg>
);

const chevron = (
  <svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">
    <path fill="currentColor" d="M4.65 2.15a.5.5 0 0 0 0 .7L7.79 6 4.65 9.15a.5.5 0 1 0 .7.7l3.5-3.5a.5.5 0 0 0 0-.7l-3.5-3.5a.5.5 0 0 0-.7 0Z" />
  </svg>
);

/**
 * The OUs as a WAI-ARIA tree: one tab stop (roving tabindex), arrows to move, expand and collapse,
 * Home/End, Space or Enter to tick. Each OU is a treeitem with aria-checked; the OUs beneath a
 * ticked one are checked and aria-disabled but stay focusable, so a screen reader can still reach
 * them and hear why ("Included with the OU above it").
 */
function OuTree(props: {
  readonly nodes: ReadonlyArray<OuNode>;
  readonly selected: ReadonlySet<string>;
  readonly onToggle: (node: OuNode, checked: boolean) => void;
}) {
  const styles = useStyles();
  // Collapsed rather than expanded: every OU starts open, and OUs read again after "Try again" too.
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [activeGuid, setActiveGuid] = useState<string | undefined>();
  const elements = useRef(new Map<string, HTMLLIElement>());
  const rows = visibleOus(props.nodes, collapsed, props.selected);
  // The tab stop: the last focused row while it is shown, else the first.
  const tabStop = rows.find((row) => row.node.guid === activeGuid)?.node.guid ?? rows[0]?.node.guid;

  function setRowCollapsed(guid: string, value: boolean): void {
    setCollapsed((previous) => {
      const next = new Set(previous);
      if (value) next.add(guid);
      else next.delete(guid);
      return next;
    });
  }

  function toggle(row: VisibleOu): void {
    if (!row.inherited) props.onToggle(row.node, !props.selected.has(row.node.guid));
  }

  function onKeyDown(event: KeyboardEvent<HTMLLIElement>, index: number): void {
    const action = treeKeyAction(event.key, rows, index, collapsed);
    const row = rows[index];
    if (!action || !row) return;
    // The box scrolls on arrows and Space otherwise.
    event.preventDefault();
    if (action.kind === 'focus') {
      setActiveGuid(action.guid);
      elements.current.get(action.guid)?.focus();
    } else if (action.kind === 'collapse') setRowCollapsed(action.guid, action.collapsed);
    else toggle(row);
  }

  return (
    <ul role="tree" aria-label="Organizational units" aria-multiselectable="true" className={styles.tree}>
      {rows.map((row, index) => {
        const { node } = row;
        const ticked = props.selected.has(node.guid);
        const hasChildren = node.children.length > 0;
        const expanded = hasChildren ? !collapsed.has(node.guid) : undefined;
        return (
          <li key={node.guid} role="treeitem" data-testid="ou" data-dn={node.dn}
            ref={(element) => {
              if (element) elements.current.set(node.guid, element);
              else elements.current.delete(node.guid);
            }}
            tabIndex={node.guid === tabStop ? 0 : -1}
            aria-level={row.level} aria-posinset={row.posInSet} aria-setsize={row.setSize} aria-expanded={expanded}
            aria-checked={ticked || row.inherited} aria-disabled={row.inherited || undefined}
            title={row.inherited ? 'Included with the OU above it' : node.dn}
            className={mergeClasses(styles.item, row.inherited && styles.inheritedItem)}
            style={{ paddingLeft: `${(row.level - 1) * 24 + 4}px` }}
            onFocus={() => setActiveGuid(node.guid)}
            onKeyDown={(event) => onKeyDown(event, index)}
            onClick={() => toggle(row)}>
            <span className={mergeClasses(styles.chevron, expanded === true && styles.chevronExpanded)}
              onClick={(event) => {
                if (!hasChildren) return;
                // The chevron only opens or closes the OU; the rest of the row ticks it.
                event.stopPropagation();
                setRowCollapsed(node.guid, expanded === true);
              }}>
              {hasChildren && chevron}
            </span>
            <span aria-hidden="true" className={mergeClasses(styles.box, row.inherited ? styles.boxInherited : ticked && styles.boxTicked)}>
              {(ticked || row.inherited) && checkmark}
            </span>
            <span>{node.name}</span>
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
  const layout = usePageLayoutStyles();
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
    // On a rerun the service reads the tree as the service account in use; otherwise with the administrator typed on the previous page.
    if (!admin && !ad.inUse) {
      setError(new ControlError('ScopeError', 'admin-credentials-missing',
        'Go back to the Active Directory page and test the connection again: the wizard needs the enterprise administrator to read the organizational units.'));
      return;
    }
    setLoading(true);
    setError(undefined);
    try {
      const tree = await call('listOus', admin ? { url: ad.url, tlsServerName: ad.tlsServerName, trustedCaPem: ad.trustedCaPem, bindDn: admin.bindDn,
        password: admin.password, baseDn: ad.baseDn } : { baseDn: ad.baseDn });
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
      <div className={layout.stack}>
        <Body1 as="p">
          Tick the organizational units whose users and groups Directory Sync keeps in Microsoft Entra ID. An OU includes the OUs beneath it.
          When nothing is ticked, the whole domain {ad?.baseDn} is synchronized.
        </Body1>
        {loading && <Spinner size="tiny" label="Reading the organizational units…" />}
        <ErrorBar error={error} title="The organizational units could not be read" />
        {error && <div className={layout.row}><Button onClick={() => void load({ cancelled: false })}>Try again</Button></div>}
        {ous && (
          <fieldset className={styles.treeBox} data-testid="ou-tree">
            <legend className={styles.legend}>Organizational units</legend>
            {ous.length === 0 ? <Text>This domain has no organizational units.</Text>
              : <OuTree nodes={ous} selected={selected} onToggle={toggle} />}
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
