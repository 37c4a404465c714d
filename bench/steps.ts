// How long each step of a finished run took, from the run's step history (started → completed/failed
// timestamps, recorded by the workflow): the per-step ratios to raw COPY come from here.
import type { StepRecord } from '../common/temporal';

/** Seconds per step (the last attempt's start to its end; a retried step counts from its first start). */
export function stepSeconds(steps: readonly Pick<StepRecord, 'step' | 'outcome' | 'at'>[]): Record<string, number> {
  const started = new Map<string, number>();
  const out: Record<string, number> = {};
  for (const s of steps) {
    const at = Date.parse(s.at);
    if (s.outcome === 'started') {
      if (!started.has(s.step)) started.set(s.step, at);
    } else if (s.outcome === 'completed' || s.outcome === 'failed') {
      const t0 = started.get(s.step);
      if (t0 !== undefined) out[s.step] = (at - t0) / 1000;
    }
  }
  return out;
}

/**
 * The slowest of `ms` (operations that started at `at`, ms since the epoch) per step they started
 * during ('between steps': gates, scheduling): which step an application write waited beside. Rounded to 0.1 ms.
 */
export function slowestByStep(
  steps: readonly Pick<StepRecord, 'step' | 'outcome' | 'at'>[],
  at: readonly number[],
  ms: readonly number[],
): Record<string, number> {
  const spans: { step: string; from: number; to: number }[] = [];
  const open = new Map<string, number>();
  for (const s of steps) {
    if (s.outcome === 'started') open.set(s.step, Date.parse(s.at));
    else if ((s.outcome === 'completed' || s.outcome === 'failed') && open.has(s.step)) {
      spans.push({ step: s.step, from: open.get(s.step)!, to: Date.parse(s.at) });
      open.delete(s.step);
    }
  }
  const out: Record<string, number> = {};
  at.forEach((t, i) => {
    const step = spans.find((x) => t >= x.from && t < x.to)?.step ?? 'between steps';
    if (ms[i] > (out[step] ?? -1)) out[step] = Math.round(ms[i] * 10) / 10;
  });
  return out;
}
