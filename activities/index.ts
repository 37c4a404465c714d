// Every activity the worker registers: one file per migration step.
export { acceptPlan } from './accept-plan';
export { preflight } from './preflight';
export { stage } from './stage';
export { cleanup } from './cleanup';
export { publish } from './publish';
export { validate } from './validate';
export { accessChecks } from './access-checks';
export { rollback } from './rollback';
export { finalize } from './finalize';
