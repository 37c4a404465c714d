// `plan check` / `start` summaries of a validated plan.
import { runSummary } from '../../common/run-summary';

/** The parts of a Plan the CLI shows (structural, so any Plan satisfies it). */
export interface PlanSummaryInput {
  id: string;
  strategy: string;
  source: string;
  target: string;
  tables: ReadonlyArray<{ table: string; ids?: string }>;
  approvals?: {
    approvers: ReadonlyArray<string | { name: string; key: string }>;
    required: number;
    separationOfDuties?: boolean;
    timeout?: string;
    signatures?: string;
  };
}

/** An approver as shown: the name, "(key)" when their signatures are checked against a key. */
const who = (a: string | { name: string }) => (typeof a === 'string' ? a : `${a.name} (key)`);

export function formatPlanSummary(plan: PlanSummaryInput, hash: string, file?: string): string {
  const lines = [
    ...(file ? [`file:      ${file}`] : []),
    `id:        ${plan.id}`,
    `strategy:  ${plan.strategy}`,
    `source:    ${plan.source}`,
    `target:    ${plan.target}`,
    `hash:      ${hash}`,
  ];
  if (plan.approvals) {
    const a = plan.approvals;
    lines.push(
      `approvals: ${a.required} of ${a.approvers.map(who).join(', ')}${a.separationOfDuties ? ', initiator excluded' : ''}${a.timeout ? `, timeout ${a.timeout}` : ''}${a.signatures === 'required' ? ', signatures required' : ''}`,
    );
  }
  lines.push(`tables:    ${plan.tables.length}`);
  for (const t of plan.tables) lines.push(`  - ${t.table}${t.ids ? ` (ids: ${t.ids})` : ''}`);
  return lines.join('\n');
}

/** The one-line summary shown by the Temporal UI for a started run. */
export function startSummary(plan: PlanSummaryInput, initiatedBy: string): string {
  return runSummary(plan, initiatedBy);
}

/** Markdown details shown by the Temporal UI. */
export function startDetails(plan: PlanSummaryInput, hash: string, initiatedBy: string): string {
  return [
    `**plan** \`${plan.id}\` — strategy \`${plan.strategy}\`, \`${plan.source}\` → \`${plan.target}\``,
    `**plan hash** \`${hash}\``,
    `**initiated by** ${initiatedBy}`,
    `**tables** ${plan.tables.map((t) => `\`${t.table}\``).join(', ') || '(none)'}`,
  ].join('\n\n');
}
