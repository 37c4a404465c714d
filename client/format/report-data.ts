// The report's data sections: per table what was in scope, moved, merged and left behind (with the
// root cause of every left-behind reason), where the row-by-row manifest and id map are and how to
// query them, the rules' counts, checks, checksums with what each covers, rollback and the steps.
// Part of the one report model (report-model.ts); the renderers never see anything else.
import type { EvidenceDocument } from '../../common/evidence';
import type { TableValidation } from '../../common/results';
import { none, type ReportBlock, type ReportCell, type ReportSection } from './report-model';
import { formatReasons } from './table';

/** Tables of a run in dry-run (FK) order, then any others as they appear. */
export function reportTableNames(d: EvidenceDocument): string[] {
  const names: string[] = [];
  const add = (t: string): void => void (names.includes(t) || names.push(t));
  [...(d.dryRun?.tables ?? [])].sort((a, b) => a.order - b.order).forEach((t) => add(t.table));
  d.run.stage?.tables.forEach((t) => add(t.table));
  d.run.publish?.tables.forEach((t) => add(t.table));
  d.validation?.tables.forEach((t) => add(t.table));
  return names;
}

function movedAndStayed(d: EvidenceDocument): ReportSection[] {
  const m = d.manifest;
  const order = reportTableNames(d);
  const rows = [...m.tables].sort((a, b) => order.indexOf(a.table) - order.indexOf(b.table));
  const blocks: ReportBlock[] = [{ text: `From ${m.where}, run key ${m.runKey}.` }];
  if (rows.length) {
    blocks.push({
      table: {
        headers: ['table', 'ids', 'in scope', 'moved', 'merged', 'left behind', 'left behind (reasons)', 'balanced'],
        rows: [
          ...rows.map((t): ReportCell[] => [t.table, t.ids, t.inScope, t.moved, t.merged, t.leftBehind, formatReasons(t.leftBehindByReason), t.balanced]),
          ['total', '', m.totals.inScope, m.totals.moved, m.totals.merged, m.totals.leftBehind, '', m.totals.inScope === m.totals.moved + m.totals.merged + m.totals.leftBehind],
        ],
      },
    });
  } else blocks.push(none('validated counts (validate did not run)'));
  const causes = rows.flatMap((t) => Object.entries(t.rootCauses).flatMap(([reason, chains]) => chains.map((c): ReportCell[] => [t.table, reason, t.leftBehindByReason[reason], c])));
  const out: ReportSection[] = [{ title: 'What moved, what was merged, what stayed behind', level: 2, blocks }];
  out.push({
    title: 'Why rows stayed behind (root causes)',
    level: 3,
    blocks: causes.length
      ? [{ text: 'Each reason followed through parent-left-behind:<parent table> to the reason its parent rows stayed behind.' }, { table: { headers: ['table', 'reason', 'rows', 'root cause'], rows: causes } }]
      : [none('rows left behind')],
  });
  out.push({
    title: 'Row by row: the manifest and the id map',
    level: 3,
    blocks: [
      { text: `Manifest: ${m.where}.` },
      { text: `Id map: ${d.idChanges.where}.` },
      ...[...m.queries, ...d.idChanges.queries].map((q): ReportBlock => ({ code: { lang: 'sql', lines: [`-- ${q.what}`, q.sql] } })),
    ],
  });
  if (d.idChanges.tables.length) {
    out.push({ title: 'Id changes', level: 3, blocks: [{ table: { headers: ['table', 'strategy', 'matched on', 'rows given new keys', 'rows merged into existing', 'id pairs', 'keys changed'], rows: d.idChanges.tables.map((t) => [t.table, t.strategy, t.matchOn?.join(', ') ?? '', t.rowsRemapped, t.matchedExisting, t.pairs ?? '-', t.keysChanged ?? '-']) } }] });
    if (d.idChanges.pairsFile) out.at(-1)!.blocks.push({ text: `Id pairs: ${d.idChanges.pairsFile.rows} in ${d.idChanges.pairsFile.location} (sha256 ${d.idChanges.pairsFile.sha256}); \`cutover report <id> --ids\` prints them.` });
  }
  return out;
}

function rulesCounts(d: EvidenceDocument): ReportSection {
  const blocks: ReportBlock[] = [];
  blocks.push(d.testData.length
    ? { table: { headers: ['test data rule', 'reason', 'rows left behind', 'rows left behind through it (cascade)'], rows: d.testData.map((t) => [t.where, t.reason, t.leftBehind, t.cascaded]) } }
    : none('test data rules'));
  const c = d.consent;
  blocks.push(c
    ? { kv: [['consent rule', c.rule], ['subjects', c.subjects], ['consents in the register', c.consentedInRegister], ['left behind as no-consent', c.leftBehind], ['checked after publish', c.checkedAfterPublish ? (c.checkedAfterPublish.passed ? 'passed' : `FAILED (${c.checkedAfterPublish.rowCount} rows)`) : 'not checked']] }
    : none('consent rule'));
  const e = d.erasure;
  blocks.push({ kv: [['erasure registers', e.registers.join(' ') || 'none'], ['requests found', e.requestsFound], ['left behind as erasure-request', e.leftBehind], ['applied in Production', e.appliedInProduction], ['subjects erased in Production', e.applied ?? 'not applied'], ['residue', e.residue ?? 'not checked'], ['note', e.note]] });
  return { title: 'Test data, consent, erasure', level: 2, blocks };
}

function tableSection(d: EvidenceDocument, table: string): ReportSection {
  const dry = d.dryRun?.tables.find((t) => t.table === table);
  const staged = d.run.stage?.tables.find((t) => t.table === table);
  const published = d.run.publish?.tables.find((t) => t.table === table);
  const v: TableValidation | undefined = d.validation?.tables.find((t) => t.table === table);
  const kv: [string, ReportCell][] = [];
  if (dry) kv.push(['dry run: in scope', dry.inScope], ['dry run: to move', dry.toMove], ['dry run: left behind', formatReasons(dry.leftBehind)]);
  kv.push(['stage: rows staged', staged ? staged.rows : 'not staged']);
  kv.push(['publish: rows inserted', published ? published.inserted : 'not published']);
  if (published?.preExistingChecksum !== undefined) kv.push(['publish: pre-existing checksum', published.preExistingChecksum]);
  if (v) {
    kv.push(
      ['validation', v.ok ? 'ok' : 'FAILED'],
      ['in scope = moved + merged + left behind', `${v.inScope} = ${v.moved} + ${v.merged} + ${v.leftBehind}${v.inScope === v.moved + v.merged + v.leftBehind ? '' : ' (MISMATCH)'}`],
      ['staging checksum (moved rows as staged, after remapping)', v.stagingChecksum],
      ['production checksum (the same rows in Production)', v.productionChecksum],
      ['checksums match', v.stagingChecksum === v.productionChecksum],
    );
    if (v.changedSincePublish?.count) {
      kv.push(['published rows the application changed since publish (not compared)', `${v.changedSincePublish.count}: ${v.changedSincePublish.keys.slice(0, 10).join(' ')}${v.changedSincePublish.count > 10 ? ' …' : ''}`]);
    }
    if (v.preExistingBefore !== undefined) {
      kv.push(
        ['pre-existing rows before (Production\'s own rows)', v.preExistingBefore],
        ['pre-existing rows after', v.preExistingAfter ?? ''],
        ['pre-existing rows unchanged', v.preExistingBefore === v.preExistingAfter],
      );
    }
  } else kv.push(['validation', 'not validated']);
  const blocks: ReportBlock[] = [{ kv }];
  if (v?.problems.length) blocks.push({ notes: v.problems.map((p) => `problem: ${p}`) });
  return { title: `Table ${table}`, level: 3, blocks };
}

function checks(d: EvidenceDocument): ReportSection[] {
  const a = d.accessChecks;
  const out: ReportSection[] = [{
    title: 'Access checks',
    level: 2,
    blocks: a ? [{ table: { headers: ['check', 'kind', 'passed', 'offending rows', 'error'], rows: a.checks.map((c) => [c.name, c.kind, c.passed, c.rowCount, c.error ?? '']) } }] : [none('access checks run')],
  }];
  out.push({ title: 'Checksums and what each covers', level: 2, blocks: [{ table: { headers: ['covers', 'value'], rows: d.checksums.map((c) => [c.covers, c.value]) } }] });
  const r = d.rollback;
  out.push({
    title: 'Rollback',
    level: 2,
    blocks: r
      ? [
          { kv: [['mode', r.mode], ['requested by', r.by], ['reason', r.reason], ['at', r.at], ['every inserted row gone', r.proof.insertedRowsGone], ['Production', r.proof.production]] },
          { table: { headers: ['table', 'inserted by the run', 'deleted', 'already gone', 'checksum back to before publish'], rows: r.undone.map((t) => [t.table, t.inserted, t.deleted, t.alreadyGone, t.equal]) } },
          ...(r.proof.summary.length ? [{ notes: r.proof.summary }] : []),
        ]
      : [none('rollback')],
  });
  return out;
}

function steps(d: EvidenceDocument): ReportSection[] {
  const decided = (s: EvidenceDocument['steps'][number]) => s.decisions.map((x) => `${x.outcome} by ${x.by}${x.reason ? `: ${x.reason}` : ''}`).join('; ');
  return [
    {
      title: 'Steps',
      level: 2,
      blocks: d.steps.length
        ? [{ table: { headers: ['step', 'started', 'ended', 'outcome', 'attempts', 'decisions'], rows: d.steps.map((s) => [s.step, s.startedAt ?? '', s.endedAt ?? '', s.outcome, s.attempts, decided(s)]) } }]
        : [none('steps')],
    },
    {
      title: 'Step history',
      level: 3,
      blocks: d.run.history.length ? [{ table: { headers: ['at', 'step', 'outcome', 'detail'], rows: d.run.history.map((s) => [s.at, s.step, s.outcome, s.detail ?? '']) } }] : [none('steps')],
    },
  ];
}

export function dataSections(d: EvidenceDocument): ReportSection[] {
  const out: ReportSection[] = [...movedAndStayed(d), rulesCounts(d), ...checks(d), ...steps(d)];
  const names = reportTableNames(d);
  const stageInfo: [string, ReportCell][] = [];
  if (d.run.stage) stageInfo.push(['staging schema', d.run.stage.schema], ['source snapshot', d.run.stage.snapshot ?? 'none']);
  out.push({ title: 'Tables: stage, publish, validation', level: 2, blocks: names.length ? (stageInfo.length ? [{ kv: stageInfo }] : []) : [none('tables')] });
  for (const t of names) out.push(tableSection(d, t));
  return out;
}
