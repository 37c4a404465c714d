// Step 7, cleanup: in staging, leave behind test data, subjects with an erasure request or without
// consent, and everything that depends on them; apply transforms. One transaction; every removed
// row is in cutover.manifest with its reason. Rows that would dangle are refused here, by name.
import type { CleanupResult, StepInput } from '../common/results';
import { Cleanup, danglingReferences } from './db/cleanup-rules';
import { withContext } from './db/keep-alive';
import { runNames } from './db/staging';
import { markStep, requireStaged, stepResult } from './db/staging-state';
import { planError } from './errors';

export async function cleanup(input: StepInput): Promise<CleanupResult> {
  return withContext(input.plan, async (ctx) => {
    const { target, resolved } = ctx;
      const names = runNames(input.runKey);
      await requireStaged(target, names);
      // Transforms are not idempotent (sha256 of a hash): a retry after a lost answer reuses the
      // result recorded on this very staging (a restaged run cleans its new rows again).
      const prior = await stepResult<CleanupResult>(target, names, 'cleanup');
      if (prior) return prior;
      await target.query('BEGIN');
      try {
        // Left-behind entries describe the staged rows: a restage (after a reset) writes them anew.
        await target.query(`DELETE FROM cutover.manifest WHERE run_key = $1 AND outcome = 'left-behind'`, [input.runKey]);
        const leftBehind = await new Cleanup(target, resolved, names, input.runKey).run({ transforms: true });
        const dangling = await danglingReferences(target, resolved, names);
        if (dangling.length > 0) throw planError(`rows would be published without their parents:\n  ${dangling.join('\n  ')}`, dangling);
        const result: CleanupResult = { leftBehind, transforms: resolved.rules.transforms.map((x) => `${x.table.name}.${x.column}: ${x.fn}`) };
        await target.query('UPDATE cutover.run SET cleanup_result = $2 WHERE run_key = $1', [input.runKey, JSON.stringify(result)]);
        await markStep(target, names, 'cleanup', result);
        await target.query('COMMIT');
        return result;
      } catch (e) {
        await target.query('ROLLBACK');
        throw e;
      }
  });
}
