// Lookup rows: the key and natural key of the Pilot rows of ids: match tables that selected rows
// reference, read in the run's snapshot, and the production row each one is (found by natural key).
// A matched parent that does not move can then be followed into production and pass the dangling
// check, and its children are rewritten to the production row; it is never published. Shared by the
// stage step and the dry run.
import type { Client } from 'pg';
import { TRANSFORM } from './cleanup-rules';
import { ident, qualified } from './connect';
import { copyQuery } from './copy';
import { hasLookup, lookupColumns } from './identity';
import { keyReferences } from './keys';
import { pilotExpr, pilotList } from './mapping-staging';
import { buildMap, createMap, isMapped } from './remap';
import type { Resolved, ResolvedTable } from './resolve';
import { Selection } from './selection';
import type { CopyPlan, Lane } from './stage-copy';

export async function stageLookups(lane: Lane, p: CopyPlan): Promise<void> {
  const { resolved: r, names } = p;
  const lookups = names.lookups();
  const tables = r.tables.filter((t) => hasLookup(t, r));
  if (tables.length === 0) return;
  // Every mapped table gets a (maybe empty) found-map: lookups' natural keys are mapped through them.
  for (const t of r.tables.filter(isMapped)) await createMap(lane.tgt, t, lookups, p.temp);
  for (const t of tables) {
    const cols = lookupColumns(t);
    await lane.tgt.query(
      `CREATE ${p.temp ? '' : 'UNLOGGED '}TABLE IF NOT EXISTS ${names.lookup(t.index)} (${cols.map((c) => `${ident(c.name)} ${c.type}`).join(', ')})`,
    );
    await lane.tgt.query(`TRUNCATE ${names.lookup(t.index)}`);
    const sel = new Selection(r);
    let n = 0;
    const where = lookupPredicate(sel, r, t, 'x', [], () => `lk${n++}`);
    const exprs = cols.map((c) => transformed(r, t, c.name, pilotExpr(t, c.name, 'x')));
    await sel.apply(lane.src);
    await copyQuery(
      lane.src,
      `SELECT ${exprs.join(', ')} FROM ${qualified(t.source.schema, t.source.name)} x WHERE ${where}`,
      lane.tgt,
      names.lookup(t.index),
      cols.map((c) => c.name),
    );
  }
  // FK order, parents first: a natural key that refers to another matched table maps through what was found there.
  for (const t of tables) await buildMap(lane.tgt, t, r, lookups, false);
}

/**
 * The production rows the staged lookup rows are, found again (Production may have changed since
 * they were found): stage keeping the dry run's staging runs this instead of reading the Pilot again.
 */
export async function refindLookups(tgt: Client, p: CopyPlan): Promise<void> {
  const { resolved: r, names } = p;
  const lookups = names.lookups();
  const tables = r.tables.filter((t) => hasLookup(t, r));
  if (tables.length === 0) return;
  for (const t of r.tables.filter(isMapped)) await createMap(tgt, t, lookups, p.temp);
  for (const t of tables) await buildMap(tgt, t, r, lookups, false);
}

/**
 * Rows of `t` that a selected row of any plan table references (its own, through a self-reference,
 * included), or that another lookup row's natural key refers to (an album's artist), so that one can
 * be mapped too.
 */
function lookupPredicate(sel: Selection, r: Resolved, t: ResolvedTable, a: string, stack: string[], next: () => string): string {
  const byName = new Map(r.tables.map((x) => [x.name, x]));
  const parts: string[] = [];
  for (const c of r.tables) {
    for (const fk of keyReferences(c, byName).filter((f) => f.refTable === t.name))
      parts.push(`(${pilotList(t, a, t.key)}) IN (${sel.rowsSql(c, fk.columns)})`);
  }
  for (const c of r.tables.filter((x) => x.name !== t.name && !stack.includes(x.name) && hasLookup(x, r))) {
    const natural = c.spec.match ?? [];
    for (const fk of keyReferences(c, byName).filter((f) => f.refTable === t.name && f.columns.some((col) => natural.includes(col)))) {
      const y = next();
      const inner = lookupPredicate(sel, r, c, y, [...stack, t.name], next);
      parts.push(
        `(${pilotList(t, a, t.key)}) IN (SELECT ${pilotList(c, y, fk.columns)} FROM ${qualified(c.source.schema, c.source.name)} ${y} WHERE ${inner})`,
      );
    }
  }
  return parts.length === 0 ? 'FALSE' : parts.join(' OR ');
}

/** A natural-key column as cleanup's transforms will leave it, so lookups match as staged rows do. */
function transformed(r: Resolved, t: ResolvedTable, column: string, expr: string): string {
  return r.rules.transforms.filter((x) => x.table.name === t.name && x.column === column).reduce((e, x) => TRANSFORM[x.fn](e), expr);
}
