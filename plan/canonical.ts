/**
 * Canonical JSON and the plan hash approvers approve. Keys are sorted recursively (by UTF-16 code
 * units, as RFC 8785 does) so key order in the YAML/JSON source never changes the hash. Pure.
 */
import type { Plan } from './schema';
import { sha256Hex } from './sha256';

/** JSON.stringify semantics (undefined/functions dropped in objects, null in arrays), keys sorted, no whitespace. */
export function canonicalJson(value: unknown): string {
  const out = encode(value, false);
  if (out === undefined) throw new TypeError('canonicalJson: value has no JSON representation');
  return out;
}

function encode(v: unknown, inArray: boolean): string | undefined {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'bigint':
      throw new TypeError('canonicalJson: bigint is not JSON');
    case 'undefined':
    case 'function':
    case 'symbol':
      return inArray ? 'null' : undefined;
  }
  if (Array.isArray(v)) return `[${v.map((x) => encode(x, true)).join(',')}]`;
  const obj = v as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const e = encode(obj[k], false);
    if (e !== undefined) parts.push(`${JSON.stringify(k)}:${e}`);
  }
  return `{${parts.join(',')}}`;
}

/** sha256 (lowercase hex) of the canonical JSON of a validated plan (defaults applied). */
export function planHash(plan: Plan): string {
  return sha256Hex(canonicalJson(plan));
}
