/**
 * Plan files → validated plans, with every issue pointing at its line in the file.
 * Node-only (reads files): never import this from workflows/ — use ./index there.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { PlanError, parsePath, type PlanIssue } from './issues';
import { MAX_PLAN_BYTES, MAX_YAML_ALIASES, planTooLarge, TOO_DEEP } from './limits';
import type { Plan } from './schema';
import { validatePlan } from './validate';

const SYNTAX = '(syntax)';

/** Checks beyond the schema that need node (the SQL parser of access checks): issues, located like the schema's. */
export type ExtraPlanCheck = (plan: Plan) => PlanIssue[];

/** Parses YAML or JSON plan text and validates it (see validatePlan); throws PlanError with lines. */
export function parsePlanText(text: string, fileName?: string, extra?: ExtraPlanCheck): Plan {
  const source = text.replace(/^\uFEFF/, '');
  // Before parsing: a huge plan must not cost the memory and time of parsing it.
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > MAX_PLAN_BYTES) throw new PlanError([planTooLarge(bytes, 'plan file')], fileName);
  const lineCounter = new LineCounter();
  // Parse as YAML even for JSON: JSON is YAML 1.2, and the node tree maps issue paths to lines.
  // Duplicate keys are found by duplicateKey() below: the yaml package's own check is quadratic in
  // the number of keys of a map (30 000 keys took minutes).
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const dupKey = duplicateKey(doc);
  const lineOfOffset = (offset: number) => lineCounter.linePos(offset).line;

  let value: unknown;
  if (source.trimStart().startsWith('{')) {
    try {
      value = JSON.parse(source);
    } catch (e) {
      throw new PlanError([jsonSyntaxIssue(source, e, doc, lineOfOffset)], fileName);
    }
    // JSON.parse keeps the last of duplicate keys silently; refuse, so what is reviewed is what runs.
    if (dupKey)
      throw new PlanError(
        [
          {
            path: SYNTAX,
            message: `duplicate key ${JSON.stringify(dupKey.key)}: map keys must be unique`,
            line: lineOfOffset(dupKey.offset),
          },
        ],
        fileName,
      );
  } else {
    if (dupKey && !doc.errors.length)
      throw new PlanError(
        [
          {
            path: SYNTAX,
            message: `duplicate key ${JSON.stringify(dupKey.key)}: map keys must be unique`,
            line: lineOfOffset(dupKey.offset),
          },
        ],
        fileName,
      );
    // A tag this loader does not know (`!!js/function`, `!!python/object`) would silently become a string.
    const tag = doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
    if (tag)
      throw new PlanError(
        [{ path: SYNTAX, message: `${firstLine(tag.message)}: YAML tags are not allowed in a plan`, line: lineOfOffset(tag.pos[0]) }],
        fileName,
      );
    if (doc.errors.length) {
      const issues = doc.errors.map((e) => ({ path: SYNTAX, message: syntaxMessage(e.message), line: lineOfOffset(e.pos[0]) }));
      throw new PlanError(dedupe(issues), fileName);
    }
    try {
      // The yaml package counts alias expansions and stops a "billion laughs" document early.
      value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    } catch (e) {
      // e.g. an alias to an anchor that does not exist, or too many aliases (then: where aliases start)
      const message = syntaxMessage(String((e as Error).message ?? e));
      const at = firstAliasOffset(doc);
      throw new PlanError([at === undefined ? { path: SYNTAX, message } : { path: SYNTAX, message, line: lineOfOffset(at) }], fileName);
    }
  }
  if (value === null || value === undefined) throw new PlanError([{ path: '(plan)', message: 'is empty' }], fileName);

  try {
    const plan = validatePlan(value);
    const more = extra?.(plan) ?? [];
    if (more.length) throw new PlanError(more);
    return plan;
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    const located = e.issues.map((issue) => {
      const line = lineOfPath(doc, issue.path, lineOfOffset);
      return line === undefined ? issue : { ...issue, line };
    });
    throw new PlanError(sortByLine(located), fileName);
  }
}

/** Reads and validates a plan file; a missing, unreadable or too large file is a PlanError at path `(file)`. */
export function loadPlanFile(path: string, extra?: ExtraPlanCheck): Plan {
  let text: string;
  try {
    text = readBounded(path);
  } catch (e) {
    if (e instanceof PlanError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new PlanError([{ path: '(file)', message: `cannot read plan file "${path}": ${why}` }]);
  }
  return parsePlanText(text, path, extra);
}

/** The file's text, refused unread (by its size) when larger than a plan may be. */
function readBounded(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_PLAN_BYTES) throw new PlanError([planTooLarge(size, 'plan file')], path);
    // Read one byte more than allowed: a file that grows (or a pipe) is still caught by parsePlanText.
    const buf = Buffer.alloc(MAX_PLAN_BYTES + 1);
    let n = 0;
    for (let got = 1; got > 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The first key given twice in one map (a Set per map: linear in the size of the document). */
function duplicateKey(doc: Document): { key: string; offset: number } | null {
  let found: { key: string; offset: number } | null = null;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (seen.has(key)) {
          found = { key, offset: pair.key.range?.[0] ?? 0 };
          return visit.BREAK;
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  return found;
}

/** Where the document's first alias is (the line a reader of an alias error looks at). */
function firstAliasOffset(doc: Document): number | undefined {
  let at: number | undefined;
  visit(doc, {
    Alias(_, node) {
      at = node.range?.[0];
      return visit.BREAK;
    },
  });
  return at;
}

/** A YAML parser message as a person reads it; the resource guards say which limit was hit. */
function syntaxMessage(raw: string): string {
  if (/Maximum call stack size exceeded/.test(raw)) return TOO_DEEP;
  if (/Excessive alias count/.test(raw))
    return `too many YAML alias expansions (at most ${MAX_YAML_ALIASES}): refused as a possible alias bomb ("billion laughs")`;
  if (/Source contains multiple documents/.test(raw)) return 'a plan is one YAML document: found another after ---';
  return firstLine(raw);
}

function dedupe(issues: PlanIssue[]): PlanIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const id = `${i.line}\u0000${i.message}`;
    return seen.has(id) ? false : (seen.add(id), true);
  });
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
