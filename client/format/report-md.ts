// Evidence pack → markdown that fits a change ticket (headings, bullet lists, pipe tables, SQL blocks).
import type { EvidenceDocument } from '../../common/evidence';
import type { EvidencePack } from '../../common/temporal';
import { mdEscape, mdSections } from '../../common/report-markdown';
import { buildReportModel } from './report-model';

export { mdEscape };

export function formatReportMarkdown(pack: EvidencePack | EvidenceDocument): string {
  const model = buildReportModel(pack);
  return `${[`# ${mdEscape(model.title)}`, ...mdSections(model.sections)].join('\n\n')}\n`;
}
