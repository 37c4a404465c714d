/**
 * What an access check's SQL may be, decided by PostgreSQL's own parser (libpg-query): exactly one
 * SELECT, no data-modifying WITH, no SELECT INTO, no FOR UPDATE/SHARE, and only functions and
 * operators from an allowlist of built-in, side-effect-free ones. A worker role that can do anything
 * (COPY … TO PROGRAM, dblink_exec, set_config, pg_read_file) must not get to do it through a check.
 * Run by `cutover plan check`/`start` (offline) and again by the worker before each check runs.
 * Node-only (the parser is WASM, loaded asynchronously): never import it from workflows/ or ./index.
 */
import { loadModule, parseSync } from 'libpg-query';
import type { PlanIssue } from './issues';
import type { Plan } from './schema';

let loaded: Promise<void> | undefined;
/** The parser's WASM module, loaded once per process. */
export function loadSqlParser(): Promise<void> {
  return (loaded ??= loadModule());
}

/**
 * Built-in functions a check may call: comparison, string, math, date/time, aggregates, window
 * functions, JSON and array accessors, and the privilege inquiries an access check is about.
 * Whatever is not listed (dblink*, pg_read_*, pg_ls_*, lo_*, set_config, pg_sleep, pg_advisory*,
 * pg_terminate_backend, nextval, query_to_xml, txid_*, user-defined functions, …) is refused.
 */
export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set([
  // strings
  'length',
  'char_length',
  'character_length',
  'octet_length',
  'bit_length',
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
  'concat',
  'concat_ws',
  'left',
  'right',
  'lpad',
  'rpad',
  'repeat',
  'reverse',
  'format',
  'starts_with',
  'translate',
  'regexp_replace',
  'regexp_match',
  'regexp_matches',
  'regexp_like',
  'regexp_count',
  'regexp_substr',
  'regexp_instr',
  'regexp_split_to_array',
  'regexp_split_to_table',
  'similar_to_escape',
  'md5',
  'encode',
  'decode',
  'to_hex',
  'ascii',
  'chr',
  'quote_ident',
  'quote_literal',
  'quote_nullable',
  'string_to_array',
  'array_to_string',
  'normalize',
  'is_normalized',
  'overlay',
  'to_char',
  'to_number',
  'to_date',
  'to_timestamp',
  'pg_collation_for',
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
  'pow',
  'sqrt',
  'cbrt',
  'exp',
  'ln',
  'log',
  'log10',
  'div',
  'width_bucket',
  'pi',
  'degrees',
  'radians',
  'gcd',
  'lcm',
  'scale',
  'min_scale',
  'trim_scale',
  // date and time
  'now',
  'clock_timestamp',
  'statement_timestamp',
  'transaction_timestamp',
  'date_trunc',
  'date_part',
  'extract',
  'age',
  'make_date',
  'make_time',
  'make_timestamp',
  'make_timestamptz',
  'make_interval',
  'justify_days',
  'justify_hours',
  'justify_interval',
  'date_bin',
  'isfinite',
  'timezone',
  'overlaps',
  // aggregates
  'count',
  'sum',
  'avg',
  'min',
  'max',
  'bool_and',
  'bool_or',
  'every',
  'array_agg',
  'string_agg',
  'json_agg',
  'jsonb_agg',
  'json_object_agg',
  'jsonb_object_agg',
  'stddev',
  'stddev_pop',
  'stddev_samp',
  'variance',
  'var_pop',
  'var_samp',
  'bit_and',
  'bit_or',
  'percentile_cont',
  'percentile_disc',
  'mode',
  'any_value',
  // window functions
  'row_number',
  'rank',
  'dense_rank',
  'percent_rank',
  'cume_dist',
  'ntile',
  'lag',
  'lead',
  'first_value',
  'last_value',
  'nth_value',
  // JSON
  'json_build_object',
  'jsonb_build_object',
  'json_build_array',
  'jsonb_build_array',
  'to_json',
  'to_jsonb',
  'row_to_json',
  'json_extract_path',
  'json_extract_path_text',
  'jsonb_extract_path',
  'jsonb_extract_path_text',
  'json_array_length',
  'jsonb_array_length',
  'json_typeof',
  'jsonb_typeof',
  'json_array_elements',
  'jsonb_array_elements',
  'json_array_elements_text',
  'jsonb_array_elements_text',
  'json_each',
  'jsonb_each',
  'json_each_text',
  'jsonb_each_text',
  'json_object_keys',
  'jsonb_object_keys',
  'jsonb_path_exists',
  'jsonb_path_query',
  'jsonb_path_query_first',
  'jsonb_path_match',
  'jsonb_strip_nulls',
  'json_strip_nulls',
  // arrays and sets
  'array_length',
  'cardinality',
  'unnest',
  'array_position',
  'array_positions',
  'array_remove',
  'array_append',
  'array_prepend',
  'array_cat',
  'array_lower',
  'array_upper',
  'array_ndims',
  'array_dims',
  'generate_series',
  'generate_subscripts',
  // nulls, types, settings read (never set)
  'num_nonnulls',
  'num_nulls',
  'pg_typeof',
  'current_setting',
  'format_type',
  'to_regclass',
  'to_regrole',
  // privilege inquiries: what access checks are about
  'has_table_privilege',
  'has_column_privilege',
  'has_any_column_privilege',
  'has_schema_privilege',
  'has_database_privilege',
  'has_function_privilege',
  'has_sequence_privilege',
  'pg_has_role',
  'row_security_active',
  'pg_get_userbyid',
]);

/** Operators a check may use, by symbol: comparisons, arithmetic, text, pattern, JSON, array and range ones. */
const ALLOWED_OPERATORS: ReadonlySet<string> = new Set([
  '=',
  '<>',
  '!=',
  '<',
  '>',
  '<=',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '||',
  '|/',
  '||/',
  '@',
  '&',
  '|',
  '#',
  '<<',
  '>>',
  '~',
  '~~',
  '!~~',
  '~~*',
  '!~~*',
  '~*',
  '!~',
  '!~*',
  '->',
  '->>',
  '#>',
  '#>>',
  '@>',
  '<@',
  '?',
  '?|',
  '?&',
  '&&',
  '@@',
  '@?',
  '#-',
]);

/** Statements by the words a reader knows. */
const STATEMENT_WORDS: Record<string, string> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  CopyStmt: 'COPY',
  CallStmt: 'CALL',
  DoStmt: 'DO',
  ExplainStmt: 'EXPLAIN',
  VariableSetStmt: 'SET',
  VariableShowStmt: 'SHOW',
  TransactionStmt: 'a transaction command',
  TruncateStmt: 'TRUNCATE',
  LockStmt: 'LOCK',
  CreateTableAsStmt: 'CREATE TABLE AS',
  ExecuteStmt: 'EXECUTE',
  PrepareStmt: 'PREPARE',
  DeclareCursorStmt: 'DECLARE',
  FetchStmt: 'FETCH',
  NotifyStmt: 'NOTIFY',
};
const statementWord = (type: string) =>
  STATEMENT_WORDS[type] ??
  type
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase();

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
/** `[{String: {sval: 'pg_catalog'}}, {String: {sval: 'now'}}]` → ['pg_catalog', 'now']. */
const names = (list: unknown): string[] =>
  Array.isArray(list) ? list.map((n) => (isNode(n) && isNode(n.String) ? String(n.String.sval ?? '') : '?')) : [];

/** Why this SQL may not be an access check, or null. Needs loadSqlParser() first. */
export function accessSqlProblem(sql: string): string | null {
  let tree: { stmts?: Array<{ stmt?: Node }> };
  try {
    tree = parseSync(sql) as typeof tree;
  } catch (e) {
    if (/not initialized/i.test((e as Error).message)) throw e;
    return `is not valid PostgreSQL: ${(e as Error).message}`;
  }
  const stmts = tree.stmts ?? [];
  if (stmts.length !== 1) return `must be exactly one SELECT statement (found ${stmts.length} statements)`;
  const [type] = Object.keys(stmts[0].stmt ?? {});
  if (type !== 'SelectStmt') return `must be a SELECT (found ${statementWord(type ?? 'nothing')})`;
  return walk(stmts[0].stmt!, []);
}

/** Depth-first over the parse tree; the first refused node, described. */
function walk(value: unknown, cte: string[]): string | null {
  if (Array.isArray(value)) {
    for (const v of value) {
      const why = walk(v, cte);
      if (why) return why;
    }
    return null;
  }
  if (!isNode(value)) return null;
  for (const [key, inner] of Object.entries(value)) {
    const why =
      (isNode(inner) ? nodeProblem(key, inner, cte) : null) ??
      walk(inner, key === 'CommonTableExpr' && isNode(inner) ? [...cte, String(inner.ctename)] : cte);
    if (why) return why;
  }
  return null;
}

function nodeProblem(type: string, n: Node, cte: string[]): string | null {
  if (type === 'SelectStmt') {
    if (n.intoClause) return 'SELECT INTO is not allowed (it creates a table)';
    if (Array.isArray(n.lockingClause) && n.lockingClause.length)
      return 'a locking clause (FOR UPDATE/NO KEY UPDATE/SHARE/KEY SHARE) is not allowed: it takes row locks';
    return null;
  }
  if (/^[A-Z]\w*Stmt$/.test(type)) {
    const where = cte.length ? ` in WITH ${cte[cte.length - 1]}` : '';
    return ['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt'].includes(type)
      ? `a data-modifying WITH (${statementWord(type)}${where}) is not allowed`
      : `${statementWord(type)}${where} is not allowed; only a SELECT`;
  }
  if (type === 'FuncCall') {
    const parts = names(n.funcname);
    const name = parts[parts.length - 1];
    if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'pg_catalog'))
      return `function ${parts.join('.')} is not allowed: only built-in functions (unqualified or pg_catalog.)`;
    if (!ALLOWED_FUNCTIONS.has(name))
      return `function ${name}() is not allowed in an access check (not on the list of read-only built-ins; see the plan reference)`;
    return null;
  }
  if (type === 'A_Expr' && Array.isArray(n.name)) {
    const parts = names(n.name);
    const op = parts[parts.length - 1];
    if (parts.length === 2 && parts[0] !== 'pg_catalog') return `operator ${parts.join('.')} is not allowed: only built-in operators`;
    const symbolic = [
      'AEXPR_OP',
      'AEXPR_OP_ANY',
      'AEXPR_OP_ALL',
      'AEXPR_DISTINCT',
      'AEXPR_NOT_DISTINCT',
      'AEXPR_NULLIF',
      'AEXPR_IN',
    ].includes(String(n.kind));
    if (symbolic && !ALLOWED_OPERATORS.has(op))
      return `operator ${op} is not allowed in an access check (not a built-in comparison, arithmetic, text, JSON or array operator)`;
    return null;
  }
  if (type === 'RangeTableSample') {
    const method = names(n.method).join('.');
    if (!['bernoulli', 'system'].includes(method)) return `TABLESAMPLE ${method} is not allowed (only bernoulli and system)`;
  }
  return null;
}

/** Every plan check whose SQL may not run, as plan issues at `accessChecks[i].sql`. Needs loadSqlParser() first. */
export function accessSqlIssues(plan: Pick<Plan, 'accessChecks'>): PlanIssue[] {
  return (plan.accessChecks ?? []).flatMap((c, i) => {
    const why = accessSqlProblem(c.sql);
    return why ? [{ path: `accessChecks[${i}].sql`, message: why }] : [];
  });
}
