// The payload, history and signal limits every Temporal server cutover starts is given: the tests'
// (test/helpers/temporal.ts), the bench's and the chaos suite's (harness/dev-server.ts), and
// scripts/services.sh and deploy/temporal-dynamicconfig.yaml, which test/server-limits.test.ts keeps
// equal to this. A run relies on them: the signal limit is what bounds a flood while a step runs
// (common/history-budget.ts), so a server without it is not the one the product was tested against.
import { SIGNALS_PER_RUN } from '../common/history-budget';

export const SERVER_LIMITS = {
  'limit.blobSize.warn': 256 * 1024,
  'limit.blobSize.error': 2 * 1024 * 1024,
  'limit.historySize.warn': 10 * 1024 * 1024,
  'limit.historySize.error': 50 * 1024 * 1024,
  'limit.historyCount.warn': 10240,
  'limit.historyCount.error': 51200,
  // Signals one run records (the rest are refused to their sender): the bound of a flood while a step runs (common/history-budget.ts).
  'history.maximumSignalsPerExecution': SIGNALS_PER_RUN,
};

/** `temporal server start-dev` flags for SERVER_LIMITS, with `more` over them (one test's own setting). */
export function limitArgs(more: Record<string, number> = {}): string[] {
  return Object.entries({ ...SERVER_LIMITS, ...more }).flatMap(([k, v]) => ['--dynamic-config-value', `${k}=${v}`]);
}
