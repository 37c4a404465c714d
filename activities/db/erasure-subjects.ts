// Who an erasure request means in production: the one place that translates a register's subject
// key to the subjects table's production key. One rule per register, never both: a register names
// people by their Pilot key (`keys: pilot`, the default, wherever the register lives) or by their
// Production key (`keys: production`: Production's own register of its people, db: target).
//   - A Pilot key goes through this run's identity (activities/db/row-identity.ts: id map old_key →
//     new_key for ids: new / match, the manifest's key for ids: keep): a subject this run moved is
//     erased; one merged into production's own row (ids: match) is production's person: its row
//     stays and only the rows this run moved that depend on it are erased (db/erasure-reapply.ts);
//     a subject this run did not move has no production identity here and is not touched. A Pilot
//     key is never taken as a Production key, after a restore either: the Production person who
//     happens to hold the same value is someone else.
//   - A Production key names a Production row. After publish only the rows this run moved or merged
//     are the run's business (the rest is Production's own erasure process); after a restore from a
//     backup every person it names is erased again, since the restore may have brought them back.
//   - After a restore, every subject this run erased after publish (cutover.erasure_log) is erased
//     again by the production key the log recorded, whether or not its request is still in a register.
//   - An erasure replay after a restore from before the run's publish (`runAbsent`): the run's rows
//     are not in the restored Production, so nothing is translated through the run, nor erased by a
//     key it logged (a key it drew may belong to someone else now); only Production keys apply.
import type { Client } from 'pg';
import { ident } from './connect';
import { keyList } from './keys';
import { PERSISTED_PAIRS } from './row-identity';
import type { Resolved } from './resolve';

export type ErasureWhen = 'publish' | 'restore';

/** (subject, register, side): every register's requests as read now; the caller fills it. */
export const REQUESTS = 'pg_temp.cutover_erase';
/** One row per request as meant: rid, subject (as the register holds it), side (pilot | production | log), register(s), production (log only). */
export const REQ = 'pg_temp.cutover_er_req';
/** rid → production key of the subjects table (k0…), how: erase (the run's or production's person) | merged (production's own row, kept). */
export const SUBJECTS = 'pg_temp.cutover_er_subjects';
/** erasure_log action of the marker row that says a merged subject's own (production) row was kept. */
export const KEPT_MERGED = "kept (merged into production's own row)";
/** Steps that apply erasures after publish: their log rows say which subjects this run already erased. */
export const AFTER_PUBLISH_STEPS = ['erasure', 'erasure-final'];
/** Steps that re-apply requests after a restore. */
export const AFTER_RESTORE_STEPS = ['restore', 'erasure-replay'];

/**
 * Inside the caller's transaction, after REQUESTS is filled: fills REQ and SUBJECTS. `prod`: where
 * the subjects table's production rows are (the table, or the backup's rows for a preview).
 * `requests`: distinct requests in the registers.
 */
export async function translateSubjects(
  db: Client,
  r: Resolved,
  runKey: string,
  when: ErasureWhen,
  prod: string,
  runAbsent = false,
): Promise<{ requests: number; anyLogged: boolean }> {
  const { table: t, key } = r.rules.subjects!;
  const colType = (k: string) => t.columns.find((c) => c.name === k)!.type;
  const type = colType(key);
  await db.query(
    `CREATE TEMP TABLE cutover_er_req (rid serial, subject ${type}, side text, register text, production jsonb) ON COMMIT DROP`,
  );
  await db.query(
    `INSERT INTO ${REQ} (subject, side, register)
     SELECT q.subject, q.side, string_agg(DISTINCT q.register, ', ' ORDER BY q.register) FROM ${REQUESTS} q
      GROUP BY q.subject, q.side ORDER BY q.subject, q.side`,
  );
  const requests = Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${REQ}`)).rows[0].n);
  if (when === 'restore' && !runAbsent) {
    await db.query(
      `INSERT INTO ${REQ} (subject, side, register, production)
       SELECT (l.subject #>> '{}')::${type}, 'log', 'cutover.erasure_log', l.production_subject
         FROM (SELECT DISTINCT subject, production_subject FROM cutover.erasure_log WHERE run_key = $1 AND step = ANY($2) AND production_subject IS NOT NULL) l
        WHERE NOT EXISTS (SELECT 1 FROM cutover.erasure_log k WHERE k.run_key = $1 AND k.production_subject = l.production_subject AND k.action = $3)
        ORDER BY 1`,
      [runKey, AFTER_PUBLISH_STEPS, KEPT_MERGED],
    );
  }
  const anyLogged = Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${REQ} WHERE side = 'log'`)).rows[0].n) > 0;

  const slots = t.key.map((k, i) => `k${i} ${colType(k)}`).join(', ');
  await db.query(`CREATE TEMP TABLE cutover_er_subjects (rid int, how text, ${slots}) ON COMMIT DROP`);
  // Pilot keys through this run's identity: moved → erase, merged → production's own row.
  // The pairs publish recorded for every moved or merged row (activities/db/row-identity.ts: keep keys rewritten through parents too).
  const [oldKey, newKey, from] = ['old_key', 'new_key', `(${PERSISTED_PAIRS})`];
  const prodSlots = t.key.map((k, i) => `(x.${newKey}->>${i})::${colType(k)}`);
  const at = t.key.indexOf(key);
  // A subject key that is not a key column is read from the production row.
  const subject = at >= 0 ? `(x.${oldKey}->>${at})::${type}` : `p.${ident(key)}`;
  const join = at >= 0 ? '' : `JOIN ${prod} p ON ${t.key.map((k, i) => `p.${ident(k)} = ${prodSlots[i]}`).join(' AND ')}`;
  if (!runAbsent)
    await db.query(
      `INSERT INTO ${SUBJECTS} SELECT q.rid, CASE WHEN x.outcome = 'merged' THEN 'merged' ELSE 'erase' END, ${prodSlots.join(', ')}
       FROM ${from} x ${join} JOIN ${REQ} q ON q.side = 'pilot' AND q.subject = ${subject}
      WHERE x.outcome IN ('moved', 'merged')`,
      [runKey, t.name],
    );
  // Production keys: after publish, the rows this run moved or merged that hold it; after a restore, any.
  if (when === 'publish') {
    const held = at >= 0 ? `(x.${newKey}->>${at})::${type}` : `p.${ident(key)}`;
    await db.query(
      `INSERT INTO ${SUBJECTS} SELECT q.rid, CASE WHEN x.outcome = 'merged' THEN 'merged' ELSE 'erase' END, ${prodSlots.join(', ')}
         FROM ${from} x ${join} JOIN ${REQ} q ON q.side = 'production' AND q.subject = ${held}
        WHERE x.outcome IN ('moved', 'merged')`,
      [runKey, t.name],
    );
  } else {
    await db.query(
      `INSERT INTO ${SUBJECTS} SELECT q.rid, 'erase', ${keyList('p', t.key)} FROM ${prod} p JOIN ${REQ} q ON q.side = 'production' AND q.subject = p.${ident(key)}`,
    );
  }
  // This run's earlier erasures, by the production key it logged.
  await db.query(
    `INSERT INTO ${SUBJECTS} SELECT q.rid, 'erase', ${t.key.map((k, i) => `(q.production->>${i})::${colType(k)}`).join(', ')} FROM ${REQ} q WHERE q.side = 'log'`,
  );
  return { requests, anyLogged };
}
