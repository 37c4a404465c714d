// Workflow bundle entry: only workflow functions are exported here. cutoverMigration is the run;
// cutoverStep and cutoverRehearsal are its children (a long step, the rehearsal).
export { cutoverMigration } from './migration';
export { cutoverStep } from './step-child';
export { cutoverRehearsal } from './rehearsal';
