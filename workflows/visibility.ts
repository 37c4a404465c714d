// Make the run visible: search attributes for `cutover list` / the UI's filters, and the UI's
// "current details" text. Called on every status or phase change.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTES } from '../common/temporal';
import type { RunState } from './state';

const STATUS = defineSearchAttributeKey(SEARCH_ATTRIBUTES.status, SearchAttributeType.KEYWORD);
const PHASE = defineSearchAttributeKey(SEARCH_ATTRIBUTES.phase, SearchAttributeType.KEYWORD);
const PLAN_ID = defineSearchAttributeKey(SEARCH_ATTRIBUTES.planId, SearchAttributeType.KEYWORD);

export function publishState(s: RunState, last: { status?: string; phase?: string }): void {
  if (last.status !== s.status || last.phase !== s.phase) {
    upsertSearchAttributes([
      { key: STATUS, value: s.status },
      { key: PHASE, value: s.phase },
      { key: PLAN_ID, value: s.plan.id },
    ]);
    last.status = s.status;
    last.phase = s.phase;
  }
  setCurrentDetails(describe(s));
}

function describe(s: RunState): string {
  const lines = [`**cutover ${s.plan.id}** — status **${s.status}**, phase \`${s.phase}\``, `plan hash \`${s.planHash}\``];
  if (s.gate) {
    const got = s.approvalsFor(s.gate).map((a) => a.approver);
    lines.push(`Awaiting approval of gate \`${s.gate}\`: ${got.length} of ${s.plan.approvals.required} approvals (${got.join(', ') || 'none yet'}).`);
    lines.push(`Approve: Send Signal \`approve\` with \`{"gate":"${s.gate}","approver":"<name>"}\`.`);
    if (s.plan.approvals.signatures === 'required') lines.push('This plan requires signed approvals: `cutover approve … --sign KEYFILE` (see README, *Signed approvals*).');
  }
  const r = s.results.rehearsal;
  if (r) {
    const outcome = r.ok ? `ok, rollback ${r.rollback?.proven ? 'proven' : 'not proven'}` : `failed at ${r.failed?.step ?? '?'}`;
    lines.push(`Rehearsal: ${outcome}; report hash \`${r.rehearsalHash}\`; moved ${r.tables.map((t) => `${t.table} ${t.moved}`).join(', ') || 'nothing'}.`);
  }
  if (s.error) {
    lines.push(`Paused on \`${s.error.step}\`: ${s.error.type}: ${s.error.message}`);
    lines.push('Resume: Send Signal `resume` with `{"action":"retry|skip|abort","by":"<name>","reason":"…"}`.');
  }
  const tables = Object.values(s.progress);
  if (tables.length) lines.push(tables.map((p) => `- ${p.table}: ${p.rowsCopied}/${p.rowsTotal} ${p.phase}`).join('\n'));
  return lines.join('\n\n');
}
