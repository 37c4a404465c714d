// Moved to harness/free-port.ts (shared by the tests, the bench and the chaos suite); kept so tests import it as before.
export * from '../../harness/free-port';
