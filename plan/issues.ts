/** Plan problems as users see them: a dotted path into the plan, a human message, a line when known. */

export interface PlanIssue {
  /** e.g. `tables[2].select.where[0].op`, `approvals.required`; `(plan)` for the whole plan. */
  path: string;
  message: string;
  /** 1-based line in the plan file, when the plan came from text. */
  line?: number;
}

export const ROOT_PATH = '(plan)';

/** One line per issue, `<file>:<line>: <path>: <message>` — the shape editors and CI logs link. */
export function formatIssue(issue: PlanIssue, fileName?: string): string {
  let where = '';
  if (issue.line !== undefined) where = fileName ? `${fileName}:${issue.line}: ` : `line ${issue.line}: `;
  else if (fileName) where = `${fileName}: `;
  return `${where}${issue.path}: ${issue.message}`;
}

export class PlanError extends Error {
  readonly issues: PlanIssue[];
  readonly fileName?: string;

  constructor(issues: PlanIssue[], fileName?: string) {
    super(issues.map((i) => formatIssue(i, fileName)).join('\n'));
    this.name = 'PlanError';
    this.issues = issues;
    this.fileName = fileName;
    // Keeps `instanceof PlanError` true when compiled to ES5-style classes.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Zod-style path segments → `a.b[0].c`; odd keys (e.g. record keys with dots) are quoted as `["a.b"]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const key = String(seg);
      if (PLAIN_KEY.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out === '' ? ROOT_PATH : out;
}

/** Inverse of formatPath, so a path string can be walked in the source document to find its line. */
export function parsePath(path: string): Array<string | number> {
  if (path === ROOT_PATH || path.startsWith('(')) return [];
  const segs: Array<string | number> = [];
  const re = /\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([A-Za-z_$][A-Za-z0-9_$-]*)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < path.length && (m = re.exec(path)) !== null) {
    if (m[1] !== undefined) segs.push(Number(m[1]));
    else if (m[2] !== undefined) segs.push(JSON.parse(m[2]) as string);
    else segs.push(m[3]);
  }
  return segs;
}
