// Built-in access check: every subject row this run moved has a consent row matching
// consent.granted in the Pilot. Proven from the run's own record, not from staging (gone after
// finalize, and transformed): the moved subject keys come from cutover.id_map (Pilot key and production key)
// or, for ids: keep, from cutover.manifest, and are looked up in the Pilot
// as it is now, so consent withdrawn since the snapshot fails too. Keys cross in batches: no
// cross-database join, nothing written to the Pilot, memory bounded whatever the run's size.
import type { Client } from 'pg';
import type { AccessCheckResult } from '../../common/results';
import { allConditions, Binder } from '../db/conditions';
import { ident, qualified } from '../db/connect';
import { pilotColumn } from '../db/mapping-staging';
import type { Resolved } from '../db/resolve';
import { MAX_ROWS } from '../db/read-only-check';
import { PERSISTED_PAIRS } from '../db/row-identity';
import { inTransaction } from '../db/transaction';

export const CONSENT_CHECK = 'built-in:consent';
/** Moved subjects checked per round trip to the Pilot (memory bounded by it, whatever the run's size). */
const BATCH = 20000;
const NO_CONSENT = 'no consent row matching consent.granted in the Pilot';

interface Offender {
  k: unknown[];
  p: unknown[];
  subject: string | null;
  why: string;
}

export async function consentCheck(source: Client, target: Client, r: Resolved, runKey: string): Promise<AccessCheckResult | null> {
  const { subjects, consent } = r.rules;
  if (!subjects || !consent) return null;
  const started = Date.now();
  const t = subjects.table;
  const src = t.pilot; // read in the Pilot's own names (a mapped table renames them in staging)
  const consentType = consent.table.columns.find((c) => c.name === consent.subject)!.type;
  const pc = (k: string) => pilotColumn(t, k);
  const srcType = (k: string) => src.columns.find((c) => c.name === pc(k))!.type;
  const at = t.key.indexOf(subjects.key);
  // The subject is usually (part of) the key: its Pilot value is in the manifest. Otherwise read it
  // from the Pilot row with that key; a row gone from the Pilot cannot show consent.
  const join =
    at >= 0
      ? ''
      : `LEFT JOIN ${qualified(src.schema, src.name)} s ON ${t.key.map((k, i) => `s.${ident(pc(k))} = (x->'k'->>${i})::${srcType(k)}`).join(' AND ')}`;
  const subject = at >= 0 ? `(x->'k'->>${at})` : `s.${ident(pc(subjects.key))}::text`;
  const why =
    at >= 0
      ? `'${NO_CONSENT}'`
      : `CASE WHEN s.${ident(pc(t.key[0]))} IS NULL THEN 'subject row no longer in the Pilot' ELSE 'no consent row matching consent.granted in the Pilot' END`;
  const b = new Binder();
  const granted = allConditions(b, 'c', consent.granted, (col) => consent.table.columns.find((x) => x.name === col)!.type);
  const lookup = `SELECT x->'k' AS k, x->'p' AS p, ${subject} AS subject, ${why} AS why
                    FROM jsonb_array_elements($1::jsonb) x ${join}
                   WHERE NOT EXISTS (SELECT 1 FROM ${qualified(consent.table.schema, consent.table.name)} c
                                      WHERE c.${ident(consent.subject)} = ${subject}::${consentType} AND ${granted})`;

  // The usual case, the subject in the key: only the subjects cross, as one JSON array of strings per
  // batch (no object built or parsed per row), and the Pilot returns the subjects without consent;
  // their rows' keys are then taken from the batch itself. jsonb_array_elements_text, not unnest of
  // an array: the planner takes a set function for about 100 rows, so it probes the consent table's
  // index per subject; told the batch's real size it hashes the whole consent table for every batch,
  // which grows with the square of the subjects.
  const bySubject = `SELECT DISTINCT x.subject FROM jsonb_array_elements_text($1::jsonb) AS x(subject)
                      WHERE NOT EXISTS (SELECT 1 FROM ${qualified(consent.table.schema, consent.table.name)} c
                                         WHERE c.${ident(consent.subject)} = x.subject::${consentType} AND ${granted})`;

  const offenders: Offender[] = [];
  let count = 0;
  // Read only, and rolled back: one Pilot state for every batch, and Production read in one transaction.
  const readOnly = { readOnly: true, end: 'rollback' } as const;
  await inTransaction(
    source,
    () =>
      inTransaction(
        target,
        async () => {
          // Every row is read: plan the cursor for all of them, not its first rows.
          await target.query('SET LOCAL cursor_tuple_fraction = 1');
          await b.apply(source);
          // Each moved row's Pilot key and Production key, by the one identity model (activities/db/row-identity.ts).
          // Keys as JSON text (parsed only for the rows reported), the subject as text when it is in the key.
          await target.query(
            `DECLARE cutover_subjects NO SCROLL CURSOR FOR SELECT i.old_key::text AS k, i.new_key::text AS p${at >= 0 ? `, i.old_key->>${at} AS s` : ''}
               FROM (${PERSISTED_PAIRS}) i WHERE i.outcome = 'moved'`,
            [runKey, t.name],
          );
          // The next batch is fetched from production while the Pilot checks this one (two servers' work side by side).
          const fetchBatch = () => target.query<{ k: string; p: string; s?: string }>(`FETCH ${BATCH} FROM cutover_subjects`);
          let next = fetchBatch();
          for (;;) {
            const batch = await next;
            if (batch.rows.length === 0) break;
            next = fetchBatch();
            next.catch(() => undefined); // awaited next round; a failure of the Pilot lookup must not leave it unhandled
            if (at >= 0) {
              const bad = await source.query<{ subject: string }>(bySubject, [JSON.stringify(batch.rows.map((x) => x.s))]);
              if (bad.rows.length === 0) continue;
              const without = new Set(bad.rows.map((x) => x.subject));
              for (const x of batch.rows.filter((y) => without.has(y.s!))) {
                count++;
                if (offenders.length < MAX_ROWS)
                  offenders.push({ k: JSON.parse(x.k) as unknown[], p: JSON.parse(x.p) as unknown[], subject: x.s!, why: NO_CONSENT });
              }
              continue;
            }
            const rows = batch.rows.map((x) => ({ k: JSON.parse(x.k) as unknown, p: JSON.parse(x.p) as unknown }));
            const bad = await source.query<Offender>(lookup, [JSON.stringify(rows)]);
            count += bad.rows.length;
            offenders.push(...bad.rows.slice(0, MAX_ROWS - offenders.length));
          }
        },
        readOnly,
      ),
    { ...readOnly, isolation: 'REPEATABLE READ' },
  );
  const keyText = (k: unknown[]) => `(${t.key.join(', ')})=(${k.join(', ')})`;
  return {
    name: CONSENT_CHECK,
    kind: 'built-in',
    passed: count === 0,
    rows: offenders.map((o) => ({ table: t.name, pilotKey: keyText(o.k), productionKey: keyText(o.p), subject: o.subject, reason: o.why })),
    rowCount: count,
    error: null,
    durationMs: Date.now() - started,
  };
}
