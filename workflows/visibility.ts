// Make the run visible: search attributes for `cutover list` / the UI's filters, and the UI's
// "current details" text. Called on every status or phase change.
import { predictedRefusals } from '../common/predicted-refusals';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { describeDrift } from './drift';
import { gateSections } from '../common/gate-view';
import { mdSections } from '../common/report-markdown';
import { changeOf, changeText } from '../common/change';
import { movedAlias } from '../common/failures';
import { runSummary } from '../common/run-summary';
import { SEARCH_ATTRIBUTES } from '../common/temporal';
import type { RunState } from './state';
import { stepSummary } from './step-summary';

const STATUS = defineSearchAttributeKey(SEARCH_ATTRIBUTES.status, SearchAttributeType.KEYWORD);
const PHASE = defineSearchAttributeKey(SEARCH_ATTRIBUTES.phase, SearchAttributeType.KEYWORD);
const PLAN_ID = defineSearchAttributeKey(SEARCH_ATTRIBUTES.planId, SearchAttributeType.KEYWORD);
const CHANGE = defineSearchAttributeKey(SEARCH_ATTRIBUTES.change, SearchAttributeType.KEYWORD);

export function publishState(s: RunState, last: { status?: string; phase?: string }): void {
  if (last.status !== s.status || last.phase !== s.phase) {
    upsertSearchAttributes([
      { key: STATUS, value: s.status },
      { key: PHASE, value: s.phase },
      { key: PLAN_ID, value: s.plan.id },
      // Only when the plan names a change: plans without one upsert exactly what they always did.
      ...(s.plan.decision?.change ? [{ key: CHANGE, value: s.plan.decision.change }] : []),
    ]);
    last.status = s.status;
    last.phase = s.phase;
  }
  setCurrentDetails(describe(s));
}

/**
 * The details alone, in the run's first workflow task: a run started from the UI's form has no
 * static summary, so its details carry it from the start. Not a command (nothing in history): replay-safe.
 */
export function publishDetails(s: RunState): void {
  setCurrentDetails(describe(s));
}

/** A signal of the same name is fire-and-forget: the UI says "sent" whatever the run makes of it. */
const SIGNAL_TOO = 'A Signal of the same name works too, but a refused signal only shows in these details, under *Refused*.';

/** The rehearsal's differences from the approved dry run, one line each with its cause; null when none. */
function rehearsalDifferences(s: RunState): string | null {
  const c = s.results.rehearsal?.dryRunComparison;
  if (!c || c.equal) return null;
  return ['**The rehearsal differs from the approved dry run** — review before approving:', ...c.differences.map((d) => `- ${d}`)].join(
    '\n',
  );
}

function describe(s: RunState): string {
  // Facts of the run come from the workflow, not from a summary someone typed or the Start form copied.
  const lines = [
    // On-call's first read: a paused run says so before anything else (the UI shows RUNNING).
    ...(s.status === 'paused' && s.error ? [`PAUSED at ${s.error.step}: ${s.error.type}: ${s.error.message}`] : []),
    runSummary(s.plan, s.initiatedBy),
    `**cutover ${s.plan.id}** — status **${s.status}**, phase \`${s.phase}\``,
    `plan hash \`${s.planHash}\` · strategy ${s.plan.strategy} · initiated by ${s.initiatedBy} · run key \`${s.ids.runKey}\``,
  ];
  // A step run as a child workflow (the rehearsal): where its sub-steps and their progress are.
  if (s.child)
    lines.push(
      `The ${s.phase} runs in child workflow \`${s.child}\`: its sub-steps (activities, their heartbeat details) and its query \`rehearsal-progress\` are on its page.`,
    );
  // Change control: what authorised the run, in front of every gate's approvers.
  const change = changeOf(s.plan);
  if (change) lines.push(`Change request: **${changeText(change)}** — ${s.plan.decision?.reason ?? ''}`);
  if (s.gate) {
    const got = s.approvalsFor(s.gate).map((a) => a.approver);
    lines.push(
      `Awaiting approval of gate \`${s.gate}\`: ${got.length} of ${s.plan.approvals.required} approvals (${got.join(', ') || 'none yet'}).`,
    );
    // What approvers of gate cutover must see first: the rehearsal did not do what the approved dry run said.
    const differs = s.gate === 'cutover' ? rehearsalDifferences(s) : null;
    if (differs) lines.push(differs);
    // The whole decision (why, who, backup, rehearsal, what per table and why, the rules in words):
    // the same model `cutover status` prints (common/gate-view.ts).
    lines.push(...mdSections(gateSections(s.evidence(), s.gate), true));
    const dry = s.results.preflight;
    // Retention rules: what each does to rows past its cutoff (measured from the dry run's snapshot).
    if (dry?.retention?.length)
      lines.push(
        dry.retention
          .map(
            (r) =>
              `- retention: ${r.table}.${r.column} older than ${r.olderThan} (before ${r.cutoff}): ${r.rows} row(s) ${r.action === 'anonymize' ? 'move anonymized' : 'left behind as retention'}`,
          )
          .join('\n'),
      );
    const drift = s.drift.filter((d) => !d.tolerated).at(-1);
    if (drift && s.gate === 'plan') lines.push(`**Reopened:** ${describeDrift(drift)}. The dry run above is the new one.`);
    // An update is validated by the run and answered at once: a refusal shows inline in the UI.
    // A dry run that predicts refusals is approved only with each acknowledged (decisions.ts acknowledgeRefusal).
    const ack = s.gate === 'plan' ? predictedRefusals(dry).map((p) => p.reason) : [];
    const payload = `{"gate":"${s.gate}","approver":"<name>"${ack.length ? `,"acknowledge":${JSON.stringify(ack)}` : ''}}`;
    if (ack.length)
      lines.push(
        `**The dry run predicts refusals** — an approval must acknowledge each: ${predictedRefusals(dry)
          .map((p) => `\`${p.reason}\` (${p.why})`)
          .join('; ')}.`,
      );
    lines.push(
      `Approve: **Send an Update** \`approve\` with \`${payload}\` — validated: a refusal is shown inline and changes nothing. ${SIGNAL_TOO}`,
    );
    if (s.plan.approvals.signatures === 'required')
      lines.push(
        'This plan requires signed approvals (Signatures v2, naming this run key): `cutover approve … --sign KEYFILE` (see docs/approving.md, *Signed approvals*).',
      );
  }
  const r = s.results.rehearsal;
  // At a gate the decision above says it.
  if (r && !s.gate) {
    const outcome = r.ok ? `ok, rollback ${r.rollback?.proven ? 'proven' : 'not proven'}` : `failed at ${r.failed?.step ?? '?'}`;
    lines.push(
      `Rehearsal: ${outcome}; report hash \`${r.rehearsalHash}\`; moved ${r.tables.map((t) => `${t.table} ${t.moved}`).join(', ') || 'nothing'}.`,
    );
    const c = r.dryRunComparison;
    if (c?.equal) lines.push("The rehearsal's counts per table equal the approved dry run's.");
    else if (c && s.gate !== 'cutover') lines.push(rehearsalDifferences(s)!);
  }
  if (s.error) {
    lines.push(`Paused on \`${s.error.step}\`: ${s.error.type}: ${s.error.message}`);
    // Only what the run accepts now (the same rules the resume handler applies).
    const actions = s.actions.length ? s.actions : ['retry', 'abort'];
    const moved = actions.includes('retry') ? movedAlias(s.error) : null;
    lines.push(
      `Resume — accepted now: ${actions.map((a) => `\`${a}\``).join(', ')}. **Send an Update** \`resume\` with \`{"action":"${actions[0]}","by":"<name>","reason":"…"}\`${actions.includes('roll-forward') ? `; roll-forward also takes \`"fromStep"\` (one of ${s.rollForwardTargets.join(', ')})` : ''}${actions.includes('rollback') ? '; rollback takes `"mode":"surgical"` (default) or `"restore"`' : ''}${moved ? `; if that database itself moved (restored, copied), retry with \`"acceptDatabase":"${moved}"\`` : ''}. ${SIGNAL_TOO}`,
    );
    if (s.plan.approvals.signatures === 'required')
      lines.push(
        `This plan requires signed resumes: this is pause ${s.pauses} of run key \`${s.ids.runKey}\` (Signatures v2): \`cutover resume … --sign KEYFILE\`.`,
      );
  }
  if (s.refusedCount > 0) {
    const last = s.refused.slice(-3).map((r) => `${r.signal} by ${r.by}: ${r.reason}`);
    lines.push(`Refused: ${s.refusedCount} signal(s) or update(s); last: ${last.join(' · ')}`);
  }
  const steps = stepSummary(s);
  if (steps) lines.push(steps);
  // Each table's last count out of its own step's total, in that step's word (at a gate the dry run says it).
  const tables = s.gate ? [] : Object.values(s.progress);
  if (tables.length)
    lines.push(
      tables
        .map((p) => `- ${p.table}: ${p.phase === 'planned' ? `${p.rowsTotal} to move` : `${p.rowsCopied} of ${p.rowsTotal} ${p.phase}`}`)
        .join('\n'),
    );
  return lines.join('\n\n');
}
