// Streaming COPY from a source query into a target table: bounded memory (backpressure through pipeline).
// One COPY is one statement: a failure leaves none of its rows behind.
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { ident } from './connect';
import { copied } from './reclaim';

export async function copyQuery(
  source: Client,
  selectSql: string,
  target: Client,
  destTable: string, // already quoted
  columns: string[],
  /** May return a promise (the chaos suite holding mid-stream): the stream waits for it. */
  onProgress?: (rows: number) => void | Promise<void>,
): Promise<number> {
  const out = source.query(copyTo(`COPY (${selectSql}) TO STDOUT`));
  const into = target.query(copyFrom(`COPY ${destTable} (${columns.map(ident).join(', ')}) FROM STDIN`));
  let rows = 0;
  // In COPY text format a raw newline only ever ends a row (embedded ones are escaped as \n).
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      copied(chunk.length);
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
      let held: void | Promise<void>;
      try {
        held = onProgress?.(rows);
      } catch (e) {
        return done(e as Error);
      }
      if (held)
        held.then(
          () => done(null, chunk),
          (e: Error) => done(e),
        );
      else done(null, chunk);
    },
  });
  await pipeline(out, counter, into);
  onProgress?.(rows);
  return Number((into as unknown as { rowCount?: number }).rowCount ?? rows);
}
