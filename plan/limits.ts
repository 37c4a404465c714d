/**
 * How big a plan may be. A plan is reviewed by people and travels in Temporal payloads, so every
 * dimension is bounded and refused with a message saying the limit, before anything expensive runs
 * (a 50 MB plan once took 3.8 GB and ended in a raw gRPC error). Pure: the workflow's acceptPlan
 * applies the same limits to a plan sent by the official CLI or the UI.
 */
import type { PlanIssue } from './issues';

/** A plan file (or a plan payload's JSON) larger than this is refused unread. */
export const MAX_PLAN_BYTES = 1024 * 1024;
/** Lists and objects nested deeper than this are refused (the real plan needs 6). */
export const MAX_PLAN_DEPTH = 32;
/** YAML aliases expanded at most this many times (the yaml package's guard against "billion laughs"). */
export const MAX_YAML_ALIASES = 100;

/** Items per list, by what the list holds: enough for any real plan, far from what exhausts a worker. */
export const MAX_ITEMS = {
  /** tables, testData, transforms, erasure registers and anonymize entries. */
  tables: 1000,
  /** Conditions in one `where` / `granted`, and values in one in/notIn list. */
  conditions: 10_000,
  /** approvers, operators, accessChecks, columns in key/match/follow. */
  people: 100,
} as const;
/** Characters per free-text value; identifiers have their own limit (63 bytes, PostgreSQL's). */
export const MAX_TEXT = {
  /** Condition values, names, reasons. */
  value: 10_000,
  /** An access check's SQL. */
  sql: 100_000,
} as const;

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 2 : 1)} MB`;

export function planTooLarge(bytes: number, what = 'plan'): PlanIssue {
  return { path: '(plan)', message: `${what} is too large: ${bytes} bytes (${mb(bytes)}), at most ${MAX_PLAN_BYTES} bytes (1 MB)` };
}

export const TOO_DEEP = `nesting is too deep: at most ${MAX_PLAN_DEPTH} levels of lists and objects`;

/** How deep `value` nests lists and objects, walked without recursion; stops counting past the limit. */
export function nestingDepth(value: unknown, stopAt = MAX_PLAN_DEPTH + 1): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    if (max >= stopAt) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth]);
  }
  return max;
}

/**
 * A plan value (already parsed: the workflow's input, or a parsed file) that breaks a size limit,
 * as one issue; null when it is within them. Depth is checked first: serialising a very deep value
 * to measure it would overflow the stack.
 */
export function planSizeIssue(value: unknown): PlanIssue | null {
  if (nestingDepth(value) > MAX_PLAN_DEPTH) return { path: '(plan)', message: TOO_DEEP };
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (e) {
    return { path: '(plan)', message: `cannot be read as JSON: ${(e as Error).message}` };
  }
  if (json === undefined) return null;
  // UTF-16 length ≤ UTF-8 bytes ≤ 3 × length: count exactly only when it matters.
  if (json.length > MAX_PLAN_BYTES) return planTooLarge(json.length, 'plan JSON');
  if (json.length * 3 > MAX_PLAN_BYTES) {
    let bytes = 0;
    for (let i = 0; i < json.length; i++) {
      const c = json.charCodeAt(i);
      bytes += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3;
    }
    if (bytes > MAX_PLAN_BYTES) return planTooLarge(bytes, 'plan JSON');
  }
  return null;
}
