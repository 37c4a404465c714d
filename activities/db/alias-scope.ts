// One activity's view of the connection aliases: each alias is read from the worker's configuration
// once per activity (the first use) and keeps that URL until the activity ends. So the URL whose
// database identity was checked (activities/db/alias-identity.ts) is the URL every connection of
// the activity uses, while the next activity reads the configuration afresh (no worker restart).
import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<Map<string, string>>();

/** Run `fn` (one activity) with its own alias → URL pins. */
export function withAliasScope<T>(fn: () => Promise<T>): Promise<T> {
  return scope.run(new Map(), fn);
}

/** The URL `alias` is pinned to in this activity, read (and pinned) now if it is not yet. Outside an activity: read each time. */
export function pinnedAlias(alias: string, read: (alias: string) => string): string {
  const pins = scope.getStore();
  if (!pins) return read(alias);
  let url = pins.get(alias);
  if (url === undefined) {
    url = read(alias);
    pins.set(alias, url);
  }
  return url;
}

/** The URLs resolved so far in this activity (to redact their passwords from its errors). */
export function pinnedUrls(): string[] {
  return [...(scope.getStore()?.values() ?? [])];
}
