// What every data step needs: both catalogs read and the plan resolved against them.
import type { Client } from 'pg';
import type { Plan } from '../../plan/schema';
import { planError } from '../errors';
import { readCatalog } from './catalog';
import { loadSqlParser } from '../../plan/mapping-sql';
import { connect, resolveAlias } from './connect';
import { PlanError } from '../../plan/issues';
import { resolvePlan, type Resolved } from './resolve';

export interface Context {
  source: Client;
  target: Client;
  resolved: Resolved;
  /** Another connection to the target (a parallel lane), cancelled and closed with the context. */
  openTarget(): Promise<Client>;
  /** Another connection to the source, likewise. */
  openSource(): Promise<Client>;
  /** Cancel whatever both connections are running (the activity was cancelled or timed out). */
  cancel(): Promise<void>;
  /** Cancel what one connection of this context runs (an access check at its time limit). */
  cancelOne(c: Client): Promise<void>;
  close(): Promise<void>;
}

async function cancelBackend(url: string, pid: number | undefined): Promise<void> {
  if (!pid) return;
  const c = await connect(url, 'cutover:cancel');
  try {
    await c.query('SELECT pg_cancel_backend($1)', [pid]);
  } finally {
    await c.end();
  }
}

export function asPlanError(e: unknown): unknown {
  return e instanceof PlanError ? planError(e) : e;
}

/**
 * adopt: the Pilot itself becomes Production, so the database every step works on ("target": cleaned,
 * checked, holding the control schema) is the Pilot; Production (plan.target) is never opened. Every
 * listed table is in scope whole (select: all): the cleanup rules decide what goes.
 */
export function adoptView(plan: Plan): Plan {
  return { ...plan, tables: plan.tables.map((t) => ({ ...t, select: { all: true } })) } as Plan;
}

export async function openContext(plan: Plan): Promise<Context> {
  const adopt = plan.strategy === 'adopt';
  const sourceUrl = resolveAlias(plan.source);
  const targetUrl = adopt ? sourceUrl : resolveAlias(plan.target);
  const source = await connect(sourceUrl, `cutover:${plan.id}:source`);
  let target: Client | undefined;
  try {
    target = await connect(targetUrl, `cutover:${plan.id}:target`);
    // Mapping expressions are parsed (PostgreSQL's parser) when the plan is resolved.
    if (plan.tables.some((t) => Object.values(t.columns ?? {}).some((c) => c.expr !== undefined))) await loadSqlParser();
    const pilotCatalog = await readCatalog(source);
    const resolved = adopt
      ? resolvePlan(adoptView(plan), pilotCatalog, pilotCatalog)
      : resolvePlan(plan, pilotCatalog, await readCatalog(target));
    const t = target;
    const pid = (c: Client) => (c as unknown as { processID?: number }).processID;
    // Every connection of the context, each with its URL (to cancel it by pid): the two above and the lanes.
    const all: { c: Client; url: string }[] = [
      { c: source, url: sourceUrl },
      { c: t, url: targetUrl },
    ];
    const opener = (url: string, role: string) => async () => {
      const c = await connect(url, `cutover:${plan.id}:${role}`);
      all.push({ c, url });
      return c;
    };
    return {
      source,
      target,
      resolved,
      openTarget: opener(targetUrl, 'target'),
      openSource: opener(sourceUrl, 'source'),
      cancel: async () => void (await Promise.allSettled(all.map(({ c, url }) => cancelBackend(url, pid(c))))),
      cancelOne: async (one) => {
        const found = all.find(({ c }) => c === one);
        if (found) await cancelBackend(found.url, pid(one));
      },
      close: async () => void (await Promise.allSettled(all.map(({ c }) => c.end()))),
    };
  } catch (e) {
    await Promise.allSettled([source.end(), target?.end()]);
    throw asPlanError(e);
  }
}
