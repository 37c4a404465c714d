// Step `restore-preview`'s view: what a rollback by restore would discard, in the status query while
// the approvers decide. Its evidence and report are step restore's section, which shows the
// preview beside the result (restore.ts). Its running half is the workflow's (workflows/restore.ts).
import { defineStepView } from '../step-module';

export const restorePreview = defineStepView<'restore-preview'>({
  name: 'restore-preview',
  statusView: (r) => ({ restorePreview: r }),
});
