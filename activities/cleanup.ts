// Step 7, cleanup: in staging, leave behind test data, subjects with an erasure request or without
// consent, and everything that depends on them; apply transforms. One transaction; every removed
// row is in cutover.manifest with its reason. Rows that would dangle are refused here, by name.
import type { CleanupResult, StepInput } from './types';
import { Cleanup, danglingReferences } from './db/cleanup-rules';
import { withContext } from './db/keep-alive';
import { runNames } from './db/staging';
import { planError } from './errors';

export async function cleanup(input: StepInput): Promise<CleanupResult> {
  return withContext(input.plan, async (ctx) => {
    const { target, resolved } = ctx;
      // Transforms are not idempotent (sha256 of a hash): a retry after a lost answer reuses the result.
      const prior = await target.query<{ r: CleanupResult }>('SELECT cleanup_result AS r FROM cutover.run WHERE run_key = $1 AND cleanup_result IS NOT NULL', [input.runKey]);
      if (prior.rows.length > 0) return prior.rows[0].r;
      const names = runNames(input.runKey);
      await target.query('BEGIN');
      try {
        const leftBehind = await new Cleanup(target, resolved, names, input.runKey).run({ transforms: true });
        const dangling = await danglingReferences(target, resolved, names);
        if (dangling.length > 0) throw planError(`rows would be published without their parents:\n  ${dangling.join('\n  ')}`, dangling);
        const result: CleanupResult = { leftBehind, transforms: resolved.rules.transforms.map((x) => `${x.table.name}.${x.column}: ${x.fn}`) };
        await target.query('UPDATE cutover.run SET cleanup_result = $2 WHERE run_key = $1', [input.runKey, JSON.stringify(result)]);
        await target.query('COMMIT');
        return result;
      } catch (e) {
        await target.query('ROLLBACK');
        throw e;
      }
  });
}
