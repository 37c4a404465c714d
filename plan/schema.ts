/**
 * The plan contract (DESIGN.md §Plan) as a zod schema. Pure: imported inside the workflow sandbox.
 * Every object is strict so a typo is an error, not a silently ignored setting.
 * Cross-field rules live next to the object they constrain and run even when a sibling field is
 * invalid (`when: always`), so one check reports every problem at once; they therefore read their
 * input defensively.
 */
import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration';
import { MAX_ITEMS, MAX_TEXT } from './limits';
import { identifierProblem, invisibleCharacter, lookAlike, parseTableName, planTableKey } from './names';
import { parsePublicKeyLine } from '../common/ssh/wire';

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
  if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: `must be a table name like customer, public.customer or "Sales.EU"."Order Items": ${r}` });
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
const Alias = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/);
const Slug = z.string().max(200).regex(/^[a-z0-9-]+$/);
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

export const CONDITION_OPS = [
  'eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'notIn', 'like', 'notLike', 'isNull', 'notNull',
] as const;
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
  const at = (message: string, ...path: Array<string | number>) =>
    ctx.addIssue({ code: 'custom', message, path: ['value', ...path] });
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
    column: Column,
    op: z.enum(CONDITION_OPS),
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
  | { follow: string[]; where?: Condition[] }
  | { referenced: true };

const SELECT_FORMS = '{all: true}, {where: [...]}, {follow: [...], where?: [...]} or {referenced: true}';

/** One flat object plus this rule reads better in errors than a union of four objects. */
function checkSelectForm(s: unknown, ctx: z.RefinementCtx): void {
  if (!isRec(s)) return;
  const used = ['all', 'where', 'follow', 'referenced'].filter((k) => s[k] !== undefined);
  const ok = used.length === 1 || (used.length === 2 && used[0] === 'where' && used[1] === 'follow');
  if (ok) return;
  const what = used.length === 0 ? 'is empty' : `cannot combine ${used.join(' and ')}`;
  ctx.addIssue({ code: 'custom', message: `${what}; use exactly one of ${SELECT_FORMS}` });
}

export const SelectSchema = z
  .strictObject({
    all: z.literal(true).optional(),
    where: Conditions.optional(),
    follow: ColumnList.optional(),
    referenced: z.literal(true).optional(),
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

export const TableSpecSchema = z
  .strictObject({
    table: TableName,
    key: ColumnList.optional(),
    select: SelectSchema.default(() => ({ referenced: true as const })),
    ids: z.enum(ID_MODES).default('keep'),
    match: ColumnList.optional(),
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
export const SignerSchema = z.union([Person, z.strictObject({ name: Person, key: SshPublicKey })], {
  error: 'must be a name, or {name, key: "ssh-ed25519 AAAA… [comment]"}',
});
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
    else if (twin !== undefined) ctx.addIssue({ code: 'custom', path: [...path, i], message: `${what} ${JSON.stringify(name)} looks like ${path.join('.')}[${twin}] ${JSON.stringify(list[twin] !== null && typeof list[twin] === 'object' ? (list[twin] as Rec).name : list[twin])}: look-alike names are refused (one person must not count twice)` });
    else names.set(name, i);
    if (look !== undefined && twin === undefined) looks.set(look, i);
    const key = isRec(x) && typeof x.key === 'string' ? parsePublicKeyLine(x.key) : null;
    if (key === null || typeof key === 'string') return;
    const prev = keys.get(key.fingerprint);
    if (prev !== undefined) ctx.addIssue({ code: 'custom', path: [...path, i, 'key'], message: `the same key as ${path.join('.')}[${prev}] (${key.fingerprint}): one key is one person` });
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
      if (!isRec(x)) ctx.addIssue({ code: 'custom', path: ['approvers', i], message: `needs a key ({name: ${String(x)}, key: "ssh-ed25519 …"}): approvals.signatures is required` });
    });
  }
}

export const ApprovalsSchema = z
  .strictObject({
    approvers: z.array(SignerSchema).min(1).max(MAX_ITEMS.people),
    required: z.number().int().min(1),
    /** The initiator cannot approve their own migration. */
    separationOfDuties: z.boolean().default(true),
    timeout: Duration.default('72h'),
    /**
     * `required`: every approval (and every resume) must carry an SSH signature by the person's key;
     * `optional` (what absence means): a signature sent is verified, an unsigned approval is accepted.
     * No schema default: a default here would change the normalised plan (and hash) of runs in flight.
     */
    signatures: z.enum(SIGNATURE_POLICIES).optional(),
  })
  .superRefine(checkApprovals, always);

// ---- the rest of the plan --------------------------------------------------------------------

export const BackupSchema = z.strictObject({
  store: z.string().max(2000).regex(/^(s3:\/\/[^/\s]+(\/\S*)?|file:\/\/\/\S*)$/, {
    error: 'must be a URL like s3://bucket/prefix or file:///absolute/dir',
  }),
  scope: z.enum(['touched-tables', 'full']).default('touched-tables'),
});

const AnonymizeValue = z.union([z.null(), z.string(), z.number(), z.boolean()], {
  error: 'must be null, a string, a number or a boolean',
});

export const ErasureSchema = z.strictObject({
  registers: z
    .array(z.strictObject({ db: z.enum(['source', 'target']), table: TableName, subject: Column }))
    .min(1)
    .max(MAX_ITEMS.tables),
  /** Tables listed here are anonymized instead of deleted (the default action). */
  anonymize: z
    .array(
      z.strictObject({
        table: TableName,
        columns: z
          .record(Column, AnonymizeValue)
          .refine((r) => Object.keys(r).length > 0, { error: 'must name at least one column' }),
      }),
    )
    .max(MAX_ITEMS.tables)
    .optional(),
});

export const STRATEGIES = ['selective', 'clean-start', 'adopt'] as const;
export const TRANSFORM_FNS = ['trim', 'lower', 'upper', 'nullIfEmpty', 'sha256'] as const;


function checkPlan(p: unknown, ctx: z.RefinementCtx): void {
  if (!isRec(p)) return;
  const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });

  if (p.strategy === 'adopt' && p.adoptFrom === undefined) issue(['adoptFrom'], 'required when strategy is adopt');
  if (p.adoptFrom !== undefined && typeof p.strategy === 'string' && p.strategy !== 'adopt' && (STRATEGIES as readonly string[]).includes(p.strategy))
    issue(['adoptFrom'], `only allowed when strategy is adopt (strategy is ${p.strategy})`);

  if (p.strategy === 'clean-start' && p.backup === undefined) issue(['backup'], 'required when strategy is clean-start (the Pilot is archived into backup.store)');
  if (p.strategy === 'adopt' && p.backup === undefined) issue(['backup'], 'required when strategy is adopt (a rollback restores the removed rows from the Pilot backup)');
  if (p.decommission !== undefined && typeof p.strategy === 'string' && p.strategy !== 'clean-start' && (STRATEGIES as readonly string[]).includes(p.strategy))
    issue(['decommission'], `only allowed when strategy is clean-start (strategy is ${p.strategy})`);

  if (typeof p.source === 'string' && p.source === p.target) issue(['target'], 'must differ from source');

  if (Array.isArray(p.tables)) {
    if ((p.strategy === 'selective' || p.strategy === 'adopt') && p.tables.length === 0)
      issue(['tables'], `must list at least one table when strategy is ${p.strategy}`);
    const first = new Map<string, number>();
    p.tables.forEach((t, i) => {
      if (!isRec(t) || typeof t.table !== 'string') return;
      const name = planTableKey(t.table);
      const prev = first.get(name);
      if (prev !== undefined) issue(['tables', i, 'table'], `duplicate table "${t.table}" (already listed at tables[${prev}])`);
      else first.set(name, i);
    });
  }

  // The rehearsal restores the run's verified target backup into a scratch database and runs there.
  if (isRec(p.rehearsal) && p.rehearsal.mode === 'scratch' && p.backup === undefined)
    issue(['rehearsal', 'mode'], 'scratch needs backup (the rehearsal restores the target backup): add backup.store');

  for (const key of ['consent', 'erasure'] as const) {
    if (p[key] !== undefined && p.subjects === undefined) issue([key], 'requires subjects (the table and key that identify people)');
  }

  checkSigners(p.operators, ctx, ['operators'], 'operator');
  if (isRec(p.approvals) && p.approvals.signatures === 'required') {
    // A signed resume needs an operator's key to verify against.
    if (p.operators === undefined) issue(['operators'], 'required when approvals.signatures is required (who may resume, each with a key)');
    else if (Array.isArray(p.operators))
      p.operators.forEach((x, i) => {
        if (!isRec(x)) issue(['operators', i], `needs a key ({name: ${String(x)}, key: "ssh-ed25519 …"}): approvals.signatures is required`);
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
    version: z.literal(1),
    id: z.string().regex(/^[a-z0-9-]{3,63}$/),
    strategy: z.enum(STRATEGIES),
    /** Connection aliases: the worker resolves them from CUTOVER_DB_<ALIAS> — never URLs here. */
    source: Alias,
    target: Alias,
    backup: BackupSchema.optional(),
    approvals: ApprovalsSchema,
    /** Who may resume a paused run (names, optionally with keys); absent: anyone may. */
    operators: z.array(SignerSchema).min(1).max(MAX_ITEMS.people).optional(),
    rehearsal: z.strictObject({ mode: z.enum(['scratch', 'skip']) }).optional(),
    adoptFrom: z.iso.date({ error: 'must be a date YYYY-MM-DD' }).optional(),
    /** clean-start: after the cutover gate, set the Pilot database read-only (reversible by rollback). */
    decommission: z.enum(['readonly']).optional(),
    /** Our extension: how many tables are staged at once. */
    parallelism: z.number().int().min(1).max(16).default(2),
    /** May be omitted for clean-start/adopt; selective needs at least one (checkPlan). */
    tables: z.array(TableSpecSchema).max(MAX_ITEMS.tables).default(() => []),
    subjects: z.strictObject({ table: TableName, key: Column }).optional(),
    consent: z.strictObject({ table: TableName, subject: Column, granted: Conditions }).optional(),
    testData: z.array(z.strictObject({ table: TableName, where: Conditions, reason: Slug })).max(MAX_ITEMS.tables).optional(),
    erasure: ErasureSchema.optional(),
    transforms: z.array(z.strictObject({ table: TableName, column: Column, fn: z.enum(TRANSFORM_FNS) })).max(MAX_ITEMS.tables).optional(),
    accessChecks: z
      .array(z.strictObject({ name: Slug, sql: z.string().max(MAX_TEXT.sql).regex(/\S/, { error: 'must not be empty' }) }))
      .max(MAX_ITEMS.people)
      .optional(),
    /**
     * How pre-existing production rows are proven unchanged: `count` (the publish transaction's own
     * counts; the default) or `full` (checksum every row before and after; small databases, audits).
     * No schema default: a default here would change the normalised plan (and hash) of runs in flight.
     */
    validation: z.strictObject({ preExisting: z.enum(['count', 'full']) }).optional(),
    /**
     * Why this cutover is being made, in the decider's words: the evidence pack's `decision.reason`.
     * No schema default (a default would change the normalised plan, and hash, of runs in flight).
     */
    decision: z.strictObject({ reason: z.string().max(MAX_TEXT.value).regex(/\S/, { error: 'must not be empty' }) }).optional(),
  })
  .superRefine(checkPlan, always);

export type Plan = z.infer<typeof PlanSchema>;
/** What a user may write (defaults not yet applied). */
export type PlanInput = z.input<typeof PlanSchema>;
