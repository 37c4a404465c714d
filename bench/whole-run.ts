// Measure (d): a whole cutover run through Temporal. A dev server (the CLI binary, with the cutover search
// attributes), the real worker in this process, both gates approved by the bench, timed end to end.
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { activities } from '../activities';
import type { Plan } from '../plan';
import {
  approveSignal,
  statusQuery,
  TASK_QUEUE,
  WORKFLOW_TYPE,
  workflowIdFor,
  TERMINAL_STATUSES,
  type GateName,
  type StatusView,
} from '../common/temporal';
import { RssSampler } from './rss';
import { freePort } from '../harness/free-port';
import { DevServer } from '../harness/dev-server';
import { createClient } from '../runtime/client';
import { createNativeConnection, createWorker } from '../runtime/worker';
import type { TemporalConfig } from '../runtime/config';
import { setTimeout as sleep } from 'node:timers/promises';

export type { DevServer };

/** `temporal server start-dev` (in memory, headless, cutover search attributes) on a free port. */
export async function startTemporal(): Promise<DevServer> {
  const server = new DevServer(await freePort());
  await server.start();
  return server;
}

export interface RunMeasure {
  seconds: number;
  status: string;
  error: string | null;
  historyEvents: number;
  rssMb: number;
  final: StatusView | null;
  /** The last status seen (the final one, or where the run paused): its step history times the steps. */
  last: StatusView | null;
  /** Seconds each activity type spent executing in the worker (summed over its calls), scheduling excluded. */
  activitySeconds: Record<string, number>;
  /** Every activity call, start and end in seconds since the run started (the gaps are workflow tasks, gates, scheduling). */
  timeline: ActivitySpan[];
  /** The cutover window: from the approval of gate `cutover` to the run's end (null when it never got there). */
  windowSeconds: number | null;
}

export interface ActivitySpan {
  name: string;
  start: number;
  end: number;
}

/** The timeline as lines: each call's start → end and the gap before it (time no activity ran). */
export function timelineLines(spans: readonly ActivitySpan[], runSeconds: number): string[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let prevEnd = 0;
  const out = sorted.map((s) => {
    const gap = s.start - prevEnd;
    prevEnd = Math.max(prevEnd, s.end);
    return `${s.start.toFixed(2).padStart(8)} → ${s.end.toFixed(2).padStart(8)}  ${(s.end - s.start).toFixed(2).padStart(7)} s  gap before ${gap.toFixed(2).padStart(6)} s  ${s.name}`;
  });
  const busy = sorted.reduce((a, s) => a + (s.end - s.start), 0);
  out.push(
    `run ${runSeconds.toFixed(2)} s; activities ${busy.toFixed(2)} s; after the last activity ${(runSeconds - prevEnd).toFixed(2)} s; gaps ${(runSeconds - busy).toFixed(2)} s in all`,
  );
  return out;
}

/** The worker's activities, each timed (its own execution, summed over its calls) into `into`: bench only. */
function timedActivities(into: Record<string, number>, spans: { name: string; start: number; end: number }[]): typeof activities {
  const timed =
    (name: string, fn: (...a: never[]) => Promise<unknown>) =>
    async (...a: never[]): Promise<unknown> => {
      const t0 = performance.now();
      try {
        return await fn(...a);
      } finally {
        const t1 = performance.now();
        into[name] = (into[name] ?? 0) + (t1 - t0) / 1000;
        spans.push({ name, start: t0, end: t1 });
      }
    };
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [name, timed(name, fn as (...a: never[]) => Promise<unknown>)]),
  ) as unknown as typeof activities;
}

const TERMINAL: readonly string[] = TERMINAL_STATUSES;
/** Gates a selective run passes (plan, cutover): the bench approves each as soon as it waits. */
const GATES = 2;

export async function runWhole(server: DevServer, plan: Plan, timeoutMs: number): Promise<RunMeasure> {
  const rss = new RssSampler().start();
  // The bench's own plain dev server; client and worker as the product builds them (CUTOVER_CODEC_KEYS applies).
  const config: TemporalConfig = { address: server.address, namespace: 'default' };
  const native = await createNativeConnection({ config });
  const client = await createClient({ config });
  try {
    return await measure(native, config, client, plan, timeoutMs, rss);
  } finally {
    await client.connection.close();
    await native.close();
  }
}

async function measure(
  native: NativeConnection,
  config: TemporalConfig,
  client: Client,
  plan: Plan,
  timeoutMs: number,
  rss: RssSampler,
): Promise<RunMeasure> {
  const activitySeconds: Record<string, number> = {};
  const spans: ActivitySpan[] = [];
  const { worker } = await createWorker({ connection: native, config, activities: timedActivities(activitySeconds, spans) });
  let t0 = 0;
  let seconds = 0;
  let final: StatusView | null = null;
  let error: string | null = null;
  let last: StatusView | null = null;
  let windowStart = null as number | null;
  let ended = null as number | null;
  const handle = await worker.runUntil(async () => {
    t0 = performance.now();
    const h = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId: workflowIdFor(plan.id),
      args: [{ plan, initiatedBy: 'bench-runner' }],
    });
    // The end is taken when the result arrives, not at the next poll; polling (each query is a worker
    // activation) is quick only while a gate may be waiting, so the bench itself does not load the run.
    const result = h.result().then(
      (v) => ((ended = performance.now()), v as StatusView),
      (e: unknown) => {
        ended = performance.now();
        throw e;
      },
    );
    result.catch(() => undefined);
    const approved = new Set<GateName>();
    const deadline = Date.now() + timeoutMs;
    let phase = '';
    while (ended === null) {
      const s = await h.query(statusQuery).catch(() => null);
      if (s) last = s;
      if (s && `${s.phase}/${s.status}` !== phase) {
        phase = `${s.phase}/${s.status}`;
        process.stderr.write(`[bench]   +${((performance.now() - t0) / 1000).toFixed(1)}s ${phase}\n`);
      }
      if (s?.status === 'awaiting-approval' && s.gate && !approved.has(s.gate)) {
        approved.add(s.gate);
        if (s.gate === 'cutover') windowStart = performance.now();
        await h.signal(approveSignal, { gate: s.gate, approver: 'bench-a', comment: 'bench' });
      } else if (s && TERMINAL.includes(s.status)) {
        break;
      } else if (s?.status === 'paused') {
        error = `paused at ${s.phase}: ${s.error?.type ?? ''} ${s.error?.message ?? ''}`;
        await h.terminate('bench: the run paused');
        break;
      }
      if (Date.now() > deadline) {
        error = `timed out after ${timeoutMs / 1000}s (status ${s?.status}, phase ${s?.phase})`;
        await h.terminate('bench: timeout');
        break;
      }
      const gatesAhead = approved.size < GATES || s?.phase.startsWith('gate');
      await Promise.race([sleep(gatesAhead ? 50 : 500), result.catch(() => undefined)]);
    }
    if (!error) final = await result;
    seconds = ((ended ?? performance.now()) - t0) / 1000;
    return h;
  });
  const rssMb = rss.stop();
  const history = await handle.fetchHistory();
  const f = final as StatusView | null;
  const timeline = spans.map((x) => ({ name: x.name, start: (x.start - t0) / 1000, end: (x.end - t0) / 1000 }));
  return {
    seconds,
    status: f?.status ?? 'paused',
    error: error ?? (f?.status === 'completed' ? null : JSON.stringify(f?.error ?? f?.steps?.slice(-3))),
    historyEvents: history.events?.length ?? 0,
    rssMb,
    final: f,
    last: f ?? last,
    activitySeconds,
    timeline,
    windowSeconds: windowStart !== null && ended !== null ? (ended - windowStart) / 1000 : null,
  };
}
