// Join helpers over a table's key columns.
import { ident } from './connect';

export const keyList = (alias: string, key: string[]) => key.map((k) => `${alias}.${ident(k)}`).join(', ');
export const keyEquals = (a: string, b: string, key: string[]) => key.map((k) => `${a}.${ident(k)} = ${b}.${ident(k)}`).join(' AND ');
export const keyJson = (alias: string, key: string[]) => `jsonb_build_array(${keyList(alias, key)})`;
