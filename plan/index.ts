/** The pure plan module (safe in the workflow sandbox). File loading lives in ./load (node only). */
export * from './schema';
export * from './parallelism';
export * from './issues';
export * from './validate';
export * from './supported';
export * from './canonical';
export * from './sha256';
export * from './duration';
export * from './json-schema';
export { planErrorMap, toPlanIssues } from './messages';
export * from './signers';
export * from './limits';
