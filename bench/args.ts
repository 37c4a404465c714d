// The bench's command line, parsed without side effects (so it can be unit-tested): bad input is an
// Error naming the flag, --help is reported as `help: true` for main to print USAGE and exit.

export interface Args {
  subjects: number;
  scale10: boolean;
  keep: boolean;
  rssOnly: boolean;
  timeoutS: number;
  /** Production pre-filled with K × the moved volume of unrelated rows in the plan's tables. */
  productionScale: number;
  /** Also run the whole run at K = 10 (same moved rows) and report prod_growth_10x. */
  productionScaleCheck: boolean;
  /** The concurrent application writer on Production during the whole run (--no-writer turns it off). */
  writer: boolean;
  /** Judge every tool timed (raw, pgcopydb, cutover) by content: bench/content-check.ts. */
  peers: boolean;
  /** A Jailer installation (jailer.jar, lib/): Jailer runs the same job as a peer (bench/jailer.ts). */
  jailer: string | null;
  /** The plan's parallelism.lanes (a big table split across this many connections); null: the plan's plain `parallelism: 2`. */
  lanes: number | null;
  help: boolean;
}

export const USAGE =
  'usage: npm run bench -- [--subjects N (200000)] [--production-scale K (1)] [--production-scale-check] [--scale10] [--no-writer] [--peers] [--jailer DIR] [--lanes N (1..16)] [--keep] [--timeout SECONDS]';

/** K of the production-scale check: whole-run time at this K ÷ at K = 1. */
export const SCALE_CHECK_K = 10;

export function parseArgs(argv: string[]): Args {
  const a: Args = {
    subjects: 200000,
    scale10: false,
    keep: false,
    rssOnly: false,
    timeoutS: 4 * 3600,
    productionScale: 1,
    productionScaleCheck: false,
    writer: true,
    peers: false,
    jailer: null,
    lanes: null,
    help: false,
  };
  const value = (flag: string, i: number, inline: string | undefined): string => {
    const v = inline ?? argv[i];
    if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] =
      argv[i].startsWith('--') && argv[i].includes('=')
        ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)]
        : [argv[i], undefined];
    const take = () => value(flag, inline === undefined ? ++i : i, inline);
    if (flag === '--subjects') a.subjects = Number(take());
    else if (flag === '--production-scale') a.productionScale = Number(take());
    else if (flag === '--timeout') a.timeoutS = Number(take());
    else if (flag === '--jailer') a.jailer = take();
    else if (flag === '--lanes') a.lanes = Number(take());
    else if (inline !== undefined) throw new Error(`${flag} takes no value`);
    else if (flag === '--production-scale-check') a.productionScaleCheck = true;
    else if (flag === '--scale10') a.scale10 = true;
    else if (flag === '--no-writer') a.writer = false;
    else if (flag === '--keep') a.keep = true;
    else if (flag === '--peers') a.peers = true;
    else if (flag === '--rss-only') a.rssOnly = true;
    else if (flag === '--help' || flag === '-h') a.help = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(a.subjects) || a.subjects < 100) throw new Error('--subjects must be an integer >= 100');
  if (!Number.isInteger(a.productionScale) || a.productionScale < 0 || a.productionScale > 100)
    throw new Error('--production-scale must be an integer from 0 to 100');
  if (a.productionScaleCheck && a.productionScale !== 1)
    throw new Error('--production-scale-check runs K = 1 and K = 10 itself: leave out --production-scale');
  if (a.lanes !== null && (!Number.isInteger(a.lanes) || a.lanes < 1 || a.lanes > 16))
    throw new Error('--lanes must be an integer from 1 to 16');
  if (!(a.timeoutS > 0)) throw new Error('--timeout must be a positive number of seconds');
  return a;
}
