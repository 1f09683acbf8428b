/**
 * The shape every windowed rule shares: group a batch's facts by (server, key), end each group's window at its
 * latest fact, and count the stored rows in each window. The rows come from `StoredWindows` (the detector reads
 * each table once a batch over every rule's span, and the batch's own rows are already in the table), so a window
 * spanning several batches is counted whole, and counting costs no query of its own.
 */
import type { StoredSpan, StoredTable } from '../stored-windows.js';

/** The facts of one (server, key) in the batch, and the end of the window to count them in. */
export interface FactWindow<T> {
  server: string;
  key: string;
  at: Date;
  facts: T[];
}

/** Facts grouped by server and key (facts without a key are left out), each window ending at its group's latest fact. */
export function windowsOf<T>(facts: readonly T[], keyOf: (t: T) => { server: string; key: string | null }, atOf: (t: T) => Date): FactWindow<T>[] {
  const groups = new Map<string, FactWindow<T>>();
  for (const fact of facts) {
    const { server, key } = keyOf(fact);
    if (key === null) continue;
    const k = `${server}\u0000${key}`;
    const at = atOf(fact);
    const group = groups.get(k);
    if (!group) groups.set(k, { server, key, at, facts: [fact] });
    else {
      group.facts.push(fact);
      if (at.getTime() > group.at.getTime()) group.at = at;
    }
  }
  return [...groups.values()];
}

/** The stretch of `table` that windows of `minutes` ending at each window's `at` cover; null for no windows. */
export function spanOf<T extends StoredTable>(table: T, windows: readonly Pick<FactWindow<unknown>, 'at'>[], minutes: number): StoredSpan<T> | null {
  if (windows.length === 0) return null;
  let first = Infinity;
  let last = -Infinity;
  for (const w of windows) {
    first = Math.min(first, w.at.getTime());
    last = Math.max(last, w.at.getTime());
  }
  return { table, fromMicros: windowStart(first, minutes) * 1000, toMicros: last * 1000 };
}

/** Where a window of `minutes` ending at `atMs` starts, in whole milliseconds (as a Date made from it would). */
function windowStart(atMs: number, minutes: number): number {
  return Math.trunc(atMs - minutes * 60_000);
}

/** A stored row as windows count it: its server, its time in epoch microseconds. */
export interface TimedRow {
  server: string;
  atMicros: number;
}

/**
 * The rows of each window, in the order of `windows`: rows of the window's server whose key is the window's key,
 * which pass `where`, and whose time is after the window's start (`at` − `minutes`) and at or before its end.
 */
export function rowsInWindows<R extends TimedRow>(
  rows: readonly R[],
  windows: readonly Pick<FactWindow<unknown>, 'server' | 'key' | 'at'>[],
  count: { keyOf: (row: R) => string | null; where: (row: R) => boolean; minutes: number },
): R[][] {
  if (windows.length === 0) return [];
  const byKey = new Map<string, R[]>();
  for (const row of rows) {
    const key = count.keyOf(row);
    if (key === null || !count.where(row)) continue;
    const k = `${row.server}\u0000${key}`;
    const list = byKey.get(k);
    if (list) list.push(row);
    else byKey.set(k, [row]);
  }
  return windows.map((w) => {
    const to = w.at.getTime() * 1000;
    const from = windowStart(w.at.getTime(), count.minutes) * 1000;
    return (byKey.get(`${w.server}\u0000${w.key}`) ?? []).filter((r) => r.atMicros > from && r.atMicros <= to);
  });
}

/** The earliest time of some rows (as the store reads it back: milliseconds), or null for none. */
export function earliest(rows: readonly TimedRow[]): Date | null {
  if (rows.length === 0) return null;
  let min = Infinity;
  for (const r of rows) min = Math.min(min, r.atMicros);
  return new Date(Math.trunc(min / 1000));
}

/**
 * The distinct non-null values, sorted as DuckDB sorts text (by UTF-8 bytes, which JavaScript's UTF-16 order
 * is not for characters beyond the BMP); null when there are none, as `list(DISTINCT x) FILTER (x IS NOT NULL)`.
 */
export function distinctSorted(values: readonly (string | null)[]): string[] | null {
  const set = new Set<string>();
  for (const v of values) if (v !== null) set.add(v);
  if (set.size === 0) return null;
  return [...set].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
