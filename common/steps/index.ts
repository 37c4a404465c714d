// The table of steps (common/step-module.ts): every step's view, and the step modules' running half.
// Status (steps-done rows, the status query), the evidence pack and document, the report and the
// workflow's step table iterate it instead of listing steps by hand. A new step is one module in
// this folder, one line here, its activity (activities/<name>.ts, registered in activities/index.ts)
// and its test.
import type { EvidenceDocument } from '../evidence';
import type { ReportSection } from '../report-blocks';
import type { StepResults } from '../results';
import type { AnyStepModule, AnyStepView, EvidenceContext, StatusContext, StepPackSections } from '../step-module';
import type { StatusView } from '../temporal';
import { accessChecks } from './access-checks';
import { backup } from './backup';
import { PACK_KEYS } from './built-in';
import { cleanup } from './cleanup';
import { decommission } from './decommission';
import { erasure } from './erasure';
import { erasureFinal } from './erasure-final';
import { notices } from './notices';
import { preflight } from './preflight';
import { publish } from './publish';
import { rehearsal } from './rehearsal';
import { restore } from './restore';
import { restorePreview } from './restore-preview';
import { rollback } from './rollback';
import { stage } from './stage';
import { validate } from './validate';

/**
 * Every step's declarative half, in the order the steps-done table and the status query list them:
 * the steps whose running half is still the workflow's (workflows/steps.ts, workflows/restore.ts)
 * as views, and the step modules, which the workflow's table runs (each before the step it names).
 */
export const STEP_VIEWS: readonly (AnyStepView | AnyStepModule)[] = [
  preflight,
  backup,
  restorePreview,
  rehearsal,
  stage,
  cleanup,
  publish,
  validate,
  accessChecks,
  erasure,
  erasureFinal,
  rollback,
  restore,
  decommission,
  notices,
];

const isModule = (v: AnyStepView | AnyStepModule): v is AnyStepModule => 'activity' in v;

/** The step modules: steps whose running half is declared with their view. */
export const STEP_MODULES: readonly AnyStepModule[] = STEP_VIEWS.filter(isModule);

/** Where a step module's own section (keyed by its name) goes: in the document after `mapping`, in the report at the end. */
export const MODULE_DOC_AFTER = 'mapping';
export const MODULE_REPORT_AFTER = 'tables';

/**
 * Named slots in order, with what the steps place after them (after a slot or after another placed
 * entry, in the table's order): the document's keys and the report's sections are laid out this way.
 * An entry whose anchor is nowhere goes at the end (test/step-modules.test.ts checks none does).
 */
export function arrange<T>(slots: [name: string, value: T][], placed: { name: string; after: string; value: T }[]): [string, T][] {
  const out: [string, T][] = [];
  const used = new Set<(typeof placed)[number]>();
  const emit = (name: string, value: T) => {
    out.push([name, value]);
    for (const p of placed)
      if (p.after === name && !used.has(p)) {
        used.add(p);
        emit(p.name, p.value);
      }
  };
  for (const [name, value] of slots) emit(name, value);
  for (const p of placed) if (!used.has(p)) out.push([p.name, p.value]);
  return out;
}

/** The evidence document's step sections, each under its key and after its anchor (undefined: the key is left out). */
export function stepDocEntries(ctx: EvidenceContext): { name: string; after: string; value: unknown }[] {
  return STEP_VIEWS.flatMap((v) => {
    if (v.document) return [{ name: v.document.key, after: v.document.after, value: v.document.section(ctx) }];
    const r = resultOf(ctx.pack, v.name);
    return v.evidence && r !== undefined ? [{ name: v.name, after: MODULE_DOC_AFTER, value: v.evidence(r) }] : [];
  });
}

/** The report's step sections, each step's after its anchor. */
export function stepReportEntries(d: EvidenceDocument): { name: string; after: string; value: ReportSection[] }[] {
  return STEP_VIEWS.flatMap((v) => {
    if (v.reportAt) return [{ name: v.name, after: v.reportAt.after, value: v.reportAt.sections(d) }];
    const e = resultOf(d, v.name);
    return v.report && e !== undefined ? [{ name: v.name, after: MODULE_REPORT_AFTER, value: v.report(e) }] : [];
  });
}

/** The status query's per-step fields, from the steps' results (in the views' order). */
export function stepStatusView(results: StepResults): Partial<StatusView> {
  const out: Partial<StatusView> = {};
  for (const v of STEP_VIEWS) {
    const r = resultOf(results, v.name);
    if (v.statusView && r !== undefined) Object.assign(out, v.statusView(r));
  }
  return out;
}

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

/** The steps-done table: a row per step with a result, in the views' order. */
export function stepStatusRows(results: StepResults, run: StatusContext): [step: string, tables: string, rows: string][] {
  return STEP_VIEWS.flatMap((m) => {
    const r = resultOf(results, m.name);
    return m.status && r !== undefined ? [[m.name, ...m.status(r, run)] as [string, string, string]] : [];
  });
}
