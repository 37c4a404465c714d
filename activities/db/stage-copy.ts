// Copy the selected rows (and the registers cleanup needs) from one Pilot snapshot into staging.
// Shared by the stage step and the dry run, so both select exactly the same rows.
import type { Client } from 'pg';
import type { Column } from './catalog';
import { ident, qualified } from './connect';
import { copyQuery } from './copy';
import { allConditions, Binder } from './conditions';
import type { Resolved, ResolvedTable } from './resolve';
import { Selection } from './selection';
import { computedColumns, rawColumns } from './mapping-staging';
import type { StagingNames } from './staging';
import { partCondition, type TablePart } from './table-parts';

export interface Lane {
  src: Client; // inside a REPEATABLE READ transaction in the run's snapshot
  tgt: Client;
}

export interface CopyPlan {
  resolved: Resolved;
  names: StagingNames;
  temp: boolean; // dry run: session temp tables instead of an unlogged schema
  columnsFor: (t: ResolvedTable) => Column[];
}

export async function createStagingTables(tgt: Client, p: CopyPlan): Promise<void> {
  const kind = p.temp ? 'TABLE' : 'UNLOGGED TABLE';
  const ddl: string[] = [];
  for (const t of p.resolved.tables) {
    // A mapped table also stages its raw Pilot inputs (maps', expressions' and rules' columns, drop flags).
    const cols = [...p.columnsFor(t), ...rawColumns(t)].map((c) => `${ident(c.name)} ${c.type}`).join(', ');
    ddl.push(`CREATE ${kind} ${p.names.data(t.index, t.name)} (${cols})`);
    const keyCols = t.key.map((k) => `${ident(k)} ${t.columns.find((c) => c.name === k)!.type}`).join(', ');
    ddl.push(`CREATE ${kind} ${p.names.gone(t.index)} (${keyCols}, cutover_cause text)`); // cause: the removed row's chain of causes (cleanup-rules.ts)
  }
  const subjectType = subjectKeyType(p.resolved);
  if (subjectType) {
    ddl.push(`CREATE ${kind} ${p.names.consented()} (subject ${subjectType})`);
    ddl.push(`CREATE ${kind} ${p.names.erased()} (subject ${subjectType}, register text)`);
  }
  // One round trip for all of them (no values here: identifiers quoted, types from the catalog).
  await tgt.query(ddl.join(';\n'));
}

function subjectKeyType(r: Resolved): string | null {
  const s = r.rules.subjects;
  return s ? s.table.columns.find((c) => c.name === s.key)!.type : null;
}

/**
 * The table's selected rows into its staging table. Whole (no `part`): the staging table is emptied
 * first. One part (db/table-parts.ts): only the rows in its block range, appended; the caller empties
 * the table once before its parts run (db/copy-lanes.ts), since parts run on several connections.
 */
export async function copyTable(
  lane: Lane,
  p: CopyPlan,
  t: ResolvedTable,
  onRows: (n: number) => void | Promise<void>,
  part?: TablePart,
): Promise<number> {
  const sel = new Selection(p.resolved);
  // Computed columns are filled at cleanup, from the raw inputs staged here (db/mapping-compute.ts).
  const computed = new Set(computedColumns(t));
  const cols = [...p.columnsFor(t).filter((c) => !computed.has(c.name)), ...rawColumns(t)].map((c) => c.name);
  const bounded = part && (part.lo !== null || part.hi !== null);
  const sql = sel.rowsSql(t, cols, bounded ? (a) => partCondition(a, part) : undefined);
  await sel.apply(lane.src);
  if (!part) await lane.tgt.query(`TRUNCATE ${p.names.data(t.index, t.name)}`);
  return copyQuery(lane.src, sql, lane.tgt, p.names.data(t.index, t.name), cols, onRows);
}

/** Consent and erasure registers are read in the same snapshot as the data they clean. */
export async function copyRegisters(lane: Lane, p: CopyPlan): Promise<{ consented: number; erased: number }> {
  const { consent, registers } = p.resolved.rules;
  let consented = 0;
  let erased = 0;
  if (!subjectKeyType(p.resolved)) return { consented, erased };
  await lane.tgt.query(`TRUNCATE ${p.names.consented()}, ${p.names.erased()}`);
  if (consent) {
    const b = new Binder();
    const typeOf = (c: string) => consent.table.columns.find((x) => x.name === c)!.type;
    const sql = `SELECT DISTINCT c.${ident(consent.subject)} FROM ${qualified(consent.table.schema, consent.table.name)} c
      WHERE c.${ident(consent.subject)} IS NOT NULL AND ${allConditions(b, 'c', consent.granted, typeOf)}`;
    await b.apply(lane.src);
    consented = await copyQuery(lane.src, sql, lane.tgt, p.names.consented(), ['subject']);
  }
  for (const r of registers) {
    const label = `${r.db}:${r.table.qualified}`;
    const from = `SELECT DISTINCT r.${ident(r.subject)} FROM ${qualified(r.table.schema, r.table.name)} r WHERE r.${ident(r.subject)} IS NOT NULL`;
    if (r.db === 'source') {
      erased += await copyQuery(lane.src, from, lane.tgt, p.names.erased(), ['subject']);
      await lane.tgt.query(`UPDATE ${p.names.erased()} SET register = $1 WHERE register IS NULL`, [label]);
    } else {
      // The register lives in production itself: read it where it is.
      erased +=
        (await lane.tgt.query(`INSERT INTO ${p.names.erased()} (subject, register) SELECT s, $1 FROM (${from}) x(s)`, [label])).rowCount ??
        0;
    }
  }
  return { consented, erased };
}
