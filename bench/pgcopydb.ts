// Baseline (b): pgcopydb 0.10 cloning into an empty database: pre-data schema, COPY of the plan's tables,
// whole (2 table jobs; it cannot filter rows), then indexes and constraints (2 index jobs). The other tables
// get their schema but no data: 0.10's [include-only-table] breaks pg_restore (the sequence default of an
// excluded table is still restored), [exclude-table-data] works.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { countRows } from './generate';
import type { PhaseResult } from './raw';

export async function runPgcopydb(
  source: string,
  target: string,
  tables: readonly string[],
  skipData: readonly string[],
): Promise<PhaseResult & { command: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cutover-bench-pgcopydb-'));
  try {
    const filters = path.join(dir, 'filters.ini');
    await writeFile(filters, `[exclude-table-data]\n${skipData.map((t) => `public.${t}`).join('\n')}\n`);
    const log = path.join(dir, 'pgcopydb.log');
    const args = [
      'clone',
      '--source',
      source,
      '--target',
      target,
      '--dir',
      path.join(dir, 'work'),
      '--table-jobs',
      '2',
      '--index-jobs',
      '2',
      '--filters',
      filters,
      '--no-owner',
      '--no-acl',
      '--skip-extensions',
    ];
    const t0 = performance.now();
    const code = await new Promise<number>((resolve, reject) => {
      // detached: its own process group, which pgcopydb kills as a whole when it fails.
      const child = spawn('sh', ['-c', 'exec pgcopydb "$@" >"$0" 2>&1', log, ...args], { stdio: 'ignore', detached: true });
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? 1));
    });
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) {
      const tail = (await readFile(log, 'utf8')).split('\n').slice(-25).join('\n');
      throw new Error(`pgcopydb clone failed (exit ${code}):\n${tail}`);
    }
    const perTable = await countRows(target, tables);
    const rows = Object.values(perTable).reduce((a, b) => a + b, 0);
    const command = `pgcopydb ${args.join(' ').split(source).join('<pilot>').split(target).join('<target>').split(dir).join('<tmp>')}`;
    return { rows, seconds, perTable, command };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
