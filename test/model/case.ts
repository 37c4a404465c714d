// The shape of one model-test case: a generated FK schema, Pilot and Production rows, a plan's
// choices and the path to drive. Plain data (JSON), so a shrunk counterexample can be committed
// as a regression case (test/model/regressions.ts) and replayed exactly.

export type Path = 'run' | 'rollback' | 'restore' | 'adopt' | 'clean-start';
export const PATHS: Path[] = ['run', 'rollback', 'restore', 'adopt', 'clean-start'];

export interface Fk {
  col: string; // f<parent index>
  parent: number; // index of the referenced table (always lower: the schema is acyclic)
  nullable: boolean;
}

export interface TableDef {
  name: string; // t<index>
  fks: Fk[];
  /** A link table: no id column, keyed by its two FKs (fks[0], fks[1]); Row.id is linkId of the pair. */
  link?: boolean;
  /** The id column's type (default int, from a sequence); text and uuid keys have no sequence (ids keep or match). */
  key?: KeyType;
}

export type KeyType = 'int' | 'text' | 'uuid';
/** The model's numeric key n as the database holds it. */
export const keyText = (type: KeyType | undefined, n: number): string =>
  type === 'text' ? `k${n}` : type === 'uuid' ? `00000000-0000-4000-8000-${String(n).padStart(12, '0')}` : String(n);
/** Back from the database's value to the model's number. */
export const keyNum = (type: KeyType | undefined, v: unknown): number =>
  type === 'text' ? Number(String(v).slice(1)) : type === 'uuid' ? Number(String(v).slice(-12)) : Number(v);
export const keySqlType = (type: KeyType | undefined) => (type === 'text' ? 'text' : type === 'uuid' ? 'uuid' : 'int');

/** The model's key for a link row: both FK values in one number (keys are 1..99). */
export const linkId = (a: number, b: number) => a * 100 + b;
/** A row's key as its table writes it: [id], or the link table's two FK values. */
export const keyOf = (t: TableDef, r: Row): number[] => (t.link ? [r.fk[t.fks[0].col]!, r.fk[t.fks[1].col]!] : [r.id]);

/** One row: integer key `id`, natural key `nk`, a payload `v`, the test-data flag, FK values by column. */
export interface Row {
  id: number;
  nk: string;
  v: number;
  test: boolean;
  fk: Record<string, number | null>;
}

export interface Cond {
  op: 'lt' | 'gte' | 'eq' | 'ne';
  value: number;
}

/** A `v` condition as the model evaluates it. */
export const holds = (c: Cond, v: number) =>
  c.op === 'lt' ? v < c.value : c.op === 'gte' ? v >= c.value : c.op === 'eq' ? v === c.value : v !== c.value;

export type Select =
  | { kind: 'all' }
  | ({ kind: 'where' } & Cond)
  /** follow: the parent moves or already exists in Production; followMoved: the parent moves (or merges) in this run. `where` narrows either. */
  | { kind: 'follow' | 'followMoved'; col: string; where?: Cond }
  | { kind: 'referenced' };

export type Ids = 'keep' | 'new' | 'match';

export interface TablePlan {
  select: Select;
  ids: Ids;
}

export interface Case {
  tables: TableDef[];
  pilot: Row[][]; // per table
  prod: Row[][]; // per table
  plans: TablePlan[]; // per table (every table is in the plan)
  /** Index of the subjects table, or null (then no testData / erasure either). */
  subjects: number | null;
  /** Test data: rows of this table with test = true are left behind (reason test-data). */
  testData: number | null;
  /** Consent register: subject keys with status granted (others hold a revoked row or none); null: no consent in the plan. */
  consent: number[] | null;
  /** Pilot subject keys in the Pilot's erasure register before the run. */
  erased: number[];
  /** Pilot subject keys in Production's erasure register (db: target) before the run (absent: none). */
  erasedTarget?: number[];
  /** Keys written into Production's erasure register (db: target, keys: pilot, the default) after publish (restore path): Pilot keys, whatever Production holds under the same value. */
  late: number[];
  /** Keys written into Production's own register of its people (keys: production) after publish (restore path; absent: none). */
  lateProd?: number[];
  /** Run path: Pilot subject keys whose erasure request arrives after publish, in the Pilot's (source) or Production's (target) register. */
  lateRun: { key: number; db: 'source' | 'target' }[];
  path: Path;
  rehearsal: boolean;
  /**
   * Production's model differs (selective paths; absent: the same): `rename` — its tables are pN,
   * its FK columns gN (Pilot fN), its payload column w (Pilot v); `v` — the payload copied, mapped
   * by a code map with a default, or replaced by a constant (the Pilot's v then dropped).
   */
  mapping?: { rename: boolean; v: 'copy' | 'map' | 'constant' };
}
