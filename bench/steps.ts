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
