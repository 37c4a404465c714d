// Step `decommission` (clean-start, plan `decommission: readonly`): after gate cutover the Pilot
// database is set read-only for every new session (activities/decommission.ts); its compensation,
// `recommission`, resets it on a rollback. Declared here as one module: where it runs, when it does
// not apply, its row in the steps-done table, and its evidence and report sections (what the Pilot's
// state was set to, and when: an auditor's proof that the archived Pilot was frozen).
import type { DecommissionResult } from '../results';
import { defineStep } from '../step-module';

declare module '../step-module' {
  interface StepEvidence {
    decommission: DecommissionResult;
  }
}

export const decommission = defineStep<'decommission'>({
  name: 'decommission',
  activity: 'decommission',
  undo: { name: 'rollback', activity: 'recommission' },
  skippable: false,
  runs: { strategy: 'clean-start', before: 'finalize' },
  inPlan: () => true,
  notApplicable: (plan) => (plan.decommission === 'readonly' ? null : 'the plan keeps the Pilot writable (no decommission)'),
  status: (r) => ['-', `${r.database} ${r.readOnly ? 'read-only' : 'writable'}`],
  evidence: (r) => r,
  report: (e) => [
    {
      title: 'Decommission',
      level: 2,
      blocks: [
        {
          kv: [
            ['database', e.database],
            ['read-only for new sessions', e.readOnly],
            ['at', e.at],
          ],
        },
        { text: e.note },
      ],
    },
  ],
});
