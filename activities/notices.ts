// Step `notices` (common/steps/notices.ts): the customer-communication list. Every row of the plan's
// subjects table in the run's scope gets one outcome, read from what the run recorded in the target's
// control schema: cutover.manifest (moved, merged, left behind with its reason), cutover.id_map (the
// new id) and cutover.erasure_log (erased by step erasure or erasure-final after publish, matched by
// the Production key it logged). Written as CSV and JSON next to the evidence pack in the backup
// store, each exactly once (a retry finds the same bytes); only counts and sha256 leave this file.
import type { NoticeOutcome, NoticesFile, NoticesResult } from '../common/steps/notices';
import type { StepInput } from '../common/results';
import { planHash } from '../plan/canonical';
import { planTableKey } from '../plan/names';
import { withClient } from './db/connect';
import { AFTER_PUBLISH_STEPS } from './db/erasure-subjects';
import { backupError, planIssue } from './errors';
import { openStore, StoreError } from './store';
import { putOnce } from './store/once';

/** Object keys of a run's notices in the backup store, next to its evidence pack. */
export const noticesKey = (planId: string, runKey: string, format: NoticesFile['format']): string =>
  `${planId}/${runKey}/notices.${format}`;

/** One subject's notice: its key in the Pilot, what happened, its key in Production (moved, merged), why it stayed (left behind). */
export interface Notice {
  subject: unknown[];
  outcome: NoticeOutcome;
  newId: unknown[] | null;
  reason: string | null;
}

/** The outcome of every subject in scope, by Pilot key. An erasure after publish overrides moved. */
export async function readNotices(input: StepInput, table: string): Promise<Notice[]> {
  return withClient(input.plan.target, async (db) => {
    const res = await db.query<{ old: unknown[]; outcome: string; reason: string | null; new: unknown[] | null; erased: boolean }>(
      `WITH erased AS (
         SELECT DISTINCT production_subject FROM cutover.erasure_log
          WHERE run_key = $1 AND table_name = $2 AND step = ANY($3) AND (action LIKE 'erased-%' OR action LIKE 'anonymized-%'))
       SELECT m.key AS old, m.outcome, m.reason, i.new_key AS new,
              m.outcome = 'moved' AND coalesce(i.new_key, m.key) IN (SELECT production_subject FROM erased) AS erased
         FROM cutover.manifest m
         LEFT JOIN (SELECT old_key, new_key, outcome FROM cutover.id_map WHERE run_key = $1 AND table_name = $2) i
           ON i.old_key = m.key AND i.outcome = m.outcome
        WHERE m.run_key = $1 AND m.table_name = $2
        ORDER BY m.key`,
      [input.runKey, table, AFTER_PUBLISH_STEPS],
    );
    return res.rows.map((r): Notice => {
      if (r.erased) return { subject: r.old, outcome: 'erased', newId: null, reason: null };
      if (r.outcome === 'moved' || r.outcome === 'merged')
        return { subject: r.old, outcome: r.outcome, newId: r.new ?? r.old, reason: null }; // ids: keep: the key stays
      return { subject: r.old, outcome: 'left-behind', newId: null, reason: r.reason ?? 'unknown' };
    });
  });
}

/** A key as a person reads it: the value of a one-column key, else its JSON. */
const keyText = (k: unknown[] | null): string => (k === null ? '' : k.length === 1 ? String(k[0]) : JSON.stringify(k));

const csvCell = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export function noticesCsv(list: Notice[]): string {
  const lines = [['subject', 'outcome', 'new_id', 'reason'].join(',')];
  for (const n of list) lines.push([keyText(n.subject), n.outcome, keyText(n.newId), n.reason ?? ''].map(csvCell).join(','));
  return `${lines.join('\n')}\n`;
}

export function noticesJson(planId: string, runKey: string, table: string, list: Notice[]): string {
  const rows = list.map((n) => `    ${JSON.stringify(n)}`);
  return `{\n  "planId": ${JSON.stringify(planId)},\n  "runKey": ${JSON.stringify(runKey)},\n  "table": ${JSON.stringify(table)},\n  "subjects": [\n${rows.join(',\n')}\n  ]\n}\n`;
}

export async function notices(input: StepInput): Promise<NoticesResult> {
  const { plan } = input;
  // The plan check refuses these already (plan/schema.ts); a plan accepted before that cannot slip through.
  if (!plan.subjects) throw planIssue('notices', 'requires subjects (the table and key that identify people)');
  if (!plan.backup) throw planIssue('notices', 'requires backup (the notices are written to backup.store)');
  const table = planTableKey(plan.subjects.table);
  const list = await readNotices(input, table);
  const counts: Record<NoticeOutcome, number> = { moved: 0, merged: 0, 'left-behind': 0, erased: 0 };
  const leftBehindByReason: Record<string, number> = {};
  for (const n of list) {
    counts[n.outcome]++;
    if (n.reason !== null) leftBehindByReason[n.reason] = (leftBehindByReason[n.reason] ?? 0) + 1;
  }
  const store = openStore(plan.backup.store);
  const files: NoticesFile[] = [];
  const texts: [NoticesFile['format'], string][] = [
    ['csv', noticesCsv(list)],
    ['json', noticesJson(plan.id, input.runKey, table, list)],
  ];
  for (const [format, text] of texts) {
    try {
      const stored = await putOnce(store, noticesKey(plan.id, input.runKey, format), Buffer.from(text, 'utf8'), {
        runKey: input.runKey,
        planHash: planHash(plan),
        createdAt: new Date().toISOString(),
        labels: { kind: 'notices', 'plan-id': plan.id },
      });
      files.push({ format, location: stored.location, sha256: stored.sha256, bytes: stored.size });
    } catch (e) {
      throw e instanceof StoreError ? backupError(`notices: ${e.message}`) : e;
    }
  }
  return { table, subjects: list.length, counts, leftBehindByReason, files };
}
