// Every activity the worker registers: one file per migration step.
export { acceptPlan } from './accept-plan';
export { preflight } from './preflight';
export { backup } from './backup';
export { stage } from './stage';
export { cleanup } from './cleanup';
export { publish } from './publish';
export { validate } from './validate';
export { finalize } from './finalize';
