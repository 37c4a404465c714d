// A plan table resolved against both catalogs: the shape resolve.ts produces and the rules
// (resolve-rules.ts) and the staged-column helpers (mapping-staging.ts) read. A file of its own so
// those two need not import resolve.ts, which imports them (no import cycle, type-only or not).
import type { Plan } from '../../plan/schema';
import type { Column, ForeignKey, Table } from './catalog';
import type { TableMapping } from './mapping';

export interface ResolvedTable {
  index: number; // position in plan.tables, for messages
  name: string; // schema.table: the Pilot table, as the plan names it (manifest, id maps, evidence)
  /**
   * The Pilot table as the run reads it: with a mapping in the plan, columns, keys and foreign keys
   * under their staged (Production) names (db/mapping.ts, pilotView); `pilot` is the catalog's.
   */
  source: Table;
  /** Production's table (into): its foreign keys name the plan tables as the plan does (productionView); `production` is the catalog's. */
  target: Table;
  pilot: Table;
  production: Table;
  /** into/columns/drop of the plan (null: none; every name is the same on both sides). */
  mapping: TableMapping | null;
  key: string[]; // staged (Production) names of the key columns
  keyDeclared: boolean; // a primary key / unique index backs the key on the source
  columns: Column[]; // target columns copied (present in both, not generated)
  follow: ForeignKey[]; // source FKs the selection follows (follow and followMoved)
  /** Those of `follow` named in followMoved: only a parent this run moves counts, not one already in production. */
  followMoved: ForeignKey[];
  /** Target FKs that close a cycle: published NULL first, set once every table is in. */
  deferred: ForeignKey[];
  spec: Plan['tables'][number];
}
