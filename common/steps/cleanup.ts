// Step `cleanup`'s view: its row in the steps-done table and its evidence section (`cleanup`: rows left
// behind per table and reason, their root causes, the transforms). The manifest and the report's
// "why rows stayed behind" read it with validate's counts (common/evidence.ts, report-data.ts).
// Its running half is the workflow's (workflows/steps.ts).
import { defineStepView } from '../step-module';
import { of, sum } from './counts';

export const cleanup = defineStepView<'cleanup'>({
  name: 'cleanup',
  status: (r, run) => [of(run.planTables, run), `${sum(Object.values(r.leftBehind).flatMap((x) => Object.values(x)))} left behind`],
  document: { key: 'cleanup', after: 'rehearsal', section: ({ pack }) => pack.cleanup },
});
