import {
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBArrayValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimestampMillisecondsValue,
  type DuckDBValue,
} from '@duckdb/node-api';

export type PlainValue = string | number | boolean | null | PlainValue[] | { [key: string]: PlainValue };

/**
 * DuckDB values → what `--format json` promises (DESIGN "Contracts"): integers as numbers, timestamps
 * as ISO 8601, lists as arrays, NULL as null. Integers beyond 2^53 stay strings rather than lose digits.
 */
export function toPlain(value: DuckDBValue): PlainValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  if (value instanceof DuckDBTimestampTZValue || value instanceof DuckDBTimestampValue) return isoFromMicros(value.micros);
  if (value instanceof DuckDBTimestampMillisecondsValue) return new Date(Number(value.millis)).toISOString();
  if (value instanceof DuckDBDateValue) return value.toString();
  if (value instanceof DuckDBDecimalValue) return value.toDouble();
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) return value.items.map(toPlain);
  if (value instanceof DuckDBStructValue) return Object.fromEntries(Object.entries(value.entries).map(([k, v]) => [k, toPlain(v)]));
  if (value instanceof DuckDBMapValue) return Object.fromEntries(value.entries.map(({ key, value: v }) => [String(toPlain(key)), toPlain(v)]));
  if (value instanceof DuckDBBlobValue) return value.toString();
  return String(value);
}

function isoFromMicros(micros: bigint): string {
  return new Date(Number(micros / 1000n)).toISOString();
}
