// Temporal's payload and history limits are set in three places that must agree: the dev server
// (scripts/services.sh), the test server (test/helpers/temporal.ts) and the compose stack's dynamic
// config (deploy/temporal-dynamicconfig.yaml, mounted where DYNAMIC_CONFIG_FILE_PATH points). No server
// needed: the files are parsed (the shell array by its flags, the YAML files with a real parser).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SERVER_LIMITS } from './helpers/temporal';
import { BLOB_SIZE_ERROR, HISTORY_SIZE_ERROR, OWN_EVENTS_ROOM, SIGNALS_PER_RUN } from '../common/history-budget';

const ROOT = path.resolve(__dirname, '..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');

test('the blob, history size and history count limits are set, error above warn', () => {
  for (const kind of ['blobSize', 'historySize', 'historyCount']) {
    const warn = SERVER_LIMITS[`limit.${kind}.warn` as keyof typeof SERVER_LIMITS];
    const error = SERVER_LIMITS[`limit.${kind}.error` as keyof typeof SERVER_LIMITS];
    expect(warn).toBeGreaterThan(0);
    expect(error).toBeGreaterThan(warn);
  }
});

test('scripts/services.sh starts the dev server with the same limits', () => {
  const sh = read('scripts/services.sh');
  const array = /SERVER_LIMITS=\(([\s\S]*?)\n\)/.exec(sh)?.[1] ?? '';
  const values = Object.fromEntries(
    [...array.matchAll(/--dynamic-config-value ((?:limit|history)\.[A-Za-z.]+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]),
  );
  expect(values).toEqual(SERVER_LIMITS);
  expect(sh).toMatch(/server start-dev[\s\S]*"\$\{SERVER_LIMITS\[@\]\}"/);
});

test('docker-compose.yml gives the Temporal server the same limits through its dynamic config file', () => {
  const compose = parse(read('docker-compose.yml')) as {
    services: Record<string, { environment?: Record<string, string>; volumes?: string[] }>;
  };
  const temporal = compose.services.temporal;
  const configPath = temporal.environment?.DYNAMIC_CONFIG_FILE_PATH ?? '';
  const mount = (temporal.volumes ?? [])
    .map((v) => v.split(':'))
    .find(([, target]) => target === path.posix.join('/etc/temporal', configPath));
  expect(mount).toBeDefined();
  const file = parse(read(mount![0])) as Record<string, { value: number }[]>;
  expect(Object.fromEntries(Object.entries(file).map(([k, v]) => [k, v[0].value]))).toEqual(SERVER_LIMITS);
});

test('a flood while a step runs cannot end the run: signals per run times the largest payload stay under the history limit', () => {
  // The run never continues as new while a step runs (workflows/continue.ts): the server bounds it.
  expect(SERVER_LIMITS['history.maximumSignalsPerExecution']).toBe(SIGNALS_PER_RUN);
  expect(SERVER_LIMITS['limit.blobSize.error']).toBe(BLOB_SIZE_ERROR);
  expect(SERVER_LIMITS['limit.historySize.error']).toBe(HISTORY_SIZE_ERROR);
  expect(SIGNALS_PER_RUN * BLOB_SIZE_ERROR + OWN_EVENTS_ROOM).toBeLessThanOrEqual(HISTORY_SIZE_ERROR);
  // The workflow continues at a safe point at half the budget: a gate always has signals left.
  expect(SIGNALS_PER_RUN / 2).toBeGreaterThanOrEqual(5);
});
