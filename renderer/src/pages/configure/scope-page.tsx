import { Body1, Button, Field, Input, MessageBar, MessageBarBody, Spinner, Text, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { OuNode, OuSource } from '../../../../engine/src/contract/control-api.ts';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { WizardFrame } from '../../components/wizard-frame.tsx';
import { asControlError, call, ControlError } from '../../lib/engine-client.ts';
import { ConfigureStep, configureSteps } from './configure-steps.ts';
import { domainKey, domainScope, draftDomains, isSavedDomain, type DomainScopeDraft, type DraftDomain } from './configuration-draft.ts';
import { useConfigurationWizardState, type AdAdminCredentials } from './wizard-state.tsx';

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
  /** The rows that are domains (several domains: one top-level row each, its OUs below), not OUs to tick. */
  readonly domainRows?: ReadonlySet<string>;
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
    if (props.domainRows?.has(row.node.guid)) setRowCollapsed(row.node.guid, !collapsed.has(row.node.guid));
    else if (!row.inherited) props.onToggle(row.node, !props.selected.has(row.node.guid));
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
        const domain = props.domainRows?.has(node.guid) === true;
        return (
          <li key={node.guid} role="treeitem" data-testid={domain ? 'ou-domain' : 'ou'} data-dn={node.dn}
            ref={(element) => {
              if (element) elements.current.set(node.guid, element);
              else elements.current.delete(node.guid);
            }}
            tabIndex={node.guid === tabStop ? 0 : -1}
            aria-level={row.level} aria-posinset={row.posInSet} aria-setsize={row.setSize} aria-expanded={expanded}
            aria-checked={domain ? undefined : ticked || row.inherited} aria-disabled={row.inherited || undefined}
            title={row.inherited ? 'Included with the OU above it' : domain ? `${node.dn}: nothing ticked beneath it synchronizes the whole domain` : node.dn}
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
            {!domain && (
              <span aria-hidden="true" className={mergeClasses(styles.box, row.inherited ? styles.boxInherited : ticked && styles.boxTicked)}>
                {(ticked || row.inherited) && checkmark}
              </span>
            )}
            {domain ? <strong>{node.name}</strong> : <span>{node.name}</span>}
          </li>
        );
      })}
    </ul>
  );
}

/** One domain's OUs, as read. */
type DomainTree = { readonly domain: DraftDomain; readonly ous: ReadonlyArray<OuNode> };

/**
 * How a domain's OUs are read: a forest added after the first as its service account (made on the Active Directory
 * page); the first forest's with the enterprise administrator typed there, else (a rerun) as the configured account.
 */
function ouSource(domain: DraftDomain, admin: AdAdminCredentials | undefined, configured: boolean): OuSource {
  const connection = { url: domain.url, tlsServerName: domain.tlsServerName, trustedCaPem: domain.trustedCaPem, baseDn: domain.baseDn };
  if (domain.forestIndex > 0) return { ...connection, forest: domain.forest };
  if (admin) return { ...connection, bindDn: admin.bindDn, password: admin.password };
  if (configured) return { baseDn: domain.baseDn };
  throw new ControlError('ScopeError', 'admin-credentials-missing',
    'Go back to the Active Directory page and test the connection again: the wizard needs the enterprise administrator to read the organizational units.');
}

/** The tree shown: one domain's OUs as they are; several domains as one top-level row each, their OUs beneath. */
function treeNodes(trees: ReadonlyArray<DomainTree>, several: boolean): ReadonlyArray<OuNode> {
  if (!several) return trees[0]?.ous ?? [];
  return trees.map((tree) => ({ guid: domainRowGuid(tree.domain), dn: tree.domain.baseDn, name: `${tree.domain.dnsName} (forest ${tree.domain.forest})`, children: tree.ous }));
}

function domainRowGuid(domain: DraftDomain): string {
  return `domain:${domain.key}`;
}

/** Which domain each OU is in (its key). */
function ownersOf(trees: ReadonlyArray<DomainTree>): ReadonlyMap<string, string> {
  const owners = new Map<string, string>();
  const walk = (nodes: ReadonlyArray<OuNode>, key: string): void => {
    for (const node of nodes) {
      owners.set(node.guid, key);
      walk(node.children, key);
    }
  };
  for (const tree of trees) walk(tree.ous, tree.domain.key);
  return owners;
}

function ouCount(count: number): string {
  return `${count} organizational unit${count === 1 ? '' : 's'}`;
}

/** What the ticks synchronize, in words. */
function scopeSummary(domains: ReadonlyArray<DraftDomain>, selected: Readonly<Record<string, ReadonlySet<string>>>): string {
  if (domains.length === 1) {
    const count = selected[domains[0]?.key ?? '']?.size ?? 0;
    return count === 0 ? 'The whole domain will be synchronized.' : `${ouCount(count)} (and the OUs beneath them) will be synchronized.`;
  }
  return `${domains.map((domain) => {
    const count = selected[domain.key]?.size ?? 0;
    return `${domain.dnsName}: ${count === 0 ? 'the whole domain' : `${ouCount(count)} (and the OUs beneath them)`}`;
  }).join('; ')}.`;
}

/**
 * Configuration Wizard — Scope: the organizational units to synchronize, read live from each domain (the first
 * forest's with the enterprise administrator's credentials kept in memory by the wizard, or on a rerun as the
 * configured account; an added forest's as its service account), and an optional LDAP filter. With several domains
 * the tree has one top-level row per domain, its OUs beneath; nothing ticked in a domain means the whole domain.
 */
export function ScopePage(props: { readonly onBack: () => void; readonly onNext: () => void }) {
  const styles = useStyles();
  const layout = usePageLayoutStyles();
  const { draft, setScope, adminCredentials } = useConfigurationWizardState();
  const { ad, forests, saved } = draft;
  const domains = useMemo(() => draftDomains({ ad, forests }), [ad, forests]);
  const several = domains.length > 1;
  // What each domain starts from: the draft's choice, else what is saved for it.
  const [initial] = useState(() => Object.fromEntries(domains.map((domain) => [domain.key, domainScope(draft, domain)])));
  const [trees, setTrees] = useState<ReadonlyArray<DomainTree> | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ControlError | undefined>();
  const [selected, setSelected] = useState<Readonly<Record<string, ReadonlySet<string>>>>(() =>
    Object.fromEntries(domains.map((domain) => [domain.key, new Set(initial[domain.key]?.includedOuGuids ?? [])])));
  const [ldapFilter, setLdapFilter] = useState(initial[domains[0]?.key ?? '']?.ldapFilter ?? '');
  const [filterEdited, setFilterEdited] = useState(false);

  const load = useCallback(async (signal: { cancelled: boolean }) => {
    if (domains.length === 0) return;
    const admin = adminCredentials();
    const configured = new Set((saved?.sources ?? []).map((source) => domainKey(source.ad.baseDn)));
    setLoading(true);
    setError(undefined);
    try {
      const read = await Promise.all(domains.map(async (domain) => {
        try {
          return { domain, ous: await call('listOus', ouSource(domain, admin, configured.has(domain.key))) };
        } catch (caught) {
          const failure = asControlError(caught);
          throw several ? new ControlError(failure.name, failure.code, `${domain.dnsName}: ${failure.message}`) : failure;
        }
      }));
      if (!signal.cancelled) setTrees(read);
    } catch (caught) {
      if (!signal.cancelled) setError(asControlError(caught));
    } finally {
      if (!signal.cancelled) setLoading(false);
    }
  }, [domains, several, saved, adminCredentials]);

  useEffect(() => {
    const signal = { cancelled: false };
    void load(signal);
    return () => { signal.cancelled = true; };
  }, [load]);

  const owners = useMemo(() => ownersOf(trees ?? []), [trees]);
  const nodes = useMemo(() => treeNodes(trees ?? [], several), [trees, several]);
  const domainRows = useMemo(() => new Set(several ? domains.map(domainRowGuid) : []), [domains, several]);
  const ticked = useMemo(() => new Set(Object.values(selected).flatMap((guids) => [...guids])), [selected]);

  function toggle(node: OuNode, checked: boolean): void {
    const key = owners.get(node.guid);
    if (key === undefined) return;
    setSelected((previous) => {
      const next = new Set(previous[key]);
      // An OU includes the OUs beneath it: keep only the topmost ticked one.
      for (const guid of descendantGuids(node)) next.delete(guid);
      if (checked) next.add(node.guid);
      else next.delete(node.guid);
      return { ...previous, [key]: next };
    });
  }

  const filterProblem = ldapFilterProblem(ldapFilter);
  const ready = trees !== undefined && !loading && filterProblem === undefined;
  // Domains saved with different filters keep theirs until the filter is changed here; then it applies to every domain.
  const differentFilters = several && new Set(domains.filter((domain) => isSavedDomain(draft, domain)).map((domain) => initial[domain.key]?.ldapFilter ?? '')).size > 1;

  function next(): void {
    const filter = ldapFilter.trim() === '' ? undefined : ldapFilter.trim();
    const scopeOf = (domain: DraftDomain): DomainScopeDraft => ({ includedOuGuids: [...(selected[domain.key] ?? [])],
      ldapFilter: differentFilters && !filterEdited ? initial[domain.key]?.ldapFilter : filter });
    const [first, ...others] = domains;
    if (!first) return;
    setScope(several ? { ...scopeOf(first), domains: Object.fromEntries(others.map((domain) => [domain.key, scopeOf(domain)])) }
      : { includedOuGuids: [...(selected[first.key] ?? [])], ldapFilter: filter });
    props.onNext();
  }

  return (
    <WizardFrame title="Choose what to synchronize" steps={configureSteps} currentStep={ConfigureStep.Scope}
      onBack={props.onBack} onNext={ready ? next : undefined}>
      <div className={layout.stack}>
        <Body1 as="p">
          Tick the organizational units whose users and groups Directory Sync keeps in Microsoft Entra ID. An OU includes the OUs beneath it.
          {several ? ' Each domain has its own: when nothing is ticked in a domain, the whole domain is synchronized.'
            : ` When nothing is ticked, the whole domain ${ad?.baseDn ?? ''} is synchronized.`}
        </Body1>
        {loading && <Spinner size="tiny" label="Reading the organizational units…" />}
        <ErrorBar error={error} title="The organizational units could not be read" />
        {error && <div className={layout.row}><Button onClick={() => void load({ cancelled: false })}>Try again</Button></div>}
        {trees && (
          <fieldset className={styles.treeBox} data-testid="ou-tree">
            <legend className={styles.legend}>Organizational units</legend>
            {nodes.length === 0 ? <Text>This domain has no organizational units.</Text>
              : <OuTree nodes={nodes} selected={ticked} onToggle={toggle} domainRows={domainRows} />}
          </fieldset>
        )}
        {trees && (
          <MessageBar intent="info" data-testid="scope-summary">
            <MessageBarBody>{scopeSummary(domains, selected)}</MessageBarBody>
          </MessageBar>
        )}
        <Field label="LDAP filter (optional)"
          hint={`Only objects that also match this filter are synchronized, for example (department=Sales).${several ? ' It applies to every domain.' : ''}`}
          validationState={filterProblem ? 'error' : 'none'} validationMessage={filterProblem}>
          <Input value={ldapFilter} onChange={(_event, data) => { setLdapFilter(data.value); setFilterEdited(true); }} />
        </Field>
        {differentFilters && !filterEdited && (
          <Text data-testid="different-filters">The domains have different filters now; each keeps its own unless you change the filter here.</Text>
        )}
      </div>
    </WizardFrame>
  );
}
