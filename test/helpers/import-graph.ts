// The project's own import graph, read from the sources with TypeScript's pre-processor (static
// imports, re-exports, `import()` and `require()` alike; type-only imports count too, since they
// tie the files together just as much for whoever reads them). Used by test/layers.test.ts to walk
// the layers (docs/architecture.md#layers) and by whoever redraws them.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export const ROOT = resolve(__dirname, '..', '..');

/** Every .ts file under `dir` (relative to the repository root, `/`-separated), .d.ts excluded. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    for (const name of readdirSync(abs).sort()) {
      const p = join(abs, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(relative(ROOT, p).split(sep).join('/'));
    }
  };
  walk(join(ROOT, dir));
  return out;
}

/** A relative specifier resolved to a project file, or null (a package, or a non-.ts target). */
function resolveSpecifier(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(ROOT, dirname(from), spec);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    if (candidate.endsWith('.ts') && existsSync(candidate)) return relative(ROOT, candidate).split(sep).join('/');
  }
  return null;
}

/** file → the project files it imports (by any form), for every file under the given folders. */
export function importGraph(dirs: string[], opts: { runtimeOnly?: boolean } = {}): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of dirs.flatMap(sourceFiles)) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const specs = opts.runtimeOnly
      ? runtimeSpecifiers(file, text)
      : ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    const targets = specs.map((spec) => resolveSpecifier(file, spec)).filter((t): t is string => t !== null);
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

/**
 * The specifiers a file loads when it runs: type-only imports and re-exports (`import type`, every
 * named element `type`) are erased by the compiler and left out. Step modules add to shared
 * interfaces by declaration merging, which ties files together by type only: those are not cycles
 * of loading.
 */
function runtimeSpecifiers(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  const typeOnly = (named: ts.NamedImportBindings | ts.NamedExportBindings | undefined) =>
    !!named &&
    (ts.isNamedImports(named) || ts.isNamedExports(named)) &&
    named.elements.length > 0 &&
    named.elements.every((e) => e.isTypeOnly);
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const c = st.importClause;
      if (c && (c.isTypeOnly || (!c.name && typeOnly(c.namedBindings)))) continue;
      out.push(st.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      if (st.isTypeOnly || typeOnly(st.exportClause)) continue;
      out.push(st.moduleSpecifier.text);
    }
  }
  return out;
}

/** The files reachable from `start` (itself excluded unless a cycle returns to it). */
export function reachable(graph: Map<string, string[]>, start: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(graph.get(start) ?? [])];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    stack.push(...(graph.get(f) ?? []));
  }
  return seen;
}

/** Every import cycle among the graph's files, as strongly connected components of more than one file (or a file importing itself). */
export function cycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm, iterative enough for a project of this size (recursion depth = longest chain).
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}
