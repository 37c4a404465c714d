// The bench's pure pieces: argument parsing, the writer's percentile, step durations from a run's
// step history, the fill's scaling. (No timing: speed lives only in the benchmark itself.)
import { parseArgs } from '../bench/args';
import { choosePlan } from '../bench/plan';
import { parallelismOf } from '../plan/parallelism';
import { percentile, summarize } from '../bench/latency';
import { slowestByStep, stepSeconds } from '../bench/steps';
import { scaleCounts } from '../bench/report';

describe('bench arguments', () => {
  test('defaults', () => {
    const a = parseArgs([]);
    expect(a).toMatchObject({
      subjects: 200000,
      productionScale: 1,
      productionScaleCheck: false,
      scale10: false,
      writer: true,
      peers: false,
      jailer: null,
      lanes: null,
      keep: false,
      help: false,
    });
  });

  test("--lanes sets the plan's parallelism.lanes; without it the plan keeps its plain number", () => {
    expect(parseArgs(['--lanes', '4']).lanes).toBe(4);
    expect(parseArgs(['--lanes=1']).lanes).toBe(1);
    expect(() => parseArgs(['--lanes', '0'])).toThrow('--lanes must be an integer from 1 to 16');
    expect(() => parseArgs(['--lanes', '17'])).toThrow('--lanes must be an integer from 1 to 16');
    expect(() => parseArgs(['--lanes', '2.5'])).toThrow('--lanes must be an integer from 1 to 16');
    expect(() => parseArgs(['--lanes'])).toThrow('--lanes needs a value');
    expect(choosePlan('bench-x', 3).plan.parallelism).toEqual({ tables: 2, lanes: 3 });
    expect(parallelismOf(choosePlan('bench-x', 3).plan)).toEqual({ tables: 2, lanes: 3 });
    expect(choosePlan('bench-x').plan.parallelism).toBe(2);
    expect(choosePlan('bench-x', null).plan.parallelism).toBe(2);
  });

  test('every flag, spaced and with =', () => {
    const a = parseArgs(['--subjects', '5000', '--production-scale=3', '--scale10', '--no-writer', '--keep', '--timeout', '60']);
    expect(a).toMatchObject({ subjects: 5000, productionScale: 3, scale10: true, writer: false, keep: true, timeoutS: 60 });
    expect(parseArgs(['--subjects=700', '--production-scale-check'])).toMatchObject({
      subjects: 700,
      productionScaleCheck: true,
      productionScale: 1,
    });
    expect(parseArgs(['--production-scale', '0']).productionScale).toBe(0);
    expect(parseArgs(['-h']).help).toBe(true);
    expect(parseArgs(['--peers']).peers).toBe(true);
    expect(parseArgs(['--jailer', '/opt/jailer']).jailer).toBe('/opt/jailer');
    expect(() => parseArgs(['--jailer'])).toThrow('--jailer needs a value');
    expect(() => parseArgs(['--peers=yes'])).toThrow('--peers takes no value');
  });

  test('bad input names the flag', () => {
    expect(() => parseArgs(['--subjects', '12'])).toThrow('--subjects must be an integer >= 100');
    expect(() => parseArgs(['--production-scale', '1.5'])).toThrow('--production-scale must be an integer from 0 to 100');
    expect(() => parseArgs(['--production-scale', '-1'])).toThrow('--production-scale');
    expect(() => parseArgs(['--production-scale'])).toThrow('--production-scale needs a value');
    expect(() => parseArgs(['--production-scale-check', '--production-scale', '10'])).toThrow(
      '--production-scale-check runs K = 1 and K = 10 itself',
    );
    expect(() => parseArgs(['--scale10=yes'])).toThrow('--scale10 takes no value');
    expect(() => parseArgs(['--writer'])).toThrow('unknown argument --writer');
    expect(() => parseArgs(['--timeout', '0'])).toThrow('--timeout must be a positive number');
  });
});

describe('writer latency', () => {
  test('nearest-rank percentile', () => {
    const ms = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentile(ms, 99)).toBe(99);
    expect(percentile(ms, 50)).toBe(50);
    expect(percentile(ms, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3, 1000], 99)).toBe(1000); // 4 samples: the p99 is the worst one
    expect(percentile([], 99)).toBeNull();
    expect(() => percentile([1], 0)).toThrow('percentile must be in (0, 100]');
  });

  test('summary', () => {
    expect(summarize([3, 1, 2])).toEqual({ ops: 3, p50Ms: 2, p99Ms: 3, maxMs: 3 });
    expect(summarize([])).toEqual({ ops: 0, p50Ms: null, p99Ms: null, maxMs: null });
  });
});

describe('step durations from the step history', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  test('started → completed or failed; a retried step counts from its first start; gates and skips have none', () => {
    const steps = stepSeconds([
      { step: 'preflight', outcome: 'started', at: at(0) },
      { step: 'preflight', outcome: 'completed', at: at(2) },
      { step: 'gate:plan', outcome: 'approved', at: at(3) },
      { step: 'publish', outcome: 'started', at: at(10) },
      { step: 'publish', outcome: 'failed', at: at(12) },
      { step: 'publish', outcome: 'retried', at: at(13) },
      { step: 'publish', outcome: 'started', at: at(14) },
      { step: 'publish', outcome: 'completed', at: at(20) },
      { step: 'backup', outcome: 'skipped', at: at(21) },
      { step: 'validate', outcome: 'started', at: at(22) },
    ]);
    expect(steps).toEqual({ preflight: 2, publish: 10 });
  });
});

test('the slowest write beside each step: by the step it started during, else between steps', () => {
  const at = (s: number) => Date.UTC(2026, 0, 1, 0, 0, s);
  const iso = (s: number) => new Date(at(s)).toISOString();
  const steps = [
    { step: 'stage', outcome: 'started' as const, at: iso(10) },
    { step: 'stage', outcome: 'completed' as const, at: iso(20) },
    { step: 'publish', outcome: 'started' as const, at: iso(20) },
    { step: 'publish', outcome: 'completed' as const, at: iso(30) },
  ];
  const slowest = slowestByStep(steps, [at(5), at(11), at(19), at(20), at(29), at(31)], [999, 3.04, 7, 2, 40.26, 500]);
  expect(slowest).toEqual({ 'between steps': 999, stage: 7, publish: 40.3 });
});

test('the fill scales each table', () => {
  expect(scaleCounts({ customers: 4595, orders: 13785 }, 10)).toEqual({ customers: 45950, orders: 137850 });
  expect(scaleCounts({ customers: 4595 }, 0)).toEqual({ customers: 0 });
});
