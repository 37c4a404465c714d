/**
 * Zod issues → PlanIssues with messages written for people who edit YAML, not for TypeScript
 * developers ("expected one of eq, ne, …" rather than "Invalid option"). Pure.
 */
import type { z } from 'zod';
import { formatPath, type PlanIssue } from './issues';

type RawIssue = Parameters<z.core.$ZodErrorMap>[0];

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
  null: 'null',
};

/** `/^[a-z0-9-]{3,63}$/` → `[a-z0-9-]{3,63}`: the part a user can act on. */
function readablePattern(p: string): string {
  return p.replace(/^\/\^?/, '').replace(/\$?\/[a-z]*$/, '');
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diag = row[j];
      row[j] = next;
    }
  }
  return row[b.length];
}

function unknownKey(key: string, known: string[]): string {
  const best = known
    .map((k) => ({ k, d: editDistance(key, k) }))
    .filter(({ k, d }) => d <= Math.max(1, Math.floor(Math.max(k.length, key.length) / 3)))
    .sort((x, y) => x.d - y.d)[0];
  const hint = best ? ` (did you mean "${best.k}"?)` : known.length ? ` (allowed: ${known.join(', ')})` : '';
  return `unknown key "${key}"${hint}`;
}

function knownKeys(iss: RawIssue): string[] {
  const def = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def;
  return def?.shape ? Object.keys(def.shape) : [];
}

/** Per-parse zod error map; schema-level `error` strings in schema.ts take precedence over it. */
export function planErrorMap(iss: RawIssue): string {
  switch (iss.code) {
    case 'invalid_type': {
      if (iss.input === undefined) return 'required';
      const want = EXPECTED[iss.expected] ?? iss.expected;
      return `must be ${want}, got ${describe(iss.input)}`;
    }
    case 'invalid_value': {
      if (iss.input === undefined) return 'required';
      const values = iss.values.map((v) => (typeof v === 'string' ? v : String(v)));
      if (values.length === 1) return `must be ${values[0]}`;
      return `expected one of ${values.join(', ')}; got ${describe(iss.input)}`;
    }
    case 'unrecognized_keys':
      // One message per key, split into separate issues by toPlanIssues.
      return iss.keys.map((k) => unknownKey(k, knownKeys(iss))).join('\n');
    case 'too_small': {
      const min = Number(iss.minimum);
      if (iss.origin === 'array' || iss.origin === 'set') return min <= 1 ? 'must not be empty' : `must have at least ${min} items`;
      if (iss.origin === 'string') return min <= 1 ? 'must not be empty' : `must be at least ${min} characters`;
      return iss.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
    }
    case 'too_big': {
      const max = Number(iss.maximum);
      if (iss.origin === 'array' || iss.origin === 'set') return `must have at most ${max} items`;
      if (iss.origin === 'string') return `must be at most ${max} characters`;
      return iss.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case 'invalid_format':
      if (iss.format === 'regex' && iss.pattern) return `must match ${readablePattern(iss.pattern)}`;
      if (iss.format === 'date') return 'must be a date YYYY-MM-DD';
      return `must be a valid ${iss.format}`;
    case 'invalid_key': {
      const why = iss.issues[0]?.message;
      return `invalid key ${describe(iss.input)}${why ? `: ${why}` : ''}`;
    }
    case 'invalid_union':
      return 'does not match any allowed form';
    case 'not_multiple_of':
      return `must be a multiple of ${iss.divisor}`;
    default:
      return iss.message ?? 'invalid';
  }
}

/** Final zod issues → PlanIssues: unknown keys become one issue each, at the key's own path. */
export function toPlanIssues(issues: ReadonlyArray<z.core.$ZodIssue>): PlanIssue[] {
  const out: PlanIssue[] = [];
  const seen = new Set<string>();
  const push = (path: PropertyKey[], message: string) => {
    const p = formatPath(path);
    const id = `${p}\u0000${message}`;
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ path: p, message });
  };
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys') {
      const messages = iss.message.split('\n');
      iss.keys.forEach((k, i) => push([...iss.path, k], messages[i] ?? `unknown key "${k}"`));
    } else {
      push(iss.path, iss.message);
    }
  }
  return out;
}
