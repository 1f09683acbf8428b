/**
 * The shape every windowed rule shares: group a batch's facts by (server, key), end each group's window at its
 * latest fact, and count over the stored table for all groups in one query (the batch's rows are already in the
 * table, so a window spanning several batches is counted whole).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Rows } from '../../query/format-rows.js';
import { runQueryOverValues } from '../../query/run-query.js';
import { sqlString } from '../../store/sql-literal.js';

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

/** What to count in each window: rows `r` of `table` whose `keyColumn` is the window's key, and which pass `where`. */
export interface WindowCount {
  table: 'auth_failures' | 'privilege_changes';
  keyColumn: string;
  /** SQL over `r`, e.g. `r.sqlstate = '28P01'`. */
  where: string;
  minutes: number;
  /** Aggregates over `r`; count a column of `r` (`count(r.logged_at)`), not `*`: an empty window is one NULL row. */
  aggregates: string;
}

/**
 * One row of aggregates per window, in the order of `windows`, in one query for all of them. The table is read
 * between the earliest window's start and the latest window's end only: DuckDB skips the row groups outside that
 * span by their min/max, so a query reads about the batch's new rows, not the whole trail.
 */
export function countInWindows(
  connection: DuckDBConnection,
  windows: readonly Pick<FactWindow<unknown>, 'server' | 'key' | 'at'>[],
  count: WindowCount,
): Promise<Rows['rows']> {
  if (windows.length === 0) return Promise.resolve([]);
  const span = count.minutes * 60_000;
  const values = windows.map((w) => {
    const since = new Date(w.at.getTime() - span).toISOString();
    return `${sqlString(w.server)}, ${sqlString(w.key)}, ${sqlString(since)}::TIMESTAMPTZ, ${sqlString(w.at.toISOString())}::TIMESTAMPTZ`;
  });
  const ends = windows.map((w) => w.at.getTime());
  const from = sqlString(new Date(Math.min(...ends) - span).toISOString());
  const to = sqlString(new Date(Math.max(...ends)).toISOString());
  return runQueryOverValues(
    connection,
    values,
    (list) => `SELECT ${count.aggregates}
       FROM ${list} w(i, w_server, w_key, w_since, w_at)
       LEFT JOIN (SELECT * FROM ${count.table} WHERE logged_at > ${from}::TIMESTAMPTZ AND logged_at <= ${to}::TIMESTAMPTZ) r
         ON r.server = w.w_server AND r.${count.keyColumn} = w.w_key AND (${count.where})
         AND r.logged_at > w.w_since AND r.logged_at <= w.w_at
       GROUP BY w.i ORDER BY w.i`,
  );
}
