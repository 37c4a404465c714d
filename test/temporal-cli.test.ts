// A run started and driven with the official `temporal` CLI (as from the Temporal UI: JSON input,
// Send Signal, Query) behaves exactly as with the cutover CLI.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { EXPECTED, PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';
import { temporalBin } from './helpers/temporal';

const run = promisify(execFile);
const h = useHarness('cutover_tc', SAAS_SCHEMA + PILOT_DATA);
let prod: string;
beforeAll(async () => {
  prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
});

async function temporal(...args: string[]): Promise<string> {
  const { stdout } = await run(temporalBin(), [...args, '--address', h.env.address, '--namespace', 'default'], { timeout: 60000 });
  return stdout;
}

async function queryStatus(id: string): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const out = JSON.parse(await temporal('workflow', 'query', '--workflow-id', id, '--type', 'status', '--output', 'json'));
  return out.queryResult[0];
}

async function until(id: string, pred: (s: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (let i = 0; i < 150; i++) {
    const s = await queryStatus(id).catch(() => null);
    if (s && pred(s)) return s;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting on ${id}`);
}

test('start, signal and query with the temporal CLI', async () => {
  const id = 'cutover-tc-official';
  const input = JSON.stringify({ plan: saasPlan('tc-official'), initiatedBy: 'alice' });
  await temporal('workflow', 'start', '--task-queue', 'cutover', '--type', 'cutoverMigration', '--workflow-id', id, '--input', input);

  await until(id, (s) => s.gate === 'plan');
  await temporal('workflow', 'signal', '--workflow-id', id, '--name', 'approve', '--input', JSON.stringify({ gate: 'plan', approver: 'alice' }));
  const refused = await until(id, (s) => (s.refused as unknown[]).length === 1);
  expect(JSON.stringify(refused.refused)).toContain('separation of duties');

  for (const approver of ['bob', 'carol']) {
    await temporal('workflow', 'signal', '--workflow-id', id, '--name', 'approve', '--input', JSON.stringify({ gate: 'plan', approver }));
  }
  await until(id, (s) => s.gate === 'cutover');
  // The update answers at once: a refused approval comes back as an error.
  await expect(
    temporal('workflow', 'update', 'execute', '--workflow-id', id, '--name', 'approve', '--input', JSON.stringify({ gate: 'plan', approver: 'bob' })),
  ).rejects.toThrow(/wrong gate/);
  for (const approver of ['bob', 'carol']) {
    await temporal('workflow', 'update', 'execute', '--workflow-id', id, '--name', 'approve', '--input', JSON.stringify({ gate: 'cutover', approver }));
  }
  const done = await until(id, (s) => s.status === 'completed');
  expect(done.planHash).toMatch(/^[0-9a-f]{64}$/);

  // Search attributes are visible to `temporal workflow list` (and the UI's filters).
  const listed = await temporal('workflow', 'list', '--query', "CutoverPlanId = 'tc-official' AND CutoverStatus = 'completed'", '--output', 'json');
  expect(listed).toContain(id);

  const moved = Number((await rows<{ n: string }>(h.pilot, `SELECT count(*)::text AS n FROM (${EXPECTED.events}) x`))[0].n);
  const inProd = Number((await rows<{ n: string }>(prod, 'SELECT count(*)::text AS n FROM events WHERE event_id < 1000'))[0].n);
  expect(inProd).toBe(moved);
}, 180000);
