// A case as databases and a plan: DDL and rows for the Pilot and Production, the plan JSON the
// workflow is started with, and a read-back of a database's rows by the test's own SQL.
import { keyNum, keySqlType, keyText, linkId, type Case, type Row, type Select } from './case';
import { rows } from '../helpers/pg';

/** A key value as an SQL literal. */
const lit = (c: Case, table: number, n: number) => {
  const type = c.tables[table].key;
  return type === 'text' || type === 'uuid' ? `'${keyText(type, n)}'` : String(n);
};
const subjectType = (c: Case) => keySqlType(c.subjects === null ? undefined : c.tables[c.subjects].key);

/** A side's names: Production's renamed tables (pN), FK columns (gN) and payload (w) when the case maps them. */
export function namesOf(c: Case, side: 'pilot' | 'prod') {
  const renamed = side === 'prod' && c.mapping?.rename === true;
  return {
    table: (i: number) => (renamed ? `p${i}` : `t${i}`),
    fk: (col: string) => (renamed ? col.replace(/^f(\d+)$/, 'g$1') : col),
    v: renamed ? 'w' : 'v',
  };
}

function ddl(c: Case, data: Row[][], side: 'pilot' | 'prod'): string {
  const n = namesOf(c, side);
  const out: string[] = [`CREATE TABLE erasure_request (subject ${subjectType(c)} NOT NULL);`];
  c.tables.forEach((t, i) => {
    const fks = t.fks
      .map(
        (fk) =>
          `, ${n.fk(fk.col)} ${keySqlType(c.tables[fk.parent].key)} ${fk.nullable ? '' : 'NOT NULL '}REFERENCES ${n.table(fk.parent)}(id)`,
      )
      .join('');
    if (t.link) {
      out.push(
        `CREATE TABLE ${n.table(i)} (nk text NOT NULL, ${n.v} int NOT NULL, test boolean NOT NULL${fks}, PRIMARY KEY (${t.fks.map((fk) => n.fk(fk.col)).join(', ')}));`,
      );
    } else {
      out.push(
        `CREATE TABLE ${n.table(i)} (id ${t.key && t.key !== 'int' ? `${t.key} PRIMARY KEY` : 'serial PRIMARY KEY'}, nk text NOT NULL, ${n.v} int NOT NULL, test boolean NOT NULL${fks});`,
      );
    }
    // Keys ascending: a self-reference points at a smaller key, so parents go in first.
    for (const r of [...data[i]].sort((a, b) => a.id - b.id)) {
      const cols = [...(t.link ? [] : ['id']), 'nk', n.v, 'test', ...t.fks.map((fk) => n.fk(fk.col))];
      const vals = [
        ...(t.link ? [] : [lit(c, i, r.id)]),
        `'${r.nk}'`,
        r.v,
        r.test,
        ...t.fks.map((fk) => (r.fk[fk.col] === null ? 'NULL' : lit(c, fk.parent, r.fk[fk.col]!))),
      ];
      out.push(`INSERT INTO ${n.table(i)} (${cols.join(', ')}) VALUES (${vals.join(', ')});`);
    }
    // New keys are drawn past every key the side already holds.
    if (!t.link && (t.key ?? 'int') === 'int')
      out.push(
        `SELECT setval(pg_get_serial_sequence('${n.table(i)}', 'id'), coalesce((SELECT max(id) FROM ${n.table(i)}), 0) + 1, false);`,
      );
  });
  return out.join('\n');
}

/** A register value: the subjects table's key as the database holds it. */
export const subjectValue = (c: Case, k: number) => keyText(c.subjects === null ? undefined : c.tables[c.subjects].key, k);

export const pilotSql = (c: Case) =>
  ddl(c, c.pilot, 'pilot') +
  c.erased.map((k) => `\nINSERT INTO erasure_request VALUES (${lit(c, c.subjects!, k)});`).join('') +
  `\nCREATE TABLE consent (subject ${subjectType(c)} NOT NULL, status text NOT NULL);` +
  (c.consent ?? []).map((k) => `\nINSERT INTO consent VALUES (${lit(c, c.subjects!, k)}, 'granted');`).join('') +
  (c.subjects === null ? [] : c.pilot[c.subjects])
    .filter((r) => !(c.consent ?? []).includes(r.id) && r.v % 2 === 0)
    .map((r) => `\nINSERT INTO consent VALUES (${lit(c, c.subjects!, r.id)}, 'revoked');`)
    .join('');
/** Production; with late erasures on the run path, a flag the pausing access check reads (deleted to let the run go on). */
/** `checker`: SQL that creates and grants the read-only role access checks run as (test/helpers/pg.ts checkerRole), after every table. */
export const prodSql = (c: Case, checker = '') =>
  ddl(c, c.prod, 'prod') +
  (c.erasedTarget ?? []).map((k) => `\nINSERT INTO erasure_request VALUES (${lit(c, c.subjects!, k)});`).join('') +
  (c.path === 'restore' && c.subjects !== null ? `\nCREATE TABLE erasure_request_prod (subject ${subjectType(c)} NOT NULL);` : '') +
  (c.lateRun.length ? '\nCREATE TABLE model_pause (x int); INSERT INTO model_pause VALUES (1);' : '') +
  checker;

const select = (s: Select): Record<string, unknown> => {
  switch (s.kind) {
    case 'all':
      return { all: true };
    case 'where':
      return { where: [{ column: 'v', op: s.op, value: s.value }] };
    case 'follow':
    case 'followMoved':
      return { [s.kind]: [s.col], ...(s.where ? { where: [{ column: 'v', op: s.where.op, value: s.where.value }] } : {}) };
    case 'referenced':
      return { referenced: true };
  }
};

/** `checkRole`: the read-only role a plan with access checks names (accessCheckRole). */
export function planFor(c: Case, id: string, store: string, checkRole?: string): Record<string, unknown> {
  const common: Record<string, unknown> = {
    version: 1,
    id,
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['bob'], required: 1, timeout: '1h' },
    backup: { store: `file://${store}` },
  };
  if (c.path === 'clean-start') return { ...common, strategy: 'clean-start' };
  const people: Record<string, unknown> = {};
  if (c.subjects !== null) {
    people.subjects = { table: `public.t${c.subjects}`, key: 'id' };
    const registers: Record<string, unknown>[] = [{ db: 'source', table: 'public.erasure_request', subject: 'subject' }];
    if (c.path === 'restore' || c.lateRun.some((x) => x.db === 'target') || c.erasedTarget?.length)
      registers.push({ db: 'target', table: 'public.erasure_request', subject: 'subject' });
    if (c.path === 'restore')
      registers.push({ db: 'target', table: 'public.erasure_request_prod', subject: 'subject', keys: 'production' });
    people.erasure = { registers };
    if (c.consent)
      people.consent = { table: 'public.consent', subject: 'subject', granted: [{ column: 'status', op: 'eq', value: 'granted' }] };
  }
  if (c.testData !== null)
    people.testData = [{ table: `public.t${c.testData}`, where: [{ column: 'test', op: 'eq', value: true }], reason: 'test-data' }];
  if (c.path === 'adopt') {
    return {
      ...common,
      strategy: 'adopt',
      adoptFrom: '2026-12-01',
      tables: c.tables.map((t) => ({ table: `public.${t.name}` })),
      ...people,
    };
  }
  return {
    ...common,
    strategy: 'selective',
    rehearsal: { mode: c.rehearsal ? 'scratch' : 'skip' },
    tables: c.tables.map((t, i) => ({
      table: `public.${t.name}`,
      select: select(c.plans[i].select),
      ids: c.plans[i].ids,
      ...(c.plans[i].ids === 'match' ? { match: ['nk'] } : {}),
      ...mappingOf(c, t),
    })),
    ...people,
    // Rollback and restore need a pause after publish: a check that always returns a row.
    ...(c.path === 'rollback' || c.path === 'restore' ? { accessChecks: [{ name: 'model-pause', sql: 'SELECT 1 AS pause' }] } : {}),
    ...(c.lateRun.length ? { accessChecks: [{ name: 'model-pause', sql: 'SELECT x AS pause FROM model_pause' }] } : {}),
    ...((c.path === 'rollback' || c.path === 'restore' || c.lateRun.length) && checkRole ? { accessCheckRole: checkRole } : {}),
  };
}

/** A table's mapping keys in the plan (the case's mapping; none without one). */
function mappingOf(c: Case, t: { name: string; fks: { col: string }[] }): Record<string, unknown> {
  if (!c.mapping) return {};
  const n = namesOf(c, 'prod');
  const columns: Record<string, unknown> = {};
  if (c.mapping.rename) for (const fk of t.fks) if (n.fk(fk.col) !== fk.col) columns[n.fk(fk.col)] = { from: fk.col };
  if (c.mapping.v === 'copy' && c.mapping.rename) columns[n.v] = { from: 'v' };
  if (c.mapping.v === 'map') columns[n.v] = { from: 'v', map: { 0: 10, 1: 11, 2: 12 }, default: 13 };
  if (c.mapping.v === 'constant') columns[n.v] = { value: 7 };
  return {
    ...(c.mapping.rename ? { into: `public.${n.table(Number(t.name.slice(1)))}` } : {}),
    ...(Object.keys(columns).length ? { columns } : {}),
    ...(c.mapping.v === 'constant' ? { drop: ['v'] } : {}),
  };
}

/** Every table's rows by our own SQL, keys ascending, under the model's (Pilot's) names. */
export async function readRows(c: Case, url: string, side: 'pilot' | 'prod' = 'pilot'): Promise<Row[][]> {
  const n = namesOf(c, side);
  return Promise.all(
    c.tables.map(async (t, i) => {
      const got = await rows<Record<string, unknown>>(url, `SELECT * FROM ${n.table(i)}`);
      return got
        .map((r) => ({
          id: t.link
            ? linkId(
                keyNum(c.tables[t.fks[0].parent].key, r[n.fk(t.fks[0].col)]),
                keyNum(c.tables[t.fks[1].parent].key, r[n.fk(t.fks[1].col)]),
              )
            : keyNum(t.key, r.id),
          nk: String(r.nk),
          v: Number(r[n.v]),
          test: Boolean(r.test),
          fk: Object.fromEntries(
            t.fks.map((fk) => [fk.col, r[n.fk(fk.col)] === null ? null : keyNum(c.tables[fk.parent].key, r[n.fk(fk.col)])]),
          ),
        }))
        .sort((a, b) => a.id - b.id);
    }),
  );
}
