// Step 3, backup: before anything is written to Production, a pg_dump of the target (the plan's
// tables, or the whole database with backup.scope: full) and of the Pilot's plan tables, each
// streamed into the backup store with its sha256 taken on the way, and row counts taken in the
// dump's own snapshot. Then each is verified (re-hashed from the store, listed, restored into a
// scratch database, counted) before the step succeeds. A retry writes new objects: a backup
// object is never overwritten, so what an earlier attempt wrote stays as it was; what an earlier
// attempt left unfinished (a partial file, an object without sidecar, a multipart upload) is removed.
// The same holds for a fresh target backup taken before a failed rehearsal is retried (input.only:
// target): new objects beside the first backup, which stays recorded.
import { planHash as hashOf } from '../plan/canonical';
import { backupError, planIssue } from './errors';
import { resolveAlias } from './db/connect';
import { dumpToStore } from './backup/backup-dump';
import { verifyBackup } from './backup/backup-verify';
import { startProgress } from './db/progress';
import { openStore, StoreError } from './store';
import type { BackupInput, BackupObject, BackupResult } from '../common/results';
import { chaosPoint } from './db/fault';

export { restoreTables, type RestoreMode, type RestoreReport, type Restorable } from './db/restore-tables';

export async function backup(input: BackupInput): Promise<BackupResult> {
  const { plan, runKey } = input;
  if (!plan.backup) throw planIssue('backup', 'the plan has no backup section (backup.store): nothing to back up');
  // It names the scratch database and the objects: nothing but what a run key is may pass.
  if (!/^[a-z0-9]{1,40}$/.test(runKey))
    throw backupError(`backup: run key ${JSON.stringify(runKey)} must be 1 to 40 lowercase letters or digits`);
  const { store: storeUrl, scope } = plan.backup;
  const store = storeOrPlanError(storeUrl);
  // adopt never opens Production: its alias need not even resolve.
  const targetUrl = plan.strategy === 'adopt' ? '' : resolveAlias(plan.target);
  const sourceUrl = resolveAlias(plan.source);

  const createdAt = new Date().toISOString();
  const planHash = input.planHash ?? hashOf(plan);
  const stamp = createdAt.replace(/[-:.]/g, ''); // 20260102T030405123Z: each attempt its own objects
  const progress = startProgress({ phase: 'counting', backup: 'target' });
  try {
    await chaosPoint(plan.id, 'backup.start');
    // An earlier attempt of this run that was killed mid-write left its partial dump, its
    // incomplete object or its multipart upload under the run's prefix: nobody else writes there.
    for (const item of await store.temporary(`${plan.id}/${runKey}/`)) await store.removeTemporary(item);
    const dumped = [];
    // clean-start archives the whole Pilot and nothing else; otherwise the target, then the Pilot's plan tables.
    // adopt backs up the Pilot's plan tables only: they are what it cleans in place (and a rollback restores).
    const jobs: (readonly ['target' | 'source', string, string, 'touched-tables' | 'full'])[] =
      plan.strategy === 'clean-start'
        ? [['source', plan.source, sourceUrl, 'full']]
        : plan.strategy === 'adopt'
          ? [['source', plan.source, sourceUrl, 'touched-tables']]
          : input.only === 'target'
            ? [['target', plan.target, targetUrl, scope]] // a retried rehearsal's fresh backup: the Pilot's stands
            : [
                ['target', plan.target, targetUrl, scope],
                ['source', plan.source, sourceUrl, 'touched-tables'],
              ];
    for (const [kind, alias, url, s] of jobs) {
      dumped.push(
        await dumpToStore({
          kind,
          alias,
          url,
          scope: s,
          plan,
          store,
          key: `${plan.id}/${runKey}/${stamp}-${kind}.dump`,
          meta: { runKey, planHash, createdAt, labels: { kind, 'plan-id': plan.id } },
          progress,
        }),
      );
    }
    await chaosPoint(plan.id, 'backup.before-verify');
    const backups: BackupObject[] = [];
    for (const b of dumped) {
      progress.update({ phase: 'verifying', backup: b.kind });
      // An archive is verified on the Pilot's own server: a clean-start touches nothing of Production's.
      const scratchServer = plan.strategy === 'clean-start' || plan.strategy === 'adopt' ? sourceUrl : targetUrl;
      backups.push({
        ...b,
        verified: await verifyBackup(b, scratchServer, runKey, progress),
        ...(input.note ? { note: input.note, createdAt } : {}),
      });
    }
    progress.update({ phase: 'done' });
    return { planHash, createdAt, backups };
  } catch (e) {
    throw e instanceof StoreError ? backupError(e.message) : e; // missing, exists: never retried blindly
  } finally {
    progress.stop();
  }
}

function storeOrPlanError(url: string) {
  try {
    return openStore(url);
  } catch (e) {
    if (e instanceof StoreError) throw planIssue('backup.store', e.message);
    throw e;
  }
}
