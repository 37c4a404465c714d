// Step `erasure-final`: the erasure pass once more right before finalize, for requests that arrived
// while the run was paused or waiting after publish. Its own step (not inside finalize): it pauses,
// retries and is recorded on its own, and skipping finalize (skippable) cannot skip it. Only in runs
// whose plan names registers. Its pass is told in step erasure's evidence section, with the first
// (erasure.ts).
import { defineStep } from '../step-module';
import { erasureDetail, erasureNotApplicable, erasureRow } from './erasure';

export const erasureFinal = defineStep<'erasure-final'>({
  name: 'erasure-final',
  activity: 'erasure',
  long: true,
  skippable: false,
  runs: { strategy: 'selective', before: 'finalize' },
  inPlan: (plan) => !!plan.erasure?.registers.length,
  notApplicable: erasureNotApplicable,
  input: () => ({ step: 'erasure-final' }),
  keepsFailureDetails: true,
  detail: erasureDetail,
  status: erasureRow,
});
