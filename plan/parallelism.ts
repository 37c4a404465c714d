/**
 * What `parallelism` means, whichever form the plan wrote it in: the number (tables at once, one
 * lane each, as before lanes existed) or `{tables, lanes}`. Every user of plan.parallelism reads it
 * through parallelismOf, so the two forms never drift apart. Pure.
 */
import type { Plan } from './schema';

export interface Parallelism {
  /** Tables staged at once. */
  tables: number;
  /** Connections a big table's rows are split across (block ranges, one snapshot); 1 = not split. */
  lanes: number;
}

export const DEFAULT_TABLES = 2;
export const DEFAULT_LANES = 1;

/** {tables, lanes} for any plan, parsed or not yet defaulted (absent: 2 tables, 1 lane). */
export function parallelismOf(plan: Pick<Plan, 'parallelism'> | { parallelism?: Plan['parallelism'] }): Parallelism {
  const p = plan.parallelism;
  if (typeof p === 'number') return { tables: p, lanes: DEFAULT_LANES };
  return { tables: p?.tables ?? DEFAULT_TABLES, lanes: p?.lanes ?? DEFAULT_LANES };
}
