import {
  BIGINT,
  BOOLEAN,
  DuckDBDataChunk,
  DuckDBTimestampTZValue,
  INTEGER,
  LIST,
  listValue,
  TIMESTAMPTZ,
  VARCHAR,
  type DuckDBAppender,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { createRequire } from 'node:module';
import type bindingsModule from '@duckdb/node-bindings';

/** The very bindings @duckdb/node-api uses (its own dependency, resolved from it): one native module. */
const bindings = createRequire(createRequire(import.meta.url).resolve('@duckdb/node-api'))('@duckdb/node-bindings') as typeof bindingsModule;

/**
 * Rows gathered column by column and appended as DuckDB data chunks: per-value appender calls cost
 * most of the CPU on the ingest path (facts: ~49k rows/s row by row), chunks avoid them.
 */
export type ColumnKind = 'varchar' | 'integer' | 'bigint' | 'timestamptz' | 'boolean' | 'varchar[]' | 'json';

const DUCKDB_TYPES = {
  varchar: VARCHAR,
  integer: INTEGER,
  bigint: BIGINT,
  timestamptz: TIMESTAMPTZ,
  boolean: BOOLEAN,
  'varchar[]': LIST(VARCHAR),
  // JSON is VARCHAR underneath; the appender casts.
  json: VARCHAR,
} satisfies Record<ColumnKind, DuckDBType>;

type JsValue<K extends ColumnKind> = K extends 'varchar' | 'json' ? string : K extends 'varchar[]' ? readonly string[] : K extends 'timestamptz' ? Date : K extends 'boolean' ? boolean : number;

export type ColumnSpec = readonly (readonly [name: string, kind: ColumnKind])[];
export type RowOf<S extends ColumnSpec> = { [I in keyof S]: S[I] extends readonly [string, infer K extends ColumnKind] ? JsValue<K> | null : never };

const CHUNK_ROWS = 2048;

/** What the store needs of a table of gathered rows, whatever its columns. */
export interface AppendableRows {
  readonly table: string;
  readonly size: number;
  appendTo(appender: DuckDBAppender): void;
}

export class ColumnarTable<S extends ColumnSpec> implements AppendableRows {
  private columns: (DuckDBValue | null)[][];
  private readonly types: DuckDBType[];
  /** Columns whose values are strings or null (varchar, json): written to the vector directly. */
  private readonly stringColumns: boolean[];

  constructor(
    readonly table: string,
    readonly spec: S,
  ) {
    this.columns = spec.map(() => []);
    this.types = spec.map(([, kind]) => DUCKDB_TYPES[kind]);
    this.stringColumns = spec.map(([, kind]) => kind === 'varchar' || kind === 'json');
  }

  get size(): number {
    return this.columns[0]?.length ?? 0;
  }

  push(row: RowOf<S>): void {
    const values = row as readonly unknown[];
    for (let i = 0; i < this.spec.length; i++) {
      this.columns[i]!.push(toDuckDB(this.spec[i]![1], values[i]));
    }
  }

  /** Appends everything gathered, in the caller's open transaction, and starts empty again. */
  appendTo(appender: DuckDBAppender): void {
    const rows = this.size;
    for (let from = 0; from < rows; from += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, rows - from);
      const chunk = DuckDBDataChunk.create(this.types, count);
      for (let c = 0; c < this.columns.length; c++) {
        if (this.stringColumns[c]) writeStrings(chunk, c, this.columns[c] as (string | null)[], from, count);
        else chunk.setColumnValues(c, from === 0 && count === rows ? this.columns[c]! : this.columns[c]!.slice(from, from + count));
      }
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
    this.clear();
  }

  clear(): void {
    this.columns = this.spec.map(() => []);
  }
}

function toDuckDB(kind: ColumnKind, value: unknown): DuckDBValue | null {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'varchar':
    case 'json':
      return value as string;
    case 'varchar[]':
      return listValue(value as string[]);
    case 'integer':
      return value as number;
    case 'bigint':
      return BigInt(value as number);
    case 'timestamptz':
      return new DuckDBTimestampTZValue(BigInt((value as Date).getTime()) * 1000n);
    case 'boolean':
      return value as boolean;
    default:
      return kind satisfies never;
  }
}

/**
 * A VARCHAR column of a fresh chunk, written without the per-value wrapper of setColumnValues: strings
 * of at most 12 ASCII bytes are laid out inline in their 16-byte string_t slots (length, then the bytes,
 * zero-padded: DuckDB's inlined layout, the one DuckDBVarCharVector reads) and copied in one call;
 * longer ones go through DuckDB's assign (which copies them into the vector's heap); nulls are
 * validity bits, copied the way DuckDBValidity does.
 */
function writeStrings(chunk: DuckDBDataChunk, column: number, values: readonly (string | null)[], from: number, count: number): void {
  const vector = bindings.data_chunk_get_vector(chunk.chunk, column);
  const dataBuffer = new ArrayBuffer(count * 16);
  const data = new Uint8Array(dataBuffer);
  let validity: Uint8Array | null = null;
  let long: number[] | null = null;
  for (let i = 0; i < count; i++) {
    const value = values[from + i];
    if (value === null || value === undefined) {
      validity ??= new Uint8Array(new ArrayBuffer(Math.ceil(count / 64) * 8)).fill(0xff);
      validity[i >> 3]! &= ~(1 << (i & 7));
      continue;
    }
    const length = value.length;
    if (length <= 12 && isAscii(value)) {
      const o = i * 16;
      data[o] = length;
      for (let k = 0; k < length; k++) data[o + 4 + k] = value.charCodeAt(k);
    } else {
      (long ??= []).push(i);
    }
  }
  bindings.copy_data_to_vector(vector, 0, dataBuffer, 0, dataBuffer.byteLength);
  if (long !== null) for (const i of long) bindings.vector_assign_string_element(vector, i, values[from + i]!);
  if (validity !== null) {
    bindings.vector_ensure_validity_writable(vector);
    bindings.copy_data_to_vector_validity(vector, 0, validity.buffer as ArrayBuffer, validity.byteOffset, validity.byteLength);
  }
}

/** ASCII without NUL: the inline layout and DuckDB's own assign then store the very same bytes. */
function isAscii(s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 0 || c > 0x7f) return false;
  }
  return true;
}
