// Step 12, finalize: the evidence pack (common/evidence.ts, schemaVersion 1) is built from the
// run's record, written next to the backups in the backup store (when the plan has one; never
// overwritten) and into cutover.evidence with its sha256, taken over the exact bytes written;
// staging is dropped and the run's end state recorded. Also called at abort, rollback, rejection
// and expiry; a run that wrote nothing to Production (rejected, expired) creates no control schema
// there: its pack goes to cutover.evidence only where that schema already exists. With payload
// encryption on (CUTOVER_CODEC_KEYS) both copies are sealed with the same keys (common/evidence-seal.ts).
import { createHash } from 'node:crypto';
import type { Client } from 'pg';
import { codecFromEnv } from '../common/data-converter';
import { asEvidence, evidenceText } from '../common/evidence';
import { sealEvidence } from '../common/evidence-seal';
import type { FinalizeInput, FinalizeResult } from '../common/results';
import { ident, withClient } from './db/connect';
import { ensureControlSchema } from './db/control-schema';
import { stagingSchema } from './db/staging';
import { backupError } from './errors';
import { openStore, StoreError } from './store';
import { putOnce } from './store/once';
import { idPairsKey, readIdPairs } from './id-pairs';
import { inTransaction } from './db/transaction';

/** Object key of a run's evidence pack in the backup store, next to its backups. */
export const evidenceKey = (planId: string, runKey: string): string => `${planId}/${runKey}/evidence.json`;

export async function finalize(input: FinalizeInput): Promise<FinalizeResult> {
  const doc = asEvidence(input.pack);
  if (input.plan.backup && input.plan.strategy === 'selective' && input.pack.publish) doc.idChanges.pairsFile = await storeIdPairs(input);
  const bytes = Buffer.from(await sealEvidence(evidenceText(doc), codecFromEnv()), 'utf8');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let location: string | null = null;
  if (input.plan.backup) {
    try {
      const stored = await putOnce(openStore(input.plan.backup.store), evidenceKey(input.plan.id, input.runKey), bytes, {
        runKey: input.runKey,
        planHash: doc.run.planHash,
        createdAt: new Date().toISOString(),
        labels: { kind: 'evidence', 'plan-id': input.plan.id },
      });
      location = stored.location;
    } catch (e) {
      throw e instanceof StoreError ? backupError(`evidence: ${e.message}`) : e;
    }
  }
  // clean-start writes nothing to Production, not even its control schema: the pack is in the store.
  if (input.plan.strategy === 'clean-start') return { evidenceRows: 0, sha256, bytes: bytes.length, location };
  // adopt: the Pilot is Production now; its own cutover schema holds the run, manifest and evidence.
  const home = input.plan.strategy === 'adopt' ? input.plan.source : input.plan.target;
  const database = await withClient(home, async (target) => {
    if (input.onlyIfControlSchema && !(await controlSchemaExists(target))) {
      // Rejected or expired before anything was written but the dry run's staging: it goes too.
      await target.query(`DROP SCHEMA IF EXISTS ${ident(stagingSchema(input.runKey))} CASCADE`);
      return false;
    }
    await ensureControlSchema(target);
    await inTransaction(target, async () => {
      await target.query(
        `INSERT INTO cutover.evidence (run_key, plan_id, plan_hash, pack, pack_text, sha256, location) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (run_key) DO UPDATE SET pack = EXCLUDED.pack, pack_text = EXCLUDED.pack_text, sha256 = EXCLUDED.sha256, location = EXCLUDED.location, written_at = now()`,
        [input.runKey, input.plan.id, doc.run.planHash, bytes.toString('utf8'), bytes.toString('utf8'), sha256, location],
      );
      await target.query(
        `INSERT INTO cutover.run (run_key, plan_id, workflow_id, run_id, plan_hash, status, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT (run_key) DO UPDATE SET status = EXCLUDED.status, finished_at = now()`,
        [input.runKey, input.plan.id, input.workflowId, input.runId, doc.run.planHash, input.status],
      );
      await target.query(`DROP SCHEMA IF EXISTS ${ident(stagingSchema(input.runKey))} CASCADE`);
    });
    return true;
  });
  return { evidenceRows: database ? 1 : 0, sha256, bytes: bytes.length, location };
}

/**
 * The run's id pairs (activities/id-pairs.ts) as one file next to the pack, written once; its sha256
 * goes into the pack. null when nothing was recorded.
 */
async function storeIdPairs(input: FinalizeInput): Promise<{ location: string; sha256: string; rows: number } | null> {
  const pairs = await withClient(input.plan.target, (db) => readIdPairs(db, input.runKey));
  if (pairs.rows === 0) return null;
  try {
    const stored = await putOnce(
      openStore(input.plan.backup!.store),
      idPairsKey(input.plan.id, input.runKey),
      Buffer.from(pairs.text, 'utf8'),
      {
        runKey: input.runKey,
        planHash: input.pack.planHash,
        createdAt: new Date().toISOString(),
        labels: { kind: 'id-pairs', 'plan-id': input.plan.id },
      },
    );
    return { location: stored.location, sha256: stored.sha256, rows: pairs.rows };
  } catch (e) {
    throw e instanceof StoreError ? backupError(`id pairs: ${e.message}`) : e;
  }
}

async function controlSchemaExists(db: Client): Promise<boolean> {
  return (await db.query("SELECT 1 FROM pg_namespace WHERE nspname = 'cutover'")).rowCount === 1;
}
