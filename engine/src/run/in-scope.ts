/**
 * Pass 1 of a plan: which objects are in scope, and which share a UPN or mail (duplicates Entra
 * would refuse). A full pass reads every object; a delta pass reads only what changed and keeps the
 * store's in-scope table up to date.
 */
import { createHash } from 'node:crypto';
import type { ObjectError } from '../contract/model.ts';
import type { AdEntry } from '../sync/ad-entry.ts';
import { sourceAnchorOf } from '../sync/ad-entry.ts';
import type { AttributeFlow } from '../sync/attribute-flow.ts';
import { mapEntry, type MapResult } from '../sync/map.ts';
import type { MemberRef } from '../sync/plan.ts';
import type { ScopeDecision } from '../sync/scope.ts';
import { findDuplicates, validateDesired, type ForestRule, type TenantDomains, type UniqueKey } from '../sync/validate.ts';
import type { Store } from '../store/store.ts';
import type { DirSyncConfig } from '../base/config.ts';
import { forestOf, forestOfDn, primarySource } from '../base/config.ts';

export type PlanMode = { readonly kind: 'full' } | { readonly kind: 'delta'; readonly changedAfterRun: number };

export type ScopeEvaluator = (entry: AdEntry) => ScopeDecision;

/** What a member reference holds before its cloud object is looked up; its cloud id once it is found linked. */
export type MemberBasis = Omit<MemberRef, 'cloudId'> & { linkedCloudId?: string; linkedRef?: MemberRef };

export type InScopeObjects = {
  /**
   * Full passes: every user and group in scope that maps and validates (duplicates aside), by GUID,
   * so that planning memberships and managers reads no object twice. Delta passes leave it out.
   */
  readonly exportable?: ReadonlyMap<string, MemberBasis>;
  readonly inScopeCount: number;
  readonly outOfScope: number;
  /** Source anchors of every object in scope (full runs only: the orphan check needs them). */
  readonly inScopeAnchors: ReadonlySet<string>;
  /** The object's UPN and mail duplicates (empty when its values are its own). */
  readonly duplicatesOf: (guid: string) => ReadonlyArray<ObjectError>;
};

/** A digest of the settings that decide which objects are in scope and what their unique values are. */
function inScopeSettingsDigest(config: DirSyncConfig): string {
  // An installation of one domain digests what it always did (its table is not rebuilt by an upgrade).
  const scope = config.sources.length === 1 ? primarySource(config).scope : config.sources.map((s) => [s.ad.baseDn, s.forest ?? null, s.scope]);
  return createHash('sha256').update(JSON.stringify({ scope, flow: config.attributeFlow ?? null, accounts: config.serviceAccountNames,
    ...(config.preferredForest !== undefined ? { preferredForest: config.preferredForest } : {}) })).digest('hex');
}

/** The user's values that must be unique in the tenant, once mapped. */
function uniqueValues(entry: AdEntry, flow: AttributeFlow, mapped: MapResult = mapEntry(entry, flow)): { upn?: string; mail?: string } {
  if (mapped.kind !== 'mapped' || mapped.desired.objectType !== 'user') return {};
  const mail = mapped.desired.properties['mail'];
  return { upn: String(mapped.desired.properties['userPrincipalName']), ...(typeof mail === 'string' ? { mail } : {}) };
}

/**
 * Pass 1 of a plan: which objects are in scope, and which share a UPN or mail. A full run (or a
 * preview) reads every object and, unless it is a preview, rebuilds the store's in-scope table; a
 * delta run updates that table with the objects that changed and looks duplicates up in it, so a
 * run with nothing changed reads nothing. A delta falls back to the full pass when the table was
 * built for other settings or a container changed (scope may have moved under unchanged objects).
 */
export function inScopeObjects(input: {
  readonly store: Store; readonly config: DirSyncConfig; readonly flow: AttributeFlow; readonly inScope: ScopeEvaluator;
  readonly runId: number; readonly mode: PlanMode; readonly domains: TenantDomains; readonly dryRun: boolean; readonly recordOutOfScope: boolean;
}): InScopeObjects {
  const { store, flow, inScope, mode } = input;
  const digest = inScopeSettingsDigest(input.config);
  if (mode.kind === 'delta' && !input.dryRun && store.inScopeTableBuiltFor() === digest && !store.containersChangedAfter(mode.changedAfterRun)) {
    store.transaction(() => store.dropInScopeDeletedAfter(mode.changedAfterRun));
    for (const page of store.adSyncCandidates({ changedAfterRun: mode.changedAfterRun, pageSize: 500 })) {
      store.transaction(() => {
        for (const entry of page) {
          if (inScope(entry).inScope) store.putInScope({ guid: entry.guid, dn: entry.dn, ...uniqueValues(entry, flow) });
          else store.dropInScope(entry.guid);
        }
      });
    }
    const inScopeCount = store.countInScope();
    return { inScopeCount, outOfScope: store.countAdCandidates() - inScopeCount, inScopeAnchors: new Set(), duplicatesOf: storedDuplicates(store, forestRule(input.config)) };
  }

  const maintain = !input.dryRun;
  if (maintain) store.beginInScopeRebuild();
  const inScopeGuids = new Set<string>();
  const upns: UniqueKey[] = [];
  const mails: UniqueKey[] = [];
  const inScopeAnchors = new Set<string>();
  const linked = linkedObjects(store);
  const exportable = new Map<string, MemberBasis>();
  let inScopeCount = 0;
  let outOfScope = 0;
  for (const page of store.adSyncCandidatesLinked()) {
    // A transaction per page: the out-of-scope reports of a preview are many small inserts.
    store.transaction(() => {
      for (const { entry, linkedCloudId } of page) {
        const decision = inScope(entry);
        if (!decision.inScope) {
          outOfScope += 1;
          if (input.recordOutOfScope) store.addReport(input.runId, { dn: entry.dn, objectType: entry.objectClass, category: 'out-of-scope', reason: decision.reason });
          continue;
        }
        inScopeCount += 1;
        inScopeAnchors.add(sourceAnchorOf(entry));
        const mapped = mapEntry(entry, flow);
        if (mapped.kind === 'mapped' && validateDesired(mapped.desired, input.domains).length === 0) {
          exportable.set(entry.guid, { sourceAnchor: mapped.desired.sourceAnchor, objectType: mapped.desired.objectType, dn: entry.dn,
            ...(linkedCloudId !== undefined ? { linkedCloudId } : {}) });
        }
        const values = uniqueValues(entry, flow, mapped);
        if (maintain) {
          // The table finds the duplicates afterwards: nothing per object is kept here for them.
          store.putInScope({ guid: entry.guid, dn: entry.dn, ...values });
          inScopeGuids.add(entry.guid);
          continue;
        }
        if (values.upn === undefined) continue;
        const base = { adGuid: entry.guid, dn: entry.dn, objectType: 'user' as const };
        upns.push({ ...base, value: values.upn });
        if (values.mail !== undefined) mails.push({ ...base, value: values.mail });
      }
    });
  }
  if (maintain) {
    store.finishInScopeTable(digest, inScopeGuids);
    inScopeGuids.clear();
    const shared = (attribute: 'upn' | 'mail'): UniqueKey[] => store.inScopeSharedValues(attribute).map((r) => ({ adGuid: r.guid, dn: r.dn, objectType: 'user', value: r.value }));
    upns.push(...shared('upn'));
    mails.push(...shared('mail'));
  }
  const duplicated = new Map<string, ObjectError[]>();
  const forests = forestRule(input.config);
  for (const e of [...findDuplicates('userPrincipalName', upns, linked, forests), ...findDuplicates('mail', mails, linked, forests)]) {
    duplicated.set(e.adGuid ?? '', [...(duplicated.get(e.adGuid ?? '') ?? []), e]);
  }
  return { exportable, inScopeCount, outOfScope, inScopeAnchors, duplicatesOf: (guid) => duplicated.get(guid) ?? [] };
}

/** Whether an object is linked decides which of two duplicates keeps the value: asked of duplicates only. */
function linkedObjects(store: Store): Pick<ReadonlySet<string>, 'has'> {
  return { has: (guid) => store.getLink(guid) !== undefined };
}

/** With several forests: which forest an object is in (by the domain that holds its DN), and the one chosen to win a conflict. */
function forestRule(config: DirSyncConfig): ForestRule | undefined {
  if (new Set(config.sources.map(forestOf)).size < 2) return undefined;
  return { forestOf: (dn) => forestOfDn(config.sources, dn),
    ...(config.preferredForest !== undefined ? { preferred: config.preferredForest.toLowerCase() } : {}) };
}

/** Duplicates looked up in the store's in-scope table, value by value (each value's verdict computed once). */
function storedDuplicates(store: Store, forests: ForestRule | undefined): (guid: string) => ReadonlyArray<ObjectError> {
  const linked = linkedObjects(store);
  const verdicts = new Map<string, ReadonlyArray<ObjectError>>();
  const verdict = (attribute: 'upn' | 'mail', value: string): ReadonlyArray<ObjectError> => {
    const key = `${attribute}:${value.toLowerCase()}`;
    let errors = verdicts.get(key);
    if (!errors) {
      const sharing = store.inScopeSharing(attribute, value);
      const keys: UniqueKey[] = sharing.map((r) => ({ adGuid: r.guid, dn: r.dn, objectType: 'user', value: r.value }));
      errors = findDuplicates(attribute === 'upn' ? 'userPrincipalName' : 'mail', keys, linked, forests);
      verdicts.set(key, errors);
    }
    return errors;
  };
  return (guid) => {
    const row = store.inScopeRow(guid);
    if (!row) return [];
    return [...(row.upn ? verdict('upn', row.upn) : []), ...(row.mail ? verdict('mail', row.mail) : [])].filter((e) => e.adGuid === guid);
  };
}
