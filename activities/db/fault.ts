// Test hook: CUTOVER_TEST_FAIL_STAGE_AFTER="<schema.table>:<rows>" makes the FIRST stage attempt die
// mid-table, so tests can prove a retry neither loses nor duplicates rows. Inert when unset.
export function failAfterRowsForTests(attempt: number): (table: string, rows: number) => void {
  const spec = process.env.CUTOVER_TEST_FAIL_STAGE_AFTER;
  if (!spec || attempt > 1) return () => undefined;
  const at = spec.lastIndexOf(':');
  const table = spec.slice(0, at);
  const limit = Number(spec.slice(at + 1));
  return (t, rows) => {
    if (t === table && rows >= limit) throw new Error(`injected failure after ${rows} rows of ${t} (CUTOVER_TEST_FAIL_STAGE_AFTER)`);
  };
}
