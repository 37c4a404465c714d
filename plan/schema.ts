/**
 * The plan contract (docs/plan-reference.md) as a zod schema. Pure: imported inside the workflow sandbox.
 * Every object is strict so a typo is an error, not a silently ignored setting.
 * Cross-field rules live next to the object they constrain and run even when a sibling field is
 * invalid (`when: always`), so one check reports every problem at once; they therefore read their
 * input defensively. Every field carries a `.describe()`: `cutover plan schema` prints them for
 * editors, and test/plan-schema-descriptions.test.ts fails on a field without one.
 */
import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration';
import { MAX_ITEMS, MAX_TEXT } from './limits';
import { identifierProblem, invisibleCharacter, lookAlike, parseTableName, planTableKey } from './names';
import { parsePublicKeyLine } from './ssh/wire';

// ---- shared building blocks ------------------------------------------------------------------

/** Refinements that must run even when other fields already failed. */
const always = { when: () => true };

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A column as it is named in the catalog (any characters; the catalog check decides). */
const Column = z.string().superRefine((s, ctx) => {
  const why = identifierProblem(s);
  if (why) ctx.addIssue({ code: 'custom', message: `must be a column name: ${why}` });
});
/** A table as PostgreSQL writes it: customer, public.customer, "Sales.EU"."Order Items". */
const TableName = z.string().superRefine((s, ctx) => {
  const r = parseTableName(s);
  if (typeof r === 'string')
    ctx.addIssue({ code: 'custom', message: `must be a table name like customer, public.customer or "Sales.EU"."Order Items": ${r}` });
});
/** A list of columns each named once: `match: [name, name]` would otherwise fail later in SQL as "ambiguous". */
const ColumnList = z
  .array(Column)
  .min(1)
  .max(MAX_ITEMS.people)
  .superRefine((cols, ctx) => {
    cols.forEach((c, i) => {
      if (cols.indexOf(c) < i) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate column ${JSON.stringify(c)}` });
    });
  });
/** A change request id (CHG-1234, JIRA-77, RFC/2026/12): safe inside a visibility query without quoting rules. */
export const CHANGE_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/;
const Alias = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/);
const Slug = z
  .string()
  .max(200)
  .regex(/^[a-z0-9-]+$/);
const Person = z
  .string()
  .max(200)
  .regex(/^\S(.*\S)?$/, { error: 'must be a non-empty name without surrounding spaces' })
  .superRefine((s, ctx) => {
    const hidden = invisibleCharacter(s);
    if (hidden) ctx.addIssue({ code: 'custom', message: `must not contain ${hidden}` });
  });

const Duration = z
  .string()
  .regex(DURATION_PATTERN, { error: 'must be a duration like 72h, 30m, 90s or 500ms' })
  .superRefine((s, ctx) => {
    if (!DURATION_PATTERN.test(s)) return;
    let ms: number;
    try {
      ms = parseDuration(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is too large' });
      return;
    }
    if (ms <= 0) ctx.addIssue({ code: 'custom', message: 'must be longer than 0' });
  });

// ---- conditions ------------------------------------------------------------------------------

export const CONDITION_OPS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'notIn', 'like', 'notLike', 'isNull', 'notNull'] as const;
export type ConditionOp = (typeof CONDITION_OPS)[number];
export type Scalar = string | number | boolean;
export interface Condition {
  column: string;
  op: ConditionOp;
  /** Absent for isNull/notNull; a non-empty list for in/notIn; a string for like/notLike. */
  value?: Scalar | Scalar[];
}

const isScalar = (v: unknown): v is Scalar =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
const NO_VALUE_OPS: ReadonlySet<string> = new Set(['isNull', 'notNull']);
const LIST_OPS: ReadonlySet<string> = new Set(['in', 'notIn']);
const STRING_OPS: ReadonlySet<string> = new Set(['like', 'notLike']);

/** `value` depends on `op`, so it is typed here rather than by a union (whose errors read badly). */
function checkConditionValue(c: unknown, ctx: z.RefinementCtx): void {
  if (!isRec(c) || typeof c.op !== 'string' || !(CONDITION_OPS as readonly string[]).includes(c.op)) return;
  const { op, value } = c;
  const at = (message: string, ...path: Array<string | number>) => ctx.addIssue({ code: 'custom', message, path: ['value', ...path] });
  if (NO_VALUE_OPS.has(op)) {
    if (value !== undefined) at(`not allowed with op ${op} (remove value)`);
    return;
  }
  if (value === undefined) return at(`required with op ${op}`);
  if (value === null) return at('must not be null (use op isNull or notNull)');
  if (LIST_OPS.has(op)) {
    if (!Array.isArray(value)) return at(`must be a list of values with op ${op}`);
    if (value.length === 0) return at(`must be a non-empty list with op ${op}`);
    if (value.length > MAX_ITEMS.conditions) return at(`must have at most ${MAX_ITEMS.conditions} items (got ${value.length})`);
    value.forEach((v, i) => {
      if (!isScalar(v)) at('must be a string, number or boolean', i);
      else if (typeof v === 'string' && v.length > MAX_TEXT.value) at(`must be at most ${MAX_TEXT.value} characters`, i);
    });
    return;
  }
  if (Array.isArray(value)) return at(`must be a single value with op ${op} (use in/notIn for lists)`);
  if (STRING_OPS.has(op)) {
    if (typeof value !== 'string') at(`must be a string pattern with op ${op}`);
    else if (value.length > MAX_TEXT.value) at(`must be at most ${MAX_TEXT.value} characters`);
    return;
  }
  if (!isScalar(value)) at('must be a string, number or boolean');
  else if (typeof value === 'string' && value.length > MAX_TEXT.value) at(`must be at most ${MAX_TEXT.value} characters`);
}

export const ConditionSchema = z
  .strictObject({
    column: Column.describe('Column of the table the condition reads, written as it is in the catalog'),
    op: z
      .enum(CONDITION_OPS)
      .describe('Comparison: eq ne lt lte gt gte in notIn like notLike isNull notNull (ne, notIn and notLike keep NULLs)'),
    value: z
      .unknown()
      .optional()
      .meta({ description: 'string, number or boolean; a non-empty list for in/notIn; absent for isNull/notNull' }),
  })
  .superRefine(checkConditionValue, always)
  .transform((c) => c as Condition);

const Conditions = z.array(ConditionSchema).min(1).max(MAX_ITEMS.conditions);

// ---- select ----------------------------------------------------------------------------------

export type Select =
  | { all: true }
  | { where: Condition[] }
  | { follow: string[]; followMoved?: string[]; where?: Condition[] }
  | { followMoved: string[]; follow?: string[]; where?: Condition[] }
  | { referenced: true };

const SELECT_FORMS =
  '{all: true}, {where: [...]}, {follow: [...], followMoved: [...], where?: [...]} (follow, followMoved or both) or {referenced: true}';

/** One flat object plus this rule reads better in errors than a union of four objects. */
function checkSelectForm(s: unknown, ctx: z.RefinementCtx): void {
  if (!isRec(s)) return;
  const used = ['all', 'where', 'follow', 'followMoved', 'referenced'].filter((k) => s[k] !== undefined);
  // all and referenced stand alone; where, follow and followMoved combine (each narrows the others).
  const ok = used.length === 1 || (used.length > 1 && used.every((k) => k === 'where' || k === 'follow' || k === 'followMoved'));
  if (ok) {
    const both =
      Array.isArray(s.follow) && Array.isArray(s.followMoved)
        ? (s.followMoved as unknown[]).findIndex((c) => (s.follow as unknown[]).includes(c))
        : -1;
    if (both >= 0)
      ctx.addIssue({
        code: 'custom',
        path: ['followMoved', both],
        message: `column ${JSON.stringify((s.followMoved as unknown[])[both])} is also in follow: list it in one of them`,
      });
    return;
  }
  const what = used.length === 0 ? 'is empty' : `cannot combine ${used.join(' and ')}`;
  ctx.addIssue({ code: 'custom', message: `${what}; use exactly one of ${SELECT_FORMS}` });
}

export const SelectSchema = z
  .strictObject({
    all: z.literal(true).optional().describe('Every row of the table is in scope'),
    where: Conditions.optional().describe(
      'Rows matching every condition (AND) are in scope; with follow or followMoved, narrows the followed rows',
    ),
    follow: ColumnList.optional().describe(
      'FK columns of this table: a row is in scope when the parent it references moves (or already exists in production); the parent table must be in the plan',
    ),
    followMoved: ColumnList.optional().describe(
      'FK columns of this table: a row is in scope only when the parent it references moves in this run (not when that parent only exists in production): link tables, order lines; the parent table must be in the plan',
    ),
    referenced: z
      .literal(true)
      .optional()
      .describe("Rows that moving rows of other plan tables reference, closed over this table's own FKs (the default)"),
  })
  .superRefine(checkSelectForm, always)
  .transform((s) => s as Select);

// ---- tables ----------------------------------------------------------------------------------

export const ID_MODES = ['keep', 'new', 'match'] as const;

function checkMatch(t: unknown, ctx: z.RefinementCtx): void {
  if (!isRec(t) || !(ID_MODES as readonly unknown[]).includes(t.ids ?? 'keep')) return;
  const ids = t.ids ?? 'keep';
  if (ids === 'match' && t.match === undefined)
    ctx.addIssue({ code: 'custom', path: ['match'], message: 'required when ids is match (the natural key columns)' });
  if (ids !== 'match' && t.match !== undefined)
    ctx.addIssue({ code: 'custom', path: ['match'], message: `only allowed when ids is match (ids is ${String(ids)})` });
}

/**
 * How many of something run at once (`parallelism`, `parallelism.tables`, `parallelism.lanes`). Whole
 * by a refinement, not .int(): a type error in both forms of the union would hide which one was meant.
 */
const ParallelWidth = z.number().min(1).max(16).refine(Number.isInteger, { error: 'must be a whole number' });

// ---- mapping: when the Pilot's model is not Production's --------------------------------------

/** A value a plan may write: the Pilot value a map matches, a constant, a map's Production value. */
export type MapScalar = string | number | boolean;
const MapValue = z.union(
  [z.string().max(MAX_TEXT.value), z.number().refine(Number.isFinite, { error: 'must be a finite number' }), z.boolean()],
  {
    error: 'must be a string, a number or a boolean',
  },
);

/** Where one Production column's value comes from: exactly one form (see checkColumnSource). */
export interface ColumnSource {
  from?: string;
  value?: MapScalar | null;
  map?: Record<string, MapScalar | null>;
  default?: MapScalar | null;
  expr?: string;
}

const COLUMN_FORMS = '{from: pilot_column}, {value: constant}, {from: pilot_column, map: {…}, default?: value} or {expr: "SQL"}';

/** One flat object plus this rule reads better in errors than a union of four objects. */
function checkColumnSource(s: unknown, ctx: z.RefinementCtx): void {
  if (!isRec(s)) return;
  const has = (k: string) => s[k] !== undefined;
  const forms = [has('from'), has('value'), has('expr')].filter(Boolean).length;
  if (forms !== 1) {
    const used = ['from', 'value', 'expr'].filter(has);
    ctx.addIssue({
      code: 'custom',
      message: `${used.length === 0 ? 'is empty' : `cannot combine ${used.join(' and ')}`}; use exactly one of ${COLUMN_FORMS}`,
    });
    return;
  }
  if (has('map') && !has('from'))
    ctx.addIssue({ code: 'custom', path: ['map'], message: 'needs from (the Pilot column whose values it maps)' });
  if (has('default') && !has('map'))
    ctx.addIssue({
      code: 'custom',
      path: ['default'],
      message: 'only allowed with map (the value of a Pilot value the map does not list)',
    });
  if (isRec(s.map) && Object.keys(s.map).length === 0)
    ctx.addIssue({ code: 'custom', path: ['map'], message: 'must list at least one Pilot value' });
}

export const ColumnSourceSchema = z
  .strictObject({
    from: Column.optional().describe('The Pilot column the value is copied from (renamed), or mapped from with map'),
    value: z
      .union([z.null(), MapValue])
      .optional()
      .describe('A constant for every row: a string, number, boolean or null (a column the Pilot lacks)'),
    map: z
      .record(z.string().max(MAX_TEXT.value), z.union([z.null(), MapValue]))
      .optional()
      .describe(
        'Pilot value → Production value (compared as text); a Pilot value in scope that is not listed is refused unless default is given; NULL stays NULL',
      ),
    default: z.union([z.null(), MapValue]).optional().describe('With map: the Production value of a Pilot value the map does not list'),
    expr: z
      .string()
      .max(MAX_TEXT.value)
      .regex(/\S/, { error: 'must not be empty' })
      .optional()
      .describe(
        'A scalar SQL expression over the Pilot row (its own columns, constants, operators, CASE, COALESCE/NULLIF, casts, listed immutable functions), evaluated in staging',
      ),
  })
  .superRefine(checkColumnSource, always)
  .transform((s) => s as ColumnSource);

export const TableSpecSchema = z
  .strictObject({
    table: TableName.describe(
      'Table as psql writes it: customer, public.customer or "Sales.EU"."Order Items" (unqualified means public); a partitioned table by its parent',
    ),
    key: ColumnList.optional().describe('Columns that identify a row (default: the primary key); needed when the table has none'),
    select: SelectSchema.default(() => ({ referenced: true as const })).describe(
      'Which rows are in scope: exactly one of {all: true}, {where}, {follow and/or followMoved, where?} or {referenced: true} (the default)',
    ),
    ids: z
      .enum(ID_MODES)
      .default('keep')
      .describe(
        "Keys in production: keep (as in the Pilot), new (from the target's sequence, FKs rewritten) or match (reuse the production row with the same natural key)",
      ),
    match: ColumnList.optional().describe(
      "Natural key columns for ids: match (required then, refused otherwise); with a mapping, Production's columns",
    ),
    into: TableName.optional().describe('The Production table the rows go into, as psql writes it (default: the same name as table)'),
    columns: z
      .record(Column, ColumnSourceSchema)
      .refine((r) => Object.keys(r).length > 0, { error: 'must name at least one Production column' })
      .optional()
      .describe(
        'Production column → where its value comes from: {from}, {value}, {from, map, default?} or {expr}; columns of the same name on both sides are copied without an entry',
      ),
    drop: ColumnList.optional().describe(
      'Pilot columns deliberately not moved (a Pilot column Production lacks must be mapped, used or listed here)',
    ),
  })
  .superRefine(checkMatch, always);
export type TableSpec = z.infer<typeof TableSpecSchema>;

// ---- approvals, and who may sign them ------------------------------------------------------

/** An `ssh-ed25519 AAAA… [comment]` public key line, checked offline (type, base64, 32-byte key). */
const SshPublicKey = z.string().superRefine((s, ctx) => {
  const key = parsePublicKeyLine(s);
  if (typeof key === 'string') ctx.addIssue({ code: 'custom', message: `must be an SSH public key "ssh-ed25519 AAAA… [comment]": ${key}` });
});
/**
 * A person who decides: a plain name, or a name with the SSH key their signatures must verify
 * against. Plain names stay plain after validation (so older plans normalise, and hash, as before).
 */
export const SignerSchema = z.union(
  [
    Person,
    z.strictObject({
      name: Person.describe("The person's name, as given with --as"),
      key: SshPublicKey.describe('Their ssh-ed25519 public key line; their signatures must verify against it'),
    }),
  ],
  {
    error: 'must be a name, or {name, key: "ssh-ed25519 AAAA… [comment]"}',
  },
);
export type Signer = z.infer<typeof SignerSchema>;
export const SIGNATURE_POLICIES = ['required', 'optional'] as const;

/** A list of signers: each name once, and each key once (one key counting as two approvers defeats N-of-M). */
function checkSigners(list: unknown, ctx: z.RefinementCtx, path: Array<string | number>, what: string): number {
  if (!Array.isArray(list)) return 0;
  const names = new Map<unknown, number>();
  const looks = new Map<string, number>();
  const keys = new Map<string, number>();
  list.forEach((x, i) => {
    const name = isRec(x) ? x.name : x;
    // A name that only looks like another (Cyrillic о in "bоb") would let one person count twice.
    const look = typeof name === 'string' ? lookAlike(name) : undefined;
    const twin = look === undefined ? undefined : looks.get(look);
    if (names.has(name)) ctx.addIssue({ code: 'custom', path: [...path, i], message: `duplicate ${what} ${JSON.stringify(name)}` });
    else if (twin !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [...path, i],
        message: `${what} ${JSON.stringify(name)} looks like ${path.join('.')}[${twin}] ${JSON.stringify(list[twin] !== null && typeof list[twin] === 'object' ? (list[twin] as Rec).name : list[twin])}: look-alike names are refused (one person must not count twice)`,
      });
    else names.set(name, i);
    if (look !== undefined && twin === undefined) looks.set(look, i);
    const key = isRec(x) && typeof x.key === 'string' ? parsePublicKeyLine(x.key) : null;
    if (key === null || typeof key === 'string') return;
    const prev = keys.get(key.fingerprint);
    if (prev !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [...path, i, 'key'],
        message: `the same key as ${path.join('.')}[${prev}] (${key.fingerprint}): one key is one person`,
      });
    else keys.set(key.fingerprint, i);
  });
  return names.size;
}

function checkApprovals(a: unknown, ctx: z.RefinementCtx): void {
  if (!isRec(a) || !Array.isArray(a.approvers)) return;
  const n = checkSigners(a.approvers, ctx, ['approvers'], 'approver');
  if (n > 0 && typeof a.required === 'number' && a.required > n)
    ctx.addIssue({ code: 'custom', path: ['required'], message: `must be at most ${n} (the number of approvers)` });
  if (a.signatures === 'required') {
    a.approvers.forEach((x, i) => {
      if (!isRec(x))
        ctx.addIssue({
          code: 'custom',
          path: ['approvers', i],
          message: `needs a key ({name: ${String(x)}, key: "ssh-ed25519 …"}): approvals.signatures is required`,
        });
    });
  }
}

export const ApprovalsSchema = z
  .strictObject({
    approvers: z
      .array(SignerSchema)
      .min(1)
      .max(MAX_ITEMS.people)
      .describe('Who may approve or reject a gate: names, or {name, key}; each once'),
    required: z.number().int().min(1).describe('Distinct approvals that open each gate (N of M); at most the number of approvers'),
    /** The initiator cannot approve their own migration. */
    separationOfDuties: z.boolean().default(true).describe('The initiator may not approve their own run (default true)'),
    timeout: Duration.default('72h').describe(
      'How long each gate waits for its approvals before the run expires: 72h, 30m, 90s, 500ms, 2d (default 72h)',
    ),
    /**
     * `required`: every approval (and every resume) must carry an SSH signature by the person's key;
     * `optional` (what absence means): a signature sent is verified, an unsigned approval is accepted.
     * No schema default: a default here would change the normalised plan (and hash) of runs in flight.
     */
    signatures: z
      .enum(SIGNATURE_POLICIES)
      .optional()
      .describe(
        'required: every approval and resume carries an SSH signature (every approver and operator needs a key); optional (absent): a signature sent is verified',
      ),
  })
  .superRefine(checkApprovals, always);

// ---- the rest of the plan --------------------------------------------------------------------

export const BackupSchema = z.strictObject({
  store: z
    .string()
    .max(2000)
    .regex(/^(s3:\/\/[^/\s]+(\/\S*)?|file:\/\/\/\S*)$/, {
      error: 'must be a URL like s3://bucket/prefix or file:///absolute/dir',
    })
    .describe('Where verified pg_dump backups (and the evidence pack) go: s3://bucket/prefix or file:///absolute/dir'),
  scope: z
    .enum(['touched-tables', 'full'])
    .default('touched-tables')
    .describe("touched-tables: the target's schema with only the plan tables' rows (default); full: every row"),
});

const AnonymizeValue = z.union([z.null(), z.string(), z.number(), z.boolean()], {
  error: 'must be null, a string, a number or a boolean',
});

export const ErasureSchema = z.strictObject({
  registers: z
    .array(
      z
        .strictObject({
          db: z.enum(['source', 'target']).describe('Which database holds the register: source (the Pilot) or target (production)'),
          table: TableName.describe('The register table: one row per erasure request'),
          subject: Column.describe(
            'Its column holding the subject key: as the Pilot knows it (keys: pilot), or as Production does (keys: production)',
          ),
          keys: z
            .enum(['pilot', 'production'])
            .optional()
            .describe(
              "Whose keys the subject column holds: pilot (the default; translated through the run's identity, never taken as a Production key) or production (Production's own register of its people; db: target only)",
            ),
        })
        .refine((r) => r.keys !== 'production' || r.db === 'target', {
          path: ['keys'],
          message: 'keys: production is for a register in Production (db: target); a Pilot register names people by their Pilot key',
        }),
    )
    .min(1)
    .max(MAX_ITEMS.tables)
    .describe('Erasure request registers: subjects listed there are not moved, and erased in production if they arrive after stage'),
  /** Tables listed here are anonymized instead of deleted (the default action). */
  anonymize: z
    .array(
      z.strictObject({
        table: TableName.describe('A plan table reaching the subjects table through FKs'),
        columns: z
          .record(Column, AnonymizeValue)
          .refine((r) => Object.keys(r).length > 0, { error: 'must name at least one column' })
          .describe('Column → value it is set to (null, a string, a number or a boolean); not key columns'),
      }),
    )
    .max(MAX_ITEMS.tables)
    .optional()
    .describe('Tables whose rows an erasure after publish keeps with these columns overwritten, instead of deleting them (the default)'),
  /** Per foreign key: what an erasure does to a row that references an erased row through it. */
  references: z
    .array(
      z.strictObject({
        table: TableName.describe('A plan table holding the foreign key (as production declares it)'),
        columns: z.array(Column).min(1).max(MAX_ITEMS.people).describe("The foreign key's columns in that table"),
        action: z
          .enum(['delete', 'nullify'])
          .describe(
            'delete: a row referencing an erased row through this key is erased too (or anonymized, for a table in erasure.anonymize); nullify: the key is set to NULL and the row stays',
          ),
      }),
    )
    .max(MAX_ITEMS.tables)
    .optional()
    .describe(
      'What an erasure does through each foreign key; default: rows referencing an erased row through a NOT NULL key are erased, a nullable reference is set to NULL',
    ),
});

/**
 * An ISO 8601 duration with designators (P13M, P1Y, P90D, P2W, PT36H): what PostgreSQL's interval
 * input reads as is, so the cutoff is computed there (calendar months included), never by hand.
 * At least one part; whole numbers only; a time part needs at least one of H, M, S.
 */
export const ISO_DURATION = /^P(?=\d|T\d)(\d{1,6}Y)?(\d{1,6}M)?(\d{1,6}W)?(\d{1,6}D)?(T(?=\d)(\d{1,6}H)?(\d{1,6}M)?(\d{1,6}S)?)?$/;
export const RETENTION_ACTIONS = ['leave-behind', 'anonymize'] as const;

export const RetentionRuleSchema = z
  .strictObject({
    table: TableName.describe('A plan table holding rows that expire'),
    column: Column.describe("Its date or timestamp column a row's age is measured by (NULL: never past retention)"),
    olderThan: z
      .string()
      .regex(ISO_DURATION, { error: 'must be an ISO 8601 duration like P13M, P1Y, P90D, P2W or PT36H' })
      .describe("ISO 8601 duration: rows whose column is before (the run's snapshot time - olderThan) are past retention"),
    action: z
      .enum(RETENTION_ACTIONS)
      .describe(
        'leave-behind: past-retention rows (and their dependents) do not move, reason retention; anonymize: they move with columns overwritten',
      ),
    columns: z
      .record(Column, AnonymizeValue)
      .refine((r) => Object.keys(r).length > 0, { error: 'must name at least one column' })
      .optional()
      .describe(
        'action anonymize only (required there): column → value it is set to (null, a string, a number or a boolean); not key or foreign-key columns',
      ),
  })
  .superRefine((r: unknown, ctx) => {
    if (!isRec(r)) return;
    if (r.action === 'anonymize' && r.columns === undefined)
      ctx.addIssue({ code: 'custom', path: ['columns'], message: 'required when action is anonymize (the columns to overwrite)' });
    if (r.action === 'leave-behind' && r.columns !== undefined)
      ctx.addIssue({ code: 'custom', path: ['columns'], message: 'only allowed when action is anonymize' });
  }, always);

export const STRATEGIES = ['selective', 'clean-start', 'adopt'] as const;
export const TRANSFORM_FNS = ['trim', 'lower', 'upper', 'nullIfEmpty', 'sha256'] as const;

function checkPlan(p: unknown, ctx: z.RefinementCtx): void {
  if (!isRec(p)) return;
  const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });

  if (p.strategy === 'adopt' && p.adoptFrom === undefined) issue(['adoptFrom'], 'required when strategy is adopt');
  if (
    p.adoptFrom !== undefined &&
    typeof p.strategy === 'string' &&
    p.strategy !== 'adopt' &&
    (STRATEGIES as readonly string[]).includes(p.strategy)
  )
    issue(['adoptFrom'], `only allowed when strategy is adopt (strategy is ${p.strategy})`);

  if (p.strategy === 'clean-start' && p.backup === undefined)
    issue(['backup'], 'required when strategy is clean-start (the Pilot is archived into backup.store)');
  if (p.strategy === 'adopt' && p.backup === undefined)
    issue(['backup'], 'required when strategy is adopt (a rollback restores the removed rows from the Pilot backup)');
  if (
    p.decommission !== undefined &&
    typeof p.strategy === 'string' &&
    p.strategy !== 'clean-start' &&
    (STRATEGIES as readonly string[]).includes(p.strategy)
  )
    issue(['decommission'], `only allowed when strategy is clean-start (strategy is ${p.strategy})`);

  if (typeof p.source === 'string' && p.source === p.target) issue(['target'], 'must differ from source');

  if (Array.isArray(p.tables)) {
    if ((p.strategy === 'selective' || p.strategy === 'adopt') && p.tables.length === 0)
      issue(['tables'], `must list at least one table when strategy is ${p.strategy}`);
    const first = new Map<string, number>();
    const into = new Map<string, number>();
    p.tables.forEach((t, i) => {
      if (!isRec(t) || typeof t.table !== 'string') return;
      const name = planTableKey(t.table);
      const prev = first.get(name);
      if (prev !== undefined) issue(['tables', i, 'table'], `duplicate table "${t.table}" (already listed at tables[${prev}])`);
      else first.set(name, i);
      // Two Pilot tables into one Production table would make one row identity out of two tables.
      const dest = planTableKey(typeof t.into === 'string' ? t.into : t.table);
      const before = into.get(dest);
      if (before !== undefined && prev === undefined)
        issue(
          ['tables', i, typeof t.into === 'string' ? 'into' : 'table'],
          `tables[${before}] already goes into ${dest}: one Production table takes one Pilot table`,
        );
      else if (before === undefined) into.set(dest, i);
      // A mapping moves rows into Production; adopt and clean-start move nothing.
      if (typeof p.strategy === 'string' && p.strategy !== 'selective' && (STRATEGIES as readonly string[]).includes(p.strategy)) {
        for (const k of ['into', 'columns', 'drop'])
          if (t[k] !== undefined)
            issue(
              ['tables', i, k],
              `only allowed when strategy is selective (strategy is ${p.strategy}): nothing moves into another model`,
            );
      }
    });
  }

  // The rehearsal restores the run's verified target backup into a scratch database and runs there.
  if (isRec(p.rehearsal) && p.rehearsal.mode === 'scratch' && p.backup === undefined)
    issue(['rehearsal', 'mode'], 'scratch needs backup (the rehearsal restores the target backup): add backup.store');

  if (p.notices !== undefined) {
    if (p.backup === undefined) issue(['notices'], 'requires backup (the notices are written to backup.store)');
    if (typeof p.strategy === 'string' && p.strategy !== 'selective')
      issue(['notices'], `only allowed when strategy is selective (strategy is ${p.strategy})`);
  }
  for (const key of ['consent', 'erasure', 'notices'] as const) {
    if (p[key] !== undefined && p.subjects === undefined) issue([key], 'requires subjects (the table and key that identify people)');
  }

  checkSigners(p.operators, ctx, ['operators'], 'operator');
  if (isRec(p.approvals) && p.approvals.signatures === 'required') {
    // A signed resume needs an operator's key to verify against.
    if (p.operators === undefined) issue(['operators'], 'required when approvals.signatures is required (who may resume, each with a key)');
    else if (Array.isArray(p.operators))
      p.operators.forEach((x, i) => {
        if (!isRec(x))
          issue(['operators', i], `needs a key ({name: ${String(x)}, key: "ssh-ed25519 …"}): approvals.signatures is required`);
      });
  }

  if (isRec(p.production) && Array.isArray(p.production.auditTables)) {
    const first = new Map<string, number>();
    const planTables = new Set(
      (Array.isArray(p.tables) ? p.tables : []).map((t) => (isRec(t) && typeof t.table === 'string' ? planTableKey(t.table) : '')),
    );
    p.production.auditTables.forEach((a, i) => {
      if (typeof a !== 'string' || typeof parseTableName(a) === 'string') return;
      const k = planTableKey(a);
      const prev = first.get(k);
      if (prev !== undefined)
        issue(['production', 'auditTables', i], `duplicate audit table ${k} (already at production.auditTables[${prev}])`);
      else first.set(k, i);
      if (planTables.has(k))
        issue(
          ['production', 'auditTables', i],
          `${k} is a plan table: an audit table receives Production's own trigger writes, not the run's rows`,
        );
    });
    if (typeof p.strategy === 'string' && p.strategy !== 'selective' && (STRATEGIES as readonly string[]).includes(p.strategy))
      issue(['production'], `only allowed when strategy is selective (strategy is ${p.strategy})`);
  }
  if (
    p.retention !== undefined &&
    typeof p.strategy === 'string' &&
    p.strategy !== 'selective' &&
    (STRATEGIES as readonly string[]).includes(p.strategy)
  )
    issue(['retention'], `only allowed when strategy is selective (strategy is ${p.strategy})`);
  if (Array.isArray(p.retention)) {
    const first = new Map<string, number>();
    p.retention.forEach((r, i) => {
      if (!isRec(r) || typeof r.table !== 'string' || typeof r.column !== 'string') return;
      const k = `${planTableKey(r.table)}.${r.column}`;
      const prev = first.get(k);
      if (prev !== undefined) issue(['retention', i], `duplicate retention rule for ${k} (already at retention[${prev}])`);
      else first.set(k, i);
    });
  }

  if (Array.isArray(p.accessChecks)) {
    const names = new Set<unknown>();
    p.accessChecks.forEach((c, i) => {
      if (!isRec(c) || typeof c.name !== 'string') return;
      if (names.has(c.name)) issue(['accessChecks', i, 'name'], `duplicate access check name "${c.name}"`);
      names.add(c.name);
    });
  }
}

export const PlanSchema = z
  .strictObject({
    version: z.literal(1).describe('Plan format version; always 1'),
    id: z
      .string()
      .regex(/^[a-z0-9-]{3,63}$/)
      .describe("Plan id, [a-z0-9-]{3,63}; the run's workflow id is cutover-<id>"),
    strategy: z
      .enum(STRATEGIES)
      .describe(
        'selective: move selected rows into production; clean-start: archive the Pilot, move nothing; adopt: the Pilot becomes production in place',
      ),
    /** Connection aliases: the worker resolves them from CUTOVER_DB_<ALIAS> — never URLs here. */
    source: Alias.describe('Connection alias of the Pilot: the worker reads CUTOVER_DB_<ALIAS> (never a URL here)'),
    target: Alias.describe('Connection alias of production: the worker reads CUTOVER_DB_<ALIAS>; must differ from source'),
    backup: BackupSchema.optional().describe(
      'Verified backups before anything is written; required for clean-start and adopt, and for rehearsal scratch',
    ),
    approvals: ApprovalsSchema.describe('Who approves the gates (plan, cutover, restore), how many, and for how long'),
    /** Who may resume a paused run (names, optionally with keys); absent: anyone may. */
    operators: z
      .array(SignerSchema)
      .min(1)
      .max(MAX_ITEMS.people)
      .optional()
      .describe('Who may resume a paused run: names, or {name, key}; absent: anyone may'),
    rehearsal: z
      .strictObject({
        mode: z.enum(['scratch', 'skip']).describe('scratch: rehearse in a restored copy of production (needs backup); skip: none'),
      })
      .optional()
      .describe('A rehearsal of stage, cleanup, publish, validate and rollback before the cutover gate'),
    adoptFrom: z.iso
      .date({ error: 'must be a date YYYY-MM-DD' })
      .optional()
      .describe('strategy adopt only (required there): the date the Pilot becomes production, YYYY-MM-DD'),
    /** Step notices (common/steps/notices.ts): one outcome per subject, as CSV and JSON in the backup store. */
    notices: z
      .strictObject({})
      .optional()
      .describe(
        'selective only, needs subjects and backup: after the last erasure pass, write what each subject is told (moved with its new id, merged, left behind with the reason, erased) as CSV and JSON to the backup store',
      ),
    /** clean-start: after the cutover gate, set the Pilot database read-only (reversible by rollback). */
    decommission: z
      .enum(['readonly'])
      .optional()
      .describe('clean-start only: readonly sets the Pilot database read-only after the cutover gate'),
    /**
     * Our extension: how many tables are staged at once, or {tables, lanes}. A number stays a number
     * once parsed (no rewrite into the object form), so an older plan normalises, and hashes, as before.
     * Read it only through parallelismOf (plan/parallelism.ts).
     */
    parallelism: z
      .union(
        [
          ParallelWidth.describe('Tables staged at once, 1..16'),
          z
            .strictObject({
              tables: ParallelWidth.default(2).describe('Tables staged at once, 1..16 (default 2)'),
              lanes: ParallelWidth.default(1).describe(
                "Connections per table, 1..16 (default 1): a big table's rows are split by block range across this many connections sharing the one snapshot",
              ),
            })
            .describe('{tables, lanes}: tables at once, and lanes per big table'),
        ],
        {
          error: (iss) =>
            typeof iss.input === 'number'
              ? 'must be a whole number 1..16'
              : 'must be a whole number 1..16 (tables at once) or {tables: 1..16, lanes: 1..16}',
        },
      )
      .default(2)
      .describe('Tables staged at once (1..16, default 2), or {tables, lanes}: lanes split a big table across connections in one snapshot'),
    /** May be omitted for clean-start/adopt; selective needs at least one (checkPlan). */
    tables: z
      .array(TableSpecSchema)
      .max(MAX_ITEMS.tables)
      .default(() => [])
      .describe('The tables in scope, in any order (foreign keys decide the order); at least one for selective and adopt'),
    subjects: z
      .strictObject({
        table: TableName.describe('The plan table whose rows are people'),
        key: Column.describe('Its column identifying a person (what consent and erasure registers hold)'),
      })
      .optional()
      .describe('The table and key that identify people; needed by consent and erasure'),
    consent: z
      .strictObject({
        table: TableName.describe('The consent table in the Pilot'),
        subject: Column.describe('Its column holding the subject key'),
        granted: Conditions.describe('Conditions a consent row must meet to count as granted'),
      })
      .optional()
      .describe('Subjects without a granted consent row are left behind (reason no-consent), with their dependents'),
    testData: z
      .array(
        z.strictObject({
          table: TableName.describe('A plan table'),
          where: Conditions.describe('Rows matching every condition are test data'),
          reason: Slug.describe('Reason recorded in the manifest for these rows, [a-z0-9-]+'),
        }),
      )
      .max(MAX_ITEMS.tables)
      .optional()
      .describe('Rows left behind on purpose (and their dependents), each with its reason'),
    erasure: ErasureSchema.optional().describe('Erasure registers (right to be forgotten) and how erasure after publish treats each table'),
    transforms: z
      .array(
        z.strictObject({
          table: TableName.describe('A plan table'),
          column: Column.describe('A text column, not a key or foreign-key column'),
          fn: z.enum(TRANSFORM_FNS).describe('trim, lower, upper, nullIfEmpty or sha256 (hex of the UTF-8 text)'),
        }),
      )
      .max(MAX_ITEMS.tables)
      .optional()
      .describe('Values rewritten in staging before publish'),
    /**
     * What Production itself does when the run writes: tables its own triggers write to (an audit
     * trail). No schema default (a default would change the normalised plan, and hash, of runs in flight).
     */
    production: z
      .strictObject({
        auditTables: z
          .array(TableName)
          .min(1)
          .max(MAX_ITEMS.tables)
          .describe(
            'Production tables its own triggers insert into when rows are written (an audit log): publish and rollback accept exactly the inserts the triggers on the published tables explain there, and nothing else',
          ),
      })
      .optional()
      .describe("Production's own side effects a run may cause: declared audit tables"),
    retention: z
      .array(RetentionRuleSchema)
      .max(MAX_ITEMS.tables)
      .optional()
      .describe(
        "Production's retention periods: rows older than olderThan (from the run's snapshot time) are left behind (reason retention) or anonymized in cleanup, and checked after publish",
      ),
    accessChecks: z
      .array(
        z.strictObject({
          name: Slug.describe('Name of the check, [a-z0-9-]+, unique'),
          sql: z
            .string()
            .max(MAX_TEXT.sql)
            .regex(/\S/, { error: 'must not be empty' })
            .describe(
              'One SELECT run read-only in production after publish (only allowlisted built-in functions); any row it returns fails the check',
            ),
          show: ColumnList.optional().describe(
            'Columns of a failing row shown in status, errors and evidence (default: the first column only; keep personal values out)',
          ),
        }),
      )
      .max(MAX_ITEMS.people)
      .optional()
      .describe('Your own checks after publish, in addition to the built-in grants, RLS and consent checks'),
    /**
     * The role the plan's access checks run as (SET LOCAL ROLE inside their read-only transaction):
     * no superuser, CREATEROLE, BYPASSRLS or write privilege. Absent: checks refuse to run as a superuser.
     * No schema default: a default here would change the normalised plan (and hash) of runs in flight.
     */
    accessCheckRole: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: 'must be a role name like cutover_checker ([a-z_][a-z0-9_]*, at most 63 characters)' })
      .optional()
      .describe(
        'Role the accessChecks run as (SET LOCAL ROLE): it must have no superuser, CREATEROLE, BYPASSRLS or write privilege; absent: checks refuse to run as a superuser',
      ),
    /**
     * How pre-existing production rows are proven unchanged: `count` (the publish transaction's own
     * counts; the default) or `full` (checksum every row before and after; small databases, audits).
     * No schema default: a default here would change the normalised plan (and hash) of runs in flight.
     */
    validation: z
      .strictObject({
        preExisting: z
          .enum(['count', 'full'])
          .describe(
            "count (absent: the default): the publish transaction's own counts; full: checksum every pre-existing row before and after",
          ),
      })
      .optional()
      .describe("How validation proves production's pre-existing rows unchanged"),
    /**
     * What the run does when the Pilot (rows or catalog) changed after gate plan: by default it goes
     * back to gate plan with a new dry run; `tolerate.rows` lets small row changes through, recorded.
     * No schema default (a default would change the normalised plan, and hash, of runs in flight).
     */
    drift: z
      .strictObject({
        tolerate: z
          .strictObject({
            rows: z
              .number()
              .int()
              .min(0)
              .max(1_000_000_000)
              .describe(
                'Rows per table that may differ from the approved dry run (added, removed or flagged since); catalog changes are never tolerated',
              ),
          })
          .describe("Changes accepted without going back to gate plan (each recorded in the evidence's drift section)"),
      })
      .optional()
      .describe(
        'Pilot changes between gate plan and stage: by default the run goes back to gate plan with a new dry run and the old approvals no longer count',
      ),
    /**
     * How long a statement that takes locks on production waits for one (PostgreSQL's lock_timeout)
     * and how often it tries again, with backoff, before the run pauses naming the session in the way.
     * No schema default (a default would change the normalised plan, and hash, of runs in flight):
     * absent means 5s and 5 retries (activities/db/lock-wait.ts).
     */
    locks: z
      .strictObject({
        timeout: Duration.optional().describe('How long one attempt waits for a lock on production: 5s, 500ms, 1m (absent: 5s)'),
        retries: z
          .number()
          .int()
          .min(0)
          .max(100)
          .optional()
          .describe('Attempts after the first, with backoff, before the run pauses (absent: 5)'),
      })
      .optional()
      .describe(
        'Waiting for locks on production: publish, rollback and restore wait at most this long per attempt, name the session in the way, and retry',
      ),
    /**
     * Why this cutover is being made, in the decider's words: the evidence pack's `decision.reason`.
     * No schema default (a default would change the normalised plan, and hash, of runs in flight).
     */
    decision: z
      .strictObject({
        reason: z.string().max(MAX_TEXT.value).regex(/\S/, { error: 'must not be empty' }).describe("Why, in the decider's words"),
        rerun: z
          .strictObject({
            reason: z
              .string()
              .max(MAX_TEXT.value)
              .regex(/\S/, { error: 'must not be empty' })
              .describe('Why rows an earlier run already moved are copied again'),
          })
          .optional()
          .describe(
            'A deliberate re-run: rows an earlier run already published from this Pilot are copied again (absent: they are left behind as already-moved)',
          ),
        // Change control: the change request that authorised this run. Indexed as the CutoverChange
        // search attribute, so its characters stay those of ticket ids (nothing to quote in a query).
        change: z
          .string()
          .regex(CHANGE_ID, {
            error:
              'must be a change request id like CHG-1234 (letters, digits and . _ : / -, at most 100 characters, starting with a letter or digit)',
          })
          .optional()
          .describe(
            'The change request that authorised this run, e.g. CHG-1234: shown at every gate, in the evidence and reports, and searchable with cutover list --change',
          ),
        // A pattern, not z.url(): its JSON Schema `format: uri` is unknown to strict validators (editors).
        changeUrl: z
          .string()
          .max(MAX_TEXT.value)
          .regex(/^https?:\/\/[^\s/?#]+[^\s]*$/, { error: 'must be an http(s) URL' })
          .optional()
          .describe('Link to the change request (http or https); only with change'),
      })
      .superRefine((d: unknown, ctx) => {
        if (isRec(d) && d.changeUrl !== undefined && d.change === undefined)
          ctx.addIssue({ code: 'custom', path: ['changeUrl'], message: 'only allowed with change (the change request id it links to)' });
      }, always)
      .optional()
      .describe("Why this cutover is made (the evidence pack's decision.reason) and the change request that authorised it"),
  })
  .superRefine(checkPlan, always)
  .describe(
    'A cutover plan: what moves from the Pilot (source) into production (target), who approves it, and how it is proven. Reference: docs/plan-reference.md',
  );

export type Plan = z.infer<typeof PlanSchema>;
/** What a user may write (defaults not yet applied). */
export type PlanInput = z.input<typeof PlanSchema>;
