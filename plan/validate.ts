/** Plan validation entry points. Pure: the workflow re-validates its input with these. */
import { PlanError, type PlanIssue } from './issues';
import { planErrorMap, toPlanIssues } from './messages';
import { PlanSchema, type Plan } from './schema';
import { unsupportedFeatures } from './supported';

/** The contract check alone (schema + cross-field rules), every issue at once; never throws. */
export function checkPlanSchema(input: unknown): { plan?: Plan; issues: PlanIssue[] } {
  const result = PlanSchema.safeParse(input, { error: planErrorMap });
  if (result.success) return { plan: result.data, issues: [] };
  return { issues: toPlanIssues(result.error.issues) };
}

/** A plan this build can run, with defaults applied; otherwise a PlanError listing every issue. */
export function validatePlan(input: unknown): Plan {
  const { plan, issues } = checkPlanSchema(input);
  if (!plan) throw new PlanError(issues);
  const unsupported = unsupportedFeatures(plan);
  if (unsupported.length) throw new PlanError(unsupported);
  return plan;
}
