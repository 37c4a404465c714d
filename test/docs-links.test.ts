/**
 * The README and docs/ must stand alone: every link points at a file of the repository (or a web
 * page), never at a file beside or above the checkout, and no file sends a reader to a design
 * document the repository does not contain. Checked on the files themselves, no git needed.
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

/** Links of `file` (text given) that leave the repository or point at nothing. */
function badLinks(file: string, text: string): string[] {
  return linkTargets(text).filter((target) => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) return false; // https:, mailto:, in-page
    const path = resolve(dirname(file), decodeURI(target.split('#')[0]));
    const inside = !relative(ROOT, path).startsWith('..') && !target.startsWith('/');
    return !inside || !existsSync(path);
  });
}

describe('README and docs stand alone', () => {
  test('the README and docs/plan-reference.md are there and the README links the reference', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(markdown().map((p) => relative(ROOT, p))).toEqual(expect.arrayContaining(['README.md', join('docs', 'plan-reference.md')]));
    expect(linkTargets(readme)).toContain('docs/plan-reference.md');
  });

  test('every relative link in a Markdown file points at a file inside the repository that exists', () => {
    const bad = markdown().flatMap((file) => badLinks(file, readFileSync(file, 'utf8')).map((t) => `${relative(ROOT, file)}: ${t}`));
    expect(bad).toEqual([]);
  });

  test('the link check can fail', () => {
    const text = 'see [the design](../shared/DESIGN.md), [the plan](docs/plan-reference.md#tables), [web](https://temporal.io)\n[x]: DESIGN.md\n';
    expect(badLinks(join(ROOT, 'README.md'), text)).toEqual(['../shared/DESIGN.md', 'DESIGN.md']);
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
