// The one way an activity runs statements in a transaction on one connection: BEGIN (with the
// isolation level and access mode asked), the work, COMMIT; ROLLBACK instead when the work fails,
// and the work's own error is what is thrown (a ROLLBACK that fails too, on a connection that died,
// does not hide it). Work that only measures or previews (a dry run, a restore preview) asks for
// `end: 'rollback'`: nothing it did is ever kept, whatever happens.
import type { Client } from 'pg';

export interface TransactionOptions {
  isolation?: 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';
  readOnly?: boolean;
  /** How a transaction whose work succeeded ends: COMMIT (the default), or ROLLBACK (nothing kept). */
  end?: 'commit' | 'rollback';
}

/** The BEGIN statement for these options (e.g. `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`). */
export function beginStatement(opts: TransactionOptions = {}): string {
  return ['BEGIN', ...(opts.isolation ? [`ISOLATION LEVEL ${opts.isolation}`] : []), ...(opts.readOnly ? ['READ ONLY'] : [])].join(' ');
}

export async function inTransaction<T>(db: Client, work: () => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
  await db.query(beginStatement(opts));
  let result: T;
  try {
    result = await work();
  } catch (e) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
  await db.query(opts.end === 'rollback' ? 'ROLLBACK' : 'COMMIT');
  return result;
}
