// The `cutover` schema in the target: run registry, manifest, id map, erasure log, evidence.
import type { Client } from 'pg';

const DDL = `
CREATE SCHEMA IF NOT EXISTS cutover;
CREATE TABLE IF NOT EXISTS cutover.run (
  run_key text PRIMARY KEY, plan_id text NOT NULL, workflow_id text NOT NULL, run_id text NOT NULL,
  plan_hash text NOT NULL, status text NOT NULL, started_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz, finished_at timestamptz, publish_result jsonb);
ALTER TABLE cutover.run ADD COLUMN IF NOT EXISTS cleanup_result jsonb;
-- A surgical rollback's proof, written in its own transaction: a retry returns it instead of deleting again.
ALTER TABLE cutover.run ADD COLUMN IF NOT EXISTS rolled_back_at timestamptz;
ALTER TABLE cutover.run ADD COLUMN IF NOT EXISTS rollback_result jsonb;
CREATE TABLE IF NOT EXISTS cutover.manifest (
  run_key text NOT NULL, table_name text NOT NULL, key jsonb NOT NULL, outcome text NOT NULL, reason text);
CREATE INDEX IF NOT EXISTS manifest_run ON cutover.manifest (run_key, table_name);
CREATE TABLE IF NOT EXISTS cutover.id_map (
  run_key text NOT NULL, table_name text NOT NULL, old_key jsonb NOT NULL, new_key jsonb NOT NULL, outcome text NOT NULL);
CREATE INDEX IF NOT EXISTS id_map_run ON cutover.id_map (run_key, table_name);
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
`;

export async function ensureControlSchema(client: Client): Promise<void> {
  // Serialised so two runs starting together don't race on CREATE … IF NOT EXISTS.
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('cutover.control-schema'))");
    await client.query(DDL);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  }
}

/** Same shape as cutover.manifest, per session: the dry run writes nothing that outlives it. */
export const DRY_MANIFEST_DDL =
  'CREATE TEMP TABLE IF NOT EXISTS manifest (run_key text NOT NULL, table_name text NOT NULL, key jsonb NOT NULL, outcome text NOT NULL, reason text)';
