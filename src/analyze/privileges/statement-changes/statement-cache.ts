/**
 * The same statements recur (apps, migrations) and parsing is the expensive part: a bounded LRU of the events
 * of each (context, text). A text that may hold a secret is never kept as a key: it would outlive the entry in memory.
 */
import { SECRET_HINT } from '../../../redact/index.js';
import type { StatementContext, StatementEvent } from './statement-event.js';

const CACHE_LIMIT = 10_000;
const cache = new Map<string, StatementEvent[]>();

/** The cached events of `sql` in `ctx`, or `analyze`'s, kept unless the text hints at a secret. */
export function cachedEvents(sql: string, ctx: StatementContext, analyze: (sql: string, ctx: StatementContext) => StatementEvent[]): StatementEvent[] {
  const key = `${ctx.truncated ? 't' : 'f'}|${ctx.command ?? ''}|${sql}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // re-insert: Map order is the LRU order
    cache.set(key, hit);
    return hit;
  }
  const events = analyze(sql, ctx);
  if (!SECRET_HINT.test(sql)) {
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, events);
  }
  return events;
}

/** The texts the cache holds, for diagnostics and for the test that none holds a secret. */
export function cachedStatements(): IterableIterator<string> {
  return cache.keys();
}
