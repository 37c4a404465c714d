// Step `restore` (rollback by restore)'s view: its row in the steps-done table, its evidence section
// (`restore`: what the approvers were shown — step restore-preview's result —, what the restore did,
// and the erasures it re-applied, rows per table) and the report's "Restore" sections. The erasure
// section reads it too (erasure.ts). Its running half is the workflow's (workflows/restore.ts).
import type { EvidenceDocument, EvidenceRestore } from '../evidence';
import { none, type ReportSection } from '../report-blocks';
import { defineStepView } from '../step-module';
import type { EvidencePack } from '../temporal';
import { of, sum } from './counts';

/** The restore section from the raw record (null: neither a preview nor a restore). */
export function restoreOf(p: EvidencePack): EvidenceRestore | null {
  const pv = p.restorePreview ?? null;
  const r = p.restore ?? null;
  if (!pv && !r) return null;
  const decision = p.decision?.action === 'rollback' ? p.decision : null;
  const e = r?.erasures;
  return {
    by: decision?.by ?? null,
    reason: decision?.reason ?? null,
    preview: pv
      ? { measuredAt: pv.measuredAt, backup: pv.backup, summary: pv.summary, tables: pv.tables, erasures: pv.erasures ?? null }
      : null,
    result: r ? { restoredAt: r.restoredAt, backup: r.backup, tables: r.tables, verification: r.verification } : null,
    erasuresAfterRestore: e
      ? {
          requests: e.requests,
          deleted: Object.fromEntries(
            Object.entries(e.rows)
              .map(([t, n]) => [t, n - (e.anonymized?.[t] ?? 0)] as const)
              .filter(([, n]) => n > 0),
          ),
          anonymized: Object.fromEntries(Object.entries(e.anonymized ?? {}).filter(([, n]) => n > 0)),
          nullified: e.nullified ?? {},
          applications: e.applications,
          more: e.more,
        }
      : null,
  };
}

const perTable = (x: Record<string, number>) =>
  Object.entries(x)
    .map(([t, n]) => `${t} ${n}`)
    .join(', ') || '0';

/** Rollback by restore: the preview the approvers saw, the result, and the erasures re-applied after it, rows per table. */
function restoreSections(d: EvidenceDocument): ReportSection[] {
  const r = d.restore;
  if (!r) return [];
  const pv = r.preview;
  const res = r.result;
  const e = r.erasuresAfterRestore;
  const erasureRows = (x: { deleted: Record<string, number>; anonymized: Record<string, number>; nullified: Record<string, number> }) => {
    const tables = [...new Set([...Object.keys(x.deleted), ...Object.keys(x.anonymized), ...Object.keys(x.nullified)])].sort();
    return tables.map((t) => [t, x.deleted[t] ?? 0, x.anonymized[t] ?? 0, x.nullified[t] ?? 0]);
  };
  const headers = ['table', 'deleted', 'anonymized', 'reference set to NULL'];
  return [
    {
      title: 'Restore',
      level: 2,
      blocks: [
        {
          kv: [
            ['requested by', r.by],
            ['reason', r.reason],
            ['restored at', res?.restoredAt ?? 'not restored'],
            ['backup', res?.backup.location ?? pv?.backup ?? ''],
            ['backup sha256', res?.backup.sha256 ?? ''],
          ],
        },
      ],
    },
    {
      title: 'Restore preview (what the approvers were shown)',
      level: 3,
      blocks: pv
        ? [
            { kv: [['measured at', pv.measuredAt]] },
            {
              table: {
                headers: [
                  'table',
                  'backup rows',
                  'rows now',
                  'inserted by the run',
                  'added by others',
                  'removed by others',
                  'changed by others',
                ],
                rows: pv.tables.map((t) => [t.table, t.backupRows, t.nowRows, t.insertedByRun, t.added, t.removed, t.changed]),
              },
            },
            { notes: pv.summary },
            ...(pv.erasures
              ? [
                  { text: `Erasures the restore would re-apply: ${pv.erasures.requests} request(s).` },
                  { table: { headers, rows: erasureRows(pv.erasures) } },
                ]
              : []),
          ]
        : [none('restore preview')],
    },
    {
      title: 'Restore result',
      level: 3,
      blocks: res
        ? [
            {
              table: {
                headers: ['table', 'rows before', 'deleted', 'restored from the backup', 'erased', 'rows after', 'backup rows', 'ok'],
                rows: res.tables.map((t) => [t.table, t.before, t.deleted, t.restored, t.erased, t.after, t.backupRows, t.ok]),
              },
            },
            { notes: res.verification },
          ]
        : [none('restore result (the restore did not run)')],
    },
    {
      title: 'Erasures after the restore',
      level: 3,
      blocks: e
        ? [
            {
              kv: [
                ['requests re-applied', e.requests],
                ['rows deleted', perTable(e.deleted)],
                ['rows anonymized', perTable(e.anonymized)],
                ['references set to NULL', perTable(e.nullified)],
              ],
            },
            { table: { headers, rows: erasureRows(e) } },
          ]
        : [none('erasures after the restore')],
    },
  ];
}

export const restore = defineStepView<'restore'>({
  name: 'restore',
  status: (r, run) => [of(r.tables.length, run), `${sum(r.tables.map((t) => t.restored))} restored`],
  document: { key: 'restore', after: 'rollback', section: ({ pack }) => restoreOf(pack) },
  reportAt: { after: 'rollback', sections: restoreSections },
});
