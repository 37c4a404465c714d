// The Pilot key → Production key pairs a published run persisted, as one SQL text: in a file of its
// own so that both row identity (db/row-identity.ts) and the earlier runs' keys remap reads
// (db/already-moved.ts) use it without an import cycle through db/remap.ts.

/**
 * SQL over what publish persisted ($1 run key, $2 table name): old_key (Pilot), new_key (Production),
 * outcome, one row per row in scope that moved or merged, and per parent found. An ids: keep chunk
 * without new keys holds rows whose Production key is their Pilot key. Rows written one by one by
 * databases from before the chunks are read too (id_map_rows; manifest_rows for keep tables).
 */
export const PERSISTED_PAIRS = `
  SELECT k.old_key, coalesce(k.new_key, k.old_key) AS new_key, c.outcome FROM cutover.published_keys c
    CROSS JOIN LATERAL ROWS FROM (jsonb_array_elements(c.old_keys), jsonb_array_elements(c.new_keys)) AS k(old_key, new_key)
   WHERE c.run_key = $1 AND c.table_name = $2
  UNION ALL
  SELECT old_key, new_key, outcome FROM cutover.id_map_rows WHERE run_key = $1 AND table_name = $2
  UNION ALL
  SELECT key, key, outcome FROM cutover.manifest_rows m WHERE run_key = $1 AND table_name = $2 AND outcome IN ('moved', 'merged')
     AND NOT EXISTS (SELECT 1 FROM cutover.id_map_rows i WHERE i.run_key = $1 AND i.table_name = $2)`;
