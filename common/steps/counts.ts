// Sums and "n/of" cells the step views' status rows share (common/steps/).
import type { StatusContext } from '../step-module';

export const sum = (xs: number[]): number => xs.reduce((a, x) => a + (Number.isFinite(x) ? x : 0), 0);
export const of = (n: number, run: StatusContext): string => `${n}/${run.planTables}`;
