// Baseline (a): `psql -c "COPY (SELECT …) TO STDOUT" | psql -c "COPY t FROM STDIN"` per table, into a
// target with the full schema (keys, FKs, indexes) and no pre-existing rows. FK levels run in order;
// the tables of one level (order_items, payments) run 2 in parallel.
import { spawn } from 'node:child_process';
import type { RawSelect } from './plan';

export interface PhaseResult {
  rows: number;
  seconds: number;
  perTable: Record<string, number>;
}

function pipeCopy(source: string, target: string, s: RawSelect): Promise<number> {
  const script = 'set -o pipefail; psql -X -v ON_ERROR_STOP=1 -d "$1" -c "$2" | psql -X -v ON_ERROR_STOP=1 -d "$3" -c "$4"';
  const args = ['-c', script, 'raw-copy', source, `COPY (${s.sql}) TO STDOUT`, target, `COPY ${s.table} FROM STDIN`];
  return new Promise((resolve, reject) => {
    const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /COPY (\d+)/.exec(out);
      if (code === 0 && m) resolve(Number(m[1]));
      else reject(new Error(`raw COPY of ${s.table} failed (exit ${code}): ${err.trim() || out.trim()}`));
    });
  });
}

export async function runRaw(source: string, target: string, selects: RawSelect[], parallel = 2): Promise<PhaseResult> {
  const perTable: Record<string, number> = {};
  const levels = [...new Set(selects.map((s) => s.level))].sort((a, b) => a - b);
  const t0 = performance.now();
  for (const level of levels) {
    const queue = selects.filter((s) => s.level === level);
    const lane = async () => {
      for (let s = queue.shift(); s; s = queue.shift()) perTable[s.table] = await pipeCopy(source, target, s);
    };
    await Promise.all(Array.from({ length: Math.min(parallel, queue.length) }, lane));
  }
  const seconds = (performance.now() - t0) / 1000;
  return { rows: Object.values(perTable).reduce((a, b) => a + b, 0), seconds, perTable };
}
