// `cutover report <id> [--format md|json|html] [--out FILE] [--file STORED]`: from the run (Temporal),
// or from a stored evidence file, sealed with CUTOVER_CODEC_KEYS or not (common/evidence-seal.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { CodecError } from '../../common/codec';
import { codecFromEnv } from '../../common/data-converter';
import { openEvidence } from '../../common/evidence-seal';
import type { EvidencePack } from '../../common/temporal';
import { asEvidence, evidenceText, type EvidenceDocument } from '../../common/evidence';
import type { Plan } from '../../plan/schema';
import { failed } from '../errors';
import { formatReportHtml } from '../format/report-html';
import { formatReportMarkdown } from '../format/report-md';
import { parseReportFormat, toWorkflowId } from '../options';
import type { ReportFormat } from '../options';
import type { CommandContext } from './context';
import { readEvidence, runHandle } from './read-run';

export interface ReportOptions {
  format?: string;
  out?: string;
  /** An earlier run of the same plan id (its run id). */
  run?: string;
  /** Print the id pairs (Pilot key → Production key per moved or merged row) instead of the pack. */
  ids?: boolean;
  /** A stored evidence file to read instead of asking Temporal. */
  file?: string;
}

/** A stored evidence file's pack, opened with the keys of CUTOVER_CODEC_KEYS when it is sealed. */
async function storedEvidence(ctx: CommandContext, file: string): Promise<EvidencePack | EvidenceDocument> {
  let stored: string;
  try {
    stored = readFileSync(file, 'utf8');
  } catch (err) {
    throw failed(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return JSON.parse(await openEvidence(stored, codecFromEnv(ctx.env))) as EvidenceDocument;
  } catch (err) {
    throw failed(
      err instanceof CodecError
        ? `${file}: ${err.message}`
        : `${file} is not an evidence pack: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** The evidence document (common/evidence.ts) as JSON, markdown or one self-contained HTML page. */
export function renderReport(pack: EvidencePack | EvidenceDocument, format: ReportFormat): string {
  switch (format) {
    case 'md':
      return formatReportMarkdown(pack);
    case 'html':
      return formatReportHtml(pack);
    case 'json':
      return evidenceText(asEvidence(pack));
  }
}

/** `--ids`: the id pairs file of the run (activities/id-pairs.ts), one pair a line, tab-separated. */
async function printIdPairs(ctx: CommandContext, pack: EvidencePack): Promise<void> {
  const { idPairsOfRun } = await import('../../activities/id-pairs');
  let read: { text: string; from: string };
  try {
    read = await idPairsOfRun(pack.plan as Plan, pack.runKey);
  } catch (err) {
    throw failed(`id pairs of run ${pack.runKey}: ${err instanceof Error ? err.message : String(err)}`);
  }
  ctx.io.err(`id pairs of run ${pack.runKey} from ${read.from}`);
  ctx.io.out(
    [
      'table\tpilot key\tproduction key\toutcome',
      ...read.text
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const p = JSON.parse(line) as { table: string; outcome: string; old: unknown; new: unknown };
          return `${p.table}\t${JSON.stringify(p.old)}\t${JSON.stringify(p.new)}\t${p.outcome}`;
        }),
    ].join('\n'),
  );
}

export async function report(ctx: CommandContext, id: string, opts: ReportOptions): Promise<void> {
  const format = parseReportFormat(opts.format ?? 'md');
  const workflowId = toWorkflowId(id);
  const pack = opts.file
    ? await storedEvidence(ctx, opts.file)
    : await readEvidence(runHandle(await ctx.temporal.client(), workflowId, opts.run), workflowId, ctx.timeoutMs);
  if (opts.ids) return printIdPairs(ctx, pack as EvidencePack);
  const text = renderReport(pack, format);
  if (!opts.out) {
    ctx.io.out(text.replace(/\n$/, ''));
    return;
  }
  try {
    writeFileSync(opts.out, text);
  } catch (err) {
    throw failed(`cannot write ${opts.out}: ${err instanceof Error ? err.message : String(err)}`);
  }
  ctx.io.err(`wrote ${format} report of ${workflowId} to ${opts.out}`);
}
