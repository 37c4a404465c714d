// The dry-run report (preflight) as a terminal table.
import type { DryRunReport } from '../../common/results';
import { conflictsCell } from '../../common/conflicts';
import { formatReasons, renderTable } from './table';
import { MAPPING_HEADERS, mappingRows, mappingTitle } from '../../common/mapping-words';

export const DRY_RUN_HEADERS = ['order', 'table', 'ids', 'select', 'in scope', 'to move', 'merged', 'left behind', 'collisions'];

export function dryRunRows(report: DryRunReport): (string | number)[][] {
  return [...report.tables]
    .sort((a, b) => a.order - b.order)
    .map((t) => [t.order, t.table, t.ids, t.select, t.inScope, t.toMove, t.merged, formatReasons(t.leftBehind), conflictsCell(t)]);
}

export function formatDryRun(report: DryRunReport): string {
  const head = [
    `dry run of plan ${report.planId} (${report.source} → ${report.target})`,
    `plan hash: ${report.planHash}`,
    `at:        ${report.at}`,
    '',
  ];
  // clean-start moves nothing: its dry run is what the archive will hold, per table.
  if (report.tables.some((t) => t.archived !== undefined)) {
    const tables = [...report.tables].sort((a, b) => a.order - b.order);
    const archived = tables.reduce((a, t) => a + (t.archived ?? t.total), 0);
    return [
      ...head,
      renderTable(
        ['order', 'table', 'rows to archive'],
        tables.map((t) => [t.order, t.table, t.archived ?? t.total]),
      ),
      '',
      `total: ${archived} rows in ${tables.length} tables to archive, nothing to move`,
      ...(report.warnings.length ? ['', 'warnings:', ...report.warnings.map((w) => `  - ${w}`)] : ['warnings: none']),
    ].join('\n');
  }
  const lines = [...head, renderTable(DRY_RUN_HEADERS, dryRunRows(report))];
  const totals = report.tables.reduce(
    (acc, t) => ({ inScope: acc.inScope + t.inScope, toMove: acc.toMove + t.toMove, merged: acc.merged + t.merged }),
    { inScope: 0, toMove: 0, merged: 0 },
  );
  // Merged rows are in scope but neither inserted nor left behind: they reuse a production row.
  const leftBehind = totals.inScope - totals.toMove - totals.merged;
  lines.push('', `total: ${totals.inScope} rows in scope, ${totals.toMove} to move, ${totals.merged} merged, ${leftBehind} left behind`);
  // Mapped tables: every Production column's source and each dropped Pilot column, before anything runs.
  for (const m of [...report.tables].sort((a, b) => a.order - b.order).flatMap((t) => (t.mapping ? [t.mapping] : []))) {
    lines.push('', `mapping ${mappingTitle(m)}`, renderTable(MAPPING_HEADERS, mappingRows(m)));
  }
  // Retention: what each rule does to rows past its cutoff (measured from the dry run's snapshot; the run measures from stage's).
  for (const r of report.retention ?? []) {
    lines.push(
      `retention: ${r.table}.${r.column} older than ${r.olderThan} (before ${r.cutoff}, snapshot ${r.snapshotAt}): ${r.rows} row(s) ${r.action === 'anonymize' ? `move anonymized (${Object.keys(r.columns ?? {}).join(', ')})` : 'left behind as retention'}`,
    );
  }
  if (report.warnings.length) {
    lines.push('', 'warnings:', ...report.warnings.map((w) => `  - ${w}`));
  } else {
    lines.push('warnings: none');
  }
  return lines.join('\n');
}
