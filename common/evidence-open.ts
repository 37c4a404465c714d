// The evidence pack's `openItems`: the next points to mature, one sentence each — every skipped
// step, waived or failed check, missing or unverified backup, missing rehearsal, unsigned approval,
// left-behind reason without a rule, and unchecked erasure residue. Pure, read off the document
// itself so the list can never disagree with what the pack says elsewhere.
import type { EvidenceDocument } from './evidence';
import { rootOf } from './evidence-words';
import type { RehearsalComparison } from './rehearsal-compare';

export function openItemsOf(doc: EvidenceDocument, hasRule: (reason: string) => boolean): string[] {
  const items: string[] = [];
  if (!doc.decision.reason) items.push('The plan gives no decision.reason: why this cutover was decided is not written down.');
  if (!['completed', 'rolled-back', 'aborted', 'rejected', 'expired', 'failed'].includes(doc.run.status))
    items.push(`The run has not ended (status ${doc.run.status}): this pack is not final.`);

  for (const s of doc.steps) {
    if (s.outcome !== 'skipped') continue;
    const d = s.decisions.at(-1);
    const who = d && d.by !== 'plan' ? ` by ${d.by}` : '';
    if (s.step === 'rehearsal')
      items.push(`Step rehearsal was skipped${who} (${d?.reason ?? 'not applicable'}): no rehearsal of this cutover was performed.`);
    else if (s.step === 'backup')
      items.push(`Step backup was skipped${who} (${d?.reason ?? 'not applicable'}): no backup was taken before Production was written.`);
    else items.push(`Step ${s.step} was skipped${who}: ${d?.reason ?? 'not applicable'}.`);
  }
  if (
    !doc.steps.some((s) => s.step === 'backup' && s.outcome === 'skipped') &&
    doc.backups.length === 0 &&
    ['completed', 'rolled-back'].includes(doc.run.status)
  ) {
    items.push('No backup is recorded for this run.');
  }
  for (const b of doc.backups) if (!b.verified) items.push(`Backup ${b.location} (${b.kind}) is not verified.`);
  if (
    !doc.rehearsal.performed &&
    !doc.steps.some((s) => s.step === 'rehearsal' && s.outcome === 'skipped') &&
    doc.run.status === 'completed'
  ) {
    items.push('No rehearsal is recorded for this run.');
  }
  // The run was approved on the rehearsal: a difference from the dry run approved before it stays open.
  const compared = (doc.rehearsal.result as { dryRunComparison?: RehearsalComparison | null } | null)?.dryRunComparison;
  if (compared && !compared.equal)
    for (const d of compared.differences) items.push(`The rehearsal's counts differ from the approved dry run: ${d}`);

  for (const a of doc.approvals) {
    if (!a.signature.signed) items.push(`The approval of gate ${a.gate} by ${a.approver} at ${a.at} is not signed.`);
    else if (!a.signature.verified)
      items.push(`The signature on the approval of gate ${a.gate} by ${a.approver} at ${a.at} did not verify.`);
  }

  for (const t of doc.validation?.tables ?? []) if (!t.ok) items.push(`Validation of ${t.table} did not pass: ${t.problems.join('; ')}.`);
  for (const c of doc.accessChecks?.checks ?? [])
    if (!c.passed) items.push(`Access check ${c.name} did not pass (${c.rowCount} offending row(s)${c.error ? `, ${c.error}` : ''}).`);

  const seen = new Set<string>();
  for (const t of doc.manifest.tables) {
    for (const [reason, chains] of Object.entries(t.rootCauses)) {
      for (const chain of chains) {
        const root = rootOf(chain);
        if (hasRule(root) || seen.has(`${t.table} ${root}`)) continue;
        seen.add(`${t.table} ${root}`);
        items.push(`${t.leftBehindByReason[reason]} row(s) of ${t.table} were left behind as ${chain}, and no rule of the plan says why.`);
      }
    }
  }
  if (doc.erasure.residue === null) items.push(`Erasure residue in Production is not checked: ${doc.erasure.note}`);
  else if (doc.erasure.residue > 0) items.push(`Erasure residue in Production: ${doc.erasure.residue} row(s) of erased subjects remain.`);
  return items;
}
