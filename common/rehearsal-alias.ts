// The rehearsal's names, shared by the workflow that runs it (workflows/rehearsal.ts) and the
// activities that resolve them: the scratch database `cutover_rehearsal_<runKey>`, the synthetic
// target alias `rehearsal:<runKey>:<target alias>` that any worker resolves to the real target's
// server with that database (activities/db/connect.ts; no URL ever in a payload), and the child
// workflow's id `<parent workflow id>/rehearsal/<n>`. Pure.

/** A run key as the workflow derives it: it names databases and schemas, so nothing else passes. */
export const RUN_KEY = /^[a-z0-9]{1,40}$/;

/** A plan's connection alias (plan/schema.ts): the synthetic alias names the real one. */
const ALIAS = /^[a-z][a-z0-9_]*$/;

const SYNTHETIC = /^rehearsal:([a-z0-9]{1,40}):([a-z][a-z0-9_]*)$/;

export const rehearsalDatabase = (runKey: string): string => `cutover_rehearsal_${runKey}`;

/** The alias the rehearsal's step activities see as their target: the real target's server, the scratch database. */
export function rehearsalAlias(target: string, runKey: string): string {
  if (!RUN_KEY.test(runKey)) throw new Error(`rehearsal: run key ${JSON.stringify(runKey)} must be 1 to 40 lowercase letters or digits`);
  if (!ALIAS.test(target)) throw new Error(`rehearsal: target alias ${JSON.stringify(target)} is not a connection alias`);
  return `rehearsal:${runKey}:${target}`;
}

/** The real target alias and the run key a synthetic alias names, or null when `alias` is not one. */
export function parseRehearsalAlias(alias: string): { target: string; runKey: string; database: string } | null {
  const m = SYNTHETIC.exec(alias);
  return m ? { runKey: m[1], target: m[2], database: rehearsalDatabase(m[1]) } : null;
}

/** The child workflow of the parent's n-th rehearsal attempt (from 1): deterministic, one per attempt. */
export const rehearsalChildId = (parentWorkflowId: string, attempt: number): string => `${parentWorkflowId}/rehearsal/${attempt}`;
