/** Plan durations (`72h`, `30m`, `500ms`): one integer and one unit, so they read the same everywhere. */

export const DURATION_PATTERN = /^\d+(ms|s|m|h|d)$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds for a duration string; throws on anything the plan schema would refuse. */
export function parseDuration(s: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s);
  if (!m) throw new Error(`invalid duration "${s}": expected a whole number followed by ms, s, m, h or d`);
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  if (!Number.isSafeInteger(ms)) throw new Error(`invalid duration "${s}": too large`);
  return ms;
}

/** The largest unit that divides `ms` exactly, so parseDuration(formatDuration(x)) === x. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`cannot format duration ${ms}`);
  const n = Math.round(ms);
  if (n === 0) return '0s';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (n % UNIT_MS[unit] === 0) return `${n / UNIT_MS[unit]}${unit}`;
  }
  return `${n}ms`;
}
