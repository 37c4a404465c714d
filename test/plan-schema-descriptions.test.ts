/**
 * `cutover plan schema` is what editors show while a plan is written: every property must say what
 * it does, and the document must be a JSON Schema a standard validator accepts. A key added to
 * plan/schema.ts without `.describe()` fails here.
 */
import Ajv2020 from 'ajv/dist/2020';
import { z } from 'zod';
import { planJsonSchema } from '../plan';

type Json = unknown;

/** JSON-pointer-ish paths of every property (at any depth, in any combinator) without a description. */
function undescribed(schema: Json, at = '#'): string[] {
  if (Array.isArray(schema)) return schema.flatMap((s, i) => undescribed(s, `${at}/${i}`));
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Record<string, Json>;
  const out: string[] = [];
  const props = node.properties;
  if (typeof props === 'object' && props !== null) {
    for (const [name, prop] of Object.entries(props as Record<string, Json>)) {
      const d = (prop as { description?: unknown } | null)?.description;
      if (typeof d !== 'string' || d.trim() === '') out.push(`${at}/properties/${name}`);
    }
  }
  for (const [k, v] of Object.entries(node)) out.push(...undescribed(v, `${at}/${k}`));
  return out;
}

/** Every property name in the schema, so the test can show it walked the nested objects. */
function propertyNames(schema: Json): Set<string> {
  const names = new Set<string>();
  const visit = (n: Json) => {
    if (Array.isArray(n)) return n.forEach(visit);
    if (typeof n !== 'object' || n === null) return;
    const props = (n as Record<string, Json>).properties;
    if (typeof props === 'object' && props !== null) Object.keys(props).forEach((k) => names.add(k));
    Object.values(n).forEach(visit);
  };
  visit(schema);
  return names;
}

describe('cutover plan schema', () => {
  const schema = planJsonSchema() as Record<string, unknown>;

  test('the walker finds a property without a description (so the next test can fail)', () => {
    const probe = z.toJSONSchema(z.object({ a: z.string().describe('yes'), b: z.array(z.object({ c: z.number() })) }));
    expect(undescribed(probe)).toEqual(['#/properties/b', '#/properties/b/items/properties/c']);
  });

  test('every property, at every depth, has a description', () => {
    expect(undescribed(schema)).toEqual([]);
    // It did look inside: nested keys of conditions, signers, erasure and access checks are there.
    for (const k of ['op', 'value', 'key', 'name', 'subject', 'db', 'columns', 'sql', 'fn', 'preExisting', 'reason', 'mode']) {
      expect(propertyNames(schema).has(k)).toBe(true);
    }
    expect(typeof schema.description).toBe('string');
  });

  test('is a valid JSON Schema (draft 2020-12) that a standard validator compiles in strict mode', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true, formats: { date: true } });
    expect(ajv.validateSchema(schema)).toBe(true);
    expect(ajv.errors ?? null).toBeNull();
    expect(() => ajv.compile(schema)).not.toThrow();
  });
});
