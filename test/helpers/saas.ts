// Moved to harness/saas.ts (shared by the tests, the bench and the chaos suite); kept so tests import it as before.
export * from '../../harness/saas';
