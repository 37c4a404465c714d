// Latency percentiles for the concurrent writer (nearest-rank, so the p99 is a latency that was measured).

/** The nearest-rank p-th percentile (0 < p ≤ 100) of `values`, or null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (!(p > 0 && p <= 100)) throw new Error(`percentile must be in (0, 100], got ${p}`);
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1];
}

export interface LatencySummary {
  ops: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export function summarize(ms: readonly number[]): LatencySummary {
  const round = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
  return {
    ops: ms.length,
    p50Ms: round(percentile(ms, 50)),
    p99Ms: round(percentile(ms, 99)),
    maxMs: round(ms.length ? Math.max(...ms) : null),
  };
}
