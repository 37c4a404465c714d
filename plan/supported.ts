/**
 * What the product can run today. Each rule names a plan feature that validates but is not
 * implemented yet; delete a rule when its feature lands. Pure.
 */
import type { PlanIssue } from './issues';
import type { Plan } from './schema';

type Rule = (plan: Plan) => string[];

const when = (cond: boolean, path: string) => (cond ? [path] : []);

const RULES: ReadonlyArray<Rule> = [
  (p) => when(p.strategy === 'adopt', 'strategy'),
];

export function unsupportedFeatures(plan: Plan): PlanIssue[] {
  return RULES.flatMap((rule) => rule(plan)).map((path) => ({ path, message: `not supported yet: ${path}` }));
}
