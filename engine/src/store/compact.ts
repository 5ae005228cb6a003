/**
 * What the store leaves out of the JSON it keeps, and puts back when it reads it (issue 30: the store
 * at 100,000 users was 988 MB). Each rule is exact: a row either holds the whole text or a marker that
 * reads back to that very text, and rows written before hold the whole text and read as they did.
 *
 * - A user's `onPremisesExtensionAttributes` with all fifteen attributes empty (nearly every user, in
 *   every cloud object and every create) is 520 characters; it is kept as the number 0, a value the
 *   property never has (a complex type: Graph and the attribute flow give an object or null), so the
 *   marker's text occurs in no row but as a marker (inside a string its quotes are escaped).
 * - A membership change's reason names its member ("CN=… is a member in Active Directory"), whose DN
 *   the operation holds already: the standard reason is left out and made again from the member.
 */
const NO_EXTENSION_ATTRIBUTES = `"onPremisesExtensionAttributes":${JSON.stringify(Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`extensionAttribute${i + 1}`, null])))}`;
const NO_EXTENSION_ATTRIBUTES_MARK = '"onPremisesExtensionAttributes":0';

/** JSON text with the all-empty extension attributes marked. */
export function packJson(text: string): string {
  return text.includes(NO_EXTENSION_ATTRIBUTES) ? text.replaceAll(NO_EXTENSION_ATTRIBUTES, NO_EXTENSION_ATTRIBUTES_MARK) : text;
}

/** The JSON text as it was written. */
export function unpackJson(text: string): string {
  return text.includes(NO_EXTENSION_ATTRIBUTES_MARK) ? text.replaceAll(NO_EXTENSION_ATTRIBUTES_MARK, NO_EXTENSION_ATTRIBUTES) : text;
}

type MembershipChange = { readonly kind: string; readonly member?: { readonly dn?: string; readonly sourceAnchor: string }; readonly reason?: string };

/** The reason planning gives a membership change (sync/plan.ts membershipOperations): undefined for other operations. */
export function standardMembershipReason(op: MembershipChange): string | undefined {
  if (!op.member) return undefined;
  const who = op.member.dn ?? op.member.sourceAnchor;
  if (op.kind === 'add-member') return `${who} is a member in Active Directory`;
  if (op.kind === 'remove-member') return `${who} is no longer a member in Active Directory`;
  return undefined;
}
