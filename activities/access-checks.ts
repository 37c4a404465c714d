// Step 10, access checks, after publish: built in, no touched table gained or lost grants or
// row-level security since the snapshot taken before the run wrote (`before`), and no moved subject
// lacks consent; then the plan's own SQL assertions, each read-only against production, where any
// returned row is a failure (parsed, role-checked and time-limited: db/read-only-check.ts). Every check runs and is reported; any failure is a non-retryable
// AccessCheckError carrying all results, so the run pauses for a human (rollback or fix and retry).
import type { AccessCheckResult, AccessChecksInput, AccessChecksResult } from '../common/results';
import { accessSnapshot, diffAccess } from './db/access-snapshot';
import { consentCheck } from './access-checks/consent-proof';
import { retentionCheck } from './db/retention';
import { withContext } from './db/keep-alive';
import { MAX_ROWS, runReadOnlyCheck } from './db/read-only-check';
import { accessCheckError } from './errors';

export const GRANTS_CHECK = 'built-in:grants-and-rls';

export async function accessChecks(input: AccessChecksInput): Promise<AccessChecksResult> {
  return withContext(input.plan, async (ctx) => {
    const { source, target, resolved } = ctx;
    const checks: AccessCheckResult[] = [];

    const started = Date.now();
    // Without the snapshot from before publish there is nothing to compare with: that fails, not passes.
    const missing = input.before?.relations ? null : 'no access snapshot from before publish in the input (before)';
    const changes = missing
      ? []
      : diffAccess(
          input.before,
          await accessSnapshot(
            target,
            resolved.tables.map((t) => t.target),
          ),
        );
    // (For adopt, `before` was taken inside the cleanup transaction, before the first delete, on the Pilot.)
    checks.push({
      name: GRANTS_CHECK,
      kind: 'built-in',
      passed: !missing && changes.length === 0,
      rows: changes.slice(0, MAX_ROWS),
      rowCount: changes.length,
      error: missing,
      durationMs: Date.now() - started,
    });
    // adopt: "target" is the cleaned Pilot (db/context.ts), where cleanup removed every subject without consent in the same rules.
    const consent = input.plan.strategy === 'adopt' ? null : await consentCheck(source, target, resolved, input.runKey);
    if (consent) checks.push(consent);
    // No row this run moved is past its retention (or, anonymized by the rule, still holds its values).
    const retention = input.plan.strategy === 'adopt' ? null : await retentionCheck(target, resolved, input.runKey);
    if (retention) checks.push(retention);
    if (input.plan.accessChecks?.length) {
      // Their own connection: at its time limit a check is cancelled from outside, and only it.
      const checker = await ctx.openTarget();
      const opts = { role: input.plan.accessCheckRole, cancel: () => ctx.cancelOne(checker) };
      for (const check of input.plan.accessChecks) checks.push(await runReadOnlyCheck(checker, check, opts));
    }

    const result: AccessChecksResult = { ok: checks.every((c) => c.passed), checks };
    if (!result.ok)
      throw accessCheckError(
        `access checks failed:\n${checks
          .filter((c) => !c.passed)
          .map(describe)
          .join('\n')}`,
        result,
      );
    return result;
  });
}

function describe(c: AccessCheckResult): string {
  if (c.error) return `  ${c.name}: ${c.error}`;
  const rows = c.rows.map((r) => `    ${JSON.stringify(r)}`).join('\n');
  return `  ${c.name}: ${c.rowCount} row(s)${c.rowCount > c.rows.length ? `, the first ${c.rows.length}` : ''}:\n${rows}`;
}
