// Change control through the CLI and the workflow: a plan naming its change request (decision.change,
// changeUrl) is started with `cutover start`, shows the change at both gates (status text and JSON,
// the UI's current details), lands in the evidence pack (as written to cutover.evidence) and in the
// md/HTML reports, and is the run's CutoverChange search attribute: `cutover list --change` finds the
// runs of that change and no other run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../client/main';
import type { EvidenceDocument } from '../common/evidence';
import { workflowIdFor, type StatusView } from '../common/temporal';
import { useHarness } from './helpers/harness';
import { rows } from './helpers/pg';
import { atGate, waitFor } from './helpers/run';
import { PILOT_DATA, PRODUCTION_DATA, SAAS_SCHEMA, saasPlan } from './helpers/saas';

const h = useHarness('cutover_chg', SAAS_SCHEMA + PILOT_DATA);
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-chg-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(
    ['node', 'cutover', ...args],
    { out: (t) => void out.push(t), err: (t) => void err.push(t), isTTY: false },
    { ...process.env, TEMPORAL_ADDRESS: h.env.address },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function planFile(id: string, decision: Record<string, unknown>): string {
  const file = join(dir, `${id}.json`);
  writeFileSync(file, JSON.stringify(saasPlan(id, { decision })));
  return file;
}

const URL_1234 = 'https://itsm.example.com/change/CHG-1234';
const details = async (id: string) => {
  const handle = h.env.client.workflow.getHandle(workflowIdFor(id));
  return ((await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails ?? '';
};

test('the change request is shown at every gate, recorded in the evidence and reports, and finds its runs', async () => {
  const prod = await h.production(SAAS_SCHEMA + PRODUCTION_DATA);
  expect(
    (await cli('start', planFile('chg-main', { reason: 'Pilot accepted', change: 'CHG-1234', changeUrl: URL_1234 }), '--as', 'alice')).code,
  ).toBe(0);
  // Another change's run, and a run naming none: neither is listed under CHG-1234.
  expect((await cli('start', planFile('chg-other', { reason: 'another change', change: 'CHG-9' }), '--as', 'alice')).code).toBe(0);
  expect((await cli('start', planFile('chg-none', { reason: 'no change request' }), '--as', 'alice')).code).toBe(0);
  const handle = h.env.client.workflow.getHandle(workflowIdFor('chg-main'));

  for (const gate of ['plan', 'cutover'] as const) {
    await waitFor(handle, atGate(gate), 120000);
    const text = await cli('status', 'chg-main');
    expect(text.code).toBe(0);
    expect(text.out).toContain(`change:       CHG-1234 (${URL_1234})`);
    const json = JSON.parse((await cli('status', 'chg-main', '--json')).out) as StatusView;
    expect(json.change).toEqual({ id: 'CHG-1234', url: URL_1234 });
    expect(await details('chg-main')).toContain(`Change request: **CHG-1234 (${URL_1234})** — Pilot accepted`);
    for (const who of ['bob', 'carol']) expect((await cli('approve', 'chg-main', '--gate', gate, '--as', who)).code).toBe(0);
  }
  await waitFor(handle, (s) => s.status === 'completed', 180000);

  // A run naming no change shows none, anywhere.
  await waitFor(h.env.client.workflow.getHandle(workflowIdFor('chg-none')), atGate('plan'), 120000);
  expect((await cli('status', 'chg-none')).out).not.toContain('change:');
  expect(await details('chg-none')).not.toContain('Change request');

  // The search attribute: list --change finds exactly the runs of that change (visibility is eventually consistent).
  let listed: { workflowId: string; change?: string }[] = [];
  for (let i = 0; i < 50; i++) {
    const r = await cli('list', '--change', 'CHG-1234', '--json');
    expect(r.code).toBe(0);
    listed = JSON.parse(r.out) as typeof listed;
    if (listed.length) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  expect(listed.map((r) => [r.workflowId, r.change])).toEqual([['cutover-chg-main', 'CHG-1234']]);
  const other = JSON.parse((await cli('list', '--change', 'CHG-9', '--json')).out) as typeof listed;
  expect(other.map((r) => r.workflowId)).toEqual(['cutover-chg-other']);
  const table = await cli('list', '--change', 'CHG-1234');
  expect(table.out).toMatch(/cutover-chg-main\s+\S+\s+\S+\s+CHG-1234/);
  // An id that is not a change request id is bad input (exit 2), never spliced into the query.
  const bad = await cli('list', '--change', "x' OR 1=1 --");
  expect(bad.code).toBe(2);
  expect(bad.err).toContain('--change must be a change request id');

  // The evidence as written to Production, and the reports rendered from it.
  const [row] = await rows<{ pack_text: string }>(
    prod,
    "SELECT pack_text FROM cutover.evidence WHERE run_key = (SELECT run_key FROM cutover.run WHERE plan_id = 'chg-main')",
  );
  const pack = JSON.parse(row.pack_text) as EvidenceDocument;
  expect(pack.decision).toMatchObject({ reason: 'Pilot accepted', change: 'CHG-1234', changeUrl: URL_1234 });
  const md = await cli('report', 'chg-main', '--format', 'md');
  expect(md.out).toMatch(/change request \(decision\.change\).*CHG-1234 https:\/\/itsm\.example\.com\/change\/CHG-1234/);
  const html = await cli('report', 'chg-main', '--format', 'html');
  expect(html.out).toContain('CHG-1234');
  expect(html.out).toContain(URL_1234);

  for (const id of ['chg-other', 'chg-none']) await cli('reject', id, '--gate', 'plan', '--as', 'bob', '--reason', 'test over');
}, 400000);

test('a changeUrl without a change, or a change id with spaces, is refused by plan check', async () => {
  const r = await cli('plan', 'check', planFile('chg-bad', { reason: 'x', change: 'CHG 1', changeUrl: 'ftp://x' }));
  expect(r.code).toBe(2);
  expect(r.err).toContain('decision.change: must be a change request id like CHG-1234');
  expect(r.err).toContain('decision.changeUrl: must be an http(s) URL');
  const alone = await cli('plan', 'check', planFile('chg-url', { reason: 'x', changeUrl: URL_1234 }));
  expect(alone.code).toBe(2);
  expect(alone.err).toContain('decision.changeUrl: only allowed with change');
});
