import { DuckDBDataChunk, BIGINT, BOOLEAN, INTEGER, LIST, listValue, TIMESTAMPTZ, VARCHAR, type DuckDBAppender, type DuckDBType } from '@duckdb/node-api';
import { createRequire } from 'node:module';
import type bindingsModule from '@duckdb/node-bindings';
import { redactStoredText } from '../redact/index.js';

/** The very bindings @duckdb/node-api uses (its own dependency, resolved from it): one native module. */
const bindings = createRequire(createRequire(import.meta.url).resolve('@duckdb/node-api'))('@duckdb/node-bindings') as typeof bindingsModule;
type Vector = ReturnType<typeof bindings.data_chunk_get_vector>;

/**
 * Rows gathered column by column and appended as DuckDB data chunks whose vectors are filled from typed
 * arrays: per-value appender calls, and a DuckDB value object per cell, cost most of the CPU on the
 * ingest path (facts: ~49k rows/s row by row).
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

/** Rows per block: a DuckDB data chunk holds 2048. */
const BLOCK_ROWS = 2048;

/** What the store needs of a table of gathered rows, whatever its columns. */
export interface AppendableRows {
  readonly table: string;
  readonly size: number;
  appendTo(appender: DuckDBAppender): void;
}

/**
 * Every row of every table the ingest writes passes `push`, so this is where text meets the store: each
 * text value (varchar, json, varchar[]) goes through the redactor here, whatever column it is, so a new
 * column cannot skip it. Text redacted upstream (where the findings are collected) passes unchanged.
 * Every `BLOCK_ROWS` rows the values are handed to `writeBlock` (a DuckDB data chunk, CSV text) and let go
 * while young: a batch's rows no longer survive into V8's old generation.
 */
export abstract class GatheredRows<S extends ColumnSpec> {
  /** The values of the rows not yet written into a block, as given (text redacted): no conversion until then. */
  protected columns: unknown[][];
  /** Indexes of the text columns, and of the list-of-text ones. */
  private readonly textColumns: number[];
  private readonly textListColumns: number[];
  private written = 0;

  constructor(
    readonly table: string,
    readonly spec: S,
  ) {
    this.columns = spec.map(() => []);
    this.textColumns = spec.flatMap(([, kind], i) => (kind === 'varchar' || kind === 'json' ? [i] : []));
    this.textListColumns = spec.flatMap(([, kind], i) => (kind === 'varchar[]' ? [i] : []));
  }

  get size(): number {
    return this.written + (this.columns[0]?.length ?? 0);
  }

  push(row: RowOf<S>): void {
    const values = row as readonly unknown[];
    for (let i = 0; i < this.columns.length; i++) this.columns[i]!.push(values[i] ?? null);
    const last = this.columns[0]!.length - 1;
    for (const c of this.textColumns) {
      const v = this.columns[c]![last];
      if (typeof v === 'string') this.columns[c]![last] = redactStoredText(v);
    }
    for (const c of this.textListColumns) {
      const v = this.columns[c]![last];
      if (Array.isArray(v)) this.columns[c]![last] = v.map((s: unknown) => (typeof s === 'string' ? redactStoredText(s) : s));
    }
    if (this.columns[0]!.length === BLOCK_ROWS) this.flush();
  }

  /** Writes the rows gathered since the last block, if any. */
  protected flush(): void {
    const count = this.columns[0]?.length ?? 0;
    if (count === 0) return;
    this.writeBlock(this.columns, count);
    this.written += count;
    this.columns = this.spec.map(() => []);
  }

  /** Once the written blocks are handed on: `size` counts from zero again. */
  protected restart(): void {
    this.written = 0;
  }

  /** `columns[c][r]`: the value of column c in row r; the caller lets go of them afterwards. */
  protected abstract writeBlock(columns: readonly unknown[][], count: number): void;
}

/** Rows gathered into DuckDB data chunks, appended to a table of the store in the caller's transaction. */
export class ColumnarTable<S extends ColumnSpec> extends GatheredRows<S> implements AppendableRows {
  /** Full chunks already written. Holding rows in DuckDB's memory instead of as JS values keeps the heap small. */
  private readonly chunks: DuckDBDataChunk[] = [];
  private readonly types: DuckDBType[];

  constructor(table: string, spec: S) {
    super(table, spec);
    this.types = spec.map(([, kind]) => DUCKDB_TYPES[kind]);
  }

  /** Appends everything gathered, in the caller's open transaction, and starts empty again. */
  appendTo(appender: DuckDBAppender): void {
    this.flush();
    const pool = poolOf(this.spec);
    for (const chunk of this.chunks) {
      appender.appendDataChunk(chunk);
      // The appender has copied the rows: the chunk can take the next ones.
      if (pool.length < MAX_POOLED_CHUNKS) pool.push(chunk);
    }
    this.chunks.length = 0;
    this.restart();
    appender.flushSync();
  }

  protected writeBlock(columns: readonly unknown[][], count: number): void {
    const chunk = poolOf(this.spec).pop() ?? DuckDBDataChunk.create(this.types);
    chunk.reset();
    chunk.rowCount = count;
    for (let c = 0; c < columns.length; c++) {
      const values = columns[c]!;
      const vector = bindings.data_chunk_get_vector(chunk.chunk, c);
      const kind = this.spec[c]![1];
      switch (kind) {
        case 'varchar':
        case 'json':
          writeStrings(vector, values as (string | null)[], count);
          break;
        case 'integer':
          writeFixed(vector, values, count, 4, (view, o, v) => view.setInt32(o, v as number, true));
          break;
        case 'bigint':
          writeFixed(vector, values, count, 8, (view, o, v) => setInt64(view, o, v as number));
          break;
        case 'timestamptz':
          writeFixed(vector, values, count, 8, (view, o, v) => setMicros(view, o, (v as Date).getTime()));
          break;
        case 'boolean':
          writeFixed(vector, values, count, 1, (view, o, v) => view.setUint8(o, v ? 1 : 0));
          break;
        case 'varchar[]':
          // Rare (privilege changes, roles): DuckDB's own list writer is plenty.
          chunk.setColumnValues(c, values.map((v) => (v === null ? null : listValue(v as string[]))));
          break;
        default:
          kind satisfies never;
      }
    }
    this.chunks.push(chunk);
  }
}

/**
 * Chunks of each table's shape, reused: a chunk's native memory is freed only when V8 collects its small
 * wrapper, which it is in no hurry to do. Two batches in flight (one filling, one committing) use them all.
 */
const MAX_POOLED_CHUNKS = 64;
const pools = new WeakMap<ColumnSpec, DuckDBDataChunk[]>();
function poolOf(spec: ColumnSpec): DuckDBDataChunk[] {
  let pool = pools.get(spec);
  if (pool === undefined) pools.set(spec, (pool = []));
  return pool;
}

/** Milliseconds as microseconds; past 2255 those exceed a double's exact integers and take a BigInt. */
function setMicros(view: DataView, offset: number, ms: number): void {
  const micros = ms * 1000;
  if (Number.isSafeInteger(micros)) setInt64(view, offset, micros);
  else view.setBigInt64(offset, BigInt(ms) * 1000n, true);
}

/** A safe integer as little-endian int64, without a BigInt per value. */
function setInt64(view: DataView, offset: number, value: number): void {
  const high = Math.floor(value / 4294967296);
  view.setUint32(offset, value - high * 4294967296, true);
  view.setInt32(offset + 4, high, true);
}

/** A fixed-width column: the values laid out as DuckDB stores them, copied in one call; nulls as validity bits. */
function writeFixed(vector: Vector, values: readonly unknown[], count: number, width: number, set: (view: DataView, offset: number, value: unknown) => void): void {
  const buffer = new ArrayBuffer(count * width);
  const view = new DataView(buffer);
  let validity: Uint8Array | null = null;
  for (let i = 0; i < count; i++) {
    const value = values[i];
    if (value === null || value === undefined) validity = markNull(validity, i, count);
    else set(view, i * width, value);
  }
  bindings.copy_data_to_vector(vector, 0, buffer, 0, buffer.byteLength);
  if (validity !== null) writeValidity(vector, validity);
}

/**
 * A VARCHAR column of a fresh chunk. Strings of at most 12 ASCII bytes are laid out inline in their
 * 16-byte string_t slots (length, then the bytes, zero-padded: DuckDB's inlined layout). Longer ones go
 * through DuckDB's assign, which copies them into the vector's heap, once per distinct value: a repeat
 * (the source, a session id, a table name) reuses the first one's slot, pointer and all.
 */
function writeStrings(vector: Vector, values: readonly (string | null)[], count: number): void {
  const data = new Uint8Array(count * 16);
  let validity: Uint8Array | null = null;
  // Index of the first slot holding each long value; -1 marks a slot to fill from that first one.
  let firstOf: Map<string, number> | null = null;
  let repeats: number[] | null = null;
  let assigned: number[] | null = null;
  let previous: string | null = null;
  let previousSlot = -1;
  for (let i = 0; i < count; i++) {
    const value = values[i];
    if (value === null || value === undefined) {
      validity = markNull(validity, i, count);
      continue;
    }
    const length = value.length;
    if (length <= 12 && isAscii(value)) {
      const o = i * 16;
      data[o] = length;
      for (let k = 0; k < length; k++) data[o + 4 + k] = value.charCodeAt(k);
      continue;
    }
    // The previous long value first: repeats mostly come in runs, and comparing is cheaper than hashing.
    let first = value === previous ? previousSlot : (firstOf ??= new Map()).get(value);
    if (first === undefined) {
      first = i;
      firstOf!.set(value, i);
      assignString(vector, i, value);
      (assigned ??= []).push(i);
    } else {
      (repeats ??= []).push(i, first);
    }
    previous = value;
    previousSlot = first;
  }
  if (assigned !== null) {
    // Assign wrote each first slot into the vector; read them back so the copy below keeps them, and repeats share them.
    const written = bindings.vector_get_data(vector, count * 16);
    for (const i of assigned) data.set(written.subarray(i * 16, i * 16 + 16), i * 16);
    if (repeats !== null) for (let r = 0; r < repeats.length; r += 2) data.copyWithin(repeats[r]! * 16, repeats[r + 1]! * 16, repeats[r + 1]! * 16 + 16);
  }
  bindings.copy_data_to_vector(vector, 0, data.buffer, 0, data.byteLength);
  if (validity !== null) writeValidity(vector, validity);
}

/**
 * DuckDB's assign, given UTF-8 bytes: encoding into one reused buffer spares the binding's conversion of a
 * JS string (a malloc and a copy per value).
 */
const encoder = new TextEncoder();
const scratch = new Uint8Array(64 * 1024);
function assignString(vector: Vector, index: number, value: string): void {
  // UTF-8 takes at most 3 bytes per UTF-16 unit; a rare huge value gets a buffer of its own, not a scratch kept that big.
  const target = value.length * 3 > scratch.length ? new Uint8Array(value.length * 3) : scratch;
  const { written } = encoder.encodeInto(value, target);
  bindings.vector_assign_string_element_len(vector, index, target.subarray(0, written));
}

function markNull(validity: Uint8Array | null, i: number, count: number): Uint8Array {
  const bits = validity ?? new Uint8Array(Math.ceil(count / 64) * 8).fill(0xff);
  bits[i >> 3]! &= ~(1 << (i & 7));
  return bits;
}

function writeValidity(vector: Vector, validity: Uint8Array): void {
  bindings.vector_ensure_validity_writable(vector);
  bindings.copy_data_to_vector_validity(vector, 0, validity.buffer as ArrayBuffer, validity.byteOffset, validity.byteLength);
}

/** ASCII without NUL: the inline layout and DuckDB's own assign then store the very same bytes. */
function isAscii(s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 0 || c > 0x7f) return false;
  }
  return true;
}
