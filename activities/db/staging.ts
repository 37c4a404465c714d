// Names inside a run's staging schema. Plan-table index keeps names unique within 63 bytes.
import { qualified } from './connect';

/** Column of a gone-keys table: the chain of causes of the removed row, from its own reason to the root. */
export const CAUSE = 'cutover_cause';

export function stagingSchema(runKey: string): string {
  return `cutover_stage_${runKey}`;
}

export class StagingNames {
  /** `schema` is cutover_stage_<runKey>, or pg_temp for the dry run. */
  constructor(
    readonly schema: string,
    readonly manifest: string,
  ) {}

  data(index: number, name: string): string {
    // Index first keeps names unique; the rest is only a readable hint (ASCII, so it fits 63 bytes).
    const hint = name
      .replace(/^public\./, '')
      .replace(/[^A-Za-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '');
    return qualified(this.schema, `t${index}_${hint}`.slice(0, 63));
  }
  /** Keys removed from table #index by cleanup (drives the cascade). */
  gone(index: number): string {
    return qualified(this.schema, `g${index}`);
  }
  /** Old key → new key for ids new/match. */
  map(index: number): string {
    return qualified(this.schema, `m${index}`);
  }
  /** Steps done on this staging (stage, cleanup) with their results: guards that die with the staging. */
  steps(): string {
    return qualified(this.schema, 'steps');
  }
  /** Pilot key and natural key of ids: match rows that staged rows reference: for finding them in production, never published. */
  lookup(index: number): string {
    return qualified(this.schema, `l${index}`);
  }
  /** Lookup rows found in production by natural key: o0.. Pilot key → n0.. production key (a map). */
  found(index: number): string {
    return qualified(this.schema, `f${index}`);
  }
  /** These names with the lookup rows as data and what was found as their map, so buildMap matches them. */
  lookups(): StagingNames {
    return new LookupNames(this.schema, this.manifest);
  }
  consented(): string {
    return qualified(this.schema, 'consented_subjects');
  }
  erased(): string {
    return qualified(this.schema, 'erased_subjects');
  }
}

class LookupNames extends StagingNames {
  override data(index: number): string {
    return this.lookup(index);
  }
  override map(index: number): string {
    return this.found(index);
  }
}

export const runNames = (runKey: string) => new StagingNames(stagingSchema(runKey), 'cutover.manifest_rows');
export const dryNames = () => new StagingNames('pg_temp', 'pg_temp.manifest');
