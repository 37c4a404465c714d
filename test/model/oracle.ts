// The independent oracle: a plain in-memory model of the rows, written from README.md's words
// (selection, cleanup, ids) and sharing no code with activities/, workflows/ or plan/. Given a
// case it says whether the run is refused (and where), which Pilot rows are in scope, which move,
// merge or are left behind (and why), and what Production holds afterwards — as canonical row
// contents, since `ids: new` keys come from sequences: a row's content with each FK replaced by
// its parent's canonical content (keys themselves only where they are kept).
import { holds, linkId, type Case, type Row } from './case';

export type Outcome = { outcome: 'moved' | 'merged'; prodId: number | null } | { outcome: 'left-behind'; reason: string };

export interface TableExpect {
  table: string; // public.tN
  total: number;
  inScope: number;
  moved: number;
  merged: number;
  leftBehind: Record<string, number>; // reason → rows (cascade reasons as parent-left-behind:<table>)
  outcomes: Map<number, Outcome>; // Pilot key → outcome, for rows in scope
  /** Rows that move with a nullable reference to an erased subject's row set to NULL (one per reference). */
  nullified: number;
  /** Per row left behind: the root reasons its first cause may be (a cascade row: any of its gone parents' roots). */
  roots: Map<number, Set<string>>;
}

export interface Expect {
  /** The step that refuses the run, or null. */
  refused: null | { step: 'preflight' | 'publish' | 'rehearsal'; why: string };
  tables: TableExpect[];
  /** Per table, the canonical contents Production holds after the run (sorted). */
  production: string[][];
  /** Production's rows after publish (keys of new rows are placeholders). */
  rows: Row[][];
  /** Per table, the Production keys of the rows this run inserted. */
  moved: Set<number>[];
}

const qname = (i: number) => `public.t${i}`;

/** A moved row's payload as Production holds it: copied, mapped 0→10, 1→11, 2→12 (others 13), or the constant 7. */
const productionV = (c: Case, v: number) => (c.mapping?.v === 'map' ? ([10, 11, 12][v] ?? 13) : c.mapping?.v === 'constant' ? 7 : v);

/** Canonical content of Production rows: FKs replaced by the parent's canonical content, keys only for ids: keep. */
export function canonical(c: Case, rowsByTable: Row[][]): string[][] {
  const memo = new Map<string, string>();
  const byId = rowsByTable.map((rs) => new Map(rs.map((r) => [r.id, r])));
  const canon = (t: number, r: Row): string => {
    const k = `${t}:${r.id}`;
    const hit = memo.get(k);
    if (hit !== undefined) return hit;
    const fks = c.tables[t].fks.map((fk) => {
      const v = r.fk[fk.col];
      if (v === null) return null;
      const p = byId[fk.parent].get(v);
      return p ? canon(fk.parent, p) : `dangling:${v}`;
    });
    const s = JSON.stringify([c.plans[t].ids === 'keep' && !c.tables[t].link ? r.id : null, r.nk, r.v, r.test, fks]);
    memo.set(k, s);
    return s;
  };
  return rowsByTable.map((rs, t) => rs.map((r) => canon(t, r)).sort());
}

export function oracle(c: Case): Expect {
  const n = c.tables.length;
  const children = (j: number) => c.tables.flatMap((t, i) => t.fks.filter((fk) => fk.parent === j).map((fk) => ({ i, fk })));
  const prodById = c.prod.map((rs) => new Map(rs.map((r) => [r.id, r])));
  const prodByNk = c.prod.map((rs) => new Map(rs.map((r) => [r.nk, r])));
  const pilotById = c.pilot.map((rs) => new Map(rs.map((r) => [r.id, r])));
  /** The Production row a Pilot parent already is, by its table's identity rule (keep: key, match: natural key, new: never). */
  const existing = (t: number, pilotId: number): Row | undefined => {
    const ids = c.plans[t].ids;
    if (ids === 'keep') return prodById[t].get(pilotId);
    if (ids === 'match') {
      const p = pilotById[t].get(pilotId);
      return p ? prodByNk[t].get(p.nk) : undefined;
    }
    return undefined;
  };

  // 1. Scope. where/all/follow tables parents first; referenced tables children first (their scope is what others reference).
  const scope: Set<number>[] = c.tables.map(() => new Set());
  const sel = (i: number) => c.plans[i].select;
  for (let i = 0; i < n; i++) {
    const s = sel(i);
    if (s.kind === 'referenced') continue;
    for (const r of c.pilot[i]) {
      let inScope: boolean;
      if (s.kind === 'all') inScope = true;
      else if (s.kind === 'where') inScope = holds(s, r.v);
      else {
        // follow: the parent moves (is in scope) or already exists in Production; followMoved: it is in scope.
        const fk = c.tables[i].fks.find((f) => f.col === s.col)!;
        const v = r.fk[fk.col];
        inScope =
          v !== null &&
          (scope[fk.parent].has(v) || (s.kind === 'follow' && existing(fk.parent, v) !== undefined)) &&
          (!s.where || holds(s.where, r.v));
      }
      if (inScope) scope[i].add(r.id);
    }
  }
  const selfFk = (j: number) => c.tables[j].fks.find((fk) => fk.parent === j);
  const upClosure = (j: number, from: Set<number>, within?: Set<number>, byId = pilotById): Set<number> => {
    const fk = selfFk(j);
    const out = new Set(from);
    if (!fk) return out;
    for (const id of out) {
      const up = byId[j].get(id)?.fk[fk.col];
      if (up !== null && up !== undefined && pilotById[j].has(up) && (!within || within.has(up))) out.add(up);
    }
    return out;
  };
  const referencedScope = () => {
    for (let j = n - 1; j >= 0; j--) {
      if (sel(j).kind !== 'referenced') continue;
      scope[j] = new Set();
      for (const { i, fk } of children(j)) {
        if (i === j) continue;
        for (const id of scope[i]) {
          const v = pilotById[i].get(id)!.fk[fk.col];
          if (v !== null && pilotById[j].has(v)) scope[j].add(v);
        }
      }
      // Up the table's own self-reference: a referenced row brings the rows it references in turn.
      scope[j] = upClosure(j, scope[j]);
    }
  };
  referencedScope();
  const inScope = scope.map((s) => new Set(s));

  // 2. Cleanup: test data, erasure requests, then the cascade to a fixed point. Rows as staged:
  // an erasure request sets a nullable reference to the erased person's rows to NULL (below).
  const staged = c.pilot.map((rs) => new Map(rs.map((r) => [r.id, { ...r, fk: { ...r.fk } }])));
  const left: Map<number, string>[] = c.tables.map(() => new Map());
  const remaining = (i: number) => [...inScope[i]].filter((id) => !left[i].has(id));
  if (c.testData !== null)
    for (const id of inScope[c.testData]) if (pilotById[c.testData].get(id)!.test) left[c.testData].set(id, 'test-data');
  const requested = [...c.erased, ...(c.erasedTarget ?? [])];
  // The rows that cannot exist without a requested subject still staged (through NOT NULL FKs);
  // a staged row outside them holding a nullable reference to one of them keeps its row, reference NULL.
  const nullified = c.tables.map(() => 0);
  if (c.subjects !== null) {
    const doomed: Set<number>[] = c.tables.map(() => new Set());
    for (const id of remaining(c.subjects)) if (requested.includes(id)) doomed[c.subjects].add(id);
    for (let grew = true; grew;) {
      grew = false;
      c.tables.forEach((t, i) => {
        for (const id of remaining(i)) {
          const r = staged[i].get(id)!;
          if (!doomed[i].has(id) && t.fks.some((fk) => !fk.nullable && r.fk[fk.col] !== null && doomed[fk.parent].has(r.fk[fk.col]!))) {
            doomed[i].add(id);
            grew = true;
          }
        }
      });
    }
    c.tables.forEach((t, i) => {
      for (const id of remaining(i)) {
        if (doomed[i].has(id)) continue;
        const r = staged[i].get(id)!;
        for (const fk of t.fks) {
          if (fk.nullable && r.fk[fk.col] !== null && doomed[fk.parent].has(r.fk[fk.col]!)) {
            r.fk[fk.col] = null;
            nullified[i]++;
          }
        }
      }
    });
  }
  if (c.subjects !== null)
    for (const id of inScope[c.subjects])
      if (requested.includes(id) && !left[c.subjects].has(id)) left[c.subjects].set(id, 'erasure-request');
  if (c.subjects !== null && c.consent)
    for (const id of inScope[c.subjects]) if (!c.consent.includes(id) && !left[c.subjects].has(id)) left[c.subjects].set(id, 'no-consent');
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < n; i++) {
      for (const id of remaining(i)) {
        const r = staged[i].get(id)!;
        const gone = c.tables[i].fks.find((fk) => r.fk[fk.col] !== null && left[fk.parent].has(r.fk[fk.col]!));
        if (gone) {
          left[i].set(id, `parent-left-behind:${qname(gone.parent)}`);
          changed = true;
        }
      }
    }
    for (let j = 0; j < n; j++) {
      if (sel(j).kind !== 'referenced') continue;
      const still = new Set<number>();
      for (const { i, fk } of children(j)) {
        if (i === j) continue;
        for (const id of remaining(i)) {
          const v = staged[i].get(id)!.fk[fk.col];
          if (v !== null) still.add(v);
        }
      }
      const reachable = upClosure(
        j,
        new Set([...still].filter((id) => inScope[j].has(id) && !left[j].has(id))),
        new Set(remaining(j)),
        staged,
      );
      for (const id of remaining(j)) {
        if (!reachable.has(id)) {
          left[j].set(id, 'no-longer-referenced');
          changed = true;
        }
      }
    }
  }

  // 3. Refusals: a moving row whose parent neither moves nor exists in production; keep keys already in production.
  let refused: Expect['refused'] = null;
  for (let i = 0; i < n && !refused; i++) {
    for (const id of remaining(i)) {
      const r = staged[i].get(id)!;
      for (const fk of c.tables[i].fks) {
        const v = r.fk[fk.col];
        if (v === null) continue;
        const moves = inScope[fk.parent].has(v) && !left[fk.parent].has(v);
        if (!moves && !existing(fk.parent, v))
          refused = { step: 'preflight', why: `dangling ${qname(i)} ${id} → ${qname(fk.parent)} ${v}` };
      }
    }
  }
  /** The root reasons a left-behind row's first cause may be: its own reason, or (a cascade) any gone parent's roots. */
  const rootMemo = new Map<string, Set<string>>();
  function rootsOf(i: number, id: number): Set<string> {
    const k = `${i}:${id}`;
    const hit = rootMemo.get(k);
    if (hit) return hit;
    const why = left[i].get(id)!;
    const out = new Set<string>();
    rootMemo.set(k, out);
    if (!why.startsWith('parent-left-behind:')) out.add(why);
    else {
      const r = staged[i].get(id)!;
      for (const fk of c.tables[i].fks) {
        const v = r.fk[fk.col];
        if (v !== null && left[fk.parent].has(v) && !(fk.parent === i && v === id)) for (const x of rootsOf(fk.parent, v)) out.add(x);
      }
    }
    return out;
  }
  // 4. Outcomes and Production afterwards (new keys are placeholders: compared by canonical content).
  let nextFake = 1_000_000;
  const newId = new Map<string, number>();
  const tables: TableExpect[] = c.tables.map((_, i) => {
    const outcomes = new Map<number, Outcome>();
    for (const id of inScope[i]) {
      const why = left[i].get(id);
      if (why) {
        outcomes.set(id, { outcome: 'left-behind', reason: why });
        continue;
      }
      const ids = c.plans[i].ids;
      const merged = ids === 'match' ? prodByNk[i].get(pilotById[i].get(id)!.nk) : undefined;
      if (merged) outcomes.set(id, { outcome: 'merged', prodId: merged.id });
      else {
        const pid = ids === 'keep' ? id : nextFake++;
        newId.set(`${i}:${id}`, pid);
        outcomes.set(id, { outcome: 'moved', prodId: pid });
      }
    }
    const lb: Record<string, number> = {};
    for (const why of left[i].values()) lb[why] = (lb[why] ?? 0) + 1;
    const roots = new Map<number, Set<string>>();
    for (const id of left[i].keys()) roots.set(id, rootsOf(i, id));
    return {
      table: qname(i),
      total: c.pilot[i].length,
      inScope: inScope[i].size,
      moved: [...outcomes.values()].filter((o) => o.outcome === 'moved').length,
      merged: [...outcomes.values()].filter((o) => o.outcome === 'merged').length,
      leftBehind: lb,
      outcomes,
      nullified: nullified[i],
      roots,
    };
  });
  function prodKey(t: number, pilotId: number): number {
    const o = tables[t].outcomes.get(pilotId);
    if (o && o.outcome !== 'left-behind') return o.prodId!;
    return existing(t, pilotId)!.id;
  }
  // A kept key Production already holds is a collision publish refuses (a link table's key is its parents' Production keys).
  // ids: match without a sequence (text, uuid keys) inserts an unmatched row with its Pilot key too (README).
  if (!refused) {
    for (let i = 0; i < n && !refused; i++) {
      const unmatchedKeepKey = c.plans[i].ids === 'match' && (c.tables[i].key ?? 'int') !== 'int';
      if (c.plans[i].ids !== 'keep' && !unmatchedKeepKey) continue;
      for (const id of remaining(i)) {
        if (tables[i].outcomes.get(id)?.outcome !== 'moved') continue;
        const t = c.tables[i];
        const r = staged[i].get(id)!;
        const key = t.link ? linkId(prodKey(t.fks[0].parent, r.fk[t.fks[0].col]!), prodKey(t.fks[1].parent, r.fk[t.fks[1].col]!)) : id;
        if (prodById[i].has(key)) {
          refused = { step: c.rehearsal ? 'rehearsal' : 'publish', why: `key collision ${qname(i)} ${id}` };
          break;
        }
      }
    }
  }
  const prodAfter: Row[][] = c.prod.map((rs) => rs.map((r) => ({ ...r, fk: { ...r.fk } })));
  if (!refused) {
    for (let i = 0; i < n; i++) {
      for (const [id, o] of tables[i].outcomes) {
        if (o.outcome !== 'moved') continue;
        const r = staged[i].get(id)!;
        const fk: Record<string, number | null> = {};
        for (const f of c.tables[i].fks) fk[f.col] = r.fk[f.col] === null ? null : prodKey(f.parent, r.fk[f.col]!);
        const t = c.tables[i];
        prodAfter[i].push({ ...r, id: t.link ? linkId(fk[t.fks[0].col]!, fk[t.fks[1].col]!) : o.prodId!, fk, v: productionV(c, r.v) });
      }
    }
  }
  const final = refused ? c.prod : prodAfter;
  const moved = prodAfter.map((rs, i) => new Set(rs.slice(c.prod[i].length).map((r) => r.id)));
  return { refused, tables, production: canonical(c, final), rows: final, moved };
}

/**
 * Erasing people from Production rows (issue 16 item 5): a row reaching an erased row through a
 * NOT NULL FK goes too (to a fixed point); a nullable reference to an erased row is set to NULL.
 * `only`, when given, limits what may be touched to those rows (per table).
 */
function erase(
  c: Case,
  rs: Row[][],
  start: Set<number>[],
  only?: Set<number>[],
): { rows: Row[][]; deleted: number[]; nullified: number[] } {
  const gone = start.map((s) => new Set(s));
  const may = (i: number, id: number) => !only || only[i].has(id);
  for (let changed = true; changed;) {
    changed = false;
    c.tables.forEach((t, i) => {
      for (const r of rs[i]) {
        if (gone[i].has(r.id) || !may(i, r.id)) continue;
        if (t.fks.some((fk) => !fk.nullable && r.fk[fk.col] !== null && gone[fk.parent].has(r.fk[fk.col]!))) {
          gone[i].add(r.id);
          changed = true;
        }
      }
    });
  }
  const nullified = c.tables.map(() => 0);
  const out = rs.map((tr, i) =>
    tr
      .filter((r) => !gone[i].has(r.id))
      .map((r) => {
        const fk = { ...r.fk };
        if (may(i, r.id)) {
          for (const f of c.tables[i].fks) {
            if (f.nullable && fk[f.col] !== null && gone[f.parent].has(fk[f.col]!)) {
              fk[f.col] = null;
              nullified[i]++;
            }
          }
        }
        return { ...r, fk };
      }),
  );
  return { rows: out, deleted: gone.map((g) => g.size), nullified };
}

/**
 * Erasure after publish: each late request for a subject this run moved deletes that person's
 * Production row and what cannot exist without it (erase above). A merged subject (ids: match)
 * is Production's own person: their row stays, but the rows this run moved for them are erased.
 * Returns Production's canonical contents afterwards and the rows deleted per table.
 */
export function lateErasureOracle(c: Case, want: Expect): { production: string[][]; deleted: number[]; nullified: number[] } {
  const start: Set<number>[] = c.tables.map(() => new Set());
  const mergedStart: Set<number>[] = c.tables.map(() => new Set());
  if (c.subjects !== null) {
    for (const { key } of c.lateRun) {
      const o = want.tables[c.subjects].outcomes.get(key);
      if (o?.outcome === 'moved') start[c.subjects].add(o.prodId!);
      if (o?.outcome === 'merged') mergedStart[c.subjects].add(o.prodId!);
    }
  }
  const first = erase(c, want.rows, start);
  if (mergedStart.every((s) => s.size === 0))
    return { production: canonical(c, first.rows), deleted: first.deleted, nullified: first.nullified };
  // The merged person's own row is not the run's: only moved rows reaching it go (the seed row itself is not counted).
  const only = want.moved.map((m, i) => new Set([...m, ...mergedStart[i]]));
  const second = erase(c, first.rows, mergedStart, only);
  return {
    production: canonical(
      c,
      second.rows.map((rs, i) => [...rs, ...first.rows[i].filter((r) => mergedStart[i].has(r.id))]),
    ),
    deleted: first.deleted.map((d, i) => d + second.deleted[i] - mergedStart[i].size),
    nullified: first.nullified.map((d, i) => d + second.nullified[i]),
  };
}

/** Adopt: every table whole; test data and erased subjects (and rows depending on them) removed from the Pilot. */
export function adoptOracle(c: Case): { pilotAfter: Row[][]; removed: Map<number, string>[] } {
  const removed: Map<number, string>[] = c.tables.map(() => new Map());
  const byId = c.pilot.map((rs) => new Map(rs.map((r) => [r.id, r])));
  if (c.testData !== null) for (const r of c.pilot[c.testData]) if (r.test) removed[c.testData].set(r.id, 'test-data');
  if (c.subjects !== null)
    for (const id of c.erased) if (byId[c.subjects].has(id) && !removed[c.subjects].has(id)) removed[c.subjects].set(id, 'erasure-request');
  if (c.subjects !== null && c.consent)
    for (const r of c.pilot[c.subjects])
      if (!c.consent.includes(r.id) && !removed[c.subjects].has(r.id)) removed[c.subjects].set(r.id, 'no-consent');
  for (let changed = true; changed;) {
    changed = false;
    c.tables.forEach((t, i) => {
      for (const r of c.pilot[i]) {
        if (removed[i].has(r.id)) continue;
        const gone = t.fks.find((fk) => r.fk[fk.col] !== null && removed[fk.parent].has(r.fk[fk.col]!));
        if (gone) {
          removed[i].set(r.id, `parent-left-behind:${qname(gone.parent)}`);
          changed = true;
        }
      }
    });
  }
  return { pilotAfter: c.pilot.map((rs, i) => rs.filter((r) => !removed[i].has(r.id))), removed };
}

/**
 * Restore: Production as it was before the run, minus every person a register names by their
 * Production key at restore time (plan reference, erasure: one key space per register). A request
 * naming a Pilot key — in the Pilot's register or in Production's (keys: pilot, the default; before
 * the run, c.erasedTarget, or after publish, c.late) — is never a Production key: a person this run
 * moved is gone with the restore, a merged one is Production's own and stays, one not moved has no
 * Production identity. Production's own register (keys: production, c.lateProd) names its people:
 * each of them still in Production is erased. Erasing a person deletes what cannot exist without
 * them and clears nullable references (erase).
 */
export function restoreOracle(c: Case): { rows: Row[][]; deleted: number[]; nullified: number[] } {
  const after = c.prod.map((rs) => [...rs]);
  if (c.subjects === null) return { rows: after, deleted: c.tables.map(() => 0), nullified: c.tables.map(() => 0) };
  const gone: Set<number>[] = c.tables.map(() => new Set());
  for (const k of c.lateProd ?? []) if (c.prod[c.subjects].some((r) => r.id === k)) gone[c.subjects].add(k);
  return erase(c, after, gone);
}
