// The hostile plan corpus: plans written to break cutover (SQL in identifiers and values, look-alike
// unicode, huge lists, deep nesting, YAML alias bombs, wrong types, unknown keys, cycles, overlong
// strings). Each is refused with a message naming the file, line and field (or, for SQL in a value,
// treated as the data it is), and the Pilot and Production are byte-for-byte unchanged afterwards.
// The corpus is data: test/hostile/plans/*.yaml (header: `# stage:` parse | connect | harmless and
// one or more `# expect:` lines) and test/hostile/generated.ts for plans too big to keep as files.
// Add a case by adding a file.
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PlanError } from '../plan';
import { loadPlanFile, parsePlanText } from '../plan/load';
import { preflight } from '../activities/preflight';
import { DRY_RUN_TIMEOUT_ENV } from '../activities/preflight/statement-timeout';
import { dbChecksum } from './helpers/checksum';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA } from './helpers/shop';
import { GENERATED } from './hostile/generated';

interface Case {
  name: string;
  why: string;
  stage: 'parse' | 'connect' | 'harmless';
  expect: string[];
  text: string;
}

const DIR = path.join(__dirname, 'hostile', 'plans');
const FILES: Case[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => {
    const text = readFileSync(path.join(DIR, f), 'utf8');
    const header = text.split('\n').filter((l) => l.startsWith('# '));
    const stage = /^# stage: (\w+)/m.exec(text)?.[1] as Case['stage'];
    return {
      name: f,
      why: header[0].slice(2),
      stage,
      expect: header.filter((l) => l.startsWith('# expect: ')).map((l) => l.slice('# expect: '.length)),
      text,
    };
  });
const ALL: Case[] = [...FILES, ...GENERATED.map((g) => ({ ...g, stage: 'parse' as const, expect: g.expect }))];

test('the corpus holds at least 50 hostile plans, each with a stage and an expected message', () => {
  expect(ALL.length).toBeGreaterThanOrEqual(50);
  for (const c of ALL) {
    expect([c.name, c.stage]).toEqual([c.name, expect.stringMatching(/^(parse|connect|harmless)$/)]);
    if (c.stage !== 'harmless') expect([c.name, c.expect.length]).toEqual([c.name, expect.any(Number)]);
    if (c.stage !== 'harmless') expect(c.expect.length).toBeGreaterThan(0);
  }
});

/** The refusal as the CLI prints it: `<file>:<line>: <path>: <message>` lines. */
function refusal(c: Case): PlanError {
  try {
    parsePlanText(c.text, c.name);
  } catch (e) {
    if (e instanceof PlanError) return e;
    throw new Error(`${c.name}: not a PlanError: ${String(e)}`, { cause: e });
  }
  throw new Error(`${c.name} (${c.why}) was accepted`);
}

describe('refused by plan validation, with file, line and field', () => {
  test.each(ALL.filter((c) => c.stage === 'parse').map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const e = refusal(c);
    for (const want of c.expect) expect(e.message).toContain(`${c.name}${want}`);
    // Every issue names a field (or the whole plan / the syntax), and the message stays readable.
    for (const issue of e.issues) expect(issue.path).toMatch(/\S/);
    expect(e.issues.length).toBeLessThanOrEqual(101);
    expect(e.message.length).toBeLessThan(64 * 1024);
  });
});

test('a plan file over 1 MB is refused by its size, unread', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cutover-hostile-'));
  try {
    const file = path.join(dir, 'big.yaml');
    writeFileSync(file, `version: 1\npadding: "${'x'.repeat(3 * 1024 * 1024)}"\n`);
    expect(() => loadPlanFile(file)).toThrow(
      `${file}: (plan): plan file is too large: 3145751 bytes (3.0 MB), at most 1048576 bytes (1 MB)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('against real databases: refused at the dry run (or harmless), zero writes in either', () => {
  const base = uniqueName('cutover_hostile');
  let pilot: string;
  let prod: string;
  let before: { pilot: Record<string, string>; prod: Record<string, string> };

  beforeAll(async () => {
    pilot = await createDb(`${base}_pilot`, SHOP_SCHEMA + SHOP_PILOT);
    prod = await createDb(`${base}_prod`, SHOP_SCHEMA + SHOP_PRODUCTION);
    process.env.CUTOVER_DB_PILOT = pilot;
    process.env.CUTOVER_DB_PRODUCTION = prod;
    before = { pilot: await dbChecksum(pilot), prod: await dbChecksum(prod) };
  }, 120000);
  afterAll(async () => {
    await dropDb(`${base}_pilot`);
    await dropDb(`${base}_prod`);
  });

  // What `cutover plan check --connect` does: parse, then the dry run (preflight) in the CLI process.
  const dryRun = (c: Case) => preflight({ plan: parsePlanText(c.text, c.name) });

  test.each(FILES.filter((c) => c.stage === 'connect').map((c) => [c.name, c] as const))(
    '%s is refused by the dry run',
    async (_name, c) => {
      const err = await dryRun(c).then(
        () => new Error('accepted'),
        (e: unknown) => e as Error,
      );
      for (const want of c.expect) expect(err.message).toContain(want);
    },
  );

  test.each(FILES.filter((c) => c.stage === 'harmless').map((c) => [c.name, c] as const))(
    '%s: SQL in a value is a bound value, nothing more',
    async (_name, c) => {
      const report = await dryRun(c);
      const customer = report.tables.find((t) => t.table === 'public.customer')!;
      expect(customer.inScope).toBe(0);
      // The tables the payload names are still there.
      expect(await rows(pilot, 'SELECT count(*)::int AS n FROM customer')).toEqual([{ n: 12 }]);
    },
  );

  test('the dry run stops at its statement timeout with a clear error, and leaves nothing running', async () => {
    const values = Array.from({ length: 10_000 }, (_, i) => `c${i}@nowhere.example`);
    const plan = parsePlanText(
      JSON.stringify({
        version: 1,
        id: 'hostile-slow',
        strategy: 'selective',
        source: 'pilot',
        target: 'production',
        approvals: { approvers: ['bob'], required: 1 },
        // notIn over 300 000 rows with 10 000 values: far more than 5 ms of work, cut at 5 ms.
        tables: [{ table: 'customer', select: { where: [{ column: 'email', op: 'notIn', value: values }] } }],
      }),
      'slow.json',
    );
    await rows(pilot, 'INSERT INTO customer (email, store_id, country_id) SELECT md5(g::text), 1, 1 FROM generate_series(1, 300000) g');
    const saved = process.env[DRY_RUN_TIMEOUT_ENV];
    process.env[DRY_RUN_TIMEOUT_ENV] = '5ms';
    try {
      await expect(preflight({ plan })).rejects.toThrow(`dry run stopped: a statement ran longer than 5ms (${DRY_RUN_TIMEOUT_ENV})`);
      process.env[DRY_RUN_TIMEOUT_ENV] = 'soon';
      await expect(preflight({ plan })).rejects.toThrow(
        `${DRY_RUN_TIMEOUT_ENV}="soon": must be a positive duration like 120s, 2min or 500ms`,
      );
    } finally {
      if (saved === undefined) delete process.env[DRY_RUN_TIMEOUT_ENV];
      else process.env[DRY_RUN_TIMEOUT_ENV] = saved;
      await rows(pilot, 'DELETE FROM customer WHERE customer_id > 12');
      await rows(pilot, "SELECT setval('customer_customer_id_seq', 12)");
    }
    const active = await rows(
      pilot,
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'cutover:%' AND state = 'active'",
    );
    expect(active).toEqual([]);
  });

  test('Pilot and Production are unchanged after the whole corpus', async () => {
    expect(await dbChecksum(pilot)).toEqual(before.pilot);
    expect(await dbChecksum(prod)).toEqual(before.prod);
  });
});
