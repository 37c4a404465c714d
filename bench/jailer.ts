// Peer (e): Jailer (github.com/Wisser/Jailer), the one peer that does cutover's job: the plan's subset by a
// where-clause with its foreign-key closure, imported into a Production that already holds rows. Ids are
// remapped by import filters (nextval on the keys of the plan's `ids: new` tables; Jailer maps their
// foreign keys itself) and countries are matched by code (a literal filter writes a lookup by code into
// the script instead of the Pilot's country id). `--jailer DIR` names a Jailer installation: jailer.jar
// and lib/ with a PostgreSQL JDBC driver. Timed: export + import. The data model (build-model) is made
// before the clock starts, as a user would already have it. Working tables go to Jailer's local H2
// database (-scope LOCAL_DATABASE), so the Pilot is only read.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { countRows, PLAN_TABLES } from './generate';
import { movingCustomers, type BenchPlan } from './plan';
import type { PhaseResult } from './raw';

export interface JailerResult extends PhaseResult {
  exportSeconds: number;
  importSeconds: number;
  command: string;
}

/** jdbc:postgresql://host:port/db and the user and password of a postgres:// URL. */
function jdbc(url: string): { url: string; user: string; password: string } {
  const u = new URL(url);
  return {
    url: `jdbc:postgresql://${u.hostname}:${u.port || '5432'}${u.pathname}`,
    user: decodeURIComponent(u.username || 'postgres'),
    password: decodeURIComponent(u.password) || 'unused', // trust auth ignores it; Jailer wants one
  };
}

/** The extraction model: subject customers under the plan's cleanup rules; what is ignored; the filters. */
export function extractionModel(bp: BenchPlan, datamodel: string): string {
  if (bp.variant !== 'full') throw new Error(`the Jailer peer runs the full bench plan only (this build runs: ${bp.variant})`);
  const condition = movingCustomers(bp, 'T');
  if (condition.includes(';')) throw new Error('the subject condition holds a ";" (the extraction model separator)');
  const newIds = Object.entries(bp.idModes)
    .filter(([, m]) => m === 'new')
    .map(([t]) => `${t}; id; nextval('${t}_id_seq'); Import; `);
  return [
    '# subject; condition; limit; limit-order',
    `customers; ${condition}; ; `,
    '',
    '# association; ; restriction-condition',
    // Consent and erasure registers do not move; nor do all the customers of a country.
    'inverse-customer_consent_customer_id_fkey; ; ignore',
    'inverse-erasure_request_customer_id_fkey; ; ignore',
    'inverse-customers_country_id_fkey; ; ignore',
    // Countries are matched by code (ids: match): Production has them under its own ids.
    'customers_country_id_fkey; ; ignore',
    '',
    '#! block filters',
    ...newIds,
    `customers; country_id; literal:'(SELECT x.id FROM countries x WHERE x.code = ' || quote_literal((SELECT c.code FROM countries c WHERE c.id = \${old-value})) || ')'; Export; `,
    '',
    '#! block datamodelfolder',
    datamodel,
    '',
    '#! block export modus',
    'SQL',
    '',
  ].join('\n');
}

async function java(home: string, cwd: string, args: string[]): Promise<number> {
  const cp = [path.join(home, 'config'), path.join(home, 'jailer.jar'), path.join(home, 'lib', '*')].join(':');
  const log = path.join(cwd, `jailer-${args[0]}.log`);
  const t0 = performance.now();
  const code = await new Promise<number>((resolve, reject) => {
    // Jailer writes its logs and temp files into the working directory: ours, removed afterwards.
    const script = 'cp="$1"; shift; exec java -Xmx1200M -cp "$cp" net.sf.jailer.Jailer "$@" >"$0" 2>&1';
    const child = spawn('sh', ['-c', script, log, cp, ...args], { cwd, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) {
    const tail = (await readFile(log, 'utf8')).split('\n').slice(-25).join('\n');
    throw new Error(`jailer ${args[0]} failed (exit ${code}):\n${tail}`);
  }
  return (performance.now() - t0) / 1000;
}

export async function runJailer(home: string, pilot: string, target: string, bp: BenchPlan): Promise<JailerResult> {
  if (!existsSync(path.join(home, 'jailer.jar'))) throw new Error(`--jailer ${home}: no jailer.jar there`);
  const drivers = (await readdir(path.join(home, 'lib'))).filter((f) => /^postgresql-.*\.jar$/.test(f)).sort();
  if (drivers.length === 0) throw new Error(`--jailer ${home}: no lib/postgresql-*.jar (the PostgreSQL JDBC driver)`);
  const driver = ['org.postgresql.Driver', '-jdbcjar', path.join(home, 'lib', drivers[drivers.length - 1])];
  const src = jdbc(pilot);
  const dst = jdbc(target);
  const dir = await mkdtemp(path.join(tmpdir(), 'cutover-bench-jailer-'));
  try {
    const datamodel = path.join(dir, 'datamodel');
    await java(home, dir, [
      'build-model',
      '-datamodel',
      datamodel,
      '-schema',
      'public',
      driver[0],
      src.url,
      src.user,
      src.password,
      ...driver.slice(1),
    ]);
    const model = path.join(dir, 'bench.jm');
    await writeFile(model, extractionModel(bp, datamodel));
    const script = path.join(dir, 'subset.sql');
    const before = await countRows(target, PLAN_TABLES);
    const exportSeconds = await java(home, dir, [
      'export',
      model,
      '-datamodel',
      datamodel,
      '-e',
      script,
      '-scope',
      'LOCAL_DATABASE',
      driver[0],
      src.url,
      src.user,
      src.password,
      ...driver.slice(1),
    ]);
    const importSeconds = await java(home, dir, ['import', script, driver[0], dst.url, dst.user, dst.password, ...driver.slice(1)]);
    const after = await countRows(target, PLAN_TABLES);
    const perTable = Object.fromEntries(PLAN_TABLES.map((t) => [t, after[t] - before[t]]));
    return {
      rows: Object.values(perTable).reduce((a, b) => a + b, 0),
      seconds: exportSeconds + importSeconds,
      perTable,
      exportSeconds,
      importSeconds,
      command: `jailer export <model> -scope LOCAL_DATABASE <pilot>; jailer import <script> <target> (import filters: ${Object.entries(
        bp.idModes,
      )
        .filter(([, m]) => m === 'new')
        .map(([t]) => `${t}.id`)
        .join(', ')}; countries by code)`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
