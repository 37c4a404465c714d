/** JSON Schema of what a user may write, for editors and the Temporal UI's input form. Pure. */
import { z } from 'zod';
import { PlanSchema } from './schema';

export function planJsonSchema(): object {
  // Cross-field rules (refinements) cannot be expressed in JSON Schema; validatePlan enforces them.
  return z.toJSONSchema(PlanSchema, { io: 'input', unrepresentable: 'any' });
}
