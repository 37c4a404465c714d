// The `cutover` schema in the target: run registry, manifest, id map, erasure log, evidence.
import type { Client } from 'pg';
import { inTransaction } from './transaction';

const DDL = `
CREATE SCHEMA IF NOT EXISTS cutover;
CREATE TABLE IF NOT EXISTS cutover.run (
  run_key text PRIMARY KEY, plan_id text NOT NULL, workflow_id text NOT NULL, run_id text NOT NULL,
  plan_hash text NOT NULL, status text NOT NULL, started_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz, finished_at timestamptz, publish_result jsonb);
ALTER TABLE cutover.run ADD COLUMN IF NOT EXISTS cleanup_result jsonb;
-- The Pilot database the run read (system identifier, oid): rows it published count as already moved for later runs from the same Pilot.
ALTER TABLE cutover.run ADD COLUMN IF NOT EXISTS source_identity jsonb;
-- A surgical rollback's proof, written in its own transaction: a retry returns it instead of deleting again.
ALTER TABLE cutover.run ADD COLUMN IF NOT EXISTS rolled_back_at timestamptz;
ALTER TABLE cutover.run ADD COLUMN IF NOT EXISTS rollback_result jsonb;
-- cutover.manifest and cutover.id_map are views, one row per row as ever, over two stores: rows
-- written one by one (cleanup's left-behind rows, the dry run's shape, databases from before the
-- views) and the keys publish wrote in chunks of up to 10 000 (a row per chunk: old keys and new keys
-- as parallel JSON arrays). A row per published row cost publish a third of its time in index and
-- JSON work; a chunk costs a tenth of that, and reading it back unnests in order.
DO $$ DECLARE n text; BEGIN
  FOREACH n IN ARRAY ARRAY['manifest', 'id_map'] LOOP
    IF (SELECT c.relkind FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'cutover' AND c.relname = n) = 'r' THEN
      EXECUTE format('ALTER TABLE cutover.%I RENAME TO %I', n, n || '_rows');
      EXECUTE format('ALTER INDEX IF EXISTS cutover.%I RENAME TO %I', n || '_run', n || '_rows_run');
    END IF;
  END LOOP;
END $$;
CREATE TABLE IF NOT EXISTS cutover.manifest_rows (
  run_key text NOT NULL, table_name text NOT NULL, key jsonb NOT NULL, outcome text NOT NULL, reason text);
CREATE INDEX IF NOT EXISTS manifest_rows_run ON cutover.manifest_rows (run_key, table_name);
CREATE TABLE IF NOT EXISTS cutover.id_map_rows (
  run_key text NOT NULL, table_name text NOT NULL, old_key jsonb NOT NULL, new_key jsonb NOT NULL, outcome text NOT NULL);
CREATE INDEX IF NOT EXISTS id_map_rows_run ON cutover.id_map_rows (run_key, table_name);
-- new_keys NULL: an ids: keep table (its keys are its own; no id map rows). outcome found: a parent
-- found in production, in the id map only. Stored uncompressed: compressing costs more than it saves here.
DO $$ BEGIN
  IF to_regclass('cutover.published_keys') IS NULL THEN
    CREATE TABLE cutover.published_keys (
      run_key text NOT NULL, table_name text NOT NULL, outcome text NOT NULL, reason text,
      old_keys jsonb NOT NULL, new_keys jsonb);
    ALTER TABLE cutover.published_keys ALTER old_keys SET STORAGE EXTERNAL, ALTER new_keys SET STORAGE EXTERNAL;
    CREATE INDEX published_keys_run ON cutover.published_keys (run_key, table_name);
  END IF;
  IF to_regclass('cutover.manifest') IS NULL THEN
    CREATE VIEW cutover.manifest AS
      SELECT run_key, table_name, key, outcome, reason FROM cutover.manifest_rows
      UNION ALL
      SELECT c.run_key, c.table_name, k.key, c.outcome, c.reason FROM cutover.published_keys c
        CROSS JOIN LATERAL jsonb_array_elements(c.old_keys) AS k(key) WHERE c.outcome <> 'found';
  END IF;
  IF to_regclass('cutover.id_map') IS NULL THEN
    CREATE VIEW cutover.id_map AS
      SELECT run_key, table_name, old_key, new_key, outcome FROM cutover.id_map_rows
      UNION ALL
      SELECT c.run_key, c.table_name, k.old_key, k.new_key, c.outcome FROM cutover.published_keys c
        CROSS JOIN LATERAL ROWS FROM (jsonb_array_elements(c.old_keys), jsonb_array_elements(c.new_keys)) AS k(old_key, new_key)
        WHERE c.new_keys IS NOT NULL;
  END IF;
END $$;
CREATE TABLE IF NOT EXISTS cutover.erasure_log (
  run_key text NOT NULL, subject jsonb NOT NULL, table_name text NOT NULL, rows integer NOT NULL,
  action text NOT NULL, at timestamptz NOT NULL DEFAULT now());
-- Erasure requests re-applied after a rollback by restore: which register asked, in which step.
ALTER TABLE cutover.erasure_log ADD COLUMN IF NOT EXISTS register text;
ALTER TABLE cutover.erasure_log ADD COLUMN IF NOT EXISTS step text;
-- Erasures applied after publish: the subject's key in production (translated through the id map); subject is the Pilot's.
ALTER TABLE cutover.erasure_log ADD COLUMN IF NOT EXISTS production_subject jsonb;
-- A rollback by restore's result, written in its own transaction: a retry returns it instead of restoring again.
ALTER TABLE cutover.run ADD COLUMN IF NOT EXISTS restored_at timestamptz;
ALTER TABLE cutover.run ADD COLUMN IF NOT EXISTS restore_result jsonb;
-- adopt: the date from which the adopted Pilot counts as Production, and when that was recorded.
ALTER TABLE cutover.run ADD COLUMN IF NOT EXISTS adopt_from date;
ALTER TABLE cutover.run ADD COLUMN IF NOT EXISTS adopted_at timestamptz;
CREATE TABLE IF NOT EXISTS cutover.evidence (
  run_key text PRIMARY KEY, plan_id text NOT NULL, plan_hash text NOT NULL, pack jsonb NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now());
-- The pack's exact bytes as written (jsonb reorders keys), their sha256 and the copy in the backup store.
ALTER TABLE cutover.evidence ADD COLUMN IF NOT EXISTS pack_text text;
ALTER TABLE cutover.evidence ADD COLUMN IF NOT EXISTS sha256 text;
ALTER TABLE cutover.evidence ADD COLUMN IF NOT EXISTS location text;
-- Erasure replays after a restore (workflow cutoverErasureReplay): their evidence packs.
CREATE TABLE IF NOT EXISTS cutover.erasure_replay (
  replay_key text PRIMARY KEY, target text NOT NULL, since text NOT NULL, since_at timestamptz NOT NULL,
  pack jsonb NOT NULL, pack_text text NOT NULL, sha256 text NOT NULL, location text, written_at timestamptz NOT NULL DEFAULT now());
`;

export async function ensureControlSchema(client: Client): Promise<void> {
  // Serialised so two runs starting together don't race on CREATE … IF NOT EXISTS.
  await inTransaction(client, async () => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('cutover.control-schema'))");
    await client.query(DDL);
  });
}

/** Same shape as cutover.manifest (a view; cutover.manifest_rows is what cleanup writes), per session: the dry run writes nothing that outlives it. */
export const DRY_MANIFEST_DDL =
  'CREATE TEMP TABLE IF NOT EXISTS manifest (run_key text NOT NULL, table_name text NOT NULL, key jsonb NOT NULL, outcome text NOT NULL, reason text)';
