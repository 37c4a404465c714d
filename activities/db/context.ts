// What every data step needs: both catalogs read and the plan resolved against them.
import type { Client } from 'pg';
import type { Plan } from '../../plan/schema';
import { planError } from '../errors';
import { readCatalog } from './catalog';
import { connect, resolveAlias } from './connect';
import { ResolveError, resolvePlan, type Resolved } from './resolve';

export interface Context {
  source: Client;
  target: Client;
  resolved: Resolved;
  close(): Promise<void>;
}

export function asPlanError(e: unknown): unknown {
  return e instanceof ResolveError ? planError(e.message, e.issues) : e;
}

export async function openContext(plan: Plan): Promise<Context> {
  const sourceUrl = resolveAlias(plan.source);
  const targetUrl = resolveAlias(plan.target);
  const source = await connect(sourceUrl, `cutover:${plan.id}:source`);
  let target: Client | undefined;
  try {
    target = await connect(targetUrl, `cutover:${plan.id}:target`);
    const resolved = resolvePlan(plan, await readCatalog(source), await readCatalog(target));
    const t = target;
    return { source, target, resolved, close: async () => void (await Promise.allSettled([source.end(), t.end()])) };
  } catch (e) {
    await Promise.allSettled([source.end(), target?.end()]);
    throw asPlanError(e);
  }
}
