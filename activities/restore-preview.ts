// Before gate `restore` asks anyone to approve a rollback by restore: what would it discard? For
// each plan table, production now against the verified target backup's rows (loaded from a scratch
// restore, see db/backup-rows.ts), leaving out this run's own rows (cutover.manifest / id map):
//   writtenSinceBackup = rows now - rows in the backup - this run's rows still there (the count the
//   issue asks for: others' inserts net of their deletes), and by key, exactly, the rows others
//   added, removed or changed since the backup, with up to 5 example keys. Then the erasures the
//   restore would re-apply (db/erasure-reapply.ts, subjects by their production identity), run on
//   the backup's rows in session temp tables — what the restore would write — rows per table and
//   action. Read only: production is not written; the transaction is rolled back; the scratch
//   database is dropped.
import type { Client } from 'pg';
import type { RestoreInput, RestorePreview, RestorePreviewErasures, RestorePreviewTable } from '../common/results';
import { backupCount, backupRowsTable, loadBackupRows, restoredColumns, withRestoredBackup } from './db/backup-rows';
import { ident, qualified, resolveAlias } from './db/connect';
import { anonymizeRules, applyErasures } from './db/erasure-reapply';
import { withContext } from './db/keep-alive';
import { keyEquals, keyJson, keyList, slotsEqual } from './db/keys';
import type { ResolvedTable } from './db/resolve';
import { loadRunRows, runRowsTable } from './db/run-rows';
import { inTransaction } from './db/transaction';

const EXAMPLES = 5;

export async function restorePreview(input: RestoreInput): Promise<RestorePreview> {
  return withContext(input.plan, async ({ source, target, resolved }) =>
    withRestoredBackup(resolveAlias(input.plan.target), input.runKey, input.backup, async (scratch, sha256) => {
      // Measured, never kept: the backup's rows and the erasure's trial run are rolled back.
      return inTransaction(
        target,
        async () => {
          await loadBackupRows(scratch, target, resolved, input.backup);
          const tables: RestorePreviewTable[] = [];
          for (const t of resolved.tables) tables.push(await measure(target, input, t));
          const sum = (f: (x: RestorePreviewTable) => number) => tables.reduce((a, x) => a + f(x), 0);
          const e = await applyErasures(target, source, resolved, {
            runKey: input.runKey,
            step: 'restore',
            when: 'restore',
            anonymize: anonymizeRules(resolved),
            rel: backupRowsTable,
            log: false,
          });
          const erasures: RestorePreviewErasures = {
            requests: e.requests,
            deleted: Object.fromEntries(
              Object.entries(e.rows)
                .map(([t, n]) => [t, n - (e.anonymized[t] ?? 0)])
                .filter(([, n]) => (n as number) > 0),
            ),
            anonymized: Object.fromEntries(Object.entries(e.anonymized).filter(([, n]) => n > 0)),
            nullified: e.nullified,
            applications: e.applications,
            more: e.more,
          };
          const total = (x: Record<string, number>) => Object.values(x).reduce((a, n) => a + n, 0);
          const perTable = (x: Record<string, number>) =>
            resolved.tables
              .filter((t) => x[t.name])
              .map((t) => `${t.name} ${x[t.name]}`)
              .join(', ');
          return {
            backup: input.backup.location,
            sha256,
            measuredAt: new Date().toISOString(),
            tables,
            summary: [
              `a restore would discard ${sum((x) => x.insertedByRun)} rows this run inserted and ${sum((x) => x.added)} rows others added since the backup, ` +
                `bring back ${sum((x) => x.removed)} rows others deleted and set back ${sum((x) => x.changed)} rows others changed`,
              ...tables
                .filter((x) => x.added + x.removed + x.changed > 0)
                .map(
                  (x) =>
                    `${x.table}: ${x.added} added, ${x.removed} removed, ${x.changed} changed by others since the backup${x.examples.length ? ` (e.g. ${x.examples.join('; ')})` : ''}`,
                ),
              ...(resolved.rules.registers.length === 0
                ? []
                : [
                    `then ${e.requests} erasure request(s) would be re-applied (each subject by its production key): ` +
                      `${total(erasures.deleted)} rows deleted${total(erasures.deleted) ? ` (${perTable(erasures.deleted)})` : ''}, ` +
                      `${total(erasures.anonymized)} anonymized${total(erasures.anonymized) ? ` (${perTable(erasures.anonymized)})` : ''}, ` +
                      `${total(erasures.nullified)} kept with a reference set to NULL${total(erasures.nullified) ? ` (${perTable(erasures.nullified)})` : ''}`,
                  ]),
            ],
            erasures,
          };
        },
        { isolation: 'REPEATABLE READ', end: 'rollback' },
      );
    }),
  );
}

async function measure(db: Client, input: RestoreInput, t: ResolvedTable): Promise<RestorePreviewTable> {
  await loadRunRows(db, input.runKey, t);
  const prod = qualified(t.target.schema, t.target.name);
  const bk = backupRowsTable(t);
  const cols = restoredColumns(t);
  const row = (a: string) => `ROW(${cols.map((c) => `${a}.${ident(c)}`).join(', ')})::text`;
  const ours = `EXISTS (SELECT 1 FROM ${runRowsTable(t)} r WHERE ${slotsEqual('r', 'k', 'p', t.key)})`;
  const inBackup = `EXISTS (SELECT 1 FROM ${bk} b WHERE ${keyEquals('b', 'p', t.key)})`;
  const counts = (
    await db.query<{ now: string; ours: string; added: string; changed: string; removed: string }>(
      `SELECT (SELECT count(*) FROM ${prod})::text AS now,
              (SELECT count(*) FROM ${prod} p WHERE ${ours})::text AS ours,
              (SELECT count(*) FROM ${prod} p WHERE NOT ${ours} AND NOT ${inBackup})::text AS added,
              (SELECT count(*) FROM ${prod} p JOIN ${bk} b ON ${keyEquals('b', 'p', t.key)} WHERE ${row('p')} IS DISTINCT FROM ${row('b')})::text AS changed,
              (SELECT count(*) FROM ${bk} b WHERE NOT EXISTS (SELECT 1 FROM ${prod} p WHERE ${keyEquals('b', 'p', t.key)}))::text AS removed`,
    )
  ).rows[0];
  const examples = await db.query<{ k: unknown[] }>(
    `SELECT ${keyJson('p', t.key)} AS k FROM ${prod} p
      WHERE NOT ${ours} AND (NOT ${inBackup} OR EXISTS (SELECT 1 FROM ${bk} b WHERE ${keyEquals('b', 'p', t.key)} AND ${row('p')} IS DISTINCT FROM ${row('b')}))
      ORDER BY ${keyList('p', t.key)} LIMIT ${EXAMPLES}`,
  );
  const backupRows = backupCount(input.backup, t);
  const n = (x: string) => Number(x);
  return {
    table: t.name,
    backupRows,
    nowRows: n(counts.now),
    insertedByRun: n(counts.ours),
    writtenSinceBackup: n(counts.now) - backupRows - n(counts.ours),
    added: n(counts.added),
    removed: n(counts.removed),
    changed: n(counts.changed),
    examples: examples.rows.map((x) => `(${t.key.join(', ')})=(${x.k.join(', ')})`),
  };
}
