/**
 * The shape every windowed rule shares, defined on the set of rows, not on the order they arrive in: a burst of a
 * key is a window of `minutes` ending at one of its rows, `(end − minutes, end]`, whose rows reach the rule's
 * threshold; a finding stands for the rows some burst window covers. A hub's partitions are read at different
 * paces, so a batch's rows may land before, between or after stored ones: a new row can complete windows ending
 * at it and at stored rows up to `minutes` after it, and uncover nothing. Each batch therefore counts the rows its
 * new bursts cover that no burst covered before (`newBursts`): summed over batches, in any order, that is the
 * number of rows covered by some burst of the whole set — what an in-order read counts too.
 * The rows come from `StoredWindows` (the detector reads each table once a batch over every rule's span, and the
 * batch's own rows are already in the table), so counting costs no query of its own.
 */
import type { StoredSpan, StoredTable } from '../stored-windows.js';

/** A stored row as windows count it: its server, its time in epoch microseconds. */
export interface TimedRow {
  server: string;
  atMicros: number;
}

/** One of the batch's own rows, as the table holds it: its server, key and time (and value, for distinct counts). */
export interface FreshRow {
  server: string;
  key: string | null;
  atMicros: number;
  value?: string | null;
}

/** How a rule counts: rows of a key that pass `where`, a burst when their count (or distinct `distinctBy`s) reaches `threshold`. */
export interface BurstCount<R extends TimedRow> {
  keyOf: (row: R) => string | null;
  where: (row: R) => boolean;
  minutes: number;
  threshold: number;
  /** Count distinct non-null values of this instead of rows (a spray counts users). */
  distinctBy?: (row: R) => string | null;
}

/** What a batch's rows added to the bursts of one key. */
export interface NewBurst<R extends TimedRow> {
  server: string;
  key: string;
  /** The end of the latest new burst window. */
  at: Date;
  /** The earliest row of the new burst windows. */
  firstAt: Date;
  /** Rows the new bursts cover that no burst covered before: what the finding adds to its alert. */
  added: number;
  /** The rows of the largest new burst window (by the rule's measure). */
  largest: R[];
}

/**
 * The span of `table` a batch's rows need read: windows holding one of them end up to `minutes` after the latest,
 * and whether a row they cover was covered before depends on windows ending up to `minutes` after that row, each
 * reaching `minutes` back. Null for no rows.
 */
export function spanOf<T extends StoredTable>(table: T, fresh: readonly { atMicros: number }[], minutes: number): StoredSpan<T> | null {
  if (fresh.length === 0) return null;
  let first = Infinity;
  let last = -Infinity;
  for (const r of fresh) {
    first = Math.min(first, r.atMicros);
    last = Math.max(last, r.atMicros);
  }
  const reach = 2 * windowMicros(minutes);
  return { table, fromMicros: first - reach, toMicros: last + reach };
}

/**
 * `spanOf` the rows that have a key, naming their keys: the rows `newBursts` counts are those of the keys of the
 * batch's own rows, so no other key's rows need be read. Only for a table whose key column is the rule's `keyOf`
 * (`StoredSpan.keys`).
 */
export function keyedSpanOf<T extends StoredTable>(table: T, fresh: readonly FreshRow[], minutes: number): StoredSpan<T> | null {
  const span = spanOf(table, fresh.filter((r) => r.key !== null), minutes);
  return span === null ? null : { ...span, keys: keysOf(fresh) };
}

/** The distinct keys of some rows; a row without one has none to add. */
export function keysOf(rows: readonly FreshRow[]): string[] {
  const keys = new Set<string>();
  for (const r of rows) if (r.key !== null) keys.add(r.key);
  return [...keys];
}

/** A window's length in microseconds. */
export function windowMicros(minutes: number): number {
  return Math.round(minutes * 60_000_000);
}

const groupKey = (server: string, key: string) => `${server}\u0000${key}`;
const freshKey = (server: string, key: string, atMicros: number, value: string | null | undefined) => `${server}\u0000${key}\u0000${atMicros}\u0000${value ?? ''}`;

/**
 * The new bursts of each key the batch has rows of. `rows` are the stored rows read over `spanOf(fresh)` (the
 * batch's own among them); `fresh` are the batch's rows, matched to stored ones by server, key, time and value.
 */
export function newBursts<R extends TimedRow>(rows: readonly R[], fresh: readonly FreshRow[], rule: BurstCount<R>): NewBurst<R>[] {
  // Every rule's count of one shape, `distinctBy` or not: the compiled counting code then meets one shape, where a
  // second rule's would make it deoptimize and compile again (issue 21's profile).
  const count: BurstCount<R> = { keyOf: rule.keyOf, where: rule.where, minutes: rule.minutes, threshold: rule.threshold, distinctBy: rule.distinctBy };
  const unmatched = new Map<string, number>();
  const groups = new Map<string, { server: string; key: string; rows: R[]; isFresh: boolean[] }>();
  for (const f of fresh) {
    if (f.key === null) continue;
    const k = freshKey(f.server, f.key, f.atMicros, count.distinctBy ? f.value : null);
    unmatched.set(k, (unmatched.get(k) ?? 0) + 1);
    const g = groupKey(f.server, f.key);
    if (!groups.has(g)) groups.set(g, { server: f.server, key: f.key, rows: [], isFresh: [] });
  }
  for (const row of rows) {
    const key = count.keyOf(row);
    if (key === null || !count.where(row)) continue;
    const g = groups.get(groupKey(row.server, key));
    if (!g) continue;
    g.rows.push(row);
  }
  const out: NewBurst<R>[] = [];
  for (const g of groups.values()) {
    g.rows.sort((a, b) => a.atMicros - b.atMicros);
    const isFresh = g.rows.map((row) => {
      const k = freshKey(row.server, g.key, row.atMicros, count.distinctBy ? count.distinctBy(row) : null);
      const left = unmatched.get(k) ?? 0;
      if (left === 0) return false;
      unmatched.set(k, left - 1);
      return true;
    });
    const burst = burstsOfKey(g.rows, isFresh, count);
    if (burst) out.push({ server: g.server, key: g.key, ...burst });
  }
  return out;
}

/** The sliding measure of a window: its rows, or its distinct values. */
class Measure<R> {
  private n = 0;
  private readonly values = new Map<string, number>();
  constructor(private readonly distinctBy?: (row: R) => string | null) {}
  add(row: R): void {
    if (!this.distinctBy) return void this.n++;
    const v = this.distinctBy(row);
    if (v !== null) this.values.set(v, (this.values.get(v) ?? 0) + 1);
  }
  remove(row: R): void {
    if (!this.distinctBy) return void this.n--;
    const v = this.distinctBy(row);
    if (v === null) return;
    const left = this.values.get(v)! - 1;
    if (left === 0) this.values.delete(v);
    else this.values.set(v, left);
  }
  get value(): number {
    return this.distinctBy ? this.values.size : this.n;
  }
}

/** A burst window: rows [from, to) of the sorted rows, and its measure. */
interface Window {
  from: number;
  to: number;
  value: number;
}

/**
 * Burst windows over the sorted rows, leaving out those `skip` marks (null: none), one per distinct row time (a window
 * ending between rows holds no more than the one ending at its latest row, so these cover what any window covers).
 * The rows left out are marks, not a predicate: a second predicate would make the compiled loop deoptimize.
 */
function burstWindows<R extends TimedRow>(rows: readonly R[], skip: readonly boolean[] | null, count: BurstCount<R>): Window[] {
  const w = windowMicros(count.minutes);
  const measure = new Measure<R>(count.distinctBy);
  const out: Window[] = [];
  let from = 0;
  let to = 0;
  while (to < rows.length) {
    const end = rows[to]!.atMicros;
    while (to < rows.length && rows[to]!.atMicros === end) {
      if (skip === null || !skip[to]) measure.add(rows[to]!);
      to++;
    }
    while (rows[from]!.atMicros <= end - w) {
      if (skip === null || !skip[from]) measure.remove(rows[from]!);
      from++;
    }
    if (measure.value >= count.threshold) out.push({ from, to, value: measure.value });
  }
  return out;
}

/** Marks the rows the windows cover (but those `skip` marks). */
function covered(n: number, windows: readonly Window[], skip: readonly boolean[] | null): boolean[] {
  const marks = new Array<boolean>(n).fill(false);
  let reached = 0;
  for (const win of windows) {
    for (let i = Math.max(win.from, reached); i < win.to; i++) if (skip === null || !skip[i]) marks[i] = true;
    reached = Math.max(reached, win.to);
  }
  return marks;
}

function burstsOfKey<R extends TimedRow>(rows: readonly R[], isFresh: readonly boolean[], count: BurstCount<R>): Omit<NewBurst<R>, 'server' | 'key'> | null {
  if (!isFresh.includes(true)) return null;
  const now = burstWindows(rows, null, count);
  // Only windows holding a batch's row can be new bursts: one of old rows only was a burst before, or is not now.
  const freshBefore = [0];
  for (let i = 0; i < rows.length; i++) freshBefore.push(freshBefore[i]! + (isFresh[i] ? 1 : 0));
  const fresher = now.filter((win) => freshBefore[win.to]! > freshBefore[win.from]!);
  if (fresher.length === 0) return null;
  // Before the batch: the windows of the old rows only (the batch's are left out).
  const before = covered(rows.length, burstWindows(rows, isFresh, count), isFresh);
  const after = covered(rows.length, fresher, null);
  let added = 0;
  let first = Infinity;
  for (let i = 0; i < rows.length; i++) {
    if (!after[i]) continue;
    first = Math.min(first, rows[i]!.atMicros);
    if (!before[i]) added++;
  }
  if (added === 0) return null;
  let largest = fresher[0]!;
  for (const win of fresher) if (win.value >= largest.value) largest = win;
  const last = fresher[fresher.length - 1]!;
  return {
    at: new Date(Math.trunc(rows[last.to - 1]!.atMicros / 1000)),
    firstAt: new Date(Math.trunc(first / 1000)),
    added,
    largest: rows.slice(largest.from, largest.to),
  };
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
