// The bench's application writer against a real Production-like database: it writes only beside the
// rows a run would move (its own inserts, pre-existing rows' updates), and its check finds every
// committed write, and notices a lost one (so the bench's "every write present" can fail).
import { generateProduction, FILL_ID_BASE, WRITER_ID_BASE } from '../bench/generate';
import { Writer } from '../bench/writer';
import { createDb, dropDb, withDb } from './helpers/pg';

const name = `cutover_t_benchwriter_${process.pid}`;
let url: string;

beforeAll(async () => {
  url = await createDb(name, 'SELECT 1');
  await generateProduction(url, 1000, true, { countries: 10, customers: 200, orders: 600, order_items: 800, payments: 200 });
}, 60000);

afterAll(async () => {
  await dropDb(name);
});

test('the fill is unrelated to the Pilot: new country codes, keep-table ids from FILL_ID_BASE, every FK satisfied', async () => {
  await withDb(url, async (c) => {
    const n = async (q: string) => Number((await c.query<{ n: string }>(q)).rows[0].n);
    expect(await n(`SELECT count(*) AS n FROM countries WHERE code LIKE 'X%'`)).toBe(10);
    expect(await n(`SELECT count(*) AS n FROM customers WHERE email LIKE 'fill%@prod.example'`)).toBe(200);
    expect(await n(`SELECT count(*) AS n FROM order_items WHERE id > ${FILL_ID_BASE} AND id < ${WRITER_ID_BASE}`)).toBe(800);
    expect(await n(`SELECT count(*) AS n FROM payments WHERE id > ${FILL_ID_BASE}`)).toBe(200);
    expect(await n(`SELECT count(*) AS n FROM order_items WHERE id <= ${FILL_ID_BASE}`)).toBe(0);
  });
});

test('the writer inserts and updates, finds all of it, and reports a lost write by table', async () => {
  const w = new Writer(url);
  try {
    await w.open();
    const ms = await w.sample(1500);
    expect(ms.length).toBeGreaterThan(8);
    expect(w.counts.errors).toBe(0);
    for (const t of ['customers', 'orders', 'order_items', 'payments']) {
      expect(w.counts.inserted[t]).toBeGreaterThan(0);
      expect(w.counts.updated[t]).toBeGreaterThan(0);
    }
    expect(await w.verify()).toEqual([]);
    await withDb(url, async (c) => {
      await c.query(`DELETE FROM order_items WHERE id = (SELECT max(id) FROM order_items)`); // a writer row
      await c.query(`UPDATE orders SET total = total - 0.01 WHERE id = (SELECT min(id) FROM orders)`); // an update undone
    });
    const problems = await w.verify();
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^order_items: the writer inserted \d+ rows, \d+ are there$/);
    expect(problems[1]).toMatch(/^orders: the writer updated \d+ pre-existing rows, their sum moved by/);
  } finally {
    await w.close();
  }
});
