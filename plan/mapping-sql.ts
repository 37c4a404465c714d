/**
 * What a mapping's `expr` may be, decided by PostgreSQL's own parser (libpg-query), never by
 * regular expressions: one scalar expression over the Pilot row — the entry's own columns (bare
 * names), constants, operators, CASE, COALESCE/NULLIF, GREATEST/LEAST, casts and a listed set of
 * immutable built-in functions. A subquery, another table's column, a parameter, a volatile,
 * unlisted, aggregate, window or set-returning function is refused, naming the node. The text is
 * validated exactly as it is embedded (exprSql), so what was checked is what runs.
 * Node-only (the parser is WASM): never import it from workflows/ or ./index.
 */
import { parseSync } from 'libpg-query';
import { formatPath, type PlanIssue } from './issues';
import type { Plan } from './schema';
export { loadSqlParser } from './access-sql';

/**
 * Immutable built-ins an expression may call: the same result for the same arguments, no reads,
 * no writes, no time, no settings. (concat, to_char, now(), random() and the like are not: stable
 * or volatile.)
 */
export const EXPR_FUNCTIONS: ReadonlySet<string> = new Set([
  // strings
  'length',
  'char_length',
  'character_length',
  'octet_length',
  'lower',
  'upper',
  'initcap',
  'btrim',
  'ltrim',
  'rtrim',
  'substr',
  'substring',
  'position',
  'strpos',
  'replace',
  'split_part',
  'left',
  'right',
  'lpad',
  'rpad',
  'repeat',
  'reverse',
  'translate',
  'regexp_replace',
  'starts_with',
  'md5',
  'to_hex',
  'ascii',
  'chr',
  'overlay',
  // math
  'abs',
  'ceil',
  'ceiling',
  'floor',
  'round',
  'trunc',
  'sign',
  'mod',
  'power',
  'sqrt',
  'div',
  // dates (the variants over date and timestamp without time zone)
  'make_date',
  'make_time',
  'make_timestamp',
  'date_part',
  'extract',
  'date_trunc',
]);

/** Node types an expression may hold (others are refused by name). */
const ALLOWED_NODES: ReadonlySet<string> = new Set([
  'ColumnRef',
  'A_Const',
  'TypeCast',
  'TypeName',
  'A_Expr',
  'BoolExpr',
  'NullTest',
  'BooleanTest',
  'CaseExpr',
  'CaseWhen',
  'CoalesceExpr',
  'MinMaxExpr',
  'FuncCall',
  'List',
  'String',
  'Integer',
  'Float',
  'Boolean',
  'CollateClause',
]);

/** Node words a reader knows, for the refusal. */
const NODE_WORDS: Record<string, string> = {
  SubLink: 'a subquery',
  ParamRef: 'a parameter ($n)',
  SQLValueFunction: 'a time or session value (current_date, current_user, …): not immutable',
  RowExpr: 'a row constructor',
  A_ArrayExpr: 'an array constructor',
  A_Indirection: 'a subscript or field selection',
  A_Star: 'a *',
  GroupingFunc: 'GROUPING',
  XmlExpr: 'an XML expression',
  SetToDefault: 'DEFAULT',
  CurrentOfExpr: 'CURRENT OF',
};

/** Operators an expression may use: comparison, arithmetic, text and pattern matching (built-in). */
const EXPR_OPERATORS: ReadonlySet<string> = new Set([
  '=',
  '<>',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '||',
  '~~',
  '!~~',
  '~~*',
  '!~~*',
  '~',
  '~*',
  '!~',
  '!~*',
  'BETWEEN',
  'NOT BETWEEN',
  'BETWEEN SYMMETRIC',
  'NOT BETWEEN SYMMETRIC',
]);

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const names = (list: unknown): string[] =>
  Array.isArray(list) ? list.map((n) => (isNode(n) && isNode(n.String) ? String(n.String.sval ?? '') : '?')) : [];

/** The expression as every statement embeds it: parenthesised on lines of its own (a trailing -- comment ends there). */
export const exprSql = (expr: string): string => `(\n${expr}\n)`;

export interface ExprCheck {
  /** Why it is refused, or null. */
  problem: string | null;
  /** The Pilot columns it reads (bare names, as the parser folds them). */
  columns: string[];
}

/** Parse and check one expression. Needs loadSqlParser() first. */
export function checkExpr(expr: string): ExprCheck {
  let tree: { stmts?: Array<{ stmt?: Node }> };
  try {
    tree = parseSync(`SELECT ${exprSql(expr)} AS v`) as typeof tree;
  } catch (e) {
    if (/not initialized/i.test((e as Error).message)) throw e;
    return { problem: `is not a valid PostgreSQL expression: ${(e as Error).message}`, columns: [] };
  }
  const stmts = tree.stmts ?? [];
  const select = stmts.length === 1 && isNode(stmts[0].stmt) ? (stmts[0].stmt.SelectStmt as Node | undefined) : undefined;
  const extra = select ? Object.keys(select).filter((k) => !['targetList', 'limitOption', 'op'].includes(k)) : [];
  const targets = select && Array.isArray(select.targetList) ? select.targetList : [];
  const target = targets.length === 1 && isNode(targets[0]) && isNode(targets[0].ResTarget) ? targets[0].ResTarget : undefined;
  if (!select || extra.length > 0 || !target || target.name !== 'v') {
    return { problem: 'must be one scalar expression over the Pilot row (no FROM, WHERE, further columns or statements)', columns: [] };
  }
  const columns: string[] = [];
  const problem = walk(target.val, columns);
  return { problem, columns: [...new Set(columns)] };
}

/** Depth-first; the first refused node, described. */
function walk(value: unknown, columns: string[]): string | null {
  if (Array.isArray(value)) {
    for (const v of value) {
      const why = walk(v, columns);
      if (why) return why;
    }
    return null;
  }
  if (!isNode(value)) return null;
  for (const [key, inner] of Object.entries(value)) {
    if (!/^[A-Z]/.test(key) || !isNode(inner)) {
      const why = walk(inner, columns);
      if (why) return why;
      continue;
    }
    const why = nodeProblem(key, inner, columns) ?? walk(inner, columns);
    if (why) return why;
  }
  return null;
}

function nodeProblem(type: string, n: Node, columns: string[]): string | null {
  if (!ALLOWED_NODES.has(type))
    return `${NODE_WORDS[type] ?? `${type.replace(/([a-z])([A-Z])/g, '$1 $2')}`} is not allowed in an expression (only the row's own columns, constants, operators, CASE, COALESCE/NULLIF, casts and listed immutable functions)`;
  if (type === 'ColumnRef') {
    const fields = Array.isArray(n.fields) ? n.fields : [];
    if (fields.some((f) => isNode(f) && 'A_Star' in f)) return 'a * is not allowed in an expression';
    const parts = names(fields);
    if (parts.length !== 1)
      return `column ${parts.join('.')} names another table: an expression reads only its own Pilot row (write the bare column name)`;
    columns.push(parts[0]);
    return null;
  }
  if (type === 'FuncCall') {
    const parts = names(n.funcname);
    const name = parts[parts.length - 1];
    if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'pg_catalog'))
      return `function ${parts.join('.')}() is not allowed: only built-in functions (unqualified or pg_catalog.)`;
    if (n.agg_star || n.agg_distinct || n.agg_filter || n.agg_order || n.over || n.agg_within_group)
      return `function ${name}() is used as an aggregate or window function: an expression is scalar, over one row`;
    if (!EXPR_FUNCTIONS.has(name))
      return `function ${name}() is not allowed in an expression (not on the list of immutable built-ins; see the plan reference, Mapping)`;
    return null;
  }
  if (type === 'A_Expr') {
    const parts = names(n.name);
    const op = parts[parts.length - 1];
    if (parts.length === 2 && parts[0] !== 'pg_catalog') return `operator ${parts.join('.')} is not allowed: only built-in operators`;
    if (!EXPR_OPERATORS.has(op))
      return `operator ${op} is not allowed in an expression (comparison, arithmetic, text and pattern operators only)`;
    return null;
  }
  if (type === 'TypeCast' || type === 'TypeName') {
    const tn = type === 'TypeName' ? n : (n.typeName as Node | undefined);
    const parts = names(tn?.names);
    if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'pg_catalog'))
      return `a cast to ${parts.join('.')} is not allowed: only built-in types (or a type written unqualified)`;
    return null;
  }
  return null;
}

/** Every mapping expression that may not run, as plan issues at `tables[i].columns.<col>.expr`. Needs loadSqlParser() first. */
export function mappingSqlIssues(plan: Pick<Plan, 'tables'>): PlanIssue[] {
  return plan.tables.flatMap((t, i) =>
    Object.entries(t.columns ?? {}).flatMap(([col, src]) => {
      if (src.expr === undefined) return [];
      const why = checkExpr(src.expr).problem;
      return why ? [{ path: formatPath(['tables', i, 'columns', col, 'expr']), message: why }] : [];
    }),
  );
}
