// The report's adoption sections (strategy adopt): the Pilot adopted as Production from a date, the
// rows its in-place cleanup removed from the Pilot (per table, per reason and per chain of causes,
// each row once), the proof, and a rollback's restore. An adopt run has no publish or validate, so
// without these the md/HTML reports would say nothing was removed.
import type { EvidenceDocument } from '../../common/evidence';
import { none, type ReportBlock, type ReportCell, type ReportSection } from '../../common/report-blocks';
import { formatReasons } from './table';

type Adoption = NonNullable<EvidenceDocument['adoption']>;
type Cleaned = NonNullable<Adoption['cleanup']>;

/** Tables in the dry run's (FK) order, then any others. */
const inOrder = <T>(d: EvidenceDocument, rec: Record<string, T>): [string, T][] => {
  const order = [...(d.dryRun?.tables ?? [])].sort((a, b) => a.order - b.order).map((t) => t.table);
  const at = (t: string) => (order.includes(t) ? order.indexOf(t) : order.length);
  return Object.entries(rec).sort(([a], [b]) => at(a) - at(b));
};

/** table, reason, rows, chain: from a cleanup's per-row chains when recorded, else per reason. */
export function removedRows(d: EvidenceDocument, c: Pick<Cleaned, 'removed' | 'rootCauses'>): ReportCell[][] {
  const out: ReportCell[][] = [];
  for (const [table, reasons] of inOrder(d, c.removed)) {
    for (const [reason, n] of Object.entries(reasons)) {
      const chains = c.rootCauses?.[table]?.[reason];
      if (chains) for (const [chain, rows] of Object.entries(chains)) out.push([table, reason, rows, chain]);
      else out.push([table, reason, n, reason.startsWith('parent-left-behind:') ? 'not recorded per chain' : reason]);
    }
  }
  return out;
}

export function adoptionSections(d: EvidenceDocument): ReportSection[] {
  const a = d.adoption;
  if (!a) return [];
  const c = a.cleanup;
  const blocks: ReportBlock[] = [
    {
      kv: [
        ['adopted as Production from', a.adopt?.adoptFrom ?? a.adoptFrom ?? 'not given'],
        ['adoption recorded at', a.adopt?.recordedAt ?? 'not adopted'],
        ['Pilot database', c?.database ?? a.adopt?.database ?? ''],
        ['cleaned in place at', c?.cleanedAt ?? 'not cleaned'],
        ['rows removed from the Pilot', c ? c.manifestRows : 'none: the in-place cleanup did not run'],
        ['erased subjects logged (cutover.erasure_log)', c ? c.erasureLog : ''],
      ],
    },
  ];
  if (c) {
    blocks.push(
      { text: "Rows removed from the Pilot, per table (each in the Pilot's cutover.manifest with its reason, outcome left-behind):" },
      {
        table: {
          headers: ['table', 'rows deleted from the Pilot', 'by reason'],
          rows: inOrder(d, c.deleted).map(([t, n]) => [t, n, formatReasons(c.removed[t] ?? {})]),
        },
      },
      { text: 'Why: every removed row once, under the cause that removed it first.' },
      removedRows(d, c).length
        ? { table: { headers: ['table', 'reason', 'rows', 'root cause'], rows: removedRows(d, c) } }
        : none('rows removed'),
      { notes: c.proof },
    );
  }
  const out: ReportSection[] = [{ title: 'Adoption: the Pilot cleaned in place', level: 2, blocks }];
  const r = a.restore;
  if (r) {
    out.push({
      title: 'Adoption rolled back: the Pilot restored',
      level: 3,
      blocks: [
        {
          kv: [
            ['restored at', r.restoredAt],
            ['from backup', `${r.backup.location} (sha256 ${r.backup.sha256})`],
            ['erasure requests re-applied (subjects)', r.erasures.subjects],
            ['rows erased again', formatReasons(r.erasures.rows)],
          ],
        },
        {
          table: {
            headers: ['table', 'before', 'removed by the cleanup', 'restored', 'erased again', 'after'],
            rows: r.tables.map((t) => [t.table, t.before, t.removedByCleanup, t.restored, t.reErased, t.after]),
          },
        },
        ...(r.proof.length ? [{ notes: r.proof }] : []),
      ],
    });
  }
  return out;
}
