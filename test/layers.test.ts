/**
 * The house as docs/architecture.md#layers draws it, walked from the sources' own imports
 * (test/helpers/import-graph.ts): which top-level folder may import which, and inside activities/
 * the layers errors.ts and store/ → db/ (what several steps share) → activities/<step>/ (one step's
 * private SQL) → the step files activities/<step>.ts — with no import cycle. Each rule is a pure
 * function over a graph, so the test also plants each kind of violation and checks it is caught.
 */
import { cycles, importGraph } from './helpers/import-graph';

type Graph = Map<string, string[]>;

/** What each top-level folder may import besides itself (the table in docs/architecture.md#layers). */
const MAY_IMPORT: Record<string, string[]> = {
  plan: [],
  common: ['plan'],
  workflows: ['common', 'plan'],
  activities: ['common', 'plan'],
  runtime: ['common', 'activities'],
  worker: ['plan', 'common', 'workflows', 'activities', 'runtime'],
  client: ['common', 'plan', 'runtime'],
  harness: ['common', 'runtime'],
};

/**
 * The few imports across the table, each for a reason: commands that run in the CLI process
 * (`plan check --connect`, `gc`, `report --ids`) and `cutover worker`, which starts one.
 */
const ALLOWED_ACROSS: [string, string][] = [
  ['client/commands/plan.ts', 'activities/preflight.ts'],
  ['client/commands/gc.ts', 'activities/gc.ts'],
  ['client/commands/report.ts', 'activities/id-pairs.ts'],
  ['client/commands/worker.ts', 'worker/run.ts'],
];

const top = (f: string) => f.split('/')[0];

/** Imports from one top-level folder into another that the table does not allow. */
function folderViolations(graph: Graph): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const allowed = MAY_IMPORT[top(from)];
    if (allowed === undefined) continue;
    for (const to of targets) {
      if (top(to) === top(from) || allowed.includes(top(to))) continue;
      if (ALLOWED_ACROSS.some(([f, t]) => f === from && t === to)) continue;
      out.push(`${from} imports ${to}: ${top(from)}/ may import only ${[top(from), ...allowed].join(', ')}`);
    }
  }
  return out;
}

/** Where a file of activities/ sits: the shared leaves, db/, a step's folder, or a step file. */
type Place = { kind: 'leaf' } | { kind: 'db' } | { kind: 'folder'; step: string } | { kind: 'step'; step: string };
function placeOf(file: string): Place | null {
  const parts = file.split('/');
  if (parts[0] !== 'activities') return null;
  if (parts.length === 2) return parts[1] === 'errors.ts' ? { kind: 'leaf' } : { kind: 'step', step: parts[1].replace(/\.ts$/, '') };
  if (parts[1] === 'store') return { kind: 'leaf' };
  if (parts[1] === 'db') return { kind: 'db' };
  return { kind: 'folder', step: parts[1] };
}

/** Imports inside activities/ that go up a layer or sideways into another step's folder. */
function activityViolations(graph: Graph): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const p = placeOf(from);
    if (p === null) continue;
    for (const to of targets) {
      const q = placeOf(to);
      if (q === null) continue;
      const where = `${from} imports ${to}`;
      if (p.kind === 'leaf' && q.kind !== 'leaf') out.push(`${where}: errors.ts and store/ import nothing above them`);
      if (p.kind === 'db' && (q.kind === 'step' || q.kind === 'folder'))
        out.push(`${where}: activities/db/ holds what several steps share and imports no step (move the shared piece down)`);
      if (p.kind === 'folder' && q.kind === 'step') out.push(`${where}: a step's folder imports no step file`);
      if (p.kind === 'folder' && q.kind === 'folder' && q.step !== p.step)
        out.push(`${where}: one step's private SQL imports no other step's (shared code belongs in activities/db/)`);
    }
  }
  return out;
}

/** Import cycles among the files of activities/. */
function activityCycles(graph: Graph): string[] {
  const inside = new Map([...graph].filter(([f]) => f.startsWith('activities/')));
  return cycles(inside).map((c) => `import cycle among ${c.join(', ')}`);
}

describe('the layers (docs/architecture.md#layers)', () => {
  const graph = importGraph(Object.keys(MAY_IMPORT));

  test('the graph is the real one: every folder read, activities/ layered as drawn', () => {
    // Guards the test itself: an empty or unresolved graph would pass every rule below.
    expect(graph.size).toBeGreaterThan(200);
    expect(graph.get('activities/preflight.ts')).toEqual(expect.arrayContaining(['activities/db/connect.ts', 'activities/errors.ts']));
    expect(graph.get('activities/db/in-place.ts')).toContain('activities/db/deciding-columns.ts');
    expect(graph.get('client/commands/gc.ts')).toContain('activities/gc.ts'); // a dynamic import() counts
    const places = [...graph.keys()].map(placeOf).filter((p) => p !== null);
    expect(places.some((p) => p.kind === 'folder')).toBe(true);
  });

  test('each folder imports only what the table allows', () => {
    expect(folderViolations(graph)).toEqual([]);
  });

  test('activities/: db/ imports no step, a step folder no other step, the leaves nothing above them', () => {
    expect(activityViolations(graph)).toEqual([]);
  });

  test('activities/ has no import cycle', () => {
    expect(activityCycles(graph)).toEqual([]);
  });

  test('plan/ and common/ have no cycle between them: plan imports neither common nor anything else', () => {
    const across = [...graph].flatMap(([f, ts]) => ts.filter((t) => top(f) === 'plan' && top(t) !== 'plan').map((t) => `${f} → ${t}`));
    expect(across).toEqual([]);
  });

  test('no file anywhere loads itself again through its imports (type-only imports aside)', () => {
    const graph = importGraph(['common', 'client', 'plan', 'workflows', 'activities', 'runtime', 'harness', 'worker'], {
      runtimeOnly: true,
    });
    expect(cycles(graph)).toEqual([]);
  });

  test('client/ has no import cycle, type-only imports included', () => {
    expect(cycles(importGraph(['client']))).toEqual([]);
  });

  test('each rule catches what it forbids', () => {
    const planted: Graph = new Map([
      ['activities/db/a.ts', ['activities/preflight.ts', 'activities/db/b.ts', 'activities/publish/x.ts']],
      ['activities/db/b.ts', ['activities/db/a.ts']],
      ['activities/publish/x.ts', ['activities/preflight/y.ts', 'activities/publish/z.ts', 'activities/db/a.ts', 'activities/errors.ts']],
      ['activities/publish/z.ts', []],
      ['activities/preflight/y.ts', ['activities/publish.ts']],
      ['activities/store/s.ts', ['activities/db/a.ts']],
      ['activities/errors.ts', []],
      ['activities/preflight.ts', ['activities/db/a.ts']],
      ['activities/publish.ts', ['activities/publish/x.ts', 'workflows/w.ts']],
      ['workflows/w.ts', ['activities/publish.ts']],
      ['client/c.ts', ['workflows/w.ts', 'activities/gc.ts']],
      ['plan/p.ts', ['common/c.ts']],
      ['common/c.ts', ['plan/p.ts']],
    ]);
    expect(activityViolations(planted)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^activities\/db\/a\.ts imports activities\/preflight\.ts: activities\/db\/ .* imports no step/),
        expect.stringMatching(/^activities\/db\/a\.ts imports activities\/publish\/x\.ts: activities\/db\//),
        expect.stringMatching(/^activities\/publish\/x\.ts imports activities\/preflight\/y\.ts: one step's private SQL/),
        expect.stringMatching(/^activities\/preflight\/y\.ts imports activities\/publish\.ts: a step's folder imports no step file/),
        expect.stringMatching(/^activities\/store\/s\.ts imports activities\/db\/a\.ts: errors\.ts and store\//),
      ]),
    );
    expect(activityViolations(planted)).toHaveLength(5);
    expect(activityCycles(planted)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('activities/db/a.ts, activities/db/b.ts'),
        expect.stringContaining('activities/publish.ts'),
      ]),
    );
    expect(folderViolations(planted)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^activities\/publish\.ts imports workflows\/w\.ts/),
        expect.stringMatching(/^workflows\/w\.ts imports activities\/publish\.ts/),
        expect.stringMatching(/^client\/c\.ts imports workflows\/w\.ts/),
        expect.stringMatching(/^client\/c\.ts imports activities\/gc\.ts/), // only the listed client files may
        expect.stringMatching(/^plan\/p\.ts imports common\/c\.ts/),
      ]),
    );
    expect(folderViolations(planted)).toHaveLength(5);
  });
});
