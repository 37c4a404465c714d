// Change control: the change request that authorised a run (plan `decision.change`, `changeUrl`),
// in one shape and one sentence for every place that shows it — status, the UI's current details,
// the evidence pack and the reports — so an approver at any gate reads the same reference.

export interface ChangeRef {
  /** The change request id, e.g. CHG-1234 (also the CutoverChange search attribute). */
  id: string;
  url: string | null;
}

interface WithDecision {
  decision?: { change?: string; changeUrl?: string } | undefined;
}

/** The plan's change request, or null when it names none. */
export function changeOf(plan: WithDecision): ChangeRef | null {
  const d = plan.decision;
  return d?.change ? { id: d.change, url: d.changeUrl ?? null } : null;
}

/** `CHG-1234 (https://…)`, or `CHG-1234`. */
export function changeText(c: ChangeRef): string {
  return c.url ? `${c.id} (${c.url})` : c.id;
}
