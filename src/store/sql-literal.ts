/**
 * SQL string literals, for statements sent together in one round trip (a multi-statement query takes no
 * parameters). Each await on DuckDB waits for the main thread, which is busy preparing the next batch.
 */
export function sqlString(value: string): string {
  // NUL would end the query text early: PostgreSQL names and paths cannot hold one, keys joined with it are spelled with chr(0).
  return value.split('\u0000').map((part) => `'${part.replace(/'/g, "''")}'`).join(' || chr(0) || ');
}
