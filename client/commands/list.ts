// `cutover list [--status S] [--json]`
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPE } from '../../common/temporal';
import { badInput } from '../errors';
import { formatList, listQuery } from '../format/list';
import type { ListRow } from '../format/list';
import { parseStatus } from '../options';
import { CutoverPhaseKey, CutoverPlanIdKey, CutoverStatusKey, listStatus } from '../search-attributes';
import type { CommandContext } from './context';
import { fromServer, printJson } from './context';

export interface ListOptions {
  status?: string;
  json?: boolean;
  limit?: string;
}

export async function list(ctx: CommandContext, opts: ListOptions): Promise<void> {
  const status = opts.status === undefined ? undefined : parseStatus(opts.status);
  const limit = opts.limit === undefined ? 200 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw badInput(`--limit must be a positive integer (got ${JSON.stringify(opts.limit)})`);
  }
  const client = await ctx.temporal.client();
  const rows: ListRow[] = [];
  await fromServer(ctx, client, 'list', async () => {
    for await (const wf of client.workflow.list({ query: listQuery(WORKFLOW_TYPE, SEARCH_ATTRIBUTES.status, status) })) {
      const sa = wf.typedSearchAttributes;
      rows.push({
        workflowId: wf.workflowId,
        status: listStatus(sa.get(CutoverStatusKey), wf.status.name),
        phase: sa.get(CutoverPhaseKey) ?? '',
        planId: sa.get(CutoverPlanIdKey) ?? '',
        startTime: wf.startTime,
        closeTime: wf.closeTime ?? null,
      });
      if (rows.length >= limit) break;
    }
  });
  if (opts.json) printJson(ctx.io, rows);
  else ctx.io.out(formatList(rows));
}
