// Regression cases for the model test, each run in CI every time: counterexamples fast-check found
// and shrank, and minimal cases for the bugs issue 16 names. knownBug names an open product bug:
// the case runs as test.failing until the fix lands — then delete knownBug (and set the matching
// KNOWN_BUGS flag in generator.ts to false) so it guards the fix.
import type { Case, Row } from './case';

export interface Regression {
  name: string;
  knownBug?: string;
  case: Case;
}

const row = (id: number, nk: string, fk: Record<string, number | null> = {}, v = 0): Row => ({ id, nk, v, test: false, fk });
const base = {
  subjects: 0,
  testData: null,
  consent: null,
  erased: [],
  late: [],
  lateRun: [],
  rehearsal: false,
} satisfies Partial<Case>;

export const REGRESSIONS: Regression[] = [
  {
    // Issue 16: the erasure re-applied after a restore took the Pilot's subject key 1 as Production's
    // key 1, a different, pre-existing person (and their task). Here the request is in Production's
    // register (db: target) before the run; a register names people by one key space, here the
    // Pilot's (keys: pilot, the default), so no request in it is ever taken as a Production key.
    name: "restore: a Production-side request the run read as a Pilot key (ids new) leaves Production's own person with the same key",
    case: {
      ...base,
      tables: [
        { name: 't0', fks: [] },
        { name: 't1', fks: [{ col: 'f0', parent: 0, nullable: false }] },
      ],
      pilot: [
        [row(1, 'a'), row(2, 'c')],
        [row(1, 'x', { f0: 1 }), row(2, 'z', { f0: 2 })],
      ],
      prod: [[row(1, 'b')], [row(1, 'y', { f0: 1 })]],
      plans: [
        { select: { kind: 'all' }, ids: 'new' },
        { select: { kind: 'follow', col: 'f0' }, ids: 'new' },
      ],
      erasedTarget: [1],
      path: 'restore',
    },
  },
  {
    // Issue 16: an order-lines table keyed by (order_id, product_id), ids keep, with orders new and
    // products match: the dry run, validation and the rollback compare the Pilot's key values.
    name: 'a link table keyed by two FKs to remapped parents (new, match) publishes, validates and rolls back',
    case: {
      ...base,
      subjects: null,
      tables: [
        { name: 't0', fks: [] },
        { name: 't1', fks: [] },
        {
          name: 't2',
          link: true,
          fks: [
            { col: 'f0', parent: 0, nullable: false },
            { col: 'f1', parent: 1, nullable: false },
          ],
        },
      ],
      pilot: [
        [row(1, 'a'), row(2, 'b')],
        [row(1, 'p'), row(2, 'q')],
        [row(101, 'x', { f0: 1, f1: 1 }), row(202, 'y', { f0: 2, f1: 2 })],
      ],
      prod: [[row(1, 'c')], [row(1, 'q'), row(2, 'r')], [row(101, 'z', { f0: 1, f1: 1 })]],
      plans: [
        { select: { kind: 'all' }, ids: 'new' },
        { select: { kind: 'referenced' }, ids: 'match' },
        { select: { kind: 'follow', col: 'f0' }, ids: 'keep' },
      ],
      path: 'rollback',
    },
  },
  {
    // Issue 16 item 5: an erasure after publish removed a colleague's task because the erased user
    // was only its assignee (a nullable FK): the reference is set to NULL instead.
    name: 'erasure after publish clears a nullable reference to the erased person instead of deleting the row',
    case: {
      ...base,
      tables: [
        { name: 't0', fks: [] },
        { name: 't1', fks: [{ col: 'f0', parent: 0, nullable: true }] },
      ],
      pilot: [
        [row(1, 'a'), row(2, 'b')],
        [row(1, 'x', { f0: 1 }), row(2, 'y', { f0: 2 })],
      ],
      prod: [[], []],
      plans: [
        { select: { kind: 'all' }, ids: 'keep' },
        { select: { kind: 'all' }, ids: 'keep' },
      ],
      lateRun: [{ key: 1, db: 'source' }],
      path: 'run',
    },
  },
  {
    // Issue 16: a late erasure of a matched (merged) subject does not reach the child rows this run moved for them.
    name: 'erasure after publish of a merged subject removes the rows this run moved for them, not the Production person',
    case: {
      ...base,
      tables: [
        { name: 't0', fks: [] },
        { name: 't1', fks: [{ col: 'f0', parent: 0, nullable: false }] },
      ],
      pilot: [[row(1, 'a')], [row(1, 'x', { f0: 1 })]],
      prod: [[row(5, 'a')], [row(7, 'own', { f0: 5 })]],
      plans: [
        { select: { kind: 'all' }, ids: 'match' },
        { select: { kind: 'follow', col: 'f0' }, ids: 'new' },
      ],
      lateRun: [{ key: 1, db: 'target' }],
      path: 'run',
    },
  },
  {
    // Found by the model test (seed 1612): preflight's countCollisions (activities/preflight.ts) reads
    // the staged key range with min()/max(), which PostgreSQL does not define for uuid, so any
    // ids: keep table keyed by a uuid pauses preflight with DatabaseError "function min(uuid) does
    // not exist". (ORDER BY … LIMIT 1 works for every btree-ordered key type.)
    name: 'a table keyed by a uuid with ids keep passes preflight and moves',
    case: {
      ...base,
      subjects: null,
      tables: [{ name: 't0', fks: [], key: 'uuid' }],
      pilot: [[row(1, 'a'), row(2, 'b')]],
      prod: [[row(3, 'c')]],
      plans: [{ select: { kind: 'all' }, ids: 'keep' }],
      path: 'run',
    },
  },
  {
    // Issue 16: the rehearsal ignored a Production-side erasure register (db: target) and moved the
    // erased person into its scratch database; its report was not the dry run's.
    name: "the rehearsal reads a Production-side erasure register: its counts are the dry run's",
    case: {
      ...base,
      tables: [
        { name: 't0', fks: [] },
        { name: 't1', fks: [{ col: 'f0', parent: 0, nullable: false }] },
      ],
      pilot: [
        [row(1, 'a'), row(2, 'b')],
        [row(1, 'x', { f0: 1 }), row(2, 'y', { f0: 2 })],
      ],
      prod: [[], []],
      plans: [
        { select: { kind: 'all' }, ids: 'new' },
        { select: { kind: 'follow', col: 'f0' }, ids: 'new' },
      ],
      erasedTarget: [2],
      rehearsal: true,
      path: 'run',
    },
  },
  {
    // Found by the model test's restore oracle (under the earlier rule: a db: target request was a
    // Production key unless this run had read it as a Pilot key). A subject in both registers was
    // logged at cleanup under min(register) only (the source one), so after the restore the
    // Production-side request was taken as Production's key 1 and erased Production's own person.
    // Fixed: cleanup logs every register naming the subject (activities/cleanup.ts, db/erasure-staging.ts).
    name: "restore: a subject in both registers, read by the run as a Pilot key, leaves Production's own person with the same key",
    case: {
      ...base,
      tables: [{ name: 't0', fks: [] }],
      pilot: [[row(1, 'a'), row(2, 'b', {}, 1)]],
      prod: [[row(1, 'c')]],
      plans: [{ select: { kind: 'all' }, ids: 'new' }],
      erased: [1],
      erasedTarget: [1],
      path: 'restore',
    },
  },
  {
    // Found by the model test (same earlier rule): a request in Production's register before the run
    // for a Pilot subject the selection does not take was read at stage but never logged, so after a
    // restore it was taken as Production's key 1 and erased Production's own person. Fixed for good
    // by one key space per register (erasure.registers[].keys): a Pilot key is never a Production key.
    name: "restore: a Production-side request for a Pilot subject out of scope, read at stage, leaves Production's own person with the same key",
    case: {
      ...base,
      tables: [{ name: 't0', fks: [] }],
      pilot: [[row(1, 'a'), row(2, 'b', {}, 1)]],
      prod: [[row(1, 'c')]],
      plans: [{ select: { kind: 'where', op: 'gte', value: 1 }, ids: 'new' }],
      erasedTarget: [1],
      path: 'restore',
    },
  },
  {
    // The earlier rule took a request written in Production's register after publish, never read by
    // the run, as a Production key: a Pilot key there erased Production's own person holding the same
    // value. One key space per register: this register names Pilot keys (keys: pilot, the default).
    name: "restore: a Pilot key written in Production's register after publish leaves Production's own person with the same key",
    case: {
      ...base,
      tables: [
        { name: 't0', fks: [] },
        { name: 't1', fks: [{ col: 'f0', parent: 0, nullable: false }] },
      ],
      pilot: [[row(1, 'a'), row(2, 'b')], [row(1, 'x', { f0: 1 })]],
      prod: [[row(1, 'c')], [row(1, 'y', { f0: 1 })]],
      plans: [
        { select: { kind: 'all' }, ids: 'new' },
        { select: { kind: 'follow', col: 'f0' }, ids: 'new' },
      ],
      late: [1],
      path: 'restore',
    },
  },
  {
    // Production's own register of its people (keys: production): after a restore, each person it
    // names who is in Production is erased again (their dependent row too); a key no Production row
    // holds any more (a row this run moved, gone with the restore) touches nobody.
    name: "restore: Production's own register (keys: production) erases its person again by Production key, and no one else",
    case: {
      ...base,
      tables: [
        { name: 't0', fks: [] },
        { name: 't1', fks: [{ col: 'f0', parent: 0, nullable: false }] },
      ],
      pilot: [[row(1, 'a'), row(2, 'b')], [row(1, 'x', { f0: 1 })]],
      prod: [[row(1, 'c'), row(5, 'd')], [row(1, 'y', { f0: 5 })]],
      plans: [
        { select: { kind: 'all' }, ids: 'new' },
        { select: { kind: 'follow', col: 'f0' }, ids: 'new' },
      ],
      lateProd: [5, 7],
      path: 'restore',
    },
  },
  {
    // Issue 17: Production's model differs — tables pN, FK columns gN, payload w mapped by a code map
    // with a default — with text and uuid keys, a self-reference, ids match / keep / new, consent,
    // test data and a late erasure through the renamed tables' id maps (generated, seed 17).
    name: 'mapped run: renamed tables and FK columns, a code map with a default, a late erasure',
    case: {
      tables: [
        { name: 't0', fks: [] },
        { name: 't1', fks: [{ col: 'f0', parent: 0, nullable: true }], key: 'text' },
        { name: 't2', fks: [{ col: 'f1', parent: 1, nullable: false }], key: 'uuid' },
        {
          name: 't3',
          fks: [
            { col: 'f2', parent: 2, nullable: true },
            { col: 'f0', parent: 0, nullable: true },
            { col: 'up', parent: 3, nullable: true },
          ],
        },
      ],
      pilot: [
        [],
        [
          { id: 5, nk: 'c', v: 2, test: false, fk: { f0: null } },
          { id: 1, nk: 'd', v: 2, test: true, fk: { f0: null } },
          { id: 2, nk: 'e', v: 0, test: true, fk: { f0: null } },
          { id: 7, nk: 'b', v: 2, test: false, fk: { f0: null } },
          { id: 3, nk: 'f', v: 2, test: false, fk: { f0: null } },
        ],
        [{ id: 2, nk: 'a', v: 0, test: false, fk: { f1: 5 } }],
        [
          { id: 6, nk: 'b', v: 0, test: true, fk: { f2: null, f0: null, up: 2 } },
          { id: 1, nk: 'e', v: 0, test: true, fk: { f2: null, f0: null, up: null } },
          { id: 2, nk: 'a', v: 0, test: true, fk: { f2: 2, f0: null, up: 1 } },
          { id: 7, nk: 'f', v: 2, test: true, fk: { f2: null, f0: null, up: 6 } },
          { id: 3, nk: 'd', v: 2, test: true, fk: { f2: 2, f0: null, up: 1 } },
        ],
      ],
      prod: [[{ id: 3, nk: 'f', v: 0, test: true, fk: {} }], [], [], []],
      plans: [
        { select: { kind: 'where', op: 'lt', value: 1 }, ids: 'match' },
        { select: { kind: 'all' }, ids: 'keep' },
        { select: { kind: 'follow', col: 'f1' }, ids: 'match' },
        { select: { kind: 'all' }, ids: 'new' },
      ],
      subjects: 2,
      testData: 0,
      consent: [2],
      erased: [],
      erasedTarget: [],
      late: [],
      lateRun: [{ key: 2, db: 'source' }],
      path: 'run',
      rehearsal: false,
      mapping: { rename: true, v: 'map' },
    },
  },
  {
    // Issue 17: renamed tables and FK columns, the payload a constant (the Pilot's dropped), rehearsed
    // and rolled back (generated, seed 5).
    name: 'mapped run: renamed tables and FK columns, a constant for the dropped payload, rehearsed and rolled back',
    case: {
      tables: [
        { name: 't0', fks: [], key: 'uuid' },
        {
          name: 't1',
          fks: [
            { col: 'f0', parent: 0, nullable: false },
            { col: 'up', parent: 1, nullable: true },
          ],
        },
        { name: 't2', fks: [{ col: 'f1', parent: 1, nullable: true }], key: 'text' },
      ],
      pilot: [
        [
          { id: 4, nk: 'a', v: 0, test: false, fk: {} },
          { id: 2, nk: 'f', v: 3, test: true, fk: {} },
          { id: 8, nk: 'c', v: 3, test: true, fk: {} },
          { id: 5, nk: 'd', v: 2, test: false, fk: {} },
        ],
        [
          { id: 2, nk: 'f', v: 3, test: false, fk: { f0: 5, up: null } },
          { id: 5, nk: 'c', v: 0, test: false, fk: { f0: 4, up: 2 } },
        ],
        [
          { id: 1, nk: 'd', v: 1, test: false, fk: { f1: null } },
          { id: 7, nk: 'b', v: 1, test: false, fk: { f1: null } },
          { id: 2, nk: 'a', v: 2, test: true, fk: { f1: 2 } },
        ],
      ],
      prod: [[], [], [{ id: 1, nk: 'd', v: 0, test: true, fk: { f1: null } }]],
      plans: [
        { select: { kind: 'referenced' }, ids: 'keep' },
        { select: { kind: 'all' }, ids: 'new' },
        { select: { kind: 'where', op: 'ne', value: 2 }, ids: 'match' },
      ],
      subjects: 2,
      testData: 2,
      consent: null,
      erased: [],
      erasedTarget: [],
      late: [],
      lateRun: [],
      path: 'rollback',
      rehearsal: true,
      mapping: { rename: true, v: 'constant' },
    },
  },
];
