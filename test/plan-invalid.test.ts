/* eslint-disable @typescript-eslint/no-explicit-any -- plans are mutated freely to build invalid inputs */
import { parse as parseYaml } from 'yaml';
import { checkPlanSchema, PlanError, validatePlan, type PlanIssue } from '../plan';
import { parsePlanText } from '../plan/load';

/** Every key of the contract, schema-valid (the every-key example without adoptFrom, which is adopt-only). */
function fullPlan(): any {
  return {
    version: 1,
    id: 'acme-pilot',
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    backup: { store: 's3://bucket/prefix', scope: 'touched-tables' },
    approvals: { approvers: ['alice', 'bob', 'carol'], required: 2, separationOfDuties: true, timeout: '72h' },
    rehearsal: { mode: 'scratch' },
    tables: [
      { table: 'public.customer', key: ['customer_id'], select: { where: [{ column: 'store_id', op: 'eq', value: 1 }] }, ids: 'new' },
      { table: 'public.rental', select: { follow: ['customer_id'] }, ids: 'new' },
      { table: 'public.address', select: { referenced: true }, ids: 'new' },
      { table: 'public.country', ids: 'match', match: ['country'] },
    ],
    subjects: { table: 'public.customer', key: 'customer_id' },
    consent: { table: 'public.customer_consent', subject: 'customer_id', granted: [{ column: 'status', op: 'eq', value: 'granted' }] },
    testData: [{ table: 'public.customer', where: [{ column: 'email', op: 'like', value: '%@test.example' }], reason: 'test-account' }],
    erasure: {
      registers: [{ db: 'source', table: 'public.erasure_request', subject: 'customer_id' }],
      anonymize: [{ table: 'public.payment', columns: { amount: null } }],
    },
    transforms: [{ table: 'public.customer', column: 'email', fn: 'lower' }],
    accessChecks: [{ name: 'no-pilot-admins', sql: 'select staff_id from staff where is_admin' }],
  };
}

/** What this build runs: selective, ids keep, no unsupported sections. */
function supportedPlan(): any {
  return {
    version: 1,
    id: 'acme-pilot',
    strategy: 'selective',
    source: 'pilot',
    target: 'production',
    approvals: { approvers: ['alice', 'bob'], required: 1 },
    tables: [{ table: 'public.customer', select: { all: true } }],
  };
}

const where0 = (p: any) => p.tables[0].select.where[0];
const OPS = 'expected one of eq, ne, lt, lte, gt, gte, in, notIn, like, notLike, isNull, notNull';

type Case = [description: string, mutate: (p: any) => void, path: string, fragment: string];

const CASES: Case[] = [
  // identity and top level
  ['bad id', (p) => (p.id = 'Acme_Pilot'), 'id', 'must match [a-z0-9-]{3,63}'],
  ['id too short', (p) => (p.id = 'ab'), 'id', 'must match [a-z0-9-]{3,63}'],
  ['id not a string', (p) => (p.id = 42), 'id', 'must be a string, got 42'],
  ['version 2', (p) => (p.version = 2), 'version', 'must be 1'],
  ['version missing', (p) => delete p.version, 'version', 'required'],
  ['unknown top-level key', (p) => (p.foo = 1), 'foo', 'unknown key "foo"'],
  ['misspelt top-level key', (p) => (p.paralelism = 4), 'paralelism', 'did you mean "parallelism"?'],
  ['bad strategy', (p) => (p.strategy = 'big-bang'), 'strategy', 'expected one of selective, clean-start, adopt'],
  ['source alias with capitals', (p) => (p.source = 'Pilot'), 'source', 'must match [a-z][a-z0-9_]{0,62}'],
  ['target is a URL', (p) => (p.target = 'postgres://prod/db'), 'target', 'must match [a-z][a-z0-9_]{0,62}'],
  ['source equals target', (p) => (p.target = 'pilot'), 'target', 'must differ from source'],
  ['parallelism 0', (p) => (p.parallelism = 0), 'parallelism', 'must be at least 1'],
  ['parallelism 17', (p) => (p.parallelism = 17), 'parallelism', 'must be at most 16'],
  ['parallelism 1.5', (p) => (p.parallelism = 1.5), 'parallelism', 'must be a whole number'],
  [
    'parallelism a string',
    (p) => (p.parallelism = 'many'),
    'parallelism',
    'must be a whole number 1..16 (tables at once) or {tables: 1..16, lanes: 1..16}',
  ],
  ['parallelism.lanes 0', (p) => (p.parallelism = { lanes: 0 }), 'parallelism.lanes', 'must be at least 1'],
  ['parallelism.lanes 17', (p) => (p.parallelism = { tables: 2, lanes: 17 }), 'parallelism.lanes', 'must be at most 16'],
  ['parallelism.lanes 2.5', (p) => (p.parallelism = { lanes: 2.5 }), 'parallelism.lanes', 'must be a whole number'],
  ['parallelism.tables 0', (p) => (p.parallelism = { tables: 0, lanes: 2 }), 'parallelism.tables', 'must be at least 1'],
  ['parallelism.lane misspelt', (p) => (p.parallelism = { lane: 2 }), 'parallelism.lane', 'did you mean "lanes"?'],
  // approvals
  ['approvals missing', (p) => delete p.approvals, 'approvals', 'required'],
  ['required > approvers', (p) => (p.approvals.required = 4), 'approvals.required', 'must be at most 3'],
  ['required 0', (p) => (p.approvals.required = 0), 'approvals.required', 'must be at least 1'],
  [
    'duplicate approvers',
    (p) => (p.approvals.approvers = ['alice', 'bob', 'alice']),
    'approvals.approvers[2]',
    'duplicate approver "alice"',
  ],
  ['no approvers', (p) => (p.approvals.approvers = []), 'approvals.approvers', 'must not be empty'],
  ['blank approver', (p) => (p.approvals.approvers[1] = ' '), 'approvals.approvers[1]', 'must be a non-empty name'],
  ['bad timeout', (p) => (p.approvals.timeout = '3 days'), 'approvals.timeout', 'must be a duration like 72h'],
  ['zero timeout', (p) => (p.approvals.timeout = '0h'), 'approvals.timeout', 'must be longer than 0'],
  [
    'separationOfDuties not boolean',
    (p) => (p.approvals.separationOfDuties = 'yes'),
    'approvals.separationOfDuties',
    'must be true or false',
  ],
  ['unknown key in approvals', (p) => (p.approvals.quorum = 2), 'approvals.quorum', 'unknown key "quorum"'],
  // strategy-dependent keys
  ['adoptFrom on selective', (p) => (p.adoptFrom = '2026-12-01'), 'adoptFrom', 'only allowed when strategy is adopt'],
  ['adopt without adoptFrom', (p) => (p.strategy = 'adopt'), 'adoptFrom', 'required when strategy is adopt'],
  [
    'adopt without a backup store',
    (p) => ((p.strategy = 'adopt'), (p.adoptFrom = '2026-12-01'), (p.rehearsal = { mode: 'skip' }), delete p.backup),
    'backup',
    'required when strategy is adopt',
  ],
  ['adoptFrom not a date', (p) => ((p.strategy = 'adopt'), (p.adoptFrom = '2026-13-01')), 'adoptFrom', 'must be a date YYYY-MM-DD'],
  ['selective without tables', (p) => (p.tables = []), 'tables', 'at least one table when strategy is selective'],
  ['tables not a list', (p) => (p.tables = { table: 'x' }), 'tables', 'must be a list'],
  // tables
  ['bad table name', (p) => (p.tables[0].table = 'a.b.c'), 'tables[0].table', 'must be a table name'],
  [
    'duplicate table',
    (p) => p.tables.push({ table: 'public.rental' }),
    'tables[4].table',
    'duplicate table "public.rental" (already listed at tables[1])',
  ],
  ['duplicate table, unqualified', (p) => p.tables.push({ table: 'customer' }), 'tables[4].table', 'duplicate table "customer"'],
  ['unknown nested key', (p) => (p.tables[0].selct = {}), 'tables[0].selct', 'unknown key "selct" (did you mean "select"?)'],
  ['empty key', (p) => (p.tables[0].key = []), 'tables[0].key', 'must not be empty'],
  ['bad ids', (p) => (p.tables[0].ids = 'reuse'), 'tables[0].ids', 'expected one of keep, new, match'],
  ['match without ids match', (p) => (p.tables[0].match = ['email']), 'tables[0].match', 'only allowed when ids is match'],
  ['ids match without match', (p) => delete p.tables[3].match, 'tables[3].match', 'required when ids is match'],
  ['duplicate match column', (p) => (p.tables[3].match = ['country', 'country']), 'tables[3].match[1]', 'duplicate column "country"'],
  [
    'duplicate key column',
    (p) => (p.tables[0].key = ['customer_id', 'store_id', 'customer_id']),
    'tables[0].key[2]',
    'duplicate column "customer_id"',
  ],
  [
    'duplicate follow column',
    (p) => (p.tables[1].select.follow = ['customer_id', 'customer_id']),
    'tables[1].select.follow[1]',
    'duplicate column "customer_id"',
  ],
  // select
  ['select with both all and where', (p) => (p.tables[0].select.all = true), 'tables[0].select', 'cannot combine all and where'],
  [
    'select all and referenced',
    (p) => (p.tables[2].select = { all: true, referenced: true }),
    'tables[2].select',
    'cannot combine all and referenced',
  ],
  ['empty select', (p) => (p.tables[0].select = {}), 'tables[0].select', 'is empty; use exactly one of'],
  ['empty follow', (p) => (p.tables[1].select.follow = []), 'tables[1].select.follow', 'must not be empty'],
  ['empty where', (p) => (p.tables[0].select.where = []), 'tables[0].select.where', 'must not be empty'],
  [
    'followMoved with all',
    (p) => (p.tables[1].select = { all: true, followMoved: ['customer_id'] }),
    'tables[1].select',
    'cannot combine all and followMoved',
  ],
  [
    'a column in follow and followMoved',
    (p) => (p.tables[1].select.followMoved = ['staff_id', 'customer_id']),
    'tables[1].select.followMoved[1]',
    'column "customer_id" is also in follow',
  ],
  ['empty followMoved', (p) => (p.tables[1].select = { followMoved: [] }), 'tables[1].select.followMoved', 'must not be empty'],
  ['all: false', (p) => (p.tables[0].select = { all: false }), 'tables[0].select.all', 'must be true'],
  ['unknown select form', (p) => (p.tables[0].select = { all: true, sample: 10 }), 'tables[0].select.sample', 'unknown key "sample"'],
  // conditions
  ['wrong op', (p) => (where0(p).op = 'equals'), 'tables[0].select.where[0].op', OPS],
  ['missing op', (p) => delete where0(p).op, 'tables[0].select.where[0].op', 'required'],
  [
    'bad column',
    (p) => (where0(p).column = 'x'.repeat(64)),
    'tables[0].select.where[0].column',
    'must be a column name: is longer than 63 bytes',
  ],
  ['empty column', (p) => (where0(p).column = ''), 'tables[0].select.where[0].column', 'must be a column name: must not be empty'],
  ['isNull with value', (p) => (where0(p).op = 'isNull'), 'tables[0].select.where[0].value', 'not allowed with op isNull'],
  ['eq without value', (p) => delete where0(p).value, 'tables[0].select.where[0].value', 'required with op eq'],
  ['in with scalar', (p) => (where0(p).op = 'in'), 'tables[0].select.where[0].value', 'must be a list of values with op in'],
  [
    'notIn with empty list',
    (p) => Object.assign(where0(p), { op: 'notIn', value: [] }),
    'tables[0].select.where[0].value',
    'non-empty list with op notIn',
  ],
  [
    'in with an object inside',
    (p) => Object.assign(where0(p), { op: 'in', value: [1, {}] }),
    'tables[0].select.where[0].value[1]',
    'must be a string, number or boolean',
  ],
  ['eq with a list', (p) => (where0(p).value = [1, 2]), 'tables[0].select.where[0].value', 'must be a single value with op eq'],
  ['like with a number', (p) => (where0(p).op = 'like'), 'tables[0].select.where[0].value', 'must be a string pattern with op like'],
  ['value null', (p) => (where0(p).value = null), 'tables[0].select.where[0].value', 'must not be null (use op isNull'],
  ['value an object', (p) => (where0(p).value = { a: 1 }), 'tables[0].select.where[0].value', 'must be a string, number or boolean'],
  ['unknown key in condition', (p) => (where0(p).values = [1]), 'tables[0].select.where[0].values', 'did you mean "value"?'],
  // backup and rehearsal
  ['bad backup store URL', (p) => (p.backup.store = 'http://bucket/prefix'), 'backup.store', 's3://bucket/prefix or file:///absolute/dir'],
  ['relative file store', (p) => (p.backup.store = 'file://backups'), 'backup.store', 'must be a URL like'],
  ['bad backup scope', (p) => (p.backup.scope = 'all'), 'backup.scope', 'expected one of touched-tables, full'],
  ['bad rehearsal mode', (p) => (p.rehearsal.mode = 'dry'), 'rehearsal.mode', 'expected one of scratch, skip'],
  [
    'rehearsal scratch without backup',
    (p) => delete p.backup,
    'rehearsal.mode',
    'scratch needs backup (the rehearsal restores the target backup)',
  ],
  // people data
  ['erasure without subjects', (p) => (delete p.subjects, delete p.consent), 'erasure', 'requires subjects'],
  ['consent without subjects', (p) => (delete p.subjects, delete p.erasure), 'consent', 'requires subjects'],
  ['subjects without key', (p) => delete p.subjects.key, 'subjects.key', 'required'],
  ['consent bad op', (p) => (p.consent.granted[0].op = '='), 'consent.granted[0].op', OPS],
  ['testData bad reason', (p) => (p.testData[0].reason = 'Test Account'), 'testData[0].reason', 'must match [a-z0-9-]+'],
  ['testData empty where', (p) => (p.testData[0].where = []), 'testData[0].where', 'must not be empty'],
  ['erasure no registers', (p) => (p.erasure.registers = []), 'erasure.registers', 'must not be empty'],
  ['erasure register bad db', (p) => (p.erasure.registers[0].db = 'both'), 'erasure.registers[0].db', 'expected one of source, target'],
  [
    'anonymize value object',
    (p) => (p.erasure.anonymize[0].columns.amount = { x: 1 }),
    'erasure.anonymize[0].columns.amount',
    'must be null, a string, a number or a boolean',
  ],
  ['anonymize no columns', (p) => (p.erasure.anonymize[0].columns = {}), 'erasure.anonymize[0].columns', 'must name at least one column'],
  [
    'anonymize bad column name',
    (p) => (p.erasure.anonymize[0].columns = { '': null }),
    'erasure.anonymize[0].columns[""]',
    'invalid key ""',
  ],
  [
    'references bad action',
    (p) => (p.erasure.references = [{ table: 'public.rental', columns: ['staff_id'], action: 'purge' }]),
    'erasure.references[0].action',
    'expected one of delete, nullify',
  ],
  [
    'references no columns',
    (p) => (p.erasure.references = [{ table: 'public.rental', columns: [], action: 'delete' }]),
    'erasure.references[0].columns',
    'must not be empty',
  ],
  // transforms and access checks
  ['bad transform fn', (p) => (p.transforms[0].fn = 'md5'), 'transforms[0].fn', 'expected one of trim, lower, upper, nullIfEmpty, sha256'],
  ['transform without column', (p) => delete p.transforms[0].column, 'transforms[0].column', 'required'],
  ['bad access check name', (p) => (p.accessChecks[0].name = 'No Admins'), 'accessChecks[0].name', 'must match [a-z0-9-]+'],
  ['empty access check sql', (p) => (p.accessChecks[0].sql = '  '), 'accessChecks[0].sql', 'must not be empty'],
  [
    'duplicate access check names',
    (p) => p.accessChecks.push({ ...p.accessChecks[0] }),
    'accessChecks[1].name',
    'duplicate access check name',
  ],
];

describe('invalid plans: exactly one issue, at the exact path', () => {
  test('the base plan is schema-valid', () => {
    expect(checkPlanSchema(fullPlan()).issues).toEqual([]);
  });

  test('there are at least 35 distinct cases', () => {
    expect(new Set(CASES.map((c) => c[0])).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(35);
  });

  test.each(CASES)('%s', (_description, mutate, path, fragment) => {
    const plan = fullPlan();
    mutate(plan);
    const { plan: parsed, issues } = checkPlanSchema(plan);
    expect(parsed).toBeUndefined();
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe(path);
    expect(issues[0].message).toContain(fragment);
    // validatePlan refuses with the same issue (not the not-supported ones).
    expect(() => validatePlan(plan)).toThrow(`${path}: `);
  });
});

describe('whole-plan problems', () => {
  test.each([
    ['a string', 'plan', 'must be an object, got "plan"'],
    ['null', null, 'must be an object, got null'],
    ['a list', [], 'must be an object, got a list'],
  ])('plan that is %s', (_d, input, message) => {
    expect(checkPlanSchema(input).issues).toEqual([{ path: '(plan)', message }]);
  });

  test('every issue is reported at once', () => {
    const plan = fullPlan();
    plan.id = 'X';
    plan.approvals.timeout = 'soon';
    plan.tables[0].select.where[0].op = 'equals';
    plan.tables.push({ table: 'public.rental' });
    plan.extra = true;
    const paths = checkPlanSchema(plan)
      .issues.map((i) => i.path)
      .sort();
    expect(paths).toEqual(['approvals.timeout', 'extra', 'id', 'tables[0].select.where[0].op', 'tables[4].table'].sort());
  });
});

describe('not supported yet (schema-valid, refused by validatePlan)', () => {
  const NOT_SUPPORTED: Array<[string, (p: any) => void, string]> = [
    [
      "adopt with a register in Production (adopt reads the Pilot's registers)",
      (p) =>
        Object.assign(p, {
          strategy: 'adopt',
          adoptFrom: '2026-12-01',
          backup: { store: 'file:///b' },
          subjects: { table: 'public.customer', key: 'customer_id' },
          erasure: {
            registers: [
              { db: 'source', table: 'public.erasure_request', subject: 'customer_id' },
              { db: 'target', table: 'public.erasure_request', subject: 'customer_id' },
            ],
          },
        }),
      'erasure.registers[1].db',
    ],
  ];

  test('erasure.anonymize is supported now: validates (its tables and columns are checked against the catalog at preflight)', () => {
    const plan = Object.assign(supportedPlan(), { subjects: fullPlan().subjects, erasure: fullPlan().erasure });
    expect(validatePlan(plan).erasure?.anonymize).toEqual(fullPlan().erasure.anonymize);
  });

  test('the supported base validates', () => {
    expect(validatePlan(supportedPlan()).id).toBe('acme-pilot');
  });

  test.each(NOT_SUPPORTED)('%s', (_d, mutate, path) => {
    const plan = supportedPlan();
    mutate(plan);
    expect(checkPlanSchema(plan).issues).toEqual([]);
    let issues: PlanIssue[] = [];
    try {
      validatePlan(plan);
    } catch (e) {
      expect(e).toBeInstanceOf(PlanError);
      issues = (e as PlanError).issues;
    }
    expect(issues).toEqual([{ path, message: `not supported yet: ${path}` }]);
  });

  test('the data-path features validate: ids new/match, subjects, consent, testData, erasure registers, transforms', () => {
    const full = fullPlan();
    const plan = {
      ...supportedPlan(),
      subjects: full.subjects,
      consent: full.consent,
      testData: full.testData,
      transforms: full.transforms,
      erasure: { registers: full.erasure!.registers },
    };
    plan.tables[0].ids = 'new';
    Object.assign(plan.tables[1] ?? plan.tables[0], { ids: 'match', match: ['email'] });
    expect(validatePlan(plan).id).toBe('acme-pilot');
  });
});

describe('YAML/JSON source lines', () => {
  // Line numbers matter below: the bad op is on line 14.
  const YAML_PLAN = [
    'version: 1', //                                   1
    'id: acme-pilot', //                               2
    'strategy: selective', //                          3
    'source: pilot', //                                4
    'target: production', //                           5
    'approvals:', //                                   6
    '  approvers: [alice, bob]', //                    7
    '  required: 1', //                                8
    'tables:', //                                      9
    '  - table: public.customer', //                  10
    '    select:', //                                 11
    '      where:', //                                12
    '        - column: store_id', //                  13
    '          op: equals', //                        14
    '          value: 1', //                          15
    '  - table: public.rental', //                    16
    '    select: { follow: [customer_id] }', //       17
    '',
  ].join('\n');

  function issuesFrom(text: string, file = 'plan.yaml'): { issues: PlanIssue[]; message: string } {
    try {
      parsePlanText(text, file);
    } catch (e) {
      if (e instanceof PlanError) return { issues: e.issues, message: e.message };
      throw e;
    }
    throw new Error('expected a PlanError');
  }

  test('a bad op on line 14 is reported at line 14', () => {
    const { issues, message } = issuesFrom(YAML_PLAN);
    expect(issues).toEqual([{ path: 'tables[0].select.where[0].op', message: expect.stringContaining(OPS), line: 14 }]);
    expect(message).toMatch(/^plan\.yaml:14: tables\[0\]\.select\.where\[0\]\.op: expected one of eq, ne, lt/);
  });

  test('the same plan as JSON maps paths to JSON lines', () => {
    const json = JSON.stringify(parseYaml(YAML_PLAN), null, 2);
    const opLine = json.split('\n').findIndex((l) => l.includes('"equals"')) + 1;
    const { issues, message } = issuesFrom(json, 'plan.json');
    expect(issues[0].line).toBe(opLine);
    expect(message).toContain(`plan.json:${opLine}: tables[0].select.where[0].op`);
  });

  test('a missing key is reported at its nearest existing ancestor', () => {
    const { issues } = issuesFrom(YAML_PLAN.replace('  required: 1\n', '').replace('op: equals', 'op: eq'));
    expect(issues).toEqual([{ path: 'approvals.required', message: 'required', line: 6 }]);
  });

  test('an unknown key is reported at the key', () => {
    const { issues } = issuesFrom(YAML_PLAN.replace('op: equals', 'op: eq').replace('    select: { follow', '    selct: { follow'));
    expect(issues).toEqual([{ path: 'tables[1].selct', message: 'unknown key "selct" (did you mean "select"?)', line: 17 }]);
  });

  test('several issues come in file order, each with its line', () => {
    const text = YAML_PLAN.replace('id: acme-pilot', 'id: A').replace('  - table: public.rental', '  - table: public.customer');
    const { issues, message } = issuesFrom(text);
    expect(issues.map((i) => [i.line, i.path])).toEqual([
      [2, 'id'],
      [14, 'tables[0].select.where[0].op'],
      [16, 'tables[1].table'],
    ]);
    expect(message.split('\n')).toHaveLength(3);
  });

  test('not-supported issues carry lines too', () => {
    const adopt =
      'strategy: adopt\nadoptFrom: 2026-12-01\nbackup: { store: "file:///b" }\nsubjects: { table: public.customer, key: customer_id }\nerasure: { registers: [{ db: target, table: public.erasure_request, subject: customer_id }] }';
    const { issues } = issuesFrom(YAML_PLAN.replace('op: equals', 'op: eq').replace('strategy: selective', adopt));
    expect(issues).toEqual([{ path: 'erasure.registers[0].db', message: 'not supported yet: erasure.registers[0].db', line: 7 }]);
  });

  test('YAML syntax errors carry their line', () => {
    const { issues, message } = issuesFrom(YAML_PLAN.replace('  required: 1', '  required: [1'));
    expect(issues[0].path).toBe('(syntax)');
    expect(issues[0].line).toBeGreaterThanOrEqual(8);
    expect(message).toMatch(/^plan\.yaml:\d+: \(syntax\): /);
  });

  test('duplicate YAML keys are refused', () => {
    const { issues } = issuesFrom(YAML_PLAN.replace('source: pilot', 'source: pilot\nsource: other'));
    expect(issues[0]).toMatchObject({ path: '(syntax)', line: 5 });
    expect(issues[0].message).toMatch(/unique/);
  });

  test('JSON syntax errors read as JSON errors, with a line', () => {
    const { issues } = issuesFrom('{\n  "version": 1,\n  "id": "acme-pilot",\n}\n', 'plan.json');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: '(syntax)', line: 4 });
    expect(issues[0].message).toMatch(/^invalid JSON: /);
  });

  test('duplicate JSON keys are refused (JSON.parse would keep the last)', () => {
    const { issues } = issuesFrom('{\n  "id": "a-b-c",\n  "id": "x-y-z"\n}\n', 'plan.json');
    expect(issues).toEqual([{ path: '(syntax)', message: 'duplicate key "id": map keys must be unique', line: 3 }]);
  });

  test('an empty file is refused', () => {
    expect(issuesFrom('# nothing\n').issues).toEqual([{ path: '(plan)', message: 'is empty' }]);
  });

  test('an alias to a missing anchor is a syntax error, not a crash', () => {
    expect(issuesFrom('version: *nope\n').issues[0].path).toBe('(syntax)');
  });
});
