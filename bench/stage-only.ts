// Measure (c): the real `stage` activity alone, in MockActivityEnvironment (it provides the activity
// Context, so heartbeats work), against a fresh Production-like target.
import { MockActivityEnvironment } from '@temporalio/testing';
import { stage } from '../activities/stage';
import type { Plan } from '../plan';
import { RssSampler } from './rss';
import type { PhaseResult } from './raw';

export interface StageMeasure extends PhaseResult {
  rssMb: number;
  heartbeats: number;
}

export async function runStageOnly(plan: Plan): Promise<StageMeasure> {
  const env = new MockActivityEnvironment({ activityType: 'stage', heartbeatTimeoutMs: 120000 });
  let heartbeats = 0;
  env.on('heartbeat', () => heartbeats++);
  const input = { plan, runKey: 'benchstage', workflowId: `cutover-${plan.id}`, runId: 'bench-stage-only' };
  const rss = new RssSampler().start();
  const t0 = performance.now();
  const result = (await env.run(stage, input).finally(() => rss.stop())) as Awaited<ReturnType<typeof stage>>;
  const seconds = (performance.now() - t0) / 1000;
  const rssMb = rss.stop();
  const perTable = Object.fromEntries(result.tables.map((t) => [t.table.replace(/^public\./, ''), t.rows]));
  const rows = result.tables.reduce((a, t) => a + t.rows, 0);
  return { rows, seconds, perTable, rssMb, heartbeats };
}
