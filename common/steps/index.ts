// The table of step modules (common/step-module.ts): status, the evidence pack and document, the
// report and the workflow's step table iterate it instead of listing these steps by hand. A new step
// is one module in this folder, one line here, its activity and its test.
import type { ReportSection } from '../report-blocks';
import type { StepResults } from '../results';
import type { AnyStepModule, AnyStepView, StatusContext, StepDocSections, StepPackSections } from '../step-module';
import { BUILT_IN_VIEWS } from './built-in';
import { notices } from './notices';

export const STEP_MODULES: readonly AnyStepModule[] = [notices];

/** Every step's declarative half, in the order the steps-done table lists them. */
export const STEP_VIEWS: readonly AnyStepView[] = [...BUILT_IN_VIEWS, ...STEP_MODULES];

const resultOf = (results: object, name: string): unknown => (results as Record<string, unknown>)[name] ?? undefined;

/** The run's raw record: each module's result under its step name (nothing for a step that did not run: older packs keep their bytes). */
export function stepPackSections(results: StepResults): StepPackSections {
  const out: Record<string, unknown> = {};
  for (const m of STEP_MODULES) if (m.evidence && resultOf(results, m.name) !== undefined) out[m.name] = resultOf(results, m.name);
  return out as StepPackSections;
}

/** The evidence document: each module's section, from its result in the raw record. */
export function stepDocSections(pack: object): StepDocSections {
  const out: Record<string, unknown> = {};
  for (const m of STEP_MODULES) {
    const r = resultOf(pack, m.name);
    if (m.evidence && r !== undefined) out[m.name] = m.evidence(r);
  }
  return out as StepDocSections;
}

/** The report: each module's sections, from its evidence section. */
export function stepReportSections(doc: object): ReportSection[] {
  return STEP_MODULES.flatMap((m) => {
    const e = resultOf(doc, m.name);
    return m.report && e !== undefined ? m.report(e) : [];
  });
}

/** The steps-done table: a row per step with a result, in the views' order. */
export function stepStatusRows(results: StepResults, run: StatusContext): [step: string, tables: string, rows: string][] {
  return STEP_VIEWS.flatMap((m) => {
    const r = resultOf(results, m.name);
    return m.status && r !== undefined ? [[m.name, ...m.status(r, run)] as [string, string, string]] : [];
  });
}
