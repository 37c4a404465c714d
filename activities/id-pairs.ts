// The run's id pairs (Pilot key → Production key of every moved or merged row, per table) as one
// file: finalize writes it to the backup store next to the evidence pack (its sha256 in the pack's
// idChanges.pairsFile), `cutover report <id> --ids` prints it. Read from what publish persisted
// (cutover.id_map: mapped tables and keep tables keyed by remapped parents; activities/db/row-identity.ts).
// Keys only, never row contents.
import { createHash } from 'node:crypto';
import type { Client } from 'pg';
import type { Plan } from '../plan/schema';
import { withClient } from './db/connect';
import { openStore } from './store';

/** Object key of a run's id pairs in the backup store, next to its evidence pack. */
export const idPairsKey = (planId: string, runKey: string): string => `${planId}/${runKey}/id-pairs.jsonl`;

export interface IdPairs {
  /** One JSON object a line: {"table","outcome","old","new"}, by table and Pilot key. */
  text: string;
  rows: number;
  sha256: string;
  /** table → pairs (moved + merged) and how many of them changed key. */
  perTable: Record<string, { pairs: number; changed: number }>;
}

/** The pairs publish persisted for `runKey` (none when nothing was published or no control schema). */
export async function readIdPairs(db: Client, runKey: string): Promise<IdPairs> {
  const exists = (await db.query("SELECT 1 FROM pg_namespace WHERE nspname = 'cutover'")).rowCount === 1;
  const res = exists
    ? await db.query<{ t: string; o: unknown; n: unknown; outcome: string }>(
        `SELECT table_name AS t, old_key AS o, new_key AS n, outcome FROM cutover.id_map
          WHERE run_key = $1 AND outcome IN ('moved', 'merged') ORDER BY table_name, old_key`,
        [runKey],
      )
    : { rows: [] };
  const perTable: IdPairs['perTable'] = {};
  const lines = res.rows.map((r) => {
    const x = (perTable[r.t] ??= { pairs: 0, changed: 0 });
    x.pairs++;
    if (JSON.stringify(r.o) !== JSON.stringify(r.n)) x.changed++;
    return JSON.stringify({ table: r.t, outcome: r.outcome, old: r.o, new: r.n });
  });
  const text = lines.map((l) => `${l}\n`).join('');
  return { text, rows: lines.length, sha256: createHash('sha256').update(text).digest('hex'), perTable };
}

/**
 * For `cutover report --ids`: the pairs file from the backup store when the plan has one and it is
 * there (checked against the sha256 the stored evidence pack records), else the target's id map.
 */
export async function idPairsOfRun(plan: Plan, runKey: string): Promise<{ text: string; from: string }> {
  if (plan.backup) {
    const store = openStore(plan.backup.store);
    const key = idPairsKey(plan.id, runKey);
    if (await store.head(key)) {
      const bytes = await readAll(store, key);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const recorded = await recordedSha256(store, `${plan.id}/${runKey}/evidence.json`);
      if (recorded !== null && recorded !== sha256)
        throw new Error(`${store.urlOf(key)}: sha256 ${sha256} is not the ${recorded} its evidence pack records`);
      return { text: bytes.toString('utf8'), from: store.urlOf(key) };
    }
  }
  const pairs = await withClient(plan.target, (db) => readIdPairs(db, runKey));
  return { text: pairs.text, from: `cutover.id_map in ${plan.target}` };
}

async function readAll(store: ReturnType<typeof openStore>, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

async function recordedSha256(store: ReturnType<typeof openStore>, key: string): Promise<string | null> {
  if (!(await store.head(key))) return null;
  const pack = JSON.parse((await readAll(store, key)).toString('utf8')) as { idChanges?: { pairsFile?: { sha256?: string } | null } };
  return pack.idChanges?.pairsFile?.sha256 ?? null;
}
