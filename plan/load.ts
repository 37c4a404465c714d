/**
 * Plan files → validated plans, with every issue pointing at its line in the file.
 * Node-only (reads files): never import this from workflows/ — use ./index there.
 */
import { readFileSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { PlanError, parsePath, type PlanIssue } from './issues';
import type { Plan } from './schema';
import { validatePlan } from './validate';

const SYNTAX = '(syntax)';

/** Parses YAML or JSON plan text and validates it (see validatePlan); throws PlanError with lines. */
export function parsePlanText(text: string, fileName?: string): Plan {
  const source = text.replace(/^\uFEFF/, '');
  const lineCounter = new LineCounter();
  // Parse as YAML even for JSON: JSON is YAML 1.2, and the node tree maps issue paths to lines.
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOfOffset = (offset: number) => lineCounter.linePos(offset).line;

  let value: unknown;
  if (source.trimStart().startsWith('{')) {
    try {
      value = JSON.parse(source);
    } catch (e) {
      throw new PlanError([jsonSyntaxIssue(source, e, doc, lineOfOffset)], fileName);
    }
    // JSON.parse keeps the last of duplicate keys silently; refuse, so what is reviewed is what runs.
    const dup = doc.errors.find((err) => err.code === 'DUPLICATE_KEY');
    if (dup) throw new PlanError([{ path: SYNTAX, message: 'duplicate key', line: lineOfOffset(dup.pos[0]) }], fileName);
  } else {
    if (doc.errors.length) {
      const issues = doc.errors.map((e) => ({ path: SYNTAX, message: firstLine(e.message), line: lineOfOffset(e.pos[0]) }));
      throw new PlanError(issues, fileName);
    }
    try {
      value = doc.toJS();
    } catch (e) {
      // e.g. an alias to an anchor that does not exist
      throw new PlanError([{ path: SYNTAX, message: firstLine(String((e as Error).message ?? e)) }], fileName);
    }
  }
  if (value === null || value === undefined) throw new PlanError([{ path: '(plan)', message: 'is empty' }], fileName);

  try {
    return validatePlan(value);
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    const located = e.issues.map((issue) => {
      const line = lineOfPath(doc, issue.path, lineOfOffset);
      return line === undefined ? issue : { ...issue, line };
    });
    throw new PlanError(sortByLine(located), fileName);
  }
}

/** Reads and validates a plan file; a missing or unreadable file is a PlanError at path `(file)`. */
export function loadPlanFile(path: string): Plan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new PlanError([{ path: '(file)', message: `cannot read plan file "${path}": ${why}` }]);
  }
  return parsePlanText(text, path);
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

function jsonSyntaxIssue(source: string, e: unknown, doc: Document, lineOfOffset: (o: number) => number): PlanIssue {
  const raw = String((e as Error).message ?? e);
  const pos = /at position (\d+)/.exec(raw);
  const message = `invalid JSON: ${raw.replace(/ in JSON at position \d+.*$/, '').replace(/, ".*" is not valid JSON$/, '')}`;
  let line: number | undefined;
  if (pos) line = source.slice(0, Number(pos[1])).split('\n').length;
  else if (doc.errors.length) line = lineOfOffset(doc.errors[0].pos[0]);
  return line === undefined ? { path: SYNTAX, message } : { path: SYNTAX, message, line };
}

/**
 * Line of the node an issue path names; when that node is absent (a missing key), the line of the
 * nearest ancestor that exists. Keys report the key's line, which is where a reader looks.
 */
function lineOfPath(doc: Document, path: string, lineOfOffset: (o: number) => number): number | undefined {
  const lineOf = (n: unknown) => {
    const range = (n as { range?: [number, number, number] } | null)?.range;
    return range ? lineOfOffset(range[0]) : undefined;
  };
  let node: unknown = doc.contents;
  let line = lineOf(node);
  for (const seg of parsePath(path)) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) break;
      line = lineOf(pair.key) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      line = lineOf(node) ?? line;
    } else break;
  }
  return line;
}

/** File order reads best; issues without a line keep their order, after the others. */
function sortByLine(issues: PlanIssue[]): PlanIssue[] {
  return issues
    .map((issue, i) => ({ issue, i }))
    .sort((a, b) => (a.issue.line ?? Infinity) - (b.issue.line ?? Infinity) || a.i - b.i)
    .map(({ issue }) => issue);
}
