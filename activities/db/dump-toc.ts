// A custom-format dump's table of contents (`pg_restore --list`), read straight from the store.
// Tables are found by the catalog OID the dump recorded for them, not by parsing names out of
// space-separated text (names may hold spaces); only sequence values carry no OID there.
import { parseTableName } from '../../plan/names';
import type { BackupStore } from '../store';
import type { BackupObject } from '../../common/results';
import { toolText } from './pg-tools';

export interface TocEntry {
  line: string; // as pg_restore prints it: usable in a --use-list file
  tableoid: number; // catalog the object lives in (1259 = pg_class), 0 for data entries
  oid: number;
  desc: string; // "TABLE public accounts owner", "TABLE DATA …", "SEQUENCE SET …"
}

const PG_CLASS = 1259;

export async function readToc(store: BackupStore, key: string, signal?: AbortSignal): Promise<TocEntry[]> {
  const text = await toolText('pg_restore', ['--list'], { stdin: await store.get(key), signal });
  const entries: TocEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+; (\d+) (\d+) (.*)$/.exec(line);
    if (m) entries.push({ line, tableoid: Number(m[1]), oid: Number(m[2]), desc: m[3] });
  }
  return entries;
}

/** Entries restoring the rows of the backup's tables and the values of their sequences. */
export function dataEntries(toc: TocEntry[], backup: Pick<BackupObject, 'tables' | 'sequences'>): TocEntry[] {
  const oids = new Set(backup.tables.filter((t) => t.hasData).map((t) => t.oid));
  const seqs = backup.sequences.map(sequenceSetPrefix);
  return toc.filter(
    (e) => (e.tableoid === 0 && oids.has(e.oid) && e.desc.startsWith('TABLE DATA ')) || seqs.some((p) => e.desc.startsWith(p)),
  );
}

/** What the backup should hold but its table of contents lacks, in words. */
export function missingFromToc(toc: TocEntry[], backup: Pick<BackupObject, 'tables' | 'sequences'>): string[] {
  const has = (tableoid: number, oid: number, prefix: string) =>
    toc.some((e) => e.tableoid === tableoid && e.oid === oid && e.desc.startsWith(prefix));
  const missing: string[] = [];
  for (const t of backup.tables) {
    if (!has(PG_CLASS, t.oid, 'TABLE ')) missing.push(`table ${t.table}`);
    if (t.hasData && !has(0, t.oid, 'TABLE DATA ')) missing.push(`rows of ${t.table}`);
  }
  for (const s of backup.sequences) {
    if (!toc.some((e) => e.desc.startsWith(sequenceSetPrefix(s)))) missing.push(`value of sequence ${s}`);
  }
  return missing;
}

function sequenceSetPrefix(sequence: string): string {
  const r = parseTableName(sequence);
  if (typeof r === 'string') throw new Error(`sequence name ${sequence} ${r}`);
  return `SEQUENCE SET ${r.schema} ${r.name} `;
}
