/**
 * Approvers and operators as the rest of the code reads them: a plan lists each as a plain name or
 * as {name, key}; these give the names, and the key (parsed) a signature must verify against. Pure.
 */
import { parsePublicKeyLine, type Ed25519PublicKey } from './ssh/wire';
import type { Plan, Signer } from './schema';

export const signerName = (s: Signer): string => (typeof s === 'string' ? s : s.name);

export const approverNames = (plan: Pick<Plan, 'approvals'>): string[] => plan.approvals.approvers.map(signerName);

/** Who may resume, or null when the plan does not say (then anyone may). */
export const operatorNames = (plan: Pick<Plan, 'operators'>): string[] | null => plan.operators?.map(signerName) ?? null;

/** Whether the plan requires every approval and resume to be signed (absent means optional). */
export const signaturesRequired = (plan: Pick<Plan, 'approvals'>): boolean => plan.approvals.signatures === 'required';

/** The named person's key in `list`: undefined when they are not listed, null when listed without a key. */
export function signerKey(list: readonly Signer[] | undefined, name: string): Ed25519PublicKey | null | undefined {
  const found = list?.find((s) => signerName(s) === name);
  if (found === undefined) return undefined;
  if (typeof found === 'string') return null;
  const key = parsePublicKeyLine(found.key);
  return typeof key === 'string' ? null : key; // the schema refused unparsable keys already
}
