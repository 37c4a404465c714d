// The copy of many tables on many connections, shared by the dry run (preflight's prestage) and
// stage's copy again: work items (a table, or one block range of a big table: db/table-parts.ts) on
// one queue, served by `tables × lanes` connections that all joined the same exported snapshot, so
// it is still one consistent read. A table's staging is emptied once before its parts start, and its
// progress is the sum of its parts.
import type { Client } from 'pg';
import type { Parallelism } from '../../plan/parallelism';
import type { ResolvedTable } from './resolve';
import { copyTable, type CopyPlan, type Lane } from './stage-copy';
import { planParts, type TablePart } from './table-parts';
import { splitMinBlocksForTests } from './fault';

export interface WorkItem {
  table: ResolvedTable;
  part: TablePart;
}

/** The work items for `tables`, read on `src` in the snapshot: each table's parts, in plan order. */
export async function workItems(src: Client, tables: ResolvedTable[], par: Parallelism): Promise<WorkItem[]> {
  const parts = await planParts(src, tables, par.lanes, splitMinBlocksForTests());
  return tables.flatMap((table) => parts.get(table.name)!.map((part) => ({ table, part })));
}

/** Connections worth opening: `tables × lanes`, never more than there are items (at least one). */
export const laneCount = (items: WorkItem[], par: Parallelism): number => Math.max(1, Math.min(par.tables * par.lanes, items.length));

export interface CopyHooks {
  /** A table's first part begins, on this lane. */
  start?: (t: ResolvedTable, lane: Lane) => void | Promise<void>;
  /** Rows of the table copied so far, all its parts together. */
  rows?: (t: ResolvedTable, n: number) => void | Promise<void>;
  /** Its last part ended: the table's rows. */
  done?: (t: ResolvedTable, rows: number) => void;
}

/** Copies every item on `lanes` (each lane takes the next item when it is free); rows per table. */
export async function copyInLanes(lanes: Lane[], p: CopyPlan, items: WorkItem[], hooks: CopyHooks = {}): Promise<Map<string, number>> {
  const tables = [...new Map(items.map((w) => [w.table.name, w.table])).values()];
  // Once per table, not per part: parts append on other connections.
  if (tables.length) await lanes[0].tgt.query(`TRUNCATE ${tables.map((t) => p.names.data(t.index, t.name)).join(', ')}`);
  const perPart = new Map(tables.map((t) => [t.name, [] as number[]]));
  const left = new Map(tables.map((t) => [t.name, items.filter((w) => w.table.name === t.name).length]));
  const started = new Set<string>();
  const sum = (t: string) => perPart.get(t)!.reduce((a, n) => a + n, 0);
  const queue = [...items];
  await Promise.all(
    lanes.map(async (lane) => {
      for (let w = queue.shift(); w; w = queue.shift()) {
        const { table, part } = w;
        if (!started.has(table.name)) {
          started.add(table.name);
          await hooks.start?.(table, lane);
        }
        const counts = perPart.get(table.name)!;
        const rows = await copyTable(
          lane,
          p,
          table,
          (n) => {
            counts[part.i] = n;
            return hooks.rows?.(table, sum(table.name));
          },
          part,
        );
        counts[part.i] = rows;
        const remaining = left.get(table.name)! - 1;
        left.set(table.name, remaining);
        if (remaining === 0) hooks.done?.(table, sum(table.name));
      }
    }),
  );
  return new Map(tables.map((t) => [t.name, sum(t.name)]));
}
