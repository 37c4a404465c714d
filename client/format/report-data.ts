// The report's data sections: per table what was in scope, moved, merged and left behind (with the
// root cause of every left-behind reason), where the row-by-row manifest and id map are and how to
// query them, the rules' counts, checksums with what each covers, the steps and the tables. Named
// slots of the one report model (report-model.ts), among which each step view places its own
// sections (dry run, backups, rehearsal, access checks, rollback, restore: common/steps/).
import type { EvidenceDocument } from '../../common/evidence';
import type { TableValidation } from '../../common/results';
import { adoptionSections, removedRows } from './report-adoption';
import { none, type ReportBlock, type ReportCell, type ReportSection } from '../../common/report-blocks';
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
          ...rows.map((t): ReportCell[] => [
            t.table,
            t.ids,
            t.inScope,
            t.moved,
            t.merged,
            t.leftBehind,
            formatReasons(t.leftBehindByReason),
            t.balanced,
          ]),
          [
            'total',
            '',
            m.totals.inScope,
            m.totals.moved,
            m.totals.merged,
            m.totals.leftBehind,
            '',
            m.totals.inScope === m.totals.moved + m.totals.merged + m.totals.leftBehind,
          ],
        ],
      },
    });
  } else blocks.push(none('validated counts (validate did not run)'));
  // Each chain with its own rows (a pack from before per-row causes: the reason's rows when it has one chain).
  const rowsOf = (t: (typeof rows)[number], reason: string, chain: string, chains: string[]) =>
    t.rootCauseRows?.[reason]?.[chain] ?? (chains.length === 1 ? t.leftBehindByReason[reason] : 'not recorded per chain');
  const validated = rows.flatMap((t) =>
    Object.entries(t.rootCauses).flatMap(([reason, chains]) =>
      chains.map((c): ReportCell[] => [t.table, reason, rowsOf(t, reason, c, chains), c]),
    ),
  );
  // Validate did not run (yet): what cleanup recorded, rather than "no rows left behind".
  const cleaned = validated.length || !d.cleanup ? [] : removedRows(d, { removed: d.cleanup.leftBehind, rootCauses: d.cleanup.rootCauses });
  const causes = validated.length ? validated : cleaned;
  const out: ReportSection[] = [{ title: 'What moved, what was merged, what stayed behind', level: 2, blocks }];
  out.push({
    title: 'Why rows stayed behind (root causes)',
    level: 3,
    blocks: causes.length
      ? [
          {
            text: `Each reason followed through parent-left-behind:<parent table> to the reason its parent rows stayed behind; every row is counted once, under the cause that left it behind first.${cleaned.length ? ' As cleanup recorded them: validate did not run.' : ''}`,
          },
          { table: { headers: ['table', 'reason', 'rows', 'root cause'], rows: causes } },
        ]
      : [
          d.adoption?.cleanup
            ? { text: 'adopt moves nothing: the rows its cleanup removed from the Pilot are under Adoption.' }
            : none('rows left behind'),
        ],
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
    out.push({
      title: 'Id changes',
      level: 3,
      blocks: [
        {
          table: {
            headers: ['table', 'strategy', 'matched on', 'rows given new keys', 'rows merged into existing', 'id pairs', 'keys changed'],
            rows: d.idChanges.tables.map((t) => [
              t.table,
              t.strategy,
              t.matchOn?.join(', ') ?? '',
              t.rowsRemapped,
              t.matchedExisting,
              t.pairs ?? '-',
              t.keysChanged ?? '-',
            ]),
          },
        },
      ],
    });
    if (d.idChanges.pairsFile)
      out.at(-1)!.blocks.push({
        text: `Id pairs: ${d.idChanges.pairsFile.rows} in ${d.idChanges.pairsFile.location} (sha256 ${d.idChanges.pairsFile.sha256}); \`cutover report <id> --ids\` prints them.`,
      });
  }
  return out;
}

function rulesCounts(d: EvidenceDocument): ReportSection {
  const blocks: ReportBlock[] = [];
  blocks.push(
    d.testData.length
      ? {
          table: {
            headers: ['test data rule', 'reason', 'rows left behind', 'rows left behind through it (cascade)'],
            rows: d.testData.map((t) => [t.where, t.reason, t.leftBehind, t.cascaded]),
          },
        }
      : none('test data rules'),
  );
  // Production's audit trail (packs from before it have no key): rows its triggers wrote because of the run.
  if (d.audit) {
    const a = d.audit;
    blocks.push({
      table: {
        headers: ['audit table', 'rows written for publish', 'rows written for rollback'],
        rows: a.tables.map((t) => [t, a.publish?.[t] ?? '-', a.rollback?.[t] ?? '-']),
      },
    });
    if (a.rule) blocks.push({ text: `Audit rows are proven by this rule: ${a.rule}. They are never rolled back.` });
  }
  // Retention (packs from before it have no key): each rule with its cutoff and the check after publish.
  if (d.retention?.length) {
    const check = d.retentionCheck ? (d.retentionCheck.passed ? 'passed' : `FAILED (${d.retentionCheck.rowCount} rows)`) : 'not checked';
    blocks.push({
      table: {
        headers: [
          'retention rule',
          'action',
          'snapshot time',
          'cutoff',
          'rows (dry run)',
          'rows left behind as retention',
          'rows anonymized',
          'left behind through it (cascade)',
          'checked after publish',
        ],
        rows: d.retention.map((r) => [
          `${r.table}.${r.column} older than ${r.olderThan}`,
          r.action,
          r.snapshotAt ?? '-',
          r.cutoff ?? '-',
          r.dryRun ?? '-',
          r.leftBehind ?? '-',
          r.anonymized ?? '-',
          r.cascaded,
          check,
        ]),
      },
    });
  }
  const c = d.consent;
  blocks.push(
    c
      ? {
          kv: [
            ['consent rule', c.rule],
            ['subjects', c.subjects],
            ['consents in the register', c.consentedInRegister],
            ['left behind as no-consent', c.leftBehind],
            ['left behind through it (cascade)', c.cascaded ?? ''],
            [
              'checked after publish',
              c.checkedAfterPublish
                ? c.checkedAfterPublish.passed
                  ? 'passed'
                  : `FAILED (${c.checkedAfterPublish.rowCount} rows)`
                : 'not checked',
            ],
          ],
        }
      : none('consent rule'),
  );
  const e = d.erasure;
  blocks.push({
    kv: [
      ['erasure registers', e.registers.join(' ') || 'none'],
      ['requests found', e.requestsFound],
      ['left behind as erasure-request', e.leftBehind],
      ['left behind through it (cascade)', e.cascaded ?? ''],
      ['applied in Production', e.appliedInProduction],
      ['subjects erased in Production', e.applied ?? 'not applied'],
      ['residue', e.residue ?? 'not checked'],
      ['note', e.note],
    ],
  });
  // Each pass after publish, per table and action (deleted = erased minus anonymized).
  const passRows = e.passes.flatMap((x) =>
    [...new Set([...Object.keys(x.rows), ...Object.keys(x.nullified ?? {})])]
      .sort()
      .map((t) => [x.step, t, (x.rows[t] ?? 0) - (x.anonymized[t] ?? 0), x.anonymized[t] ?? 0, x.nullified?.[t] ?? 0]),
  );
  if (passRows.length)
    blocks.push({ table: { headers: ['erasure pass', 'table', 'deleted', 'anonymized', 'reference set to NULL'], rows: passRows } });
  return { title: 'Test data, retention, consent, erasure, audit', level: 2, blocks };
}

function tableSection(d: EvidenceDocument, table: string): ReportSection {
  const dry = d.dryRun?.tables.find((t) => t.table === table);
  const staged = d.run.stage?.tables.find((t) => t.table === table);
  const published = d.run.publish?.tables.find((t) => t.table === table);
  const v: TableValidation | undefined = d.validation?.tables.find((t) => t.table === table);
  const kv: [string, ReportCell][] = [];
  if (dry)
    kv.push(['dry run: in scope', dry.inScope], ['dry run: to move', dry.toMove], ['dry run: left behind', formatReasons(dry.leftBehind)]);
  kv.push(['stage: rows staged', staged ? staged.rows : 'not staged']);
  kv.push(['publish: rows inserted', published ? published.inserted : 'not published']);
  if (published?.preExistingChecksum !== undefined) kv.push(['publish: pre-existing checksum', published.preExistingChecksum]);
  if (v) {
    kv.push(
      ['validation', v.ok ? 'ok' : 'FAILED'],
      [
        'in scope = moved + merged + left behind',
        `${v.inScope} = ${v.moved} + ${v.merged} + ${v.leftBehind}${v.inScope === v.moved + v.merged + v.leftBehind ? '' : ' (MISMATCH)'}`,
      ],
      ['staging checksum (moved rows as staged, after remapping)', v.stagingChecksum],
      ['production checksum (the same rows in Production)', v.productionChecksum],
      ['checksums match', v.stagingChecksum === v.productionChecksum],
    );
    if (v.changedSincePublish?.count) {
      kv.push([
        'published rows the application changed since publish (not compared)',
        `${v.changedSincePublish.count}: ${v.changedSincePublish.keys.slice(0, 10).join(' ')}${v.changedSincePublish.count > 10 ? ' …' : ''}`,
      ]);
    }
    if (v.preExistingBefore !== undefined) {
      kv.push(
        ["pre-existing rows before (Production's own rows)", v.preExistingBefore],
        ['pre-existing rows after', v.preExistingAfter ?? ''],
        ['pre-existing rows unchanged', v.preExistingBefore === v.preExistingAfter],
      );
    }
  } else kv.push(['validation', 'not validated']);
  const blocks: ReportBlock[] = [{ kv }];
  if (v?.problems.length) blocks.push({ notes: v.problems.map((p) => `problem: ${p}`) });
  return { title: `Table ${table}`, level: 3, blocks };
}

function checksums(d: EvidenceDocument): ReportSection {
  return {
    title: 'Checksums and what each covers',
    level: 2,
    blocks: [{ table: { headers: ['covers', 'value'], rows: d.checksums.map((c) => [c.covers, c.value]) } }],
  };
}

function steps(d: EvidenceDocument): ReportSection[] {
  const decided = (s: EvidenceDocument['steps'][number]) =>
    s.decisions.map((x) => `${x.outcome} by ${x.by}${x.reason ? `: ${x.reason}` : ''}`).join('; ');
  return [
    {
      title: 'Steps',
      level: 2,
      blocks: d.steps.length
        ? [
            {
              table: {
                headers: ['step', 'started', 'ended', 'outcome', 'attempts', 'decisions'],
                rows: d.steps.map((s) => [s.step, s.startedAt ?? '', s.endedAt ?? '', s.outcome, s.attempts, decided(s)]),
              },
            },
          ]
        : [none('steps')],
    },
    {
      title: 'Step history',
      level: 3,
      blocks: d.run.history.length
        ? [
            {
              table: {
                headers: ['at', 'step', 'outcome', 'detail'],
                rows: d.run.history.map((s) => [s.at, s.step, s.outcome, s.detail ?? '']),
              },
            },
          ]
        : [none('steps')],
    },
  ];
}

/** The data sections as named slots, in order (report-model.ts places the steps' sections among them). */
export function dataSections(d: EvidenceDocument): [slot: string, sections: ReportSection[]][] {
  const names = reportTableNames(d);
  const stageInfo: [string, ReportCell][] = [];
  if (d.run.stage) stageInfo.push(['staging schema', d.run.stage.schema], ['source snapshot', d.run.stage.snapshot ?? 'none']);
  const tables: ReportSection[] = [
    {
      title: 'Tables: stage, publish, validation',
      level: 2,
      blocks: names.length ? (stageInfo.length ? [{ kv: stageInfo }] : []) : [none('tables')],
    },
  ];
  for (const t of names) tables.push(tableSection(d, t));
  return [
    ['adoption', adoptionSections(d)],
    ['moved', movedAndStayed(d)],
    ['rules-counts', [rulesCounts(d)]],
    ['checksums', [checksums(d)]],
    ['steps', steps(d)],
    ['tables', tables],
  ];
}
