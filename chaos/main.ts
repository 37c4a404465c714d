// `npm run chaos [-- --quick] [--keep]`: the reliability suite (chaos/suite.ts). Progress goes to
// stderr; the table of faults and, as the last line of stdout, one JSON object
// {"injected": N, "survived": N, "lost": 0, "duplicated": 0}. Exit 1 when any fault was not survived.
import { runSuite, type SuiteResult } from './suite';

function table(r: SuiteResult): string {
  const head = ['fault injected', 'run(s)', 'survived', 'rows lost', 'rows duplicated', 'note'];
  const rows = r.faults.map((f) => [
    f.fault,
    f.runs.join(' '),
    f.injected ? (f.survived ? 'yes' : 'NO') : 'NOT INJECTED',
    String(f.lost),
    String(f.duplicated),
    f.note ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let only: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(
        'usage: npm run chaos -- [--quick (the CI subset)] [--only k1,r1 (these kill runs only)] [--keep (keep databases and the work dir)]',
      );
      return 0;
    }
    if (a === '--only') only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a !== '--quick' && a !== '--keep') throw new Error(`unknown argument ${a}`);
  }
  const r = await runSuite({ quick: argv.includes('--quick'), keep: argv.includes('--keep'), only });
  console.log(table(r));
  console.log('');
  for (const run of r.runs) {
    const state = run.problems.length ? `PROBLEMS: ${run.problems.join('; ')}` : 'ok';
    console.log(
      `run ${run.name}: ended ${run.end}, Production ${run.checksumsEqual ? 'identical to' : 'DIFFERENT from'} its reference (per-table checksums), lost ${run.lost}, duplicated ${run.duplicated}; ${state}`,
    );
    for (const n of run.notes) console.log(`  ${n}`);
  }
  console.log(
    `${r.faults.length} fault(s) planned, ${r.injected} injected, ${r.survived} survived in ${r.seconds.toFixed(0)} s${r.workerLog ? `; worker log ${r.workerLog}` : ''}`,
  );
  console.log(JSON.stringify({ injected: r.injected, survived: r.survived, lost: r.lost, duplicated: r.duplicated }));
  return r.survived === r.faults.length && r.lost === 0 && r.duplicated === 0 ? 0 : 1;
}

main().then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (e) => {
    process.stderr.write(`chaos: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
