// Production's own audit trail (plan production.auditTables): a realistic generic audit trigger —
// AFTER INSERT OR UPDATE OR DELETE … FOR EACH ROW writing to_jsonb(NEW) (OLD for a delete) into
// audit.logged_actions — on every Production table, a partitioned one and the dept ⇄ employee cycle
// included. Publish proves itself with the audit rows in place: exactly one audit row per published
// row (and per cycle-closing update), judged here by the test's own SQL; a surgical rollback is
// proven the same way and leaves the audit rows of both publish and rollback in place. A trigger
// writing more audit rows than the rule explains, or an audit table the plan does not declare, is
// refused with nothing published. Through the workflow, the evidence pack says how many audit rows
// the run produced per audit table.
import { rollback } from '../activities/rollback';
import { renderReport } from '../client/commands/report';
import type { EvidenceDocument } from '../common/evidence';
import { approveSignal, type StatusView } from '../common/temporal';
import { useHarness } from './helpers/harness';
import { createDb, dropDb, rows, uniqueName } from './helpers/pg';
import { atGate, startRun, waitFor } from './helpers/run';
import { runResult } from './helpers/run-result';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { SHOP_PILOT, SHOP_PRODUCTION, SHOP_SCHEMA, shopPlan } from './helpers/shop';
import { failureOf, publishRun, schemaChecked } from './helpers/steps';

/** The audit schema, and the generic row-level trigger on every table of `tables`. */
const audit = (
  tables: string[],
  body = `INSERT INTO audit.logged_actions (table_name, action, row_data)
      VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP, CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END);`,
) => `
CREATE SCHEMA audit;
CREATE TABLE audit.logged_actions (event_id bigserial PRIMARY KEY, table_name text NOT NULL, action text NOT NULL,
  row_data jsonb, by_user text NOT NULL DEFAULT current_user, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION audit.if_modified() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  ${body}
  RETURN NULL;
END $$;
${tables.map((t) => `CREATE TRIGGER audit_trigger AFTER INSERT OR UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION audit.if_modified();`).join('\n')}
`;
const SHOP_TABLES = [
  'country',
  'address',
  'customer',
  'customer_consent',
  'erasure_request',
  'rental',
  'staff',
  'dept',
  'employee',
  'kinds',
  'measurement',
];
const PLAN_TABLES = ['country', 'address', 'customer', 'rental', 'staff', 'kinds', 'measurement', 'dept', 'employee'];
const AUDITED = { production: { auditTables: ['audit.logged_actions'] } };

const base = uniqueName('cutover_audit');
const made: string[] = [];
const h = useHarness('cutover_auditwf', SAAS_SCHEMA + PILOT_DATA);
afterAll(async () => {
  for (const name of made) await dropDb(name);
});

let shopPilot: string | undefined;
/** A fresh audited shop Production (and the shop Pilot, made once): both set as the run's aliases. */
async function shopProduction(tag: string, triggers = audit(SHOP_TABLES)): Promise<string> {
  if (!shopPilot) {
    made.push(`${base}_pilot`);
    shopPilot = await createDb(`${base}_pilot`, SHOP_SCHEMA + SHOP_PILOT);
  }
  process.env.CUTOVER_DB_PILOT = shopPilot;
  const name = `${base}_${tag}`;
  made.push(name);
  const prod = await createDb(name, SHOP_SCHEMA + SHOP_PRODUCTION + triggers);
  process.env.CUTOVER_DB_PRODUCTION = prod;
  // Production's own rows were audited too: the run's rows come after these.
  return prod;
}
const one = async (url: string, sql: string, params: unknown[] = []) =>
  Number((await rows<{ n: string }>(url, `SELECT (${sql})::text AS n`, params))[0].n);
/** Rows per plan table (partitions under their parent), by the test's own SQL. */
async function tableCounts(url: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of PLAN_TABLES) out[t] = await one(url, `SELECT count(*) FROM ${t}`);
  return out;
}
/** Audit rows per plan table (a partition's rows under its parent) and action, written after event id `after` (up to `upTo`). */
async function auditRows(url: string, after: number, upTo = Number.MAX_SAFE_INTEGER): Promise<Record<string, number>> {
  const res = await rows<{ t: string; action: string; n: string }>(
    url,
    `SELECT regexp_replace(regexp_replace(table_name, '^public\\.', ''), '_20[0-9]{2}$', '') AS t, action, count(*)::text AS n
       FROM audit.logged_actions WHERE event_id > $1 AND event_id <= $2 GROUP BY 1, 2`,
    [after, upTo],
  );
  return Object.fromEntries(res.map((r) => [`${r.t}:${r.action}`, Number(r.n)]));
}
const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

test('publish with an audit trigger on every table: one audit row per published row, proven; a surgical rollback keeps them and adds its own', async () => {
  // The Pilot as the shop tests know it; Production audits every table.
  const prod = await shopProduction('ok');
  const before = await tableCounts(prod);
  const last = await one(prod, 'SELECT max(event_id) FROM audit.logged_actions');
  const plan = schemaChecked(shopPlan('audit-ok', AUDITED));
  const run = await publishRun(prod, plan, 'auditok');
  const after = await tableCounts(prod);

  // One INSERT audit row per row each table gained, and one UPDATE per cycle-closing update (dept.head_id).
  const published = await auditRows(prod, last);
  const gained = Object.fromEntries(PLAN_TABLES.map((t) => [t, after[t] - before[t]]));
  expect(sum(gained)).toBeGreaterThan(20);
  for (const t of PLAN_TABLES) expect([t, published[`${t}:INSERT`] ?? 0]).toEqual([t, gained[t]]);
  expect(published['dept:UPDATE']).toBe(gained.dept);
  expect(Object.keys(published).filter((k) => !k.endsWith(':INSERT') && k !== 'dept:UPDATE')).toEqual([]);
  // The proof publish recorded says the same.
  expect(run.published.audit?.inserted).toEqual({ 'audit.logged_actions': sum(published) });
  expect(run.published.audit?.expected).toBe(sum(published));
  expect(run.published.audit?.triggers.map((t) => [t.table, t.trigger, t.level])).toContainEqual([
    'public.measurement',
    'audit_trigger',
    'row',
  ]);
  expect(run.published.transactionCounts?.find((c) => c.relation === 'audit.logged_actions')).toMatchObject({
    inserted: sum(published),
    updated: 0,
    deleted: 0,
  });

  // Surgical rollback: every row of the run is gone, proven with the audit rows in place; the audit
  // trail keeps publish's rows and gains one DELETE row per deleted row (and dept's cleared cycle).
  const lastPublished = await one(prod, 'SELECT max(event_id) FROM audit.logged_actions');
  const r = await rollback({ ...run.input, publish: run.published });
  expect(await tableCounts(prod)).toEqual(before);
  expect(await auditRows(prod, last, lastPublished)).toEqual(published); // publish's audit rows stay
  const undone = await auditRows(prod, lastPublished);
  for (const t of PLAN_TABLES) expect([t, undone[`${t}:DELETE`] ?? 0]).toEqual([t, gained[t]]);
  expect(undone['dept:UPDATE']).toBe(gained.dept);
  expect(r.proof.audit?.inserted).toEqual({ 'audit.logged_actions': sum(undone) });
  expect(r.proof.summary.join('\n')).toContain(`audit: Production's triggers wrote ${sum(undone)} audit row(s)`);
}, 180000);

test('a FOR EACH STATEMENT audit trigger: one audit row per statement of publish and of the rollback, proven', async () => {
  const perStatement = `
CREATE SCHEMA audit;
CREATE TABLE audit.logged_actions (event_id bigserial PRIMARY KEY, table_name text NOT NULL, action text NOT NULL, row_data jsonb);
CREATE FUNCTION audit.statement_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit.logged_actions (table_name, action) VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP);
  RETURN NULL;
END $$;
${SHOP_TABLES.map((t) => `CREATE TRIGGER audit_statement AFTER INSERT OR UPDATE OR DELETE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION audit.statement_log();`).join('\n')}
`;
  const prod = await shopProduction('stmt', perStatement);
  const before = await tableCounts(prod);
  const run = await publishRun(prod, schemaChecked(shopPlan('audit-stmt', AUDITED)), 'auditstmt');
  // One INSERT statement per plan table, one cycle-closing UPDATE on dept: by the test's own count.
  const published = await auditRows(prod, 0);
  expect(published).toEqual({ ...Object.fromEntries(PLAN_TABLES.map((t) => [`${t}:INSERT`, 1])), 'dept:UPDATE': 1 });
  expect(run.published.audit).toMatchObject({
    expected: PLAN_TABLES.length + 1,
    inserted: { 'audit.logged_actions': PLAN_TABLES.length + 1 },
  });
  const lastPublished = await one(prod, 'SELECT max(event_id) FROM audit.logged_actions');
  const r = await rollback({ ...run.input, publish: run.published });
  expect(await tableCounts(prod)).toEqual(before);
  expect(await auditRows(prod, lastPublished)).toEqual({
    ...Object.fromEntries(PLAN_TABLES.map((t) => [`${t}:DELETE`, 1])),
    'dept:UPDATE': 1,
  });
  expect(r.proof.audit?.expected).toBe(PLAN_TABLES.length + 1);
}, 180000);

test('an audit trigger writing more rows than the rule explains, or an undeclared audit table, is refused; nothing published', async () => {
  // Two audit rows per written row: the count does not fit one row per row.
  const twice = audit(
    SHOP_TABLES,
    `INSERT INTO audit.logged_actions (table_name, action, row_data) VALUES (TG_TABLE_NAME, TG_OP, to_jsonb(NEW));
  INSERT INTO audit.logged_actions (table_name, action, row_data) VALUES (TG_TABLE_NAME, TG_OP || ' again', to_jsonb(NEW));`,
  );
  for (const [tag, triggers, extra, expected] of [
    [
      'twice',
      twice,
      AUDITED,
      /audit tables audit\.logged_actions: the transaction inserted \d+ row\(s\); the triggers on the tables it wrote explain \d+/,
    ],
    ['undeclared', audit(SHOP_TABLES), {}, /audit\.logged_actions: the transaction inserted \d+, updated 0, deleted 0; expected nothing/],
  ] as const) {
    const prod = await shopProduction(tag, triggers);
    const before = await tableCounts(prod);
    const audited = await one(prod, 'SELECT count(*) FROM audit.logged_actions');
    const f = await failureOf(publishRun(prod, schemaChecked(shopPlan(`audit-${tag}`, extra)), `audit${tag}`.slice(0, 12)));
    expect(f.type).toBe('ValidationError');
    expect(f.message).toMatch(expected);
    expect(await tableCounts(prod)).toEqual(before);
    expect(await one(prod, 'SELECT count(*) FROM audit.logged_actions')).toBe(audited);
  }
}, 180000);

test('through the workflow: the evidence pack records the audit rows the migration produced per audit table', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA + audit(['accounts', 'users', 'projects', 'events']));
  process.env.CUTOVER_DB_PILOT = h.pilot;
  const last = await one(prod, 'SELECT max(event_id) FROM audit.logged_actions');
  const handle = await startRun(h.env, saasPlan('audit-wf', AUDITED), 'alice');
  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate), 120000);
    for (const who of ['bob', 'carol']) await handle.signal(approveSignal, { gate, approver: who });
  }
  const result = (await runResult(handle)) as StatusView;
  expect(result.status).toBe('completed');
  const moved = await one(
    prod,
    'SELECT (SELECT count(*) FROM accounts WHERE account_id < 1000) + (SELECT count(*) FROM users WHERE user_id < 1000) + (SELECT count(*) FROM projects WHERE project_id < 1000) + (SELECT count(*) FROM events WHERE event_id < 1000)',
  );
  const written = await auditRows(prod, last);
  expect(written).toEqual(Object.fromEntries(Object.entries(written).filter(([k]) => k.endsWith(':INSERT'))));
  expect(sum(written)).toBe(moved);
  const [row] = await rows<{ pack_text: string }>(prod, 'SELECT pack_text FROM cutover.evidence WHERE run_key = $1', [result.runKey]);
  const pack = JSON.parse(row.pack_text) as EvidenceDocument;
  expect(pack.audit).toMatchObject({
    tables: ['audit.logged_actions'],
    publish: { 'audit.logged_actions': moved },
    publishExpected: moved,
    rollback: null,
  });
  // The report says it too (md and HTML render the same model).
  expect(renderReport(pack, 'md')).toMatch(new RegExp(`audit\\.logged_actions \\| ${moved} \\| -`));
}, 300000);
