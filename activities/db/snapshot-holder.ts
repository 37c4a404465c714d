// Keeps a run's exported Pilot snapshot alive in this worker process, so a retried stage attempt
// can rejoin it (SET TRANSACTION SNAPSHOT) instead of mixing snapshots. Another process cannot
// rejoin: the caller then restages everything from a new snapshot and records that.
import type { Client } from 'pg';
import { connect } from './connect';

interface Held {
  client: Client;
  snapshot: string;
  /** When it was taken, by the Pilot's clock (ISO): what retention periods are measured from. */
  at: string;
  timer: NodeJS.Timeout;
}
const held = new Map<string, Held>();
const IDLE_MS = 30 * 60 * 1000; // an abandoned run must not hold an open transaction forever

export async function holdSnapshot(runKey: string, url: string): Promise<{ snapshot: string; fresh: boolean; at: string }> {
  const h = held.get(runKey);
  if (h) {
    h.timer.refresh();
    return { snapshot: h.snapshot, fresh: false, at: h.at };
  }
  const client = await connect(url, `cutover:${runKey}:snapshot`);
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const row = (await client.query<{ s: string; at: Date }>('SELECT pg_export_snapshot() AS s, now() AS at')).rows[0];
  const snapshot = row.s;
  const at = row.at.toISOString();
  const timer = setTimeout(() => void releaseSnapshot(runKey), IDLE_MS);
  timer.unref();
  // A dropped holder connection just means the snapshot is gone; the next attempt starts afresh.
  client.on('error', () => void releaseSnapshot(runKey));
  held.set(runKey, { client, snapshot, at, timer });
  return { snapshot, fresh: true, at };
}

export async function releaseSnapshot(runKey: string): Promise<void> {
  const h = held.get(runKey);
  if (!h) return;
  held.delete(runKey);
  clearTimeout(h.timer);
  await h.client.end().catch(() => undefined);
}

/** Open a read transaction on `client` in the held snapshot. */
export async function joinSnapshot(client: Client, snapshot: string): Promise<void> {
  if (!/^[0-9A-F-]+$/i.test(snapshot)) throw new Error(`unexpected snapshot id ${snapshot}`);
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await client.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
}
