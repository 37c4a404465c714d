// Workflow bundle entry: only workflow functions are exported here.
export { cutoverMigration } from './migration';
export { cutoverErasureReplay } from './erasure-replay';
export { cutoverRehearsal } from './rehearsal';
