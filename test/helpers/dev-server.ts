// Moved to harness/dev-server.ts (shared by the tests, the bench and the chaos suite); kept so tests import it as before.
export * from '../../harness/dev-server';
