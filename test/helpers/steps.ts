// The data steps run as activities outside a workflow, in order (stage, cleanup, publish), for
// tests of what comes after publish. Plans go through the schema check only, so features the
// workflow still refuses as "not supported yet" can be exercised here.
import { MockActivityEnvironment } from '@temporalio/testing';
import { cleanup } from '../../activities/cleanup';
import { accessSnapshot } from '../../activities/db/access-snapshot';
import { publish } from '../../activities/publish';
import { stage } from '../../activities/stage';
import type { AccessSnapshot, PublishResult, StageResult, StepInput } from '../../common/results';
import { parseTableName, type TableRef } from '../../plan/names';
import type { Plan } from '../../plan/schema';
import { checkPlanSchema } from '../../plan/validate';
import { withDb } from './pg';

export function schemaChecked(input: Record<string, unknown>): Plan {
  const { plan, issues } = checkPlanSchema(input);
  if (!plan) throw new Error(issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return plan;
}

export const planTables = (plan: Plan): TableRef[] => plan.tables.map((t) => parseTableName(t.table) as TableRef);

export interface Published {
  input: StepInput;
  staged: StageResult;
  published: PublishResult;
  /** accessSnapshot() of the plan's tables right before publish, as publish would take it. */
  before: AccessSnapshot;
}

/** Stage, clean and publish `plan` into CUTOVER_DB_PRODUCTION (`prod`). */
export async function publishRun(prod: string, plan: Plan, runKey: string): Promise<Published> {
  const input: StepInput = { plan, runKey, workflowId: `cutover-${plan.id}`, runId: `run-${runKey}` };
  const env = new MockActivityEnvironment();
  const staged = (await env.run(stage, input)) as StageResult;
  await env.run(cleanup, input);
  const before = await withDb(prod, (c) => accessSnapshot(c, planTables(plan)));
  const published = (await env.run(publish, input)) as PublishResult;
  return { input, staged, published, before };
}

/** The rejection of `p`, or a test failure when it resolves. */
export async function failureOf(
  p: Promise<unknown>,
): Promise<{ type: string; message: string; nonRetryable: boolean; details: unknown[] }> {
  return p.then(
    (v) => {
      throw new Error(`expected a failure, got ${JSON.stringify(v).slice(0, 500)}`);
    },
    (e) => e,
  );
}
