// The Jailer peer's extraction model (bench/jailer.ts), pure: the subject is the plan's moving customers,
// the registers and the country → customers direction are not followed, the `ids: new` tables' keys get
// import filters and countries are looked up by code. (Running Jailer itself needs a Jailer installation:
// `npm run bench -- --jailer DIR`; docs/benchmarks.md has a measured run.)
import { extractionModel } from '../bench/jailer';
import { choosePlan } from '../bench/plan';

test('the extraction model follows the bench plan', () => {
  const bp = choosePlan('jailer-model');
  const jm = extractionModel(bp, '/tmp/dm');
  const lines = jm.split('\n');
  expect(lines[1]).toMatch(
    /^customers; TRUE AND T\.email NOT LIKE '%@test\.example' AND EXISTS .*status = 'granted'.* AND NOT EXISTS .*erasure_request.*; ; $/,
  );
  for (const a of [
    'inverse-customer_consent_customer_id_fkey',
    'inverse-erasure_request_customer_id_fkey',
    'inverse-customers_country_id_fkey',
  ])
    expect(lines).toContain(`${a}; ; ignore`);
  expect(lines).toContain("customers; id; nextval('customers_id_seq'); Import; ");
  expect(lines).toContain("orders; id; nextval('orders_id_seq'); Import; ");
  expect(jm).not.toMatch(/order_items; id;|payments; id;/); // ids: keep
  expect(jm).toContain('customers; country_id; literal:');
  expect(lines[lines.indexOf('#! block datamodelfolder') + 1]).toBe('/tmp/dm');
});

test('a fallback plan variant is refused by name', () => {
  const bp = { ...choosePlan('jailer-model'), variant: 'fallback: without consent' };
  expect(() => extractionModel(bp, '/tmp/dm')).toThrow(
    'the Jailer peer runs the full bench plan only (this build runs: fallback: without consent)',
  );
});
