// The concurrent application writer: while a cutover runs, Production stays live. A bounded loop on its
// own connection does single-row inserts and updates of pre-existing rows in the plan's tables and
// records each one's latency; the bench compares its p99 during the run with its p99 just before it.
// It never touches what the run moves: its inserts take sequence ids (like publish's ids: new) or, in
// ids: keep tables, ids from WRITER_ID_BASE up (the Pilot's and the fill's are below); its updates hit
// rows that existed before the run. At the end `verify` checks every one of its writes is present.
import { Client } from 'pg';
import { FILL_ID_BASE, WRITER_ID_BASE } from './generate';

/** Pause between two operations: the writer is an application, not a load test. */
const PAUSE_MS = 5;

interface Range {
  lo: number;
  hi: number;
}

/** What existed before the run (ids of pre-existing rows) and the sums the writer's updates move. */
interface Baseline {
  customers: Range | null;
  orders: Range | null;
  orderItems: Range | null;
  payments: Range | null;
  countryId: number | null;
  sums: Record<string, number>;
}

export interface WriterCounts {
  inserted: Record<string, number>; // table -> rows inserted (committed)
  updated: Record<string, number>; // table -> pre-existing rows updated (committed)
  errors: number;
  firstError: string | null;
}

type Op = { table: string; kind: 'insert' | 'update'; run: (c: Client, seq: number) => Promise<number> };

// Sums over pre-existing rows that each committed update raises by exactly one. (The writer's own orders
// have total 0.07, below any generated order's.)
const SUMS: Record<string, (b: Baseline) => string | null> = {
  customers: (b) =>
    b.customers
      ? `SELECT coalesce(sum((profile->>'w')::int), 0) AS s FROM customers WHERE id BETWEEN ${b.customers.lo} AND ${b.customers.hi}`
      : null,
  orders: (b) =>
    b.orders ? `SELECT coalesce(sum(total * 100), 0) AS s FROM orders WHERE id BETWEEN ${b.orders.lo} AND ${b.orders.hi}` : null,
  order_items: (b) =>
    b.orderItems ? `SELECT coalesce(sum(qty), 0) AS s FROM order_items WHERE id BETWEEN ${b.orderItems.lo} AND ${b.orderItems.hi}` : null,
  payments: (b) =>
    b.payments ? `SELECT coalesce(sum(amount * 100), 0) AS s FROM payments WHERE id BETWEEN ${b.payments.lo} AND ${b.payments.hi}` : null,
};

export class Writer {
  private client: Client | null = null;
  private base: Baseline | null = null;
  private seq = 0;
  private latencies: number[] = [];
  /** Wall-clock start (ms since the epoch) of each operation in `latencies`, to tell which step it ran beside. */
  readonly startedAt: number[] = [];
  private loop: Promise<void> | null = null;
  private stopping = false;
  readonly counts: WriterCounts = { inserted: {}, updated: {}, errors: 0, firstError: null };

  constructor(private readonly url: string) {}

  /** Connect and note what exists now: everything the writer updates later is pre-existing. */
  async open(): Promise<void> {
    const c = new Client({ connectionString: this.url, application_name: 'bench:writer' });
    await c.connect();
    this.client = c;
    const range = async (table: string, where = 'TRUE'): Promise<Range | null> => {
      const r = (
        await c.query<{ lo: string | null; hi: string | null }>(
          `SELECT min(id)::text AS lo, max(id)::text AS hi FROM ${table} WHERE ${where}`,
        )
      ).rows[0];
      return r.lo === null || r.hi === null ? null : { lo: Number(r.lo), hi: Number(r.hi) };
    };
    const country = (await c.query<{ id: number | null }>('SELECT min(id) AS id FROM countries')).rows[0].id;
    this.base = {
      customers: await range('customers'),
      orders: await range('orders'),
      // ids: keep tables: only the fill's rows pre-exist (the Pilot's ids are below FILL_ID_BASE).
      orderItems: await range('order_items', `id >= ${FILL_ID_BASE} AND id < ${WRITER_ID_BASE}`),
      payments: await range('payments', `id >= ${FILL_ID_BASE} AND id < ${WRITER_ID_BASE}`),
      countryId: country,
      sums: {},
    };
    this.base.sums = await this.sums();
  }

  private async sums(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [t, q] of Object.entries(SUMS)) {
      const sql = q(this.base!);
      if (sql) out[t] = Math.round(Number((await this.client!.query<{ s: string }>(sql)).rows[0].s));
    }
    return out;
  }

  private ops(): Op[] {
    const b = this.base!;
    const pick = (r: Range, seq: number) => r.lo + ((seq * 7919) % (r.hi - r.lo + 1));
    const n = (r: { rowCount: number | null }) => r.rowCount ?? 0;
    const ops: Op[] = [];
    if (b.countryId !== null) {
      ops.push({
        table: 'customers',
        kind: 'insert',
        run: async (c, s) =>
          n(
            await c.query(`INSERT INTO customers (email, country_id, profile) VALUES ($1, $2, '{"app": true}')`, [
              `writer-${s}@app.example`,
              b.countryId,
            ]),
          ),
      });
    }
    if (b.customers) {
      const r = b.customers;
      ops.push({
        table: 'customers',
        kind: 'update',
        run: async (c, s) =>
          n(
            await c.query(
              `UPDATE customers SET profile = jsonb_set(coalesce(profile, '{}'), '{w}', to_jsonb(coalesce((profile->>'w')::int, 0) + 1)) WHERE id = $1`,
              [pick(r, s)],
            ),
          ),
      });
      ops.push({
        table: 'orders',
        kind: 'insert',
        run: async (c, s) => n(await c.query(`INSERT INTO orders (customer_id, total, placed_at) VALUES ($1, 0.07, now())`, [pick(r, s)])),
      });
    }
    if (b.orders) {
      const r = b.orders;
      ops.push({
        table: 'orders',
        kind: 'update',
        run: async (c, s) => n(await c.query('UPDATE orders SET total = total + 0.01 WHERE id = $1', [pick(r, s)])),
      });
      ops.push({
        table: 'order_items',
        kind: 'insert',
        run: async (c, s) =>
          n(
            await c.query(`INSERT INTO order_items (id, order_id, sku, qty, price) VALUES ($1, $2, 'SKU-APP', 1, 9.99)`, [
              WRITER_ID_BASE + s,
              pick(r, s),
            ]),
          ),
      });
      ops.push({
        table: 'payments',
        kind: 'insert',
        run: async (c, s) =>
          n(
            await c.query(`INSERT INTO payments (id, order_id, amount, method) VALUES ($1, $2, 9.99, 'card')`, [
              WRITER_ID_BASE + s,
              pick(r, s),
            ]),
          ),
      });
    }
    if (b.orderItems) {
      const r = b.orderItems;
      ops.push({
        table: 'order_items',
        kind: 'update',
        run: async (c, s) => n(await c.query('UPDATE order_items SET qty = qty + 1 WHERE id = $1', [pick(r, s)])),
      });
    }
    if (b.payments) {
      const r = b.payments;
      ops.push({
        table: 'payments',
        kind: 'update',
        run: async (c, s) => n(await c.query('UPDATE payments SET amount = amount + 0.01 WHERE id = $1', [pick(r, s)])),
      });
    }
    return ops;
  }

  /** Run the loop in the background; latencies collect until `stop`. */
  start(): void {
    if (!this.client || !this.base) throw new Error('writer: open() first');
    const ops = this.ops();
    if (ops.length === 0) throw new Error('writer: Production has no pre-existing rows to write beside');
    this.latencies = [];
    this.startedAt.length = 0;
    this.stopping = false;
    const c = this.client;
    this.loop = (async () => {
      while (!this.stopping) {
        const s = ++this.seq;
        const op = ops[s % ops.length];
        const t0 = performance.now();
        const wall = Date.now();
        try {
          const rows = await op.run(c, s);
          this.latencies.push(performance.now() - t0);
          this.startedAt.push(wall);
          const into = op.kind === 'insert' ? this.counts.inserted : this.counts.updated;
          into[op.table] = (into[op.table] ?? 0) + rows;
        } catch (e) {
          this.counts.errors++;
          this.counts.firstError ??= `${op.kind} ${op.table}: ${(e as Error).message}`;
        }
        await new Promise((r) => setTimeout(r, PAUSE_MS));
      }
    })();
  }

  /** Stop the loop (after its operation in flight); the latencies (ms) of this start…stop. */
  async stop(): Promise<number[]> {
    this.stopping = true;
    await this.loop;
    this.loop = null;
    return this.latencies;
  }

  /** The loop for `ms` milliseconds: the latencies before the run. */
  async sample(ms: number): Promise<number[]> {
    this.start();
    await new Promise((r) => setTimeout(r, ms));
    return this.stop();
  }

  /**
   * Every committed write is in Production: each table holds exactly the rows the writer inserted,
   * and the sums its updates raised over pre-existing rows moved by exactly the updates committed.
   * Returns the discrepancies (empty: all present).
   */
  async verify(): Promise<string[]> {
    const c = this.client!;
    const problems: string[] = [];
    const found: Record<string, string> = {
      customers: `SELECT count(*)::int AS n FROM customers WHERE email LIKE 'writer-%@app.example'`,
      orders: `SELECT count(*)::int AS n FROM orders WHERE total = 0.07`,
      order_items: `SELECT count(*)::int AS n FROM order_items WHERE id >= ${WRITER_ID_BASE}`,
      payments: `SELECT count(*)::int AS n FROM payments WHERE id >= ${WRITER_ID_BASE}`,
    };
    for (const [t, q] of Object.entries(found)) {
      const n = (await c.query<{ n: number }>(q)).rows[0].n;
      const want = this.counts.inserted[t] ?? 0;
      if (n !== want) problems.push(`${t}: the writer inserted ${want} rows, ${n} are there`);
    }
    const after = await this.sums();
    for (const [t, before] of Object.entries(this.base!.sums)) {
      const want = this.counts.updated[t] ?? 0;
      if (after[t] - before !== want)
        problems.push(`${t}: the writer updated ${want} pre-existing rows, their sum moved by ${after[t] - before}`);
    }
    return problems;
  }

  async close(): Promise<void> {
    if (this.loop) await this.stop();
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }
}
