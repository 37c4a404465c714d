// Step `publish`'s view: its row in the steps-done table. What it inserted and merged is in the
// evidence document's `run.publish` and the report's per-table sections, which read stage, publish
// and validate together. Its running half is the workflow's (workflows/steps.ts).
import { defineStepView } from '../step-module';
import { of, sum } from './counts';

export const publish = defineStepView<'publish'>({
  name: 'publish',
  status: (r, run) => [
    of(r.tables.length, run),
    `${sum(r.tables.map((t) => t.inserted))} inserted, ${sum(r.tables.map((t) => t.merged))} merged`,
  ],
});
