// Step `erasure-final` (the last erasure pass, right before finalize)'s view: its row in the
// steps-done table. Its pass is told in step erasure's evidence section, with the first
// (erasure.ts). Its running half is the workflow's (workflows/steps.ts).
import { defineStepView } from '../step-module';
import { erasureRow } from './erasure';

export const erasureFinal = defineStepView<'erasure-final'>({ name: 'erasure-final', status: erasureRow });
