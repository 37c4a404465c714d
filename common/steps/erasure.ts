// Step `erasure`'s view: its row in the steps-done table and the evidence document's `erasure`
// section, which tells every pass after publish (erasure and erasure-final), or why none ran: no
// registers, requests applied in staging only, or re-applied by a restore (restore.ts). The report
// shows it with the plan's other rules (client/format/report-data.ts). A step module: after the
// access checks, erasure requests are applied in Production to the subjects this run moved
// (activities/erasure.ts), and once more right before finalize (erasure-final.ts).
import type { Plan } from '../../plan/schema';
import type { EvidenceDocument } from '../evidence';
import type { StepResults } from '../results';
import type { StatusRow } from '../step-module';
import { defineStep, type EvidenceContext, type ResultOf } from '../step-module';
import { sum } from './counts';
import { restoreOf } from './restore';

/** The steps-done row of either pass. */
export const erasureRow = (e: ResultOf<'erasure'>): StatusRow => [
  String(Object.keys(e.rows).length),
  `${sum(Object.values(e.rows))} erased or anonymized`,
];

function erasureOf({ pack: p, plan, rules, leftBehind }: EvidenceContext): Omit<EvidenceDocument['erasure'], 'cascaded'> {
  const registers = (plan.erasure?.registers ?? []).length;
  const passes = [p.erasure, p.erasureFinal].filter((x) => !!x).map((x) => x!);
  const last = passes.at(-1);
  const base = { registers: rules.filter((r) => r.kind === 'erasure').map((r) => r.text), leftBehind: leftBehind('erasure-request') };
  if (!registers)
    return {
      ...base,
      requestsFound: 0,
      appliedInProduction: false,
      applied: 0,
      residue: 0,
      note: 'No erasure registers in the plan: no requests to apply.',
      passes: [],
    };
  const restored = restoreOf(p)?.erasuresAfterRestore;
  if (!last && restored) {
    const total = (x: Record<string, number>) => Object.values(x).reduce((a, n) => a + n, 0);
    return {
      ...base,
      requestsFound: restored.requests,
      appliedInProduction: true,
      applied: restored.applications.filter((a) => total(a.rows) + total(a.nullified ?? {}) > 0).length,
      residue: 0,
      passes: [],
      note: `Requests in the stage snapshot were applied in staging (those people stayed behind); the run was rolled back by restore, which read every register again and re-applied ${restored.requests} request(s) in Production, each subject by its production key: ${total(restored.deleted)} rows deleted, ${total(restored.anonymized)} anonymized, ${total(restored.nullified)} kept with a reference set to NULL (see restore); verified before COMMIT, residue 0.`,
    };
  }
  if (!last) {
    return {
      ...base,
      requestsFound: p.stage?.registers.erased ?? null,
      appliedInProduction: false,
      applied: null,
      residue: null,
      passes: [],
      note: 'Requests found in the Pilot snapshot were applied in staging (those people stayed behind); re-applying them in Production after publish, and checking for residue there, did not run for this run.',
    };
  }
  return {
    ...base,
    requestsFound: last.requests,
    appliedInProduction: true,
    applied: last.erasedSoFar,
    residue: last.residue,
    passes: passes.map((x) => ({
      step: x.step,
      at: x.at,
      requests: x.requests,
      applied: x.applied,
      rows: x.rows,
      anonymized: x.anonymized,
      nullified: x.nullified ?? {},
      residue: x.residue,
      verification: x.verification,
    })),
    note: `Requests in the stage snapshot were applied in staging (those people stayed behind); after publish every register was read again and ${last.erasedSoFar} subject(s) this run moved were erased in Production (${passes.map((x) => x.step).join(', ')}), each logged in cutover.erasure_log; residue ${last.residue}.`,
  };
}

/** Both passes: not without registers, nor without anything published. */
export const erasureNotApplicable = (plan: Plan, results: StepResults): string | null => {
  if (!plan.erasure) return 'no erasure registers in the plan';
  return results.publish ? null : 'nothing was published';
};

/** Both passes' note in the step history. */
export const erasureDetail = (v: ResultOf<'erasure'>): string =>
  `${v.requests} request(s) in the registers, ${v.applied} subject(s) moved by this run erased now (${v.erasedSoFar} in all), residue ${v.residue}`;

export const erasure = defineStep<'erasure'>({
  name: 'erasure',
  activity: 'erasure',
  long: true,
  skippable: false,
  runs: { strategy: 'selective', before: 'erasure-final' },
  inPlan: () => true,
  notApplicable: erasureNotApplicable,
  input: () => ({ step: 'erasure' }),
  // Residue or a failed verification: what the pass found is the step's result.
  keepsFailureDetails: true,
  detail: erasureDetail,
  status: erasureRow,
  document: {
    key: 'erasure',
    after: 'accessChecks',
    section: (ctx): EvidenceDocument['erasure'] => ({ ...erasureOf(ctx), cascaded: ctx.cascaded('erasure-request') }),
  },
});
