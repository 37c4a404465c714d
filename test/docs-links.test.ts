/**
 * The README and docs/ must stand alone: every link points at a file of the repository (or a web
 * page), never at a file beside or above the checkout, every `#anchor` names a heading of the file
 * it points into, and no file sends a reader to a design document the repository does not contain.
 * The README is a door: short, its two commands first, and a link to every reader's document.
 * Checked on the files themselves, no git needed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
/** Not the project's own text: installs, build output, data, and recorded histories (stack traces). */
const SKIP = new Set(['node_modules', 'dist', '.git', '.tools', '.data', 'coverage', 'histories']);
const TEXT = /\.(ts|js|mjs|cjs|md|ya?ml|json|sh|sql|txt)$|^Dockerfile/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return TEXT.test(name) && name !== 'package-lock.json' ? [p] : [];
  });
}

const markdown = () => files(ROOT).filter((p) => p.endsWith('.md'));

/** Inline links and images `[text](target)` and reference definitions `[id]: target`. */
function linkTargets(text: string): string[] {
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
  const refs = [...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]);
  return [...inline, ...refs];
}

/** Fenced code blocks hold examples, not links or headings: blanked out (line count kept). */
function withoutCode(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ''));
}

/**
 * The anchors GitHub gives a Markdown file's headings: lower case, every character that is not a
 * letter, digit, space, `-` or `_` dropped, spaces turned into `-`; a repeated heading gets `-1`, `-2`….
 */
export function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of withoutCode(markdown).split('\n')) {
    const h = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const text = h[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1'); // a link in a heading counts by its text
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{Mn} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Links of `file` (text given) that leave the repository, point at nothing, or at a missing heading. */
function badLinks(file: string, text: string): string[] {
  return linkTargets(withoutCode(text)).filter((target) => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return false; // https:, mailto:
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const path = pathPart === '' ? file : resolve(dirname(file), decodeURI(pathPart));
    const inside = !relative(ROOT, path).startsWith('..') && !target.startsWith('/');
    if (!inside || !existsSync(path)) return true;
    if (anchor === undefined || !path.endsWith('.md')) return false;
    const headings = headingAnchors(path === file ? text : readFileSync(path, 'utf8'));
    return !headings.has(decodeURIComponent(anchor));
  });
}

/** One document per reader, as the README's table of readers promises. */
const READER_DOCS = [
  'plan-reference',
  'operating',
  'approving',
  'on-call',
  'auditing',
  'architecture',
  'reliability',
  'benchmarks',
  'decisions',
];

describe('README and docs stand alone', () => {
  test("the README and every reader's document are there, and the README links each", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const docs = READER_DOCS.map((d) => join('docs', `${d}.md`));
    expect(markdown().map((p) => relative(ROOT, p))).toEqual(expect.arrayContaining(['README.md', ...docs]));
    const linked = linkTargets(readme).map((t) => t.split('#')[0]);
    expect(docs.filter((d) => !linked.includes(d))).toEqual([]);
  });

  test('the README stands at the door: at most about 150 lines, the two commands first', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(160);
    const firstBlock = /```bash\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(
      firstBlock
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => l.split('#')[0].trim()),
    ).toEqual(['npm run demo', 'npm test']);
    // Nothing but the title comes before them.
    expect(readme.slice(0, readme.indexOf('```bash')).trim()).toBe('# cutover');
  });

  test('the architecture document keeps the heading other work fills in', () => {
    expect(headingAnchors(readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8'))).toContain('changing-workflow-code');
  });

  test('every relative link in a Markdown file points at a file inside the repository that exists', () => {
    const bad = markdown().flatMap((file) => badLinks(file, readFileSync(file, 'utf8')).map((t) => `${relative(ROOT, file)}: ${t}`));
    expect(bad).toEqual([]);
  });

  test('the link check can fail', () => {
    const text =
      'see [the design](../shared/DESIGN.md), [the plan](docs/plan-reference.md#tables), [web](https://temporal.io)\n[x]: DESIGN.md\n';
    expect(badLinks(join(ROOT, 'README.md'), text)).toEqual(['../shared/DESIGN.md', 'DESIGN.md']);
  });

  test('the anchor check can fail, and reads headings as GitHub does', () => {
    const text = [
      '# Rollback by restore',
      '## Reaching a secured Temporal (Temporal Cloud, TLS, mTLS, API key)',
      '## Why 1.5× raw is out of reach',
      '## Row by row: `cutover.manifest` and `cutover.id_map`',
      '## Notes',
      '## Notes',
      '```md',
      '## Not a heading',
      '[not a link](#nowhere)',
      '```',
      '[a](#rollback-by-restore) [b](#reaching-a-secured-temporal-temporal-cloud-tls-mtls-api-key) [c](#why-15-raw-is-out-of-reach)',
      '[d](#row-by-row-cutovermanifest-and-cutoverid_map) [e](#notes-1) [f](#not-a-heading) [g](#notes-2)',
      '[h](docs/plan-reference.md#tables) [i](docs/plan-reference.md#no-such-key) [j](docs/screens/ops.png#x)',
    ].join('\n');
    expect(badLinks(join(ROOT, 'README.md'), text)).toEqual(['#not-a-heading', '#notes-2', 'docs/plan-reference.md#no-such-key']);
  });

  test('no file refers readers to DESIGN.md or ../shared, which are not in the repository', () => {
    const self = resolve(__filename);
    const found = files(ROOT)
      .filter((p) => p !== self)
      .flatMap((p) =>
        readFileSync(p, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${relative(ROOT, p)}:${i + 1}` }))
          .filter(({ line }) => /DESIGN\.md|\.\.\/shared\b/.test(line))
          .map(({ at }) => at),
      );
    expect(found).toEqual([]);
  });
});
