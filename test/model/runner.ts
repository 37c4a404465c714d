// Drives one case through the real workflow and worker on real PostgreSQL (fresh Pilot and
// Production databases, dropped afterwards) and compares every observable with the oracle:
// the dry run's counts, the rehearsal's, Production's contents and cutover.manifest after publish,
// Production after a surgical rollback (exactly as before) and after a restore (the backup less
// the erased people), the Pilot after adopt, and nothing written anywhere by clean-start; and the
// evidence pack's counts at each of those points (evidence.ts).
// Returns the list of differences (empty: the product agrees with the model).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { approveSignal, reportQuery, resumeUpdate, statusQuery, TERMINAL_STATUSES, type StatusView } from '../../common/temporal';
import { checkerRole, createDb, dropDb, rows } from '../helpers/pg';
import { acknowledging, atGate, startRun, waitFor } from '../helpers/run';
import { keyText, type Case, type Row } from './case';
import { adoptOracle, canonical, lateErasureOracle, oracle, restoreOracle, type Expect } from './oracle';
import { pilotSql, planFor, prodSql, readRows, subjectValue } from './sql';
import {
  compareAdoptEvidence,
  compareErasureEvidence,
  compareRestoreEvidence,
  compareRollbackEvidence,
  compareRunEvidence,
  evidenceOf,
} from './evidence';

const STEP_TIMEOUT = 180000;
let counter = 0;
/** The read-only role access checks run as (one per test process; model.test.ts drops it at the end). */
export const checker = checkerRole('cutover_model');

/** Stopped: waiting at a gate, paused, or finished. */
const settled = (s: StatusView) => s.status === 'awaiting-approval' || s.status === 'paused' || TERMINAL_STATUSES.includes(s.status);

/** Rows as text, keys ascending (the order rows are listed in means nothing). */
const exact = (rs: Row[][]) => JSON.stringify(rs.map((t) => [...t].sort((a, b) => a.id - b.id)));

export interface CaseOutcome {
  problems: string[];
  paths: string[]; // what was exercised: run, rehearsal, rollback, restore, adopt, clean-start
}

export async function runCase(env: TestWorkflowEnvironment, c: Case): Promise<CaseOutcome> {
  const tag = `m${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const pilot = await createDb(`cutover_${tag}_pilot`, pilotSql(c));
  const prod = await createDb(`cutover_${tag}_prod`, prodSql(c, checker.sql));
  const store = mkdtempSync(path.join(tmpdir(), 'cutover-model-'));
  process.env.CUTOVER_DB_PILOT = pilot;
  process.env.CUTOVER_DB_PRODUCTION = prod;
  const problems: string[] = [];
  const paths: string[] = [];
  let handle: WorkflowHandle | undefined;
  try {
    const plan = planFor(c, tag.replace(/_/g, '-'), store, checker.name);
    handle = await startRun(env, plan, 'alice');
    if (c.path === 'clean-start') await cleanStart(c, handle, pilot, prod, problems);
    else if (c.path === 'adopt') await adopt(c, handle, pilot, prod, problems);
    else await selective(c, handle, pilot, prod, problems, paths);
    paths.push(c.path);
  } finally {
    // A finished run is awaited (its last activity may still be writing); one left waiting or
    // paused (a refusal, or a difference found early) is ended so the next case starts clean.
    if (handle) await settle(handle);
    // MODEL_KEEP_DBS=1 keeps a case's databases for a look (names on stderr).
    if (process.env.MODEL_KEEP_DBS === '1') process.stderr.write(`kept cutover_${tag}_pilot, cutover_${tag}_prod\n`);
    else {
      await dropDb(`cutover_${tag}_pilot`);
      await dropDb(`cutover_${tag}_prod`);
    }
    rmSync(store, { recursive: true, force: true });
  }
  return { problems, paths };
}

async function settle(handle: WorkflowHandle) {
  const d = await handle.describe().catch(() => undefined);
  if (d?.status.name !== 'RUNNING') return;
  const s = await handle.query(statusQuery).catch(() => undefined);
  if (s && TERMINAL_STATUSES.includes(s.status)) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise((r) => (timer = setTimeout(r, 60000)));
    const finished = await Promise.race([
      handle.result().then(
        () => true,
        () => true,
      ),
      late,
    ]).finally(() => clearTimeout(timer));
    if (finished) return;
  }
  await handle.terminate('model test case done').catch(() => undefined);
}

async function cleanStart(c: Case, handle: WorkflowHandle, pilot: string, prod: string, problems: string[]) {
  const pilotBefore = exact(await readRows(c, pilot));
  const prodBefore = exact(await readRows(c, prod, 'prod'));
  await approveThrough(handle, ['plan', 'cutover'], problems);
  const s = await waitFor(handle, settled, STEP_TIMEOUT);
  if (s.status !== 'completed') return problems.push(`clean-start ended ${s.status} (${s.phase}): ${s.error?.type} ${s.error?.message}`);
  const dry = (await handle.query(reportQuery)).dryRun!;
  c.tables.forEach((_, i) => {
    const t = dry.tables.find((x) => x.table === `public.t${i}`);
    if (t?.total !== c.pilot[i].length || t?.toMove !== 0)
      problems.push(`clean-start dry run public.t${i}: total ${t?.total} toMove ${t?.toMove}, expected ${c.pilot[i].length} and 0`);
  });
  if (exact(await readRows(c, prod, 'prod')) !== prodBefore) problems.push('clean-start changed Production');
  if (exact(await readRows(c, pilot)) !== pilotBefore) problems.push('clean-start changed the Pilot');
  if ((await rows(prod, "SELECT 1 FROM pg_namespace WHERE nspname = 'cutover'")).length)
    problems.push('clean-start created schema cutover in Production');
}

async function adopt(c: Case, handle: WorkflowHandle, pilot: string, prod: string, problems: string[]) {
  const want = adoptOracle(c);
  const prodBefore = exact(await readRows(c, prod, 'prod'));
  const atPlan = await waitFor(handle, settled, STEP_TIMEOUT);
  if (!atGate('plan')(atPlan))
    return problems.push(`adopt: expected gate plan, got ${atPlan.status} ${atPlan.phase}: ${atPlan.error?.type} ${atPlan.error?.message}`);
  const dry = (await handle.query(reportQuery)).dryRun!;
  c.tables.forEach((_, i) => {
    const t = dry.tables.find((x) => x.table === `public.t${i}`);
    const got = t ? Object.values(t.leftBehind).reduce((a, b) => a + b, 0) : undefined;
    if (got !== want.removed[i].size) problems.push(`adopt dry run public.t${i}: ${got} to remove, expected ${want.removed[i].size}`);
  });
  await approveThrough(handle, ['plan', 'cutover'], problems);
  const s = await waitFor(handle, settled, STEP_TIMEOUT);
  if (s.status !== 'completed') return problems.push(`adopt ended ${s.status} (${s.phase}): ${s.error?.type} ${s.error?.message}`);
  const got = await readRows(c, pilot);
  c.tables.forEach((_, i) => {
    if (exact([got[i]]) !== exact([want.pilotAfter[i]]))
      problems.push(`adopt Pilot public.t${i}: holds ${ids(got[i])}, expected ${ids(want.pilotAfter[i])}`);
  });
  const manifest = await manifestOf(pilot, s.runKey);
  c.tables.forEach((_, i) => {
    const mine = manifest
      .filter((m) => m.t === `public.t${i}`)
      .map((m) => `${m.k}:${m.outcome}:${reasonClass(m.reason)}`)
      .sort();
    const exp = [...want.removed[i]].map(([k, r]) => `${keyStr(c, i, k)}:left-behind:${reasonClass(r)}`).sort();
    if (mine.join() !== exp.join()) problems.push(`adopt manifest public.t${i}: ${mine.join(' ')}; expected ${exp.join(' ')}`);
  });
  compareAdoptEvidence(c, want.removed, evidenceOf(await handle.query(reportQuery)), problems);
  if (exact(await readRows(c, prod, 'prod')) !== prodBefore) problems.push('adopt changed Production');
}

async function selective(c: Case, handle: WorkflowHandle, pilot: string, prod: string, problems: string[], paths: string[]) {
  const want = oracle(c);
  const prodBefore = await readRows(c, prod, 'prod');
  const first = await waitFor(handle, settled, STEP_TIMEOUT);
  if (want.refused?.step === 'preflight') {
    const refusedRight =
      first.status === 'paused' && first.phase === 'preflight' && /without their parents/.test(first.error?.message ?? '');
    if (!refusedRight)
      problems.push(
        `expected preflight to refuse rows published without their parents (${want.refused.why}); got ${first.status} ${first.phase}: ${first.error?.type} ${first.error?.message}`,
      );
    return;
  }
  if (!atGate('plan')(first))
    return problems.push(`expected gate plan; got ${first.status} ${first.phase}: ${first.error?.type} ${first.error?.message}`);
  compareDryRun(want, (await handle.query(reportQuery)).dryRun!.tables, problems);
  await handle.signal(approveSignal, { gate: 'plan', approver: 'bob', ...acknowledging(first) });
  const second = await waitFor(handle, (s) => settled(s) && !atGate('plan')(s), STEP_TIMEOUT);
  if (want.refused?.step === 'rehearsal') {
    if (!(second.status === 'paused' && second.phase === 'rehearsal' && second.error?.type === 'RehearsalError'))
      problems.push(
        `expected the rehearsal to fail (${want.refused.why}); got ${second.status} ${second.phase}: ${second.error?.type} ${second.error?.message}`,
      );
    paths.push('rehearsal');
    return;
  }
  if (!atGate('cutover')(second))
    return problems.push(`expected gate cutover; got ${second.status} ${second.phase}: ${second.error?.type} ${second.error?.message}`);
  if (c.rehearsal) {
    paths.push('rehearsal');
    const r = (await handle.query(reportQuery)).rehearsal;
    if (!r?.ok) problems.push(`rehearsal not ok: ${JSON.stringify(r?.failed)}`);
    else
      compareCounts(
        'rehearsal',
        want,
        r.tables.map((t) => ({ table: t.table, inScope: t.inScope, moved: t.moved, merged: t.merged, leftBehind: t.leftBehindByReason })),
        problems,
      );
  }
  await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' });
  const third = await waitFor(handle, (s) => settled(s) && !atGate('cutover')(s), STEP_TIMEOUT);
  if (want.refused?.step === 'publish') {
    if (!(third.status === 'paused' && third.phase === 'publish' && third.error?.type === 'ConflictError'))
      problems.push(
        `expected publish to refuse with a conflict (${want.refused.why}); got ${third.status} ${third.phase}: ${third.error?.type} ${third.error?.message}`,
      );
    if (exact(await readRows(c, prod, 'prod')) !== exact(prodBefore)) problems.push('a refused publish changed Production');
    return;
  }
  const expectPause = c.path !== 'run' || c.lateRun.length > 0;
  if (expectPause ? !(third.status === 'paused' && third.phase === 'access-checks') : third.status !== 'completed') {
    return problems.push(`after publish: ${third.status} ${third.phase}: ${third.error?.type} ${third.error?.message}`);
  }
  // Production after publish, and the manifest.
  const after = canonical(c, await readRows(c, prod, 'prod'));
  c.tables.forEach((_, i) => {
    if (after[i].join('\n') !== want.production[i].join('\n'))
      problems.push(`Production public.t${i} after publish:\n  got      ${after[i].join(' ')}\n  expected ${want.production[i].join(' ')}`);
  });
  await compareManifest(c, want, prod, third.runKey, problems);
  compareRunEvidence(c, want, evidenceOf(await handle.query(reportQuery)), problems);
  if (c.path === 'run' && c.lateRun.length) {
    // Erasure requests arrive after publish (Pilot's or Production's register); the run goes on through erasure.
    for (const { key, db } of c.lateRun)
      await rows(db === 'source' ? pilot : prod, 'INSERT INTO erasure_request VALUES ($1)', [subjectValue(c, key)]);
    await rows(prod, 'DELETE FROM model_pause');
    await handle.executeUpdate(resumeUpdate, { args: [{ action: 'retry', by: 'oncall', reason: 'model test' }] });
    const end = await waitFor(handle, (s) => settled(s) && !(s.status === 'paused' && s.phase === 'access-checks'), STEP_TIMEOUT);
    if (end.status !== 'completed')
      return problems.push(`after late erasures: ${end.status} ${end.phase}: ${end.error?.type} ${end.error?.message}`);
    paths.push('late-erasure');
    const late = lateErasureOracle(c, want);
    const got = canonical(c, await readRows(c, prod, 'prod'));
    c.tables.forEach((_, i) => {
      if (got[i].join('\n') !== late.production[i].join('\n'))
        problems.push(
          `Production public.t${i} after late erasures:\n  got      ${got[i].join(' ')}\n  expected ${late.production[i].join(' ')}`,
        );
    });
    const log = await rows<{ t: string; n: string }>(
      prod,
      "SELECT table_name AS t, sum(rows)::text AS n FROM cutover.erasure_log WHERE run_key = $1 AND action LIKE 'erased%' GROUP BY 1",
      [end.runKey],
    );
    c.tables.forEach((_, i) => {
      const n = Number(log.find((x) => x.t === `public.t${i}`)?.n ?? 0);
      if (n !== late.deleted[i]) problems.push(`erasure log public.t${i}: ${n} rows, expected ${late.deleted[i]}`);
    });
    compareErasureEvidence(c, late, evidenceOf(await handle.query(reportQuery)), problems);
  }
  if (c.path === 'run') return;

  if (c.path === 'rollback') {
    await handle.executeUpdate(resumeUpdate, { args: [{ action: 'rollback', by: 'oncall', reason: 'model test' }] });
    const end = await waitFor(handle, settled, STEP_TIMEOUT);
    if (end.status !== 'rolled-back')
      return problems.push(`surgical rollback: ${end.status} ${end.phase}: ${end.error?.type} ${end.error?.message}`);
    const got = await readRows(c, prod, 'prod');
    c.tables.forEach((_, i) => {
      if (exact([got[i]]) !== exact([prodBefore[i]]))
        problems.push(`after the surgical rollback public.t${i}: ${ids(got[i])}, expected ${ids(prodBefore[i])}`);
    });
    compareRollbackEvidence(want, evidenceOf(await handle.query(reportQuery)), problems);
    return;
  }
  // restore: erasure requests arrive after publish, in Production's register.
  for (const k of c.late) await rows(prod, 'INSERT INTO erasure_request VALUES ($1)', [subjectValue(c, k)]);
  for (const k of c.lateProd ?? []) await rows(prod, 'INSERT INTO erasure_request_prod VALUES ($1)', [subjectValue(c, k)]);
  await handle.executeUpdate(resumeUpdate, { args: [{ action: 'rollback', by: 'oncall', reason: 'model test', mode: 'restore' }] });
  const gate = await waitFor(handle, settled, STEP_TIMEOUT);
  if (!atGate('restore')(gate))
    return problems.push(`expected gate restore; got ${gate.status} ${gate.phase}: ${gate.error?.type} ${gate.error?.message}`);
  await handle.signal(approveSignal, { gate: 'restore', approver: 'bob' });
  const end = await waitFor(handle, (s) => settled(s) && !atGate('restore')(s), STEP_TIMEOUT);
  if (end.status !== 'rolled-back') return problems.push(`restore: ${end.status} ${end.phase}: ${end.error?.type} ${end.error?.message}`);
  const restored = restoreOracle(c);
  const got = await readRows(c, prod, 'prod');
  c.tables.forEach((_, i) => {
    if (exact([got[i]]) !== exact([restored.rows[i]]))
      problems.push(`after the restore public.t${i}: ${ids(got[i])}, expected ${ids(restored.rows[i])}`);
  });
  compareRestoreEvidence(c, restored, evidenceOf(await handle.query(reportQuery)), problems);
}

async function approveThrough(handle: WorkflowHandle, gates: ('plan' | 'cutover')[], problems: string[]) {
  for (const gate of gates) {
    const s = await waitFor(handle, settled, STEP_TIMEOUT);
    if (!atGate(gate)(s)) {
      problems.push(`expected gate ${gate}; got ${s.status} ${s.phase}: ${s.error?.type} ${s.error?.message}`);
      return;
    }
    await handle.signal(approveSignal, { gate, approver: 'bob', ...acknowledging(s) });
    await waitFor(handle, (x) => !atGate(gate)(x), STEP_TIMEOUT);
  }
}

/** A Pilot row's key as the manifest writes it (comma-joined), from the model's row id. */
const keyStr = (c: Case, i: number, id: number) => {
  const t = c.tables[i];
  if (!t.link) return keyText(t.key, id);
  return `${keyText(c.tables[t.fks[0].parent].key, Math.floor(id / 100))},${keyText(c.tables[t.fks[1].parent].key, id % 100)}`;
};
const MANIFEST_SQL = 'SELECT table_name AS t, key, outcome, reason FROM cutover.manifest WHERE run_key = $1';
/** The manifest's rows with their key as the model writes it (a JSON array's elements comma-joined). */
async function manifestOf(url: string, runKey: string) {
  const got = await rows<{ t: string; key: unknown; outcome: string; reason: string | null }>(url, MANIFEST_SQL, [runKey]);
  return got.map((m) => ({ ...m, k: Array.isArray(m.key) ? m.key.join(',') : JSON.stringify(m.key) }));
}

const ids = (rs: Row[]) =>
  [...rs]
    .sort((a, b) => a.id - b.id)
    .map((r) => JSON.stringify([r.id, r.nk, r.v, r.test, r.fk]))
    .join(' ') || '(none)';
/** Cascade reasons name a parent table; the model and the product may pick different parents when several are gone. */
const reasonClass = (r: string | null) => (r?.startsWith('parent-left-behind:') ? 'parent-left-behind' : (r ?? ''));

interface Counts {
  table: string;
  inScope: number;
  moved: number;
  merged: number;
  leftBehind: Record<string, number>;
}

const sumBy = (lb: Record<string, number>) => {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(lb)) if (v) out[reasonClass(k)] = (out[reasonClass(k)] ?? 0) + v;
  return JSON.stringify(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k]]),
  );
};

function compareCounts(what: string, want: Expect, got: Counts[], problems: string[]) {
  for (const t of want.tables) {
    const g = got.find((x) => x.table === t.table);
    const exp = { inScope: t.inScope, moved: t.moved, merged: t.merged, leftBehind: sumBy(t.leftBehind) };
    const have = g && { inScope: g.inScope, moved: g.moved, merged: g.merged, leftBehind: sumBy(g.leftBehind) };
    if (JSON.stringify(have) !== JSON.stringify(exp))
      problems.push(`${what} ${t.table}: ${JSON.stringify(have)}, expected ${JSON.stringify(exp)}`);
  }
}

function compareDryRun(
  want: Expect,
  got: { table: string; inScope: number; toMove: number; merged: number; leftBehind: Record<string, number> }[],
  problems: string[],
) {
  compareCounts(
    'dry run',
    want,
    got.map((t) => ({ table: t.table, inScope: t.inScope, moved: t.toMove, merged: t.merged, leftBehind: t.leftBehind })),
    problems,
  );
}

async function compareManifest(c: Case, want: Expect, prod: string, runKey: string, problems: string[]) {
  const manifest = await manifestOf(prod, runKey);
  for (const [i, t] of want.tables.entries()) {
    const mine = manifest
      .filter((m) => m.t === t.table)
      .map((m) => `${m.k}:${m.outcome}${m.outcome === 'left-behind' ? ':' + reasonClass(m.reason) : ''}`)
      .sort();
    const exp = [...t.outcomes]
      .map(([k, o]) => `${keyStr(c, i, k)}:${o.outcome}${o.outcome === 'left-behind' ? ':' + reasonClass(o.reason) : ''}`)
      .sort();
    if (mine.join() !== exp.join()) problems.push(`manifest ${t.table}: ${mine.join(' ')}; expected ${exp.join(' ')}`);
  }
}
