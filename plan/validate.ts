/** Plan validation entry points. Pure: the workflow re-validates its input with these. */
import { PlanError, type PlanIssue } from './issues';
import { planSizeIssue } from './limits';
import { planErrorMap, toPlanIssues } from './messages';
import { PlanSchema, type Plan } from './schema';
import { unsupportedFeatures } from './supported';

/** The contract check alone (schema + cross-field rules), every issue at once; never throws. */
export function checkPlanSchema(input: unknown): { plan?: Plan; issues: PlanIssue[] } {
  // Size first: a plan too large or too deep is refused before the schema walks it.
  const tooBig = planSizeIssue(input);
  if (tooBig) return { issues: [tooBig] };
  const result = PlanSchema.safeParse(input, { error: planErrorMap });
  if (result.success) return { plan: result.data, issues: [] };
  return { issues: capIssues(toPlanIssues(result.error.issues)) };
}

/** Issues shown at most: a hostile plan can have 30 000 unknown keys, and the message travels in history. */
export const MAX_ISSUES = 100;

function capIssues(issues: PlanIssue[]): PlanIssue[] {
  if (issues.length <= MAX_ISSUES) return issues;
  return [
    ...issues.slice(0, MAX_ISSUES),
    { path: '(plan)', message: `… and ${issues.length - MAX_ISSUES} more issues (the first ${MAX_ISSUES} are shown)` },
  ];
}

/** A plan this build can run, with defaults applied; otherwise a PlanError listing every issue. */
export function validatePlan(input: unknown): Plan {
  const { plan, issues } = checkPlanSchema(input);
  if (!plan) throw new PlanError(issues);
  const unsupported = unsupportedFeatures(plan);
  if (unsupported.length) throw new PlanError(unsupported);
  return plan;
}
