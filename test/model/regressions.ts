// Counterexamples the model test found, shrunk by fast-check and kept: each runs in CI every time.
// knownBug names an open product bug (issue 16): the case is expected to fail (test.failing) until
// the fix lands — then delete knownBug so it guards the fix.
import type { Case } from './case';

export interface Regression {
  name: string;
  knownBug?: string;
  case: Case;
}

export const REGRESSIONS: Regression[] = [];
