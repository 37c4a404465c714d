// The table of step modules (common/steps/): what status, the evidence pack and document and the
// report derive from it. The built-in steps' pack keys (PACK_KEYS) must give the raw record exactly
// the keys, order and nulls it had when RunState.evidence() listed them by hand (auditors and the
// stored packs read that shape): the hand-written list is kept here as the reference.
import { buildEvidence } from '../common/evidence';
import type { StepResults } from '../common/results';
import type { EvidencePack } from '../common/temporal';
import {
  arrange,
  builtInPackSections,
  STEP_MODULES,
  STEP_VIEWS,
  stepPackSections,
  stepReportEntries,
  stepStatusRows,
  stepStatusView,
} from '../common/steps';
import { buildReportModel } from '../client/format/report-model';
import { fullPack } from './helpers/full-pack';
import { STRATEGIES } from '../workflows/steps';

/** RunState.evidence()'s step part as it was written by hand before PACK_KEYS. */
function handWritten(r: StepResults): Record<string, unknown> {
  return {
    dryRun: r.preflight ?? null,
    stage: r.stage ?? null,
    cleanup: r.cleanup ?? null,
    publish: r.publish ?? null,
    validation: r.validate ?? null,
    accessChecks: r['access-checks'] ?? null,
    ...(r.erasure || r['erasure-final'] ? { erasure: r.erasure ?? null, erasureFinal: r['erasure-final'] ?? null } : {}),
    rollback: r.rollback ?? null,
    backups: r.backup ?? null,
    ...(r['restore-preview'] || r.restore ? { restorePreview: r['restore-preview'] ?? null, restore: r.restore ?? null } : {}),
    rehearsal: r.rehearsal ?? null,
  };
}

const some = (name: string) => ({ of: name }) as never;

test.each<[string, StepResults]>([
  ['no result yet', {}],
  ['a run that published', { preflight: some('p'), stage: some('s'), cleanup: some('c'), publish: some('u'), validate: some('v') }],
  ['only the final erasure pass', { publish: some('u'), 'erasure-final': some('f') }],
  ['a restore preview, no restore', { backup: some('b'), 'restore-preview': some('rp') }],
  ['everything', { erasure: some('e'), restore: some('r'), rehearsal: some('h'), rollback: some('rb'), 'access-checks': some('a') }],
])('the raw record keeps its keys, order and nulls: %s', (_, results) => {
  expect(JSON.stringify(builtInPackSections(results))).toBe(JSON.stringify(handWritten(results)));
});

const notices = {
  table: 'public.customer',
  subjects: 3,
  counts: { moved: 1, merged: 1, 'left-behind': 1, erased: 0 },
  leftBehindByReason: { 'test-account': 1 },
  files: [{ format: 'csv' as const, location: 'file:///x/notices.csv', sha256: 'a'.repeat(64), bytes: 10 }],
};

test('a module result flows unrenamed, under its step name, to the pack, the document, the report and the steps-done rows', () => {
  const results: StepResults = { stage: { tables: [{ table: 'public.customer', rows: 3 }] } as never, notices };
  expect(stepPackSections({})).toEqual({});
  const pack = stepPackSections(results);
  expect(pack).toEqual({ notices });
  const doc = buildEvidence({ ...fullPack, notices: undefined, decommission: undefined, ...pack } as EvidencePack);
  expect(doc.notices).toEqual(notices);
  expect('decommission' in doc).toBe(false);
  const entries = stepReportEntries(doc).filter((e) => e.name === 'notices');
  expect(entries.map((e) => e.value.map((s) => s.title))).toEqual([['Customer notices']]);
  expect(stepStatusRows(results, { planTables: 2 })).toEqual([
    ['stage', '1/2', '3 in scope'],
    ['notices', '1', '3 subject(s): 1 moved, 1 merged, 1 left behind, 0 erased'],
  ]);
});

test('every step is declared once, and each module names where it runs', () => {
  const names = STEP_VIEWS.map((v) => v.name);
  expect(new Set(names).size).toBe(names.length);
  for (const m of STEP_MODULES) expect(m.runs.before).toMatch(/^[a-z-]+$/);
  expect(STEP_MODULES.map((m) => [m.name, m.runs.strategy, m.runs.before])).toEqual([
    ['erasure', 'selective', 'erasure-final'],
    ['erasure-final', 'selective', 'finalize'],
    ['decommission', 'clean-start', 'finalize'],
    ['notices', 'selective', 'finalize'],
  ]);
});

// The document's keys as common/evidence.ts wrote them one by one before the steps placed their own
// sections (schemaVersion 1: auditors and stored documents read this order), the modules' after mapping.
const DOCUMENT_KEYS = [
  'schemaVersion',
  'run',
  'decision',
  'rules',
  'approvals',
  'refused',
  'dryRun',
  'backups',
  'rehearsal',
  'cleanup',
  'manifest',
  'idChanges',
  'consent',
  'testData',
  'audit',
  'validation',
  'accessChecks',
  'erasure',
  'rollback',
  'restore',
  'decommission',
  'notices',
  'checksums',
  'steps',
  'openItems',
];

test("the document iterates the step views: every section where it always was, each step's own", () => {
  const doc = buildEvidence(fullPack);
  expect(Object.keys(doc)).toEqual(DOCUMENT_KEYS);
  // Each step section is the view's: the raw record's result, read under the pack's key.
  expect(doc.dryRun).toBe(fullPack.dryRun);
  expect(doc.accessChecks).toBe(fullPack.accessChecks);
  expect(doc.backups.map((b) => [b.kind, b.verified, b.note ?? null])).toEqual([
    ['target', true, null],
    ['source', false, 'retried'],
  ]);
  expect(doc.rehearsal).toMatchObject({ mode: 'scratch', performed: true, note: null });
  expect(doc.erasure.passes.map((x) => x.step)).toEqual(['erasure', 'erasure-final']);
  expect(doc.rollback).toMatchObject({ mode: 'surgical', by: 'erin', reason: 'bad' });
  expect(doc.restore?.erasuresAfterRestore?.deleted).toEqual({ 'public.customer': 1 });
  // A run with none of them: the keys that are always there stay (null or []), the others are left out.
  const bare = buildEvidence({
    ...fullPack,
    backups: null,
    rehearsal: null,
    accessChecks: null,
    erasure: undefined,
    erasureFinal: undefined,
    rollback: null,
    restorePreview: undefined,
    restore: undefined,
    decommission: undefined,
    notices: undefined,
    plan: { id: 'x' },
  } as EvidencePack);
  expect(Object.keys(bare)).toEqual(DOCUMENT_KEYS.filter((k) => !['audit', 'decommission', 'notices'].includes(k)));
  expect([bare.backups, bare.accessChecks, bare.rollback, bare.restore]).toEqual([[], null, null, null]);
});

test("the report iterates the step views: each step's sections after their anchor, in the table's order", () => {
  const titles = buildReportModel(fullPack)
    .sections.filter((s) => s.level === 2)
    .map((s) => s.title);
  expect(titles).toEqual([
    'Summary',
    'Open items',
    'Plan hash',
    "The plan's rules in words",
    'Approvals',
    'Refused signals',
    'Dry run',
    'Backups',
    'Rehearsal',
    'What moved, what was merged, what stayed behind',
    'Test data, retention, consent, erasure, audit',
    'Access checks',
    'Checksums and what each covers',
    'Rollback',
    'Restore',
    'Steps',
    'Tables: stage, publish, validation',
    'Decommission',
    'Customer notices',
  ]);
  // Every anchor a view names is there: nothing fell to the end unplaced.
  const slots: [string, number][] = ['a', 'b'].map((n) => [n, 0]);
  expect(
    arrange(slots, [
      { name: 'c', after: 'a', value: 1 },
      { name: 'd', after: 'c', value: 2 },
      { name: 'e', after: 'a', value: 3 },
    ]),
  ).toEqual([
    ['a', 0],
    ['c', 1],
    ['d', 2],
    ['e', 3],
    ['b', 0],
  ]);
  expect(arrange(slots, [{ name: 'x', after: 'nowhere', value: 9 }]).at(-1)).toEqual(['x', 9]);
});

test("the status query's per-step fields come from the views", () => {
  const results = {
    backup: fullPack.backups,
    'restore-preview': fullPack.restorePreview,
    rehearsal: fullPack.rehearsal,
    stage: { tables: [] },
  } as unknown as StepResults;
  const view = stepStatusView(results);
  expect(Object.keys(view)).toEqual(['backups', 'restorePreview', 'rehearsal']);
  expect(view.backups?.map((b) => b.verified)).toEqual([true, false]);
  expect(view.restorePreview).toBe(fullPack.restorePreview);
  expect(view.rehearsal).toMatchObject({ ok: true, rollbackProven: true, failed: null });
  expect(stepStatusView({})).toEqual({});
});

test("the workflow runs the modules where the steps were: each strategy's steps in their order", () => {
  expect(STRATEGIES.selective.map((s) => s.name)).toEqual([
    'preflight',
    'gate:plan',
    'backup',
    'rehearsal',
    'gate:cutover',
    'stage',
    'cleanup',
    'publish',
    'validate',
    'access-checks',
    'erasure',
    'erasure-final',
    'notices',
    'finalize',
  ]);
  expect(STRATEGIES['clean-start'].map((s) => s.name)).toEqual([
    'preflight',
    'gate:plan',
    'backup',
    'gate:cutover',
    'decommission',
    'finalize',
  ]);
  const final = STRATEGIES.selective.find((s) => s.name === 'erasure-final')!;
  expect([final.keepsFailureDetails, final.skippable]).toEqual([true, false]);
});
