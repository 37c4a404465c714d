// The plan's rules in words and the root cause of every left-behind reason, for the evidence pack
// and its reports: an auditor reads "rows of public.users where email like '%@test.example'", not
// a JSON condition, and sees that a ticket stayed behind because its organisation is a test
// account, not only because its parent did. Pure: used by common/evidence.ts.
import type { Condition, Plan } from '../plan/schema';
import { planTableKey } from '../plan/names';

const OPS: Record<string, string> = {
  eq: '=',
  ne: '≠ (or NULL)',
  lt: '<',
  lte: '≤',
  gt: '>',
  gte: '≥',
  in: 'in',
  notIn: 'not in (or NULL)',
  like: 'like',
  notLike: 'not like (or NULL)',
  isNull: 'is NULL',
  notNull: 'is not NULL',
};

const literal = (v: unknown): string => (typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v));

/** `email like '%@test.example'`, `is_test = false`, `status in ('a', 'b')`. */
export function conditionInWords(c: Condition): string {
  const op = OPS[c.op] ?? c.op;
  if (c.value === undefined) return `${c.column} ${op}`;
  const value = Array.isArray(c.value) ? `(${c.value.map(literal).join(', ')})` : literal(c.value);
  return `${c.column} ${op} ${value}`;
}

export const whereInWords = (where: Condition[]): string => where.map(conditionInWords).join(' and ');

export interface RuleInWords {
  kind: 'selection' | 'test-data' | 'retention' | 'subjects' | 'consent' | 'erasure' | 'transform' | 'access-check' | 'cascade';
  table: string | null; // canonical name (plan/names.ts)
  /** The left-behind reason this rule writes into cutover.manifest, when it writes one. */
  reason: string | null;
  text: string;
}

function selectInWords(select: Record<string, unknown>): string {
  if (select.all) return 'every row';
  if (select.referenced) return 'only the rows that moving rows of other tables reference (and the rows those reference in turn)';
  const parts: string[] = [];
  if (Array.isArray(select.follow))
    parts.push(`the rows whose parent through ${(select.follow as string[]).join(', ')} moves or already exists in production`);
  if (Array.isArray(select.followMoved))
    parts.push(`the rows whose parent through ${(select.followMoved as string[]).join(', ')} moves in this run`);
  if (Array.isArray(select.where)) parts.push(`rows where ${whereInWords(select.where as Condition[])}`);
  return parts.join(', of those ');
}

/** Every rule of the plan that decides what moves or stays, one sentence each, in the plan's order. */
export function rulesInWords(plan: Plan): RuleInWords[] {
  const rules: RuleInWords[] = [];
  for (const t of plan.tables ?? []) {
    const table = planTableKey(t.table);
    const ids =
      t.ids === 'match'
        ? `matched to production by ${t.match?.join(', ')} (a match is merged, not inserted)`
        : t.ids === 'new'
          ? "given new keys from production's sequence"
          : 'keeping their keys';
    rules.push({
      kind: 'selection',
      table,
      reason: null,
      text: `${table}: selects ${selectInWords(t.select as Record<string, unknown>)}; rows move ${ids}.`,
    });
  }
  for (const r of plan.testData ?? []) {
    const table = planTableKey(r.table);
    rules.push({
      kind: 'test-data',
      table,
      reason: r.reason,
      text: `Test data: rows of ${table} where ${whereInWords(r.where)} stay behind as ${r.reason}.`,
    });
  }
  for (const r of plan.retention ?? []) {
    const table = planTableKey(r.table);
    const what =
      r.action === 'anonymize'
        ? `move with ${Object.entries(r.columns ?? {})
            .map(([c, v]) => `${c} set to ${v === null ? 'NULL' : literal(v)}`)
            .join(', ')}`
        : 'stay behind as retention';
    rules.push({
      kind: 'retention',
      table,
      reason: r.action === 'leave-behind' ? 'retention' : null,
      text: `Retention: rows of ${table} whose ${r.column} is more than ${r.olderThan} before the run's snapshot time ${what}; after publish, no moved row may be past it.`,
    });
  }
  if (plan.subjects) {
    rules.push({
      kind: 'subjects',
      table: planTableKey(plan.subjects.table),
      reason: null,
      text: `People are the rows of ${planTableKey(plan.subjects.table)}, identified by ${plan.subjects.key}.`,
    });
  }
  if (plan.consent) {
    const c = plan.consent;
    rules.push({
      kind: 'consent',
      table: plan.subjects ? planTableKey(plan.subjects.table) : null,
      reason: 'no-consent',
      text: `Consent: a person moves only when ${planTableKey(c.table)} (Pilot) has a row for them by ${c.subject} where ${whereInWords(c.granted)}; anyone else stays behind as no-consent.`,
    });
  }
  for (const r of plan.erasure?.registers ?? []) {
    rules.push({
      kind: 'erasure',
      table: plan.subjects ? planTableKey(plan.subjects.table) : null,
      reason: 'erasure-request',
      text: `Erasure: a person with a row in ${planTableKey(r.table)} (${r.db === 'source' ? 'Pilot' : 'Production'}) by ${r.subject} stays behind as erasure-request.`,
    });
  }
  rules.push({
    kind: 'cascade',
    table: null,
    reason: 'parent-left-behind:<table>',
    text: "Cascade: a row whose parent stays behind stays behind too, as parent-left-behind:<the parent's table>.",
  });
  rules.push({
    kind: 'cascade',
    table: null,
    reason: 'no-longer-referenced',
    text: 'Cascade: a row selected only because a row that stays behind referenced it stays behind as no-longer-referenced.',
  });
  for (const x of plan.transforms ?? []) {
    rules.push({
      kind: 'transform',
      table: planTableKey(x.table),
      reason: null,
      text: `Transform: ${planTableKey(x.table)}.${x.column} is written to production as ${x.fn}(${x.column}).`,
    });
  }
  for (const c of plan.accessChecks ?? []) {
    rules.push({
      kind: 'access-check',
      table: null,
      reason: null,
      text: `Access check ${c.name}: after publish, this query (read only${plan.accessCheckRole ? `, as role ${plan.accessCheckRole}` : ''}) must return no rows: ${c.sql.trim()}`,
    });
  }
  return rules;
}

const CASCADE = 'parent-left-behind:';
const MAX_CHAINS = 10;

/**
 * Every chain from a left-behind reason to a reason that is not a cascade, e.g.
 * `parent-left-behind:public.projects ← parent-left-behind:public.accounts ← test-account`: the
 * parent's reasons are looked up in the same per-table counts (cutover.manifest's), up to 10 chains.
 */
export function rootCauses(leftBehind: Record<string, Record<string, number>>, table: string, reason: string): string[] {
  const out: string[] = [];
  const walk = (t: string, r: string, path: string[], seen: Set<string>): void => {
    if (out.length >= MAX_CHAINS) return;
    const here = [...path, r];
    if (!r.startsWith(CASCADE)) return void out.push(here.join(' ← '));
    const parent = r.slice(CASCADE.length);
    const id = `${t}\u0000${r}`;
    const reasons = Object.keys(leftBehind[parent] ?? {}).filter((x) => !seen.has(`${parent}\u0000${x}`) && !(parent === t && x === r));
    if (seen.has(id) || reasons.length === 0) return void out.push(here.join(' ← '));
    const next = new Set(seen).add(id);
    for (const x of reasons.sort()) walk(parent, x, here, next);
  };
  walk(table, reason, [], new Set());
  return out;
}

/** The root reason of a chain (its last link). */
export const rootOf = (chain: string): string => chain.split(' ← ').pop()!;

/** Whether a root reason is written by a rule of this plan (or a built-in cascade rule). */
export function hasRule(plan: Plan, reason: string): boolean {
  if (reason === 'no-longer-referenced' || reason === 'referenced') return true;
  if (reason.startsWith('already-moved:')) return plan.decision?.rerun === undefined; // db/already-moved.ts
  if (reason === 'no-consent') return plan.consent !== undefined;
  if (reason === 'erasure-request') return (plan.erasure?.registers.length ?? 0) > 0;
  if (reason === 'retention') return (plan.retention ?? []).some((r) => r.action === 'leave-behind');
  return (plan.testData ?? []).some((r) => r.reason === reason);
}
