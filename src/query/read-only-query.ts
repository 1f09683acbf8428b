/**
 * Runs user SQL without letting it change anything. Three layers, each enforced by DuckDB:
 *
 * 1. DuckDB's own parser classifies every statement (extract_statements + the prepared statement's type,
 *    which runs nothing): only SELECT (also SHOW, DESCRIBE, SUMMARIZE, FROM-first, table PRAGMAs) and plain
 *    EXPLAIN are executed. EXPLAIN ANALYZE executes its statement, and DuckDB calls it EXPLAIN all the same,
 *    so an EXPLAIN is refused whenever the text holds ANALYZE or ANALYSE anywhere (a keyword cannot be split
 *    by comments, and DuckDB has no unicode-escaped identifiers).
 * 2. Every read runs in a READ ONLY transaction (see read-only-session.ts): writes, nextval included, fail.
 * 3. The instance is confined (see confine-database.ts): no file outside the store can be read or written.
 */
import { StatementType, VARCHAR, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import type { Rows } from './format-rows.js';
import { toPlain, type PlainValue } from './row-values.js';

const READ_ONLY_TYPES: ReadonlySet<StatementType> = new Set([StatementType.SELECT, StatementType.EXPLAIN]);

/** Anywhere in the text: inside a comment or a string it refuses a harmless EXPLAIN, never misses a real one. */
const MAY_ANALYZE = /analy[sz]e|u&/i;

export class ReadOnlyViolation extends Error {
  override name = 'ReadOnlyViolation';
}

export class ResultTooLarge extends Error {
  override name = 'ResultTooLarge';
}

export type QueryParams = Readonly<Record<string, string | null>>;

/** Prepares every statement of `sql` and throws ReadOnlyViolation, before running any, if one could write. */
export async function prepareReadOnly(connection: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement[]> {
  const extracted = await connection.extractStatements(sql);
  if (extracted.count === 0) throw new Error('the SQL holds no statement');
  const prepared: DuckDBPreparedStatement[] = [];
  try {
    for (let i = 0; i < extracted.count; i++) {
      const statement = await extracted.prepare(i);
      prepared.push(statement);
      const type = statement.statementType;
      if (!READ_ONLY_TYPES.has(type)) {
        throw new ReadOnlyViolation(
          `refused: statement ${i + 1} is ${StatementType[type] ?? type}; queries are read-only (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN only). Use 'auditduck export' to write files.`,
        );
      }
      if (type === StatementType.EXPLAIN && MAY_ANALYZE.test(sql)) {
        throw new ReadOnlyViolation('refused: EXPLAIN ANALYZE runs its statement; use plain EXPLAIN (with no "analyze" anywhere in the text), or run the SELECT itself');
      }
    }
  } catch (error) {
    for (const statement of prepared) statement.destroySync();
    throw error;
  }
  return prepared;
}

/**
 * Runs read-only SQL and returns the rows of its last statement, reading chunk by chunk and refusing a
 * result past `maxRows` rows before it is held in memory. Parameters bind as VARCHAR by name (`$since`),
 * never spliced into the text; each statement gets the ones it names.
 */
export async function runReadOnly(connection: DuckDBConnection, sql: string, params: QueryParams = {}, maxRows = Number.POSITIVE_INFINITY): Promise<Rows> {
  const statements = await prepareReadOnly(connection, sql);
  let result: Rows = { columns: [], rows: [] };
  try {
    for (const statement of statements) {
      bindByName(statement, params);
      result = await readCapped(statement, maxRows);
    }
  } finally {
    for (const statement of statements) statement.destroySync();
  }
  return result;
}

async function readCapped(statement: DuckDBPreparedStatement, maxRows: number): Promise<Rows> {
  const result = await statement.stream();
  const columns = result.columnNames();
  const rows: Record<string, PlainValue>[] = [];
  for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    if (rows.length + chunk.rowCount > maxRows) {
      throw new ResultTooLarge(
        `the result has more than ${maxRows} rows (AUDITDUCK_QUERY_MAX_ROWS): narrow it (WHERE, LIMIT, GROUP BY), or write it to a file with --format parquet --output FILE`,
      );
    }
    for (const row of chunk.getRowObjects(columns)) {
      const out: Record<string, PlainValue> = {};
      for (const c of columns) out[c] = toPlain(row[c] ?? null);
      rows.push(out);
    }
  }
  return { columns, rows };
}

function bindByName(statement: DuckDBPreparedStatement, params: QueryParams): void {
  for (let i = 1; i <= statement.parameterCount; i++) {
    const name = statement.parameterName(i);
    if (!(name in params)) throw new Error(`the query needs parameter $${name}: give it with --param ${name}=VALUE`);
    const value = params[name] ?? null;
    if (value === null) statement.bindNull(i);
    else statement.bindValue(i, value, VARCHAR);
  }
}

export const FILE_FORMATS = ['parquet', 'csv'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

const COPY_OPTIONS = {
  parquet: '(FORMAT parquet, COMPRESSION zstd)',
  csv: '(FORMAT csv, HEADER true)',
} satisfies Record<FileFormat, string>;

/**
 * Writes the result of one read-only query to a file with DuckDB's COPY, which keeps column types
 * (timestamps stay timestamps in Parquet) and streams to disk (no row cap). The query is checked on its
 * own first; the COPY around it is built here, and must still parse as exactly one COPY statement. The
 * confined instance lets it write only where the caller allowed (the --output file, an export folder).
 */
export async function copyReadOnly(connection: DuckDBConnection, sql: string, params: QueryParams, file: string, format: FileFormat): Promise<void> {
  const body = sql.trim().replace(/;+\s*$/, '');
  const checked = await prepareReadOnly(connection, body);
  for (const s of checked) s.destroySync();
  if (checked.length !== 1) throw new Error(`a ${format} file holds the result of one query; the SQL has ${checked.length} statements`);
  const copy = `COPY (\n${body}\n) TO '${file.replace(/'/g, "''")}' ${COPY_OPTIONS[format]}`;
  const extracted = await connection.extractStatements(copy);
  if (extracted.count !== 1) throw new ReadOnlyViolation('refused: the query does not stand alone inside COPY (...)');
  const statement = await extracted.prepare(0);
  try {
    if (statement.statementType !== StatementType.COPY) throw new ReadOnlyViolation('refused: the query does not stand alone inside COPY (...)');
    bindByName(statement, params);
    await statement.run();
  } finally {
    statement.destroySync();
  }
}
