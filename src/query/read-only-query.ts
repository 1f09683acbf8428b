/**
 * Runs user SQL without letting it change anything. Opening the file read-only is not enough: DuckDB still
 * lets a read-only connection ATTACH another file for writing, COPY to disk, INSTALL extensions or change
 * settings, and the query API shares the writer's database. So each statement is prepared (which runs
 * nothing) and only statement types that cannot write are executed.
 */
import { StatementType, VARCHAR, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import type { Rows } from './format-rows.js';
import { toPlain, type PlainValue } from './row-values.js';

/** SELECT covers SHOW, DESCRIBE, SUMMARIZE, FROM-first queries and table-valued PRAGMAs such as table_info. */
const READ_ONLY_TYPES: ReadonlySet<StatementType> = new Set([StatementType.SELECT, StatementType.EXPLAIN]);

/** EXPLAIN ANALYZE executes its statement, so `EXPLAIN ANALYZE DELETE ...` would delete. Plain EXPLAIN only plans. */
const EXPLAIN_ANALYZE = /\bexplain\s*(?:\(\s*)?analy[sz]e\b/i;

export class ReadOnlyViolation extends Error {
  override name = 'ReadOnlyViolation';
}

export type QueryParams = Readonly<Record<string, string | null>>;

/** Prepares every statement of `sql` and throws ReadOnlyViolation, before running any, if one could write. */
export async function prepareReadOnly(connection: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement[]> {
  const extracted = await connection.extractStatements(sql);
  if (extracted.count === 0) throw new Error('the SQL holds no statement');
  const prepared: DuckDBPreparedStatement[] = [];
  for (let i = 0; i < extracted.count; i++) {
    const statement = await extracted.prepare(i);
    const type = statement.statementType;
    if (!READ_ONLY_TYPES.has(type)) {
      statement.destroySync();
      throw new ReadOnlyViolation(
        `refused: statement ${i + 1} is ${StatementType[type] ?? type}; queries are read-only (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN only). Use 'auditduck export' to write files.`,
      );
    }
    if (type === StatementType.EXPLAIN && EXPLAIN_ANALYZE.test(sql)) {
      statement.destroySync();
      throw new ReadOnlyViolation('refused: EXPLAIN ANALYZE runs its statement; use plain EXPLAIN, or run the SELECT itself');
    }
    prepared.push(statement);
  }
  return prepared;
}

/**
 * Runs read-only SQL and returns the rows of its last statement. Parameters bind as VARCHAR by name
 * (`$since`), never spliced into the text; each statement gets the ones it names.
 */
export async function runReadOnly(connection: DuckDBConnection, sql: string, params: QueryParams = {}): Promise<Rows> {
  const statements = await prepareReadOnly(connection, sql);
  let result: Rows = { columns: [], rows: [] };
  try {
    for (const statement of statements) {
      bindByName(statement, params);
      const reader = await statement.runAndReadAll();
      const columns = reader.columnNames();
      const rows = reader.getRowObjects().map((row) => {
        const out: Record<string, PlainValue> = {};
        for (const c of columns) out[c] = toPlain(row[c] ?? null);
        return out;
      });
      result = { columns, rows };
    }
  } finally {
    for (const statement of statements) statement.destroySync();
  }
  return result;
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
 * (timestamps stay timestamps in Parquet). The query is checked on its own first; the COPY around it is
 * built here, and must still parse as exactly one COPY statement.
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
