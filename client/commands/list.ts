// `cutover list [--status S] [--change CHG-1234] [--json]`
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPE } from '../../common/temporal';
import { CHANGE_ID } from '../../plan/schema';
import { badInput } from '../errors';
import { formatList, listQuery } from '../format/list';
import type { ListRow } from '../format/list';
import { parseStatus } from '../options';
import { CutoverChangeKey, CutoverPhaseKey, CutoverPlanIdKey, CutoverStatusKey, listStatus } from '../search-attributes';
import type { CommandContext } from './context';
import { fromServer, printJson } from './context';

export interface ListOptions {
  status?: string;
  change?: string;
  json?: boolean;
  limit?: string;
}

export async function list(ctx: CommandContext, opts: ListOptions): Promise<void> {
  const status = opts.status === undefined ? undefined : parseStatus(opts.status);
  const limit = opts.limit === undefined ? 200 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw badInput(`--limit must be a positive integer (got ${JSON.stringify(opts.limit)})`);
  }
  // The id goes into the visibility query: only what a plan may name (nothing there needs quoting).
  if (opts.change !== undefined && !CHANGE_ID.test(opts.change)) {
    throw badInput(
      `--change must be a change request id like CHG-1234 (letters, digits and . _ : / -) (got ${JSON.stringify(opts.change)})`,
    );
  }
  const client = await ctx.temporal.client();
  const rows: ListRow[] = [];
  await fromServer(ctx, client, 'list', async () => {
    for await (const wf of client.workflow.list({
      query: listQuery(
        WORKFLOW_TYPE,
        SEARCH_ATTRIBUTES.status,
        status,
        opts.change === undefined ? undefined : { attribute: SEARCH_ATTRIBUTES.change, value: opts.change },
      ),
    })) {
      const sa = wf.typedSearchAttributes;
      rows.push({
        workflowId: wf.workflowId,
        status: listStatus(sa.get(CutoverStatusKey), wf.status.name),
        phase: sa.get(CutoverPhaseKey) ?? '',
        planId: sa.get(CutoverPlanIdKey) ?? '',
        ...(sa.get(CutoverChangeKey) ? { change: sa.get(CutoverChangeKey) } : {}),
        startTime: wf.startTime,
        closeTime: wf.closeTime ?? null,
      });
      if (rows.length >= limit) break;
    }
  });
  if (opts.json) printJson(ctx.io, rows);
  else ctx.io.out(formatList(rows));
}
