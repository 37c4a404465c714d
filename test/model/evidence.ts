// The evidence pack's own counts against the oracle (issue 16 deliverable 8: the oracle "also says
// what the manifest, the dry run and the evidence must count"). The pack is built the way finalize
// and the CLI build it (buildEvidence over the run's `report` query) and read only for counts:
// per table in scope / moved / merged / left behind by reason (manifest), rows left behind and
// cascaded per rule (test data, consent, erasure), references set to NULL at cleanup, id changes,
// erasure passes after publish, the surgical rollback's rows, the restore's erasures, adopt's removals.
// Each function adds its differences to `problems` (empty: the pack agrees with the model).
import { buildEvidence, type EvidenceDocument } from '../../common/evidence';
import type { EvidencePack } from '../../common/temporal';
import type { Case } from './case';
import type { Expect } from './oracle';

/** Cascade reasons name a parent table; the model and the product may pick different parents when several are gone. */
const reasonClass = (r: string) => (r.startsWith('parent-left-behind:') ? 'parent-left-behind' : r);
const byClass = (lb: Record<string, number>) => {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(lb)) if (v) out[reasonClass(k)] = (out[reasonClass(k)] ?? 0) + v;
  return JSON.stringify(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k]]),
  );
};
const sum = (x: Record<string, number> | undefined) => Object.values(x ?? {}).reduce((a, b) => a + b, 0);
const perTable = (c: Case, x: Record<string, number> | undefined) => c.tables.map((_, i) => x?.[`public.t${i}`] ?? 0);

export const evidenceOf = (pack: EvidencePack): EvidenceDocument => buildEvidence(pack);

/** After publish (selective runs): the manifest section, the rules' counts, cleanup's NULLed references, idChanges. */
export function compareRunEvidence(c: Case, want: Expect, doc: EvidenceDocument, problems: string[]): void {
  const say = (what: string, got: unknown, exp: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(exp))
      problems.push(`evidence ${what}: ${JSON.stringify(got)}, expected ${JSON.stringify(exp)}`);
  };
  for (const t of want.tables) {
    const m = doc.manifest.tables.find((x) => x.table === t.table);
    const lb = Object.values(t.leftBehind).reduce((a, b) => a + b, 0);
    say(
      `manifest ${t.table}`,
      m && {
        inScope: m.inScope,
        moved: m.moved,
        merged: m.merged,
        leftBehind: m.leftBehind,
        byReason: byClass(m.leftBehindByReason),
        balanced: m.balanced,
      },
      { inScope: t.inScope, moved: t.moved, merged: t.merged, leftBehind: lb, byReason: byClass(t.leftBehind), balanced: true },
    );
  }
  const total = (k: 'inScope' | 'moved' | 'merged') => want.tables.reduce((a, t) => a + t[k], 0);
  say('manifest totals', doc.manifest.totals, {
    inScope: total('inScope'),
    moved: total('moved'),
    merged: total('merged'),
    leftBehind: want.tables.reduce((a, t) => a + sum(t.leftBehind), 0),
  });

  // Rows each rule left behind itself, and those whose first cause it is (a row with several gone
  // parents may be attributed to any of their causes: a range).
  const own = (reason: string) => want.tables.reduce((a, t) => a + (t.leftBehind[reason] ?? 0), 0);
  const cascaded = (reason: string) => {
    let lo = 0;
    let hi = 0;
    for (const t of want.tables) {
      for (const [id, roots] of t.roots) {
        const o = t.outcomes.get(id);
        if (o?.outcome !== 'left-behind' || !o.reason.startsWith('parent-left-behind:') || !roots.has(reason)) continue;
        hi++;
        if (roots.size === 1) lo++;
      }
    }
    return { lo, hi };
  };
  const within = (what: string, got: number | undefined, r: { lo: number; hi: number }) => {
    if (got === undefined || got < r.lo || got > r.hi)
      problems.push(`evidence ${what}: ${got}, expected ${r.lo === r.hi ? r.lo : `${r.lo}–${r.hi}`}`);
  };
  if (c.testData !== null) {
    say(
      'testData leftBehind',
      doc.testData.map((x) => x.leftBehind),
      [own('test-data')],
    );
    within('testData cascaded', doc.testData[0]?.cascaded, cascaded('test-data'));
  }
  if (c.consent) {
    say('consent leftBehind', doc.consent?.leftBehind, own('no-consent'));
    within('consent cascaded', doc.consent?.cascaded, cascaded('no-consent'));
  }
  if (c.subjects !== null) {
    say('erasure leftBehind', doc.erasure.leftBehind, own('erasure-request'));
    within('erasure cascaded', doc.erasure.cascaded, cascaded('erasure-request'));
  }
  // The pack carries cleanup's result as recorded (its type names only the fields the reports read).
  say(
    'cleanup erasureNullified',
    perTable(c, (doc.cleanup as { erasureNullified?: Record<string, number> } | null)?.erasureNullified),
    want.tables.map((t) => t.nullified),
  );
  say(
    'dry run erasureNullified',
    want.tables.map((t) => doc.dryRun?.tables.find((x) => x.table === t.table)?.erasureNullified ?? 0),
    want.tables.map((t) => t.nullified),
  );
  // ids new / match: every moved row has a new key, every merged one an existing row's.
  for (const [i, t] of want.tables.entries()) {
    if (c.plans[i].ids === 'keep') continue;
    const x = doc.idChanges.tables.find((y) => y.table === t.table);
    say(
      `idChanges ${t.table}`,
      x && { strategy: x.strategy, rowsRemapped: x.rowsRemapped, matchedExisting: x.matchedExisting, pairs: x.pairs },
      { strategy: c.plans[i].ids, rowsRemapped: t.moved, matchedExisting: t.merged, pairs: t.moved + t.merged },
    );
  }
}

/** After erasures that arrived after publish: rows deleted and references set to NULL, per table, over every pass. */
export function compareErasureEvidence(
  c: Case,
  late: { deleted: number[]; nullified: number[] },
  doc: EvidenceDocument,
  problems: string[],
): void {
  const rows = c.tables.map((_, i) => doc.erasure.passes.reduce((a, p) => a + (p.rows[`public.t${i}`] ?? 0), 0));
  const nulls = c.tables.map((_, i) => doc.erasure.passes.reduce((a, p) => a + (p.nullified[`public.t${i}`] ?? 0), 0));
  if (JSON.stringify(rows) !== JSON.stringify(late.deleted))
    problems.push(`evidence erasure passes, rows deleted per table: ${JSON.stringify(rows)}, expected ${JSON.stringify(late.deleted)}`);
  if (JSON.stringify(nulls) !== JSON.stringify(late.nullified))
    problems.push(
      `evidence erasure passes, references set to NULL per table: ${JSON.stringify(nulls)}, expected ${JSON.stringify(late.nullified)}`,
    );
  if (doc.erasure.residue !== 0) problems.push(`evidence erasure residue: ${doc.erasure.residue}`);
}

/** After the surgical rollback: each table's rows this run inserted (moved, not merged) deleted, none already gone. */
export function compareRollbackEvidence(want: Expect, doc: EvidenceDocument, problems: string[]): void {
  if (!doc.rollback) return void problems.push('evidence: no rollback section after the surgical rollback');
  for (const t of want.tables) {
    const u = doc.rollback.undone.find((x) => x.table === t.table);
    const got = u && { inserted: u.inserted, deleted: u.deleted, alreadyGone: u.alreadyGone };
    const exp = { inserted: t.moved, deleted: t.moved, alreadyGone: 0 };
    if (JSON.stringify(got ?? (t.moved ? undefined : exp)) !== JSON.stringify(exp))
      problems.push(`evidence rollback ${t.table}: ${JSON.stringify(got)}, expected ${JSON.stringify(exp)}`);
  }
}

/** After a restore: the erasures it re-applied, rows deleted and references set to NULL per table. */
export function compareRestoreEvidence(
  c: Case,
  want: { deleted: number[]; nullified: number[] },
  doc: EvidenceDocument,
  problems: string[],
): void {
  const e = doc.restore?.erasuresAfterRestore;
  if (!doc.restore?.result) problems.push('evidence: no restore result after the restore');
  const deleted = perTable(c, e?.deleted);
  const nullified = perTable(c, e?.nullified);
  if (JSON.stringify(deleted) !== JSON.stringify(want.deleted))
    problems.push(
      `evidence restore erasures, rows deleted per table: ${JSON.stringify(deleted)}, expected ${JSON.stringify(want.deleted)}`,
    );
  if (JSON.stringify(nullified) !== JSON.stringify(want.nullified))
    problems.push(
      `evidence restore erasures, references set to NULL per table: ${JSON.stringify(nullified)}, expected ${JSON.stringify(want.nullified)}`,
    );
}

/** Adopt: the in-place cleanup's removals per table and reason, and the rules' counts read from them. */
export function compareAdoptEvidence(c: Case, removed: Map<number, string>[], doc: EvidenceDocument, problems: string[]): void {
  const got = doc.adoption?.cleanup?.removed ?? {};
  const count = (reason: string) => removed.reduce((a, m) => a + [...m.values()].filter((r) => r === reason).length, 0);
  c.tables.forEach((_, i) => {
    const exp: Record<string, number> = {};
    for (const r of removed[i].values()) exp[r] = (exp[r] ?? 0) + 1;
    if (byClass(got[`public.t${i}`] ?? {}) !== byClass(exp))
      problems.push(`evidence adopt removed public.t${i}: ${byClass(got[`public.t${i}`] ?? {})}, expected ${byClass(exp)}`);
  });
  if (c.testData !== null && doc.testData[0]?.leftBehind !== count('test-data'))
    problems.push(`evidence adopt testData leftBehind: ${doc.testData[0]?.leftBehind}, expected ${count('test-data')}`);
  if (c.consent && doc.consent?.leftBehind !== count('no-consent'))
    problems.push(`evidence adopt consent leftBehind: ${doc.consent?.leftBehind}, expected ${count('no-consent')}`);
  if (c.subjects !== null && doc.erasure.leftBehind !== count('erasure-request'))
    problems.push(`evidence adopt erasure leftBehind: ${doc.erasure.leftBehind}, expected ${count('erasure-request')}`);
}
