// The run's step history folded per step for the evidence pack: when each step started and ended,
// how it ended, and every decision taken on it and by whom (an approval, a rejection, on-call's
// retry/skip/abort/rollback/roll-forward, or the plan itself when the step did not apply). Pure:
// derived from the StepRecord list the workflow keeps, so nothing new has to be recorded.
import type { Approval, StepRecord } from './temporal';

export interface EvidenceDecision {
  outcome: StepRecord['outcome'];
  /** A person, `timeout` (a gate expired) or `plan` (the step does not apply to this plan). */
  by: string;
  reason: string;
  at: string;
}

export interface EvidenceStep {
  step: string;
  startedAt: string | null;
  endedAt: string | null;
  outcome: StepRecord['outcome'];
  attempts: number; // activity attempts that ran: Temporal's own count for each time the step started
  decisions: EvidenceDecision[];
}

/** "by bob: wrong tenant", "aborted by oncall: give up", "roll forward from validate by oncall: renamed". */
const BY = /\bby ([^:]+?): ([\s\S]*)$/;
const ENDS: ReadonlySet<string> = new Set(['completed', 'failed', 'skipped', 'approved', 'rejected', 'expired', 'aborted']);

function decisionOf(r: StepRecord): EvidenceDecision | null {
  const m = r.detail ? BY.exec(r.detail) : null;
  if (m) return { outcome: r.outcome, by: m[1], reason: m[2], at: r.at };
  if (r.outcome === 'skipped') return { outcome: r.outcome, by: 'plan', reason: r.detail ?? 'not applicable', at: r.at };
  if (r.outcome === 'expired') return { outcome: r.outcome, by: 'timeout', reason: r.detail ?? 'gate timed out', at: r.at };
  return null;
}

export function stepsOf(records: StepRecord[], approvals: Approval[]): EvidenceStep[] {
  const byName = new Map<string, EvidenceStep>();
  for (const r of records) {
    let s = byName.get(r.step);
    if (!s) {
      s = { step: r.step, startedAt: null, endedAt: null, outcome: r.outcome, attempts: 0, decisions: [] };
      byName.set(r.step, s);
    }
    if (r.outcome === 'started') {
      s.attempts++;
      s.startedAt ??= r.at;
    }
    // Temporal retried the activity within one start: count each attempt it ran (common/attempts.ts).
    if (r.attempts !== undefined && r.attempts > 1) s.attempts += r.attempts - 1;
    if (ENDS.has(r.outcome)) s.endedAt = r.at;
    s.outcome = r.outcome;
    if (r.outcome === 'approved') {
      const gate = r.step.replace(/^gate:/, '');
      for (const a of approvals.filter((x) => x.gate === gate))
        s.decisions.push({ outcome: 'approved', by: a.approver, reason: a.comment ?? '', at: a.at });
      continue;
    }
    const d = decisionOf(r);
    if (d) s.decisions.push(d);
  }
  return [...byName.values()];
}
