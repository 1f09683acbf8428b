/**
 * Late attribution as the lake's readers apply it. Files are never rewritten, so a row exported before its
 * session's user was known stays without it in Parquet; the fill is a row of `attribution_fills` of its own.
 * Each reader joins a row to its session's fills and applies the store's own rule (`LATE_FILLED`, the one its
 * UPDATEs are written from), so the lake's tables read as the store's. docs/lake.md gives this SQL to other engines.
 */
import { LATE_FILLED, sessionFills, type FilledTable } from '../store/late-attribution.js';

/** The tables a fill applies to. */
export function filledTable(name: string): FilledTable | undefined {
  return LATE_FILLED.find((f) => f.table === name);
}

/** The value a reader shows for `column` of a row (alias `row`) of `filled`, its session's fills being `fill`. */
export function filledColumn(filled: FilledTable, column: string, row: string, fill: string): string {
  const from = filled.columns.find(([c]) => c === column)?.[1];
  if (from === undefined) return `${row}."${column}"`;
  return `CASE WHEN ${filled.missing(row, fill)} THEN coalesce(${row}."${column}", ${fill}.${from}) ELSE ${row}."${column}" END`;
}

/** The join of a table's rows (alias `row`) to their session's fills, named `fill`. */
export function joinFills(fills: string, row: string, fill: string): string {
  return `LEFT JOIN ${sessionFills(fills)} AS ${fill} ON ${fill}.server = ${row}.server AND ${fill}.session_id = ${row}.session_id`;
}
