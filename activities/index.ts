// Every activity the worker registers: one file per migration step. The object must satisfy the
// neutral CutoverActivities interface the workflow proxies (the compiler checks it here).
import type { CutoverActivities } from '../common/activities';
import { acceptPlan } from './accept-plan';
import { cleanup } from './cleanup';
import { finalize } from './finalize';
import { preflight } from './preflight';
import { publish } from './publish';
import { stage } from './stage';
import { validate } from './validate';
import { accessChecks } from './access-checks';
import { erasure } from './erasure';
import { rollback } from './rollback';
import { backup } from './backup';
import { restorePreview } from './restore-preview';
import { restore } from './restore';
import { rehearsalDrop, rehearsalFinish, rehearsalPrepare } from './rehearsal';
import { decommission, recommission } from './decommission';
import { adoptCleanup } from './adopt-cleanup';
import { adoptRestore } from './adopt-restore';
import { adopt } from './adopt';
import { databaseIdentity } from './database-identity';
import { erasureReplay } from './erasure-replay';
import { notices } from './notices';

export const activities = {
  acceptPlan,
  preflight,
  backup,
  rehearsalPrepare,
  rehearsalFinish,
  rehearsalDrop,
  stage,
  cleanup,
  publish,
  validate,
  accessChecks,
  erasure,
  rollback,
  restorePreview,
  restore,
  decommission,
  recommission,
  adoptCleanup,
  adoptRestore,
  adopt,
  finalize,
  databaseIdentity,
  erasureReplay,
  notices,
} satisfies CutoverActivities;
