/**
 * Which AD objects Directory Sync manages: the administrator's scope (OUs by objectGUID, an optional
 * group) plus the exclusions Microsoft's tool applies out of the box (ad-reference.md §5.3).
 */
import type { AdEntry } from './ad-entry.ts';
import { first } from './ad-entry.ts';

export type ScopeConfig = {
  /** OUs (objectGUIDs) whose subtrees are in scope; empty means the whole domain. */
  readonly includedOuGuids: ReadonlyArray<string>;
  /** OUs (objectGUIDs) excluded even when inside an included OU. */
  readonly excludedOuGuids: ReadonlyArray<string>;
  /** When set, only direct members of this group (objectGUID) are in scope (the group itself too). */
  readonly groupGuid?: string;
};

export type ScopeContext = {
  /** objectGUIDs of the entry's ancestors, nearest first. */
  readonly ancestorGuids: ReadonlyArray<string>;
  /** Members of the scoping group, when ScopeConfig.groupGuid is set. */
  readonly scopingGroupMembers?: ReadonlySet<string>;
  /** sAMAccountNames of the service accounts this installation uses (never synchronized). */
  readonly serviceAccountNames: ReadonlySet<string>;
};

export type ScopeDecision =
  | { readonly inScope: true }
  | { readonly inScope: false; readonly reason: string; readonly code: 'outside-ous' | 'excluded-ou' | 'not-in-group' | 'system-object' | 'not-synchronized-class' };

const EXCHANGE_SYSTEM_MASK = 0x21c07000;

/** The out-of-box exclusions (critical system objects, service accounts, Exchange system mailboxes, conflicts). */
export function systemExclusion(entry: AdEntry, serviceAccountNames: ReadonlySet<string>): string | undefined {
  if (first(entry, 'isCriticalSystemObject')?.toUpperCase() === 'TRUE') return 'a critical system object (isCriticalSystemObject)';
  const sam = first(entry, 'sAMAccountName');
  const nickname = first(entry, 'mailNickname') ?? '';
  if (entry.objectClass === 'user') {
    if (sam === undefined) return 'a user without sAMAccountName';
    if (sam.toUpperCase() === 'SUPPORT_388945A0') return 'the built-in SUPPORT_388945a0 account';
    if (/^(MSOL_|AAD_)/i.test(sam)) return `a directory synchronization service account (${sam})`;
    if (/^CAS_.*\}/i.test(sam) || /^CAS_.*\}/i.test(nickname)) return 'an Exchange system mailbox (CAS_)';
    if (nickname.startsWith('SystemMailbox{')) return 'an Exchange system mailbox';
  }
  if (sam !== undefined && serviceAccountNames.has(sam.toLowerCase())) return `this installation's service account (${sam})`;
  const recipientType = Number(first(entry, 'msExchRecipientTypeDetails') ?? '0');
  if ((recipientType & EXCHANGE_SYSTEM_MASK) !== 0) return 'an Exchange system object (msExchRecipientTypeDetails)';
  const rdn = entry.dn.split(/(?<!\\),/)[0] ?? '';
  if (rdn.includes('\\0ACNF:')) return 'a replication conflict object (CNF)';
  return undefined;
}

export function evaluateScope(entry: AdEntry, config: ScopeConfig, context: ScopeContext): ScopeDecision {
  if (entry.objectClass !== 'user' && entry.objectClass !== 'group' && entry.objectClass !== 'contact') {
    return { inScope: false, code: 'not-synchronized-class', reason: `objects of class ${entry.objectClass} are not synchronized` };
  }
  const excluded = systemExclusion(entry, context.serviceAccountNames);
  if (excluded) return { inScope: false, code: 'system-object', reason: `excluded by default: ${excluded}` };
  const ancestors = new Set(context.ancestorGuids);
  const blocked = config.excludedOuGuids.find((guid) => ancestors.has(guid));
  if (blocked) return { inScope: false, code: 'excluded-ou', reason: 'inside an organizational unit excluded from the scope' };
  if (config.includedOuGuids.length > 0 && !config.includedOuGuids.some((guid) => ancestors.has(guid))) {
    return { inScope: false, code: 'outside-ous', reason: 'outside the organizational units in scope' };
  }
  if (config.groupGuid !== undefined && entry.guid !== config.groupGuid && !context.scopingGroupMembers?.has(entry.guid)) {
    return { inScope: false, code: 'not-in-group', reason: 'not a member of the scoping group' };
  }
  return { inScope: true };
}
