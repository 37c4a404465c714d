// Step `notices` (plan key `notices: {}`): what each person whose data was in the Pilot must be told —
// whether it was moved (and under which new id), merged into a Production record, left behind (and
// why) or erased. After the last erasure pass, right before finalize, the step writes one outcome per
// subject (a row of the plan's `subjects` table) as CSV and JSON into the backup store; the evidence
// holds the files' sha256 and the counts, the report the counts. No subject key ever goes into the
// evidence or a log: only into the two files, which are the customer-communication list itself.
// The activity is activities/notices.ts; the step's place in the run is declared here.
import type { Plan } from '../../plan/schema';
import { defineStep } from '../step-module';
import type { StepInput } from '../results';

/** What a subject is told: its row moved (new id), merged into Production's own, left behind (reason), erased after publish. */
export type NoticeOutcome = 'moved' | 'merged' | 'left-behind' | 'erased';

/** One file of the notices, as written to the backup store. */
export interface NoticesFile {
  format: 'csv' | 'json';
  location: string;
  sha256: string; // of the exact bytes stored
  bytes: number;
}

export interface NoticesResult {
  /** The plan's subjects table (canonical name). */
  table: string;
  /** Subjects with an outcome: every row of the subjects table in the run's scope. */
  subjects: number;
  counts: Record<NoticeOutcome, number>;
  /** Subjects left behind, per manifest reason. */
  leftBehindByReason: Record<string, number>;
  files: NoticesFile[];
}

/** The evidence section: the counts and where the files are with their sha256 (no subject key). */
export type NoticesEvidence = NoticesResult;

declare module '../results' {
  interface StepResults {
    notices?: NoticesResult;
  }
}
declare module '../activities' {
  interface CutoverActivities {
    /** Step notices: one outcome per subject as CSV and JSON in the backup store (activities/notices.ts). */
    notices(input: StepInput): Promise<NoticesResult>;
  }
}
declare module '../step-module' {
  interface StepEvidence {
    notices: NoticesEvidence;
  }
}

const total = (r: NoticesResult) =>
  `${r.subjects} subject(s): ${r.counts.moved} moved, ${r.counts.merged} merged, ${r.counts['left-behind']} left behind, ${r.counts.erased} erased`;

export const notices = defineStep<'notices'>({
  name: 'notices',
  activity: 'notices',
  // A failure pauses the run before finalize: on-call may skip it (the evidence then shows no notices).
  skippable: true,
  runs: { strategy: 'selective', before: 'finalize' },
  inPlan: (plan: Plan) => plan.notices !== undefined,
  // Without publish the run recorded no moved or merged row: a list of only the left-behind would mislead.
  notApplicable: (_plan, results) => (results.publish ? null : 'nothing was published'),
  detail: (r) => `${total(r)}; ${r.files.map((f) => `${f.format} sha256 ${f.sha256}`).join(', ')}`,
  status: (r) => ['1', total(r)],
  evidence: (r) => r,
  report: (e) => [
    {
      title: 'Customer notices',
      level: 2,
      blocks: [
        {
          text: `What each person in ${e.table} is told: moved (with the new id), merged into a Production record, left behind (with the reason) or erased. The list itself is in the backup store; its sha256 is below.`,
        },
        {
          table: {
            headers: ['outcome', 'subjects'],
            rows: [
              ['moved', e.counts.moved],
              ['merged', e.counts.merged],
              ['left behind', e.counts['left-behind']],
              ['erased', e.counts.erased],
              ['all', e.subjects],
            ],
          },
        },
        ...(Object.keys(e.leftBehindByReason).length
          ? [{ table: { headers: ['left behind because', 'subjects'], rows: Object.entries(e.leftBehindByReason) } }]
          : []),
        {
          table: { headers: ['file', 'location', 'bytes', 'sha256'], rows: e.files.map((f) => [f.format, f.location, f.bytes, f.sha256]) },
        },
      ],
    },
  ],
});
