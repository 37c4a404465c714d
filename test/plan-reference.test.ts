/**
 * docs/plan-reference.md must not rot: its examples are run here through the project's own plan
 * parser. Fenced blocks are marked in their info string:
 *   ```yaml plan      a complete plan: parsePlanText must accept it as it is, and so must the JSON
 *                     Schema `cutover plan schema` prints (what editors check against);
 *   ```yaml fragment  some top-level keys: accepted once laid over a small selective plan;
 *   ```yaml invalid   a refused plan, followed by a ```text block with the exact CLI lines.
 * Plain ```yaml blocks are not checked (none should hold plan keys). The reference must also name
 * every key of the schema, so a new key cannot go undocumented. The ```yaml plan blocks of README.md
 * and of the other documents in docs/, and demo/plan.yaml, are checked the same way.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parse as parseYaml } from 'yaml';
import { PlanError, planJsonSchema, validatePlan } from '../plan';
import { parsePlanText } from '../plan/load';

const ROOT = join(__dirname, '..');
const DOC_PATH = join(ROOT, 'docs', 'plan-reference.md');
const DOC = readFileSync(DOC_PATH, 'utf8');

interface Block {
  info: string;
  body: string;
  line: number; // of the opening fence, 1-based
}

/** Fenced code blocks (``` only; the reference uses no ~~~ or indented code). */
function fencedBlocks(markdown: string, path = DOC_PATH): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    if (i >= lines.length) throw new Error(`${path}:${start + 1}: unterminated code block`);
    blocks.push({ info: open[1].trim(), body: `${body.join('\n')}\n`, line: start + 1 });
  }
  return blocks;
}

const BLOCKS = fencedBlocks(DOC);
const marked = (marker: string) => BLOCKS.filter((b) => b.info === `yaml ${marker}`);
const label = (b: Block) => `docs/plan-reference.md:${b.line}`;

/** What a fragment is laid over: the smallest selective plan. */
const BASE = {
  version: 1,
  id: 'reference-fragment',
  strategy: 'selective',
  source: 'pilot',
  target: 'production',
  approvals: { approvers: ['alice', 'bob'], required: 1 },
  tables: [{ table: 'public.customer' }],
};

/** The doc's PlanError lines, as the CLI prints them (see client/errors.ts planFileError). */
function cliLines(text: string, file: string): string[] {
  try {
    parsePlanText(text, file);
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    const n = e.issues.length;
    return [...e.message.split('\n'), `error: invalid plan ${file} (${n} problem${n === 1 ? '' : 's'})`];
  }
  return [];
}

describe('docs/plan-reference.md', () => {
  test('has complete plans for every strategy, fragments and refused examples', () => {
    const strategies = marked('plan').map((b) => (parseYaml(b.body) as { strategy?: unknown }).strategy);
    expect(new Set(strategies)).toEqual(new Set(['selective', 'clean-start', 'adopt']));
    expect(marked('fragment').length).toBeGreaterThanOrEqual(20);
    expect(marked('invalid').length).toBeGreaterThanOrEqual(1);
    // A typo in a marker would silently skip a block: every yaml block carries a known marker.
    const yamlBlocks = BLOCKS.filter((b) => /^yaml\b/.test(b.info));
    const unknown = yamlBlocks.filter((b) => !/^yaml (plan|fragment|invalid)$/.test(b.info) && b.info !== 'yaml');
    expect(unknown.map(label)).toEqual([]);
  });

  describe.each(marked('plan').map((b) => [label(b), b] as const))('complete plan at %s', (_where, block) => {
    test('is accepted by the plan parser as it is', () => {
      expect(() => parsePlanText(block.body, label(block))).not.toThrow();
    });

    test('is accepted by `cutover plan schema` (what an editor checks against)', () => {
      const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true, formats: { date: true } });
      const check = ajv.compile(planJsonSchema());
      const ok = check(parseYaml(block.body));
      expect(check.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    });
  });

  test.each(marked('fragment').map((b) => [label(b), b] as const))(
    'fragment at %s validates over a small selective plan',
    (_where, block) => {
      const fragment = parseYaml(block.body) as unknown;
      expect(typeof fragment === 'object' && fragment !== null && !Array.isArray(fragment)).toBe(true);
      let issues: unknown[] = [];
      try {
        validatePlan({ ...BASE, ...(fragment as object) });
      } catch (e) {
        if (!(e instanceof PlanError)) throw e;
        issues = e.issues;
      }
      expect(issues).toEqual([]);
    },
  );

  test.each(marked('invalid').map((b) => [label(b), b] as const))(
    'refused plan at %s prints exactly the lines the reference shows',
    (_where, block) => {
      const next = BLOCKS[BLOCKS.indexOf(block) + 1];
      expect(next?.info).toBe('text');
      const shown = next.body.trimEnd().split('\n');
      expect(cliLines(block.body, 'plan.yaml')).toEqual(shown);
    },
  );

  test('names every key of the plan format (a new key needs its documentation)', () => {
    const keys = new Set<string>();
    const visit = (n: unknown) => {
      if (Array.isArray(n)) return n.forEach(visit);
      if (typeof n !== 'object' || n === null) return;
      const props = (n as Record<string, unknown>).properties;
      if (typeof props === 'object' && props !== null) Object.keys(props).forEach((k) => keys.add(k));
      Object.values(n).forEach(visit);
    };
    visit(planJsonSchema());
    expect(keys.size).toBeGreaterThan(30);
    const undocumented = [...keys].filter((k) => !DOC.includes(`\`${k}\``));
    expect(undocumented).toEqual([]);
  });

  test('links only to its own headings and to the other documents beside it', () => {
    const targets = [...DOC.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]);
    // Another document of docs/ (whose anchors test/docs-links.test.ts checks); nothing else.
    const outside = targets.filter((t) => !t.startsWith('#') && !/^[a-z-]+\.md(#[a-z0-9_-]+)?$/.test(t));
    expect(outside).toEqual([]);
    // Every in-page link has its heading (GitHub's anchors: lower case, punctuation dropped, spaces → -).
    const anchors = new Set(
      DOC.split('\n')
        .filter((l) => /^#{1,6} /.test(l))
        .map((l) =>
          l
            .replace(/^#+ /, '')
            .toLowerCase()
            .replace(/[^a-z0-9 _-]/g, '')
            .replace(/ /g, '-'),
        ),
    );
    const broken = targets.filter((t) => t.startsWith('#') && !anchors.has(t.slice(1)));
    expect(broken).toEqual([]);
  });
});

describe('plans elsewhere in the repository', () => {
  const planBlocks = (rel: string) => fencedBlocks(readFileSync(join(ROOT, rel), 'utf8'), rel).filter((b) => b.info === 'yaml plan');
  const readme = planBlocks('README.md');
  const otherDocs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md') && f !== 'plan-reference.md')
    .flatMap((f) => planBlocks(join('docs', f)).map((b) => [`docs/${f}:${b.line}`, b] as const));

  test.each(readme.map((b) => [`README.md:${b.line}`, b] as const))('the README plan at %s validates', (where, block) => {
    expect(() => parsePlanText(block.body, where)).not.toThrow();
  });

  // Other documents may show whole plans too (none does today): checked the same way when they do.
  test('the plans the other documents show validate', () => {
    for (const [where, block] of otherDocs) expect(() => parsePlanText(block.body, where)).not.toThrow();
  });

  test('the README shows at least one complete plan, and the demo plan the reference points to validates', () => {
    expect(readme.length).toBeGreaterThanOrEqual(1);
    const demo = join(ROOT, 'demo', 'plan.yaml');
    expect(() => parsePlanText(readFileSync(demo, 'utf8'), demo)).not.toThrow();
  });
});
