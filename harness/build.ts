// dist/ for the tests that run the built CLI as users do (separate worker processes, exit codes).
// `npm test` builds once before jest (scripts/lib.sh ensure_build, dist/.build-stamp); a test must
// not build again while other test files run workers from dist/: tsc rewrites files in place, and a
// worker loading one half-written hangs or fails its run (a CI run lost 15 minutes that way). So: a
// fresh stamp means nothing to do; otherwise one process builds under a lock and the others wait.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './temporal-bin';
import { setTimeout as sleep } from 'node:timers/promises';

const STAMP = path.join(ROOT, 'dist', '.build-stamp');
const LOCK = path.join(ROOT, 'dist.build-lock');
const SKIP = new Set(['node_modules', 'dist', '.tools', '.data', '.git']);

/** The newest source the build reads (the same files scripts/lib.sh ensure_build looks at). */
function newestSource(dir = ROOT): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) newest = Math.max(newest, newestSource(path.join(dir, e.name)));
    } else if (e.name.endsWith('.ts') || e.name === 'tsconfig.json' || e.name === 'package-lock.json') {
      newest = Math.max(newest, statSync(path.join(dir, e.name)).mtimeMs);
    }
  }
  return newest;
}

const fresh = () => {
  try {
    return statSync(STAMP).mtimeMs >= newestSource();
  } catch {
    return false;
  }
};

/** Make dist/ current, building at most once across concurrently running test files. */
export async function ensureBuilt(): Promise<void> {
  for (let waited = 0; !fresh(); waited += 500) {
    try {
      mkdirSync(LOCK);
    } catch {
      // Another test file is building: wait for it (a lock older than 10 minutes is a crashed build).
      const lock = statSync(LOCK, { throwIfNoEntry: false });
      if (lock && Date.now() - lock.mtimeMs > 600000) rmSync(LOCK, { recursive: true, force: true });
      if (waited > 900000) throw new Error(`dist/ is not fresh and ${LOCK} stays locked`);
      await sleep(500);
      continue;
    }
    try {
      if (fresh()) return;
      const started = Date.now();
      // Type errors elsewhere still emit JS: the exit code is `tsc --noEmit`'s job, a fresh build is ours.
      const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      const main = statSync(path.join(ROOT, 'dist', 'client', 'main.js'), { throwIfNoEntry: false });
      if (!main || main.mtimeMs < started - 2000)
        throw new Error(`the build did not produce dist/client/main.js:\n${tsc.stdout}\n${tsc.stderr}`);
      writeFileSync(STAMP, '');
      return;
    } finally {
      rmdirSync(LOCK);
    }
  }
}
