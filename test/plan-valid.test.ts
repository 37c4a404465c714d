/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML is untyped */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  canonicalJson,
  checkPlanSchema,
  formatDuration,
  formatPath,
  parseDuration,
  parsePath,
  planHash,
  parallelismOf,
  planJsonSchema,
  PlanError,
  unsupportedFeatures,
  validatePlan,
  type Condition,
  type Plan,
  type Select,
  type TableSpec,
} from '../plan';
import { loadPlanFile, parsePlanText } from '../plan/load';

/** The plan format's original every-key example, verbatim (its keys: docs/plan-reference.md). */
const DESIGN_EXAMPLE = `version: 1
id: acme-pilot                 # [a-z0-9-]{3,63}
strategy: selective            # selective | clean-start | adopt
source: pilot                  # connection aliases, resolved only in the worker:
target: production             #   CUTOVER_DB_PILOT, CUTOVER_DB_PRODUCTION (postgres URLs)
backup: { store: "s3://bucket/prefix", scope: touched-tables }   # or file:///dir ; scope: full
approvals: { approvers: [alice, bob, carol], required: 2, separationOfDuties: true, timeout: 72h }
rehearsal: { mode: scratch }   # scratch | skip
adoptFrom: 2026-12-01          # strategy adopt only
tables:                        # in any order; the catalog decides FK order
  - table: public.customer
    key: [customer_id]         # default: primary key
    select: { where: [{ column: store_id, op: eq, value: 1 }] }   # ops: eq ne lt lte gt gte in notIn like notLike isNull notNull
    ids: new                   # keep | new | match
  - table: public.rental
    select: { follow: [customer_id] }     # rows whose referenced parent row moves
    ids: new
  - table: public.address
    select: { referenced: true }          # rows that moving rows reference (the default)
    ids: new
  - table: public.country
    ids: match
    match: [country]           # natural key: reuse the production row, insert if absent
subjects: { table: public.customer, key: customer_id }    # the people data is about
consent: { table: public.customer_consent, subject: customer_id,
           granted: [{ column: status, op: eq, value: granted }] }
testData: [{ table: public.customer, where: [{ column: email, op: like, value: "%@test.example" }], reason: test-account }]
erasure:
  registers: [{ db: source, table: public.erasure_request, subject: customer_id }]   # db: source | target
  anonymize: [{ table: public.payment, columns: { amount: null } }]   # default action: delete
transforms: [{ table: public.customer, column: email, fn: lower }]     # trim lower upper nullIfEmpty sha256
accessChecks: [{ name: no-pilot-admins, sql: "select staff_id from staff where is_admin and …" }]
`;
/** The example shows every key at once; adoptFrom belongs to strategy adopt only ("refused otherwise"). */
const EXAMPLE_SELECTIVE = DESIGN_EXAMPLE.replace(/^adoptFrom:.*\n/m, '');

const MINIMAL = `
version: 1
id: acme-pilot
strategy: selective
source: pilot
target: production
approvals: { approvers: [alice, bob], required: 1 }
tables:
  - table: public.customer
    select: { where: [{ column: store_id, op: in, value: [1, 2] }, { column: email, op: notLike, value: "%@test.example" }] }
  - table: rental
    select: { follow: [customer_id], where: [{ column: return_date, op: notNull }] }
  - table: public.store
    select: { all: true }
  - table: public.address
`;

function issuesOf(fn: () => unknown): PlanError['issues'] {
  try {
    fn();
  } catch (e) {
    if (e instanceof PlanError) return e.issues;
    throw e;
  }
  throw new Error('expected a PlanError');
}

describe('the every-key example plan', () => {
  test('passes the schema once adoptFrom (adopt only) is removed', () => {
    const { plan, issues } = checkPlanSchema(parseYaml(EXAMPLE_SELECTIVE));
    expect(issues).toEqual([]);
    expect(plan?.tables).toHaveLength(4);
    expect(plan?.tables[2].select).toEqual({ referenced: true });
    expect(plan?.tables[3].select).toEqual({ referenced: true }); // default
    expect(plan?.erasure?.anonymize?.[0].columns).toEqual({ amount: null });
  });

  test('verbatim, its only schema issue is adoptFrom on a selective plan', () => {
    expect(checkPlanSchema(parseYaml(DESIGN_EXAMPLE)).issues).toEqual([
      { path: 'adoptFrom', message: 'only allowed when strategy is adopt (strategy is selective)' },
    ]);
  });

  test('validatePlan accepts it: erasure.anonymize is supported (checked against the catalog at preflight)', () => {
    expect(validatePlan(parseYaml(EXAMPLE_SELECTIVE)).erasure?.anonymize).toEqual([{ table: 'public.payment', columns: { amount: null } }]);
  });

  test('parsePlanText reports an issue with its line', () => {
    const issues = issuesOf(() => parsePlanText(EXAMPLE_SELECTIVE.replace('columns: { amount: null }', 'columns: {}'), 'acme.yaml'));
    expect(issues.find((i) => i.path === 'erasure.anonymize[0].columns')?.line).toBe(29);
  });
});

describe('a supported plan', () => {
  test('validates, with defaults applied', () => {
    const plan = validatePlan(parseYaml(MINIMAL));
    expect(plan.parallelism).toBe(2);
    expect(plan.approvals).toEqual({ approvers: ['alice', 'bob'], required: 1, separationOfDuties: true, timeout: '72h' });
    expect(plan.tables.map((t) => t.ids)).toEqual(['keep', 'keep', 'keep', 'keep']);
    expect(plan.tables[3].select).toEqual({ referenced: true });
    expect(plan.tables[1].select).toEqual({ follow: ['customer_id'], where: [{ column: 'return_date', op: 'notNull' }] });
    expect(plan.backup).toBeUndefined();
    expect(unsupportedFeatures(plan)).toEqual([]);
  });

  test('followMoved stands alone or combines with follow and where', () => {
    const withSelect = (select: unknown) => {
      const p = parseYaml(MINIMAL) as { tables: { select?: unknown }[] };
      p.tables[1].select = select;
      return validatePlan(p).tables[1].select;
    };
    expect(withSelect({ followMoved: ['customer_id'] })).toEqual({ followMoved: ['customer_id'] });
    const all = { follow: ['staff_id'], followMoved: ['customer_id'], where: [{ column: 'return_date', op: 'notNull' }] };
    expect(withSelect(all)).toEqual(all);
  });

  test('output types are the narrow contract types', () => {
    const plan = validatePlan(parseYaml(MINIMAL));
    const table: TableSpec = plan.tables[0];
    const select: Select = table.select;
    const first: Condition | undefined = 'where' in select ? select.where?.[0] : undefined;
    const value: string | number | boolean | Array<string | number | boolean> | undefined = first?.value;
    expect(value).toEqual([1, 2]);
  });

  test('defaults of optional sections are applied too', () => {
    const input = parseYaml(MINIMAL);
    input.backup = { store: 'file:///var/backups/cutover' };
    const { plan } = checkPlanSchema(input);
    expect(plan?.backup).toEqual({ store: 'file:///var/backups/cutover', scope: 'touched-tables' });
  });

  test('rehearsal skip, explicit parallelism and empty optional lists are supported', () => {
    const input = { ...parseYaml(MINIMAL), rehearsal: { mode: 'skip' }, parallelism: 16, testData: [], transforms: [], accessChecks: [] };
    expect(validatePlan(input).parallelism).toBe(16);
  });

  test('parallelism: a number stays as written (an older plan hashes as before); {tables, lanes} gets its defaults; parallelismOf reads both', () => {
    const withPar = (parallelism: unknown) => validatePlan({ ...parseYaml(MINIMAL), parallelism });
    const four = withPar(4);
    expect(four.parallelism).toBe(4);
    expect(canonicalJson(four)).toContain('"parallelism":4');
    expect(parallelismOf(four)).toEqual({ tables: 4, lanes: 1 });
    expect(parallelismOf(validatePlan(parseYaml(MINIMAL)))).toEqual({ tables: 2, lanes: 1 });
    expect(withPar({ tables: 2, lanes: 4 }).parallelism).toEqual({ tables: 2, lanes: 4 });
    expect(parallelismOf(withPar({ lanes: 3 }))).toEqual({ tables: 2, lanes: 3 });
    expect(parallelismOf(withPar({ tables: 5 }))).toEqual({ tables: 5, lanes: 1 });
    expect(parallelismOf(withPar({}))).toEqual({ tables: 2, lanes: 1 });
    // The object form is another plan than the number it resembles.
    expect(planHash(withPar({ tables: 4, lanes: 1 }))).not.toBe(planHash(four));
  });

  test('rehearsal scratch with a backup store is supported', () => {
    const input = { ...parseYaml(MINIMAL), backup: { store: 'file:///var/backups/cutover' }, rehearsal: { mode: 'scratch' } };
    expect(validatePlan(input).rehearsal).toEqual({ mode: 'scratch' });
  });

  test('validation is idempotent (the workflow re-validates its input)', () => {
    const once = validatePlan(parseYaml(MINIMAL));
    const twice = validatePlan(JSON.parse(JSON.stringify(once)));
    expect(twice).toEqual(once);
    expect(planHash(twice)).toBe(planHash(once));
  });

  test('does not mutate its input', () => {
    const input = parseYaml(MINIMAL);
    const copy = JSON.parse(JSON.stringify(input));
    validatePlan(input);
    expect(input).toEqual(copy);
  });

  test('clean-start without tables (with a backup store) and adopt with adoptFrom, a backup store and tables pass the schema', () => {
    const base = parseYaml(MINIMAL);
    delete base.tables;
    expect(checkPlanSchema({ ...base, strategy: 'clean-start' }).issues).toEqual([
      { path: 'backup', message: 'required when strategy is clean-start (the Pilot is archived into backup.store)' },
    ]);
    const clean = checkPlanSchema({ ...base, strategy: 'clean-start', backup: { store: 'file:///archive' }, decommission: 'readonly' });
    expect(clean.issues).toEqual([]);
    expect(clean.plan?.tables).toEqual([]);
    expect(unsupportedFeatures(clean.plan!)).toEqual([]);
    expect(checkPlanSchema({ ...parseYaml(MINIMAL), decommission: 'readonly' }).issues).toEqual([
      { path: 'decommission', message: 'only allowed when strategy is clean-start (strategy is selective)' },
    ]);
    expect(checkPlanSchema({ ...base, strategy: 'adopt', adoptFrom: '2026-12-01', tables: [] }).issues).toEqual([
      { path: 'backup', message: 'required when strategy is adopt (a rollback restores the removed rows from the Pilot backup)' },
      { path: 'tables', message: 'must list at least one table when strategy is adopt' },
    ]);
    const adopt = checkPlanSchema({
      ...parseYaml(MINIMAL),
      strategy: 'adopt',
      adoptFrom: '2026-12-01',
      backup: { store: 'file:///archive' },
    });
    expect(adopt.issues).toEqual([]);
    expect(unsupportedFeatures(adopt.plan!)).toEqual([]);
  });
});

describe('plan hash', () => {
  const plan = validatePlan(parseYaml(MINIMAL));

  test('is sha256 of the canonical JSON', () => {
    expect(planHash(plan)).toBe(createHash('sha256').update(canonicalJson(plan), 'utf8').digest('hex'));
    expect(planHash(plan)).toMatch(/^[0-9a-f]{64}$/);
  });

  test('YAML and JSON of the same plan give the same hash', () => {
    const fromYaml = parsePlanText(MINIMAL, 'plan.yaml');
    const fromJson = parsePlanText(JSON.stringify(parseYaml(MINIMAL), null, 2), 'plan.json');
    expect(planHash(fromJson)).toBe(planHash(fromYaml));
  });

  test('explicit defaults hash like omitted ones', () => {
    const input = parseYaml(MINIMAL);
    input.parallelism = 2;
    input.approvals.timeout = '72h';
    input.tables[3].select = { referenced: true };
    expect(planHash(validatePlan(input))).toBe(planHash(plan));
  });

  test('does not change with key order', () => {
    const reversed = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reversed)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reversed(x)]),
            )
          : v;
    const shuffled = reversed(plan) as Plan;
    expect(JSON.stringify(shuffled)).not.toBe(JSON.stringify(plan));
    expect(planHash(shuffled)).toBe(planHash(plan));
  });

  test('changes when any single value changes', () => {
    const base = planHash(plan);
    const leaves: Array<Array<string | number>> = [];
    const walk = (v: unknown, path: Array<string | number>) => {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
      else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => walk(x, [...path, k]));
      else leaves.push(path);
    };
    walk(plan, []);
    expect(leaves.length).toBeGreaterThan(20);
    const seen = new Set([base]);
    for (const path of leaves) {
      const copy = JSON.parse(JSON.stringify(plan));
      let parent = copy;
      for (const seg of path.slice(0, -1)) parent = parent[seg];
      const last = path[path.length - 1];
      const old = parent[last];
      parent[last] = typeof old === 'string' ? `${old}x` : typeof old === 'number' ? old + 1 : !old;
      const h = planHash(copy);
      expect(seen.has(h)).toBe(false);
      seen.add(h);
    }
  });

  test('changes when array order changes (table order is part of what is approved)', () => {
    const copy = { ...plan, tables: [...plan.tables].reverse() };
    expect(planHash(copy)).not.toBe(planHash(plan));
  });
});

describe('canonicalJson', () => {
  test('sorts keys recursively, no whitespace, drops undefined like JSON.stringify', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[3,{"z":1}]},"b":1}',
    );
    expect(canonicalJson([undefined, null, 1.5, 'é', true])).toBe('[null,null,1.5,"é",true]');
    expect(canonicalJson({ é: 1, Z: 2, a: 3, '10': 4, '9': 5 })).toBe('{"10":4,"9":5,"Z":2,"a":3,"é":1}');
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
  });
});

describe('duration', () => {
  test.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['72h', 259_200_000],
    ['2d', 172_800_000],
    ['0s', 0],
  ])('parseDuration(%s) = %d', (s, ms) => expect(parseDuration(s)).toBe(ms));

  test('formatDuration round-trips with the largest exact unit', () => {
    expect(formatDuration(259_200_000)).toBe('3d');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1500)).toBe('1500ms');
    expect(formatDuration(0)).toBe('0s');
    for (const ms of [1, 999, 60_000, 3_600_000, 5_400_000, 86_400_000 * 7]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  test('rejects malformed durations', () => {
    for (const s of ['', '72', 'h', '1.5h', '-1h', '1 h', '1w']) expect(() => parseDuration(s)).toThrow(/invalid duration/);
  });
});

describe('paths, errors, JSON schema, files', () => {
  test('formatPath / parsePath round-trip', () => {
    const cases: Array<Array<string | number>> = [
      [],
      ['id'],
      ['tables', 2, 'select', 'where', 0, 'op'],
      ['erasure', 'anonymize', 0, 'columns', 'a.b'],
    ];
    expect(formatPath(cases[2])).toBe('tables[2].select.where[0].op');
    expect(formatPath([])).toBe('(plan)');
    for (const c of cases) expect(parsePath(formatPath(c))).toEqual(c);
  });

  test('PlanError lists every issue on its own line', () => {
    const e = new PlanError(
      [
        { path: 'id', message: 'bad', line: 2 },
        { path: '(plan)', message: 'worse' },
      ],
      'p.yaml',
    );
    expect(e.name).toBe('PlanError');
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('p.yaml:2: id: bad\np.yaml: (plan): worse');
    expect(new PlanError([{ path: 'id', message: 'bad' }]).message).toBe('id: bad');
  });

  test('planJsonSchema describes the input (strict objects, enums, defaults)', () => {
    const schema = planJsonSchema() as { properties: Record<string, any>; required: string[]; additionalProperties: boolean };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'id', 'strategy', 'source', 'target', 'approvals']));
    expect(schema.properties.parallelism.default).toBe(2);
    const where = schema.properties.tables.items.properties.select.properties.where.items;
    expect(where.properties.op.enum).toContain('notLike');
    expect(where.additionalProperties).toBe(false);
  });

  test('loadPlanFile reads a file and names it in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-plan-'));
    try {
      const good = join(dir, 'good.yaml');
      writeFileSync(good, MINIMAL);
      expect(loadPlanFile(good).id).toBe('acme-pilot');
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, MINIMAL.replace('id: acme-pilot', 'id: Acme'));
      expect(() => loadPlanFile(bad)).toThrow(`${bad}:3: id: must match [a-z0-9-]{3,63}`);
      const missing = join(dir, 'missing.yaml');
      const issues = issuesOf(() => loadPlanFile(missing));
      expect(issues).toEqual([{ path: '(file)', message: `cannot read plan file "${missing}": no such file` }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
