// Did the Pilot (or a catalog) change after the approvers saw the dry run? Pure comparison of what
// the dry run recorded (key digests per table, both catalogs in words) with what stage and cleanup
// found on the real staging, and, when the Pilot changed after the dry run staged it, every staged
// row's digest in the approved staging with the one stage copied again. The step table calls it after stage and after cleanup, before publish;
// a difference the plan does not tolerate sends the run back to gate plan (workflows/migration.ts).
import type { CatalogSummary, DryRunReport, KeyDigest } from '../common/results';
import type { Drift } from '../common/temporal';

/** A drift the plan does not tolerate: the main loop catches it and reopens gate plan with a new dry run. */
export class DriftDetected extends Error {
  constructor(readonly drift: Drift) {
    super(describeDrift(drift));
    this.name = 'DriftDetected';
  }
}

/**
 * The difference between the approved dry run and what `at` found, or null when there is none (or
 * when the dry run predates digests: runs started before this compare nothing). `tolerate` is the
 * plan's drift.tolerate.rows: a table whose rows changed by at most that many passes (recorded);
 * a catalog change never does.
 */
export function compareWithApproved(
  at: Drift['at'],
  dry: DryRunReport | undefined,
  found: {
    keys?: Record<string, KeyDigest>;
    catalog?: Record<string, CatalogSummary>;
    /** Stage, when the Pilot changed after the dry run: every staged row's digest in the approved staging and now. */
    rows?: { approved: Record<string, KeyDigest>; now: Record<string, KeyDigest> };
  },
  tolerate: number | undefined,
): Drift | null {
  if (!dry || !found.keys) return null;
  const tables: Drift['tables'] = [];
  for (const t of dry.tables) {
    const approved = at === 'stage' ? t.digests?.inScope : t.digests?.kept;
    const now = found.keys[t.table];
    if (!approved || !now || approved.digest === now.digest) {
      // The same keys, other values: at least one row changed in place.
      const before = found.rows?.approved[t.table];
      const after = found.rows?.now[t.table];
      if (before && after && before.digest !== after.digest)
        tables.push({ table: t.table, approvedRows: before.rows, rowsNow: after.rows, atLeastChanged: 1, values: true });
      continue;
    }
    // Only counts and digests are kept: a changed digest with an equal count is at least one row out, one in.
    const changed = approved.rows === now.rows ? 2 : Math.abs(now.rows - approved.rows);
    tables.push({ table: t.table, approvedRows: approved.rows, rowsNow: now.rows, atLeastChanged: changed });
  }
  const catalog: Drift['catalog'] = [];
  if (dry.catalog && found.catalog) {
    for (const [table, before] of Object.entries(dry.catalog)) {
      const after = found.catalog[table];
      if (!after) continue;
      for (const side of ['pilot', 'production'] as const) {
        const removed = before[side].filter((x) => !after[side].includes(x));
        const added = after[side].filter((x) => !before[side].includes(x));
        if (removed.length || added.length) catalog.push({ table, side, removed, added });
      }
    }
  }
  if (tables.length === 0 && catalog.length === 0) return null;
  const tolerated = catalog.length === 0 && tolerate !== undefined && tables.every((x) => x.atLeastChanged <= tolerate);
  return { at, tables, catalog, tolerated };
}

/** One line for the step history and status. */
export function describeDrift(d: Drift): string {
  const rows = d.tables.map((t) =>
    t.values
      ? `${t.table}: values of rows in scope changed (${t.approvedRows} → ${t.rowsNow} rows)`
      : `${t.table} ${d.at === 'stage' ? 'in scope' : 'kept after cleanup'} ${t.approvedRows} → ${t.rowsNow}${t.approvedRows === t.rowsNow ? ' (other rows)' : ''}`,
  );
  const cols = d.catalog.map(
    (c) => `${c.table} (${c.side}): ${[...c.removed.map((x) => `- ${x}`), ...c.added.map((x) => `+ ${x}`)].join('; ')}`,
  );
  const what = [...rows, ...cols].join('; ');
  return d.tolerated
    ? `the Pilot changed since gate plan, within the plan's drift.tolerate: ${what}`
    : `the Pilot or a catalog changed since gate plan: ${what}; back to gate plan with a new dry run (earlier approvals no longer count)`;
}
