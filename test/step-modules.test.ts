// The table of step modules (common/steps/): what status, the evidence pack and document and the
// report derive from it. The built-in steps' pack keys (PACK_KEYS) must give the raw record exactly
// the keys, order and nulls it had when RunState.evidence() listed them by hand (auditors and the
// stored packs read that shape): the hand-written list is kept here as the reference.
import type { StepResults } from '../common/results';
import {
  builtInPackSections,
  STEP_MODULES,
  STEP_VIEWS,
  stepDocSections,
  stepPackSections,
  stepReportSections,
  stepStatusRows,
} from '../common/steps';

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
  const doc = stepDocSections(pack);
  expect(doc).toEqual({ notices });
  expect(stepReportSections(doc).map((s) => s.title)).toEqual(['Customer notices']);
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
    ['decommission', 'clean-start', 'finalize'],
    ['notices', 'selective', 'finalize'],
  ]);
});
