// The table of step modules (common/step-module.ts): status, the evidence pack and document, the
// report and the workflow's step table iterate it instead of listing these steps by hand. A new step
// is one module in this folder, one line here, its activity and its test.
import type { ReportSection } from '../report-blocks';
import type { StepResults } from '../results';
import type { AnyStepModule, AnyStepView, StatusContext, StepDocSections, StepPackSections } from '../step-module';
import { BUILT_IN_VIEWS, PACK_KEYS } from './built-in';
import { decommission } from './decommission';
import { notices } from './notices';

export const STEP_MODULES: readonly AnyStepModule[] = [decommission, notices];

/** Every step's declarative half, in the order the steps-done table lists them. */
export const STEP_VIEWS: readonly AnyStepView[] = [...BUILT_IN_VIEWS, ...STEP_MODULES];

const resultOf = (results: object, name: string): unknown => (results as Record<string, unknown>)[name] ?? undefined;

/** Pack keys of the built-in steps (PACK_KEYS), with the result types they hold. */
type PackEntry = (typeof PACK_KEYS)[number];
type Held<E extends PackEntry> = E[0] extends keyof StepResults ? NonNullable<StepResults[E[0]]> | null : never;
/** Keys always there (null until the step ran) and keys there with their group. */
export type BuiltInPack = { [E in Extract<PackEntry, { length: 2 }> as E[1]]: Held<E> } & {
  [E in Extract<PackEntry, { length: 3 }> as E[1]]?: Held<E>;
};

/** The run's raw record: the built-in steps' results under their pack keys, in order (common/steps/built-in.ts). */
export function builtInPackSections(results: StepResults): BuiltInPack {
  const out: Record<string, unknown> = {};
  const present = new Set<string>();
  for (const e of PACK_KEYS) if (e[2] && resultOf(results, e[0]) !== undefined) present.add(e[2]);
  for (const e of PACK_KEYS) if (!e[2] || present.has(e[2])) out[e[1]] = resultOf(results, e[0]) ?? null;
  return out as BuiltInPack;
}

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
