// Hostile plans too large to keep as files: built here, refused like the ones in ./plans. Each names
// what it tries and the message its refusal must carry (file, line when known, path, the limit).
export interface GeneratedPlan {
  name: string;
  why: string;
  text: string;
  expect: string[];
}

const HEAD = `version: 1
id: hostile-plan
strategy: selective
source: pilot
target: production
approvals: { approvers: [bob, carol], required: 1, timeout: 1h }
rehearsal: { mode: skip }
`;
const table = (select: string) => `tables:\n  - table: customer\n    select: ${select}\n    ids: new\n`;
const list = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(', ');

export const GENERATED: GeneratedPlan[] = [
  {
    name: 'huge-file-50mb',
    why: 'a 50 MB plan (once 3.8 GB of memory and a raw gRPC error)',
    text: HEAD + table('{ all: true }') + `padding: "${'x'.repeat(50 * 1024 * 1024)}"\n`,
    expect: [': (plan): plan file is too large: 52429051 bytes (50.0 MB), at most 1048576 bytes (1 MB)'],
  },
  {
    name: 'huge-file-2mb-json',
    why: 'a 2 MB JSON plan of 100 000 in values',
    text: JSON.stringify({
      version: 1,
      id: 'hostile-plan',
      strategy: 'selective',
      source: 'pilot',
      target: 'production',
      approvals: { approvers: ['bob'], required: 1 },
      tables: [
        {
          table: 'customer',
          select: { where: [{ column: 'email', op: 'in', value: Array.from({ length: 100_000 }, (_, i) => `user${i}@example.com`) }] },
        },
      ],
    }),
    expect: [': (plan): plan file is too large: 2389124 bytes (2.3 MB), at most 1048576 bytes (1 MB)'],
  },
  {
    name: 'where-10001',
    why: '10 001 conditions in one where',
    text: HEAD + table(`{ where: [${list(10_001, () => '{column: store_id, op: ne, value: 1}')}] }`),
    expect: [':10: tables[0].select.where: must have at most 10000 items'],
  },
  {
    name: 'in-10001',
    why: '10 001 values in one in list',
    text: HEAD + table(`{ where: [{ column: customer_id, op: in, value: [${list(10_001, (i) => String(i))}] }] }`),
    expect: [':10: tables[0].select.where[0].value: must have at most 10000 items (got 10001)'],
  },
  {
    name: 'tables-1001',
    why: '1001 tables',
    text: HEAD + `tables:\n${Array.from({ length: 1001 }, (_, i) => `  - { table: t${i}, select: { all: true } }`).join('\n')}\n`,
    expect: [':8: tables: must have at most 1000 items'],
  },
  {
    name: 'approvers-101',
    why: '101 approvers',
    text: HEAD.replace('approvers: [bob, carol]', `approvers: [${list(101, (i) => `person${i}`)}]`) + table('{ all: true }'),
    expect: [':6: approvals.approvers: must have at most 100 items'],
  },
  {
    name: 'long-value',
    why: 'a 100 000-character value',
    text: HEAD + table(`{ where: [{ column: email, op: eq, value: "${'x'.repeat(100_000)}" }] }`),
    expect: [':10: tables[0].select.where[0].value: must be at most 10000 characters'],
  },
  {
    name: 'long-sql',
    why: 'a 200 000-character access check',
    text: HEAD + table('{ all: true }') + `accessChecks: [{ name: big, sql: "select ${'1,'.repeat(100_000)}1" }]\n`,
    expect: [':12: accessChecks[0].sql: must be at most 100000 characters'],
  },
  {
    name: 'long-reason',
    why: 'a 20 000-character decision reason',
    text: HEAD + table('{ all: true }') + `decision: { reason: "${'why '.repeat(5000)}" }\n`,
    expect: [':12: decision.reason: must be at most 10000 characters'],
  },
  {
    name: 'deep-json-100k',
    why: 'a JSON plan nested 100 000 lists deep',
    text: `{"version": 1, "x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    expect: [':1: (plan): nesting is too deep: at most 32 levels'],
  },
  {
    name: 'many-keys',
    why: '30 000 unknown keys in one object (the duplicate-key check must not go quadratic)',
    text: HEAD + table('{ all: true }') + Array.from({ length: 30_000 }, (_, i) => `k${i}: 1`).join('\n') + '\n',
    expect: [':12: k0: unknown key "k0"'],
  },
];
