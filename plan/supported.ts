/**
 * What the product can run today. Each rule names a plan feature that validates but is not
 * implemented yet; delete a rule when its feature lands. Pure.
 */
import type { PlanIssue } from './issues';
import type { Plan } from './schema';

type Rule = (plan: Plan) => string[];

const when = (cond: boolean, path: string) => (cond ? [path] : []);

const RULES: ReadonlyArray<Rule> = [
  // adopt cleans the Pilot in place with the Pilot's own registers; a register in Production is not read yet.
  (p) =>
    p.strategy === 'adopt' ? (p.erasure?.registers ?? []).flatMap((r, i) => when(r.db === 'target', `erasure.registers[${i}].db`)) : [],
];

export function unsupportedFeatures(plan: Plan): PlanIssue[] {
  return RULES.flatMap((rule) => rule(plan)).map((path) => ({ path, message: `not supported yet: ${path}` }));
}
