/**
 * Rows gathered as CSV text that DuckDB reads back with `read_csv` into a table of the same columns: how an
 * ingest worker thread hands its rows to the store's writer. Text is cheap to write from JavaScript (no DuckDB
 * instance, no file checkpoint) and DuckDB parses it in C++; the writer side is `csvSelect`. Every value comes
 * back exactly: text of any content (quotes, tabs, line ends, NUL; invalid UTF-16 as U+FFFD, as the chunks
 * store it), NULL apart from the empty string, times to the millisecond with their zone, lists of text. A JSON
 * column's text is cast at the insert, so it must be JSON (the chunks' appender does not check).
 */
import { GatheredRows, type ColumnKind, type ColumnSpec } from './columnar-table.js';
import { sqlString } from './sql-literal.js';

/** What `read_csv` reads each kind as; lists travel as JSON arrays (read by `from_json`), JSON as its text. */
const CSV_TYPES: Record<ColumnKind, string> = {
  varchar: 'VARCHAR',
  json: 'VARCHAR',
  'varchar[]': 'VARCHAR',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  timestamptz: 'TIMESTAMPTZ',
  boolean: 'BOOLEAN',
};

/**
 * A field is quoted when it holds the delimiter, a quote or a line end, or is empty (an unquoted empty field is
 * NULL). Tab: statements hold commas far more often than tabs, and an unquoted field needs no copy.
 */
const NEEDS_QUOTES = /[\t"\n\r]/;
const QUOTE = /"/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A row holds the text of one input line of at most 8 MiB (longer ones are dead letters, truncated), 16 MiB with
 * its quotes doubled: read_csv's default is 2 MB. Its read buffer, held against DuckDB's memory limit, must hold a
 * whole row, and defaults to 16 times this.
 */
const MAX_LINE_BYTES = 24 * 1024 * 1024;

export class CsvRows<S extends ColumnSpec> extends GatheredRows<S> {
  private readonly blocks: Buffer[] = [];
  private readonly kinds: ColumnKind[];

  constructor(table: string, spec: S) {
    super(table, spec);
    this.kinds = spec.map(([, kind]) => kind);
  }

  /** Everything gathered, as UTF-8 (one line per row); the rows are let go. */
  take(): Buffer[] {
    this.flush();
    const blocks = this.blocks.splice(0);
    this.restart();
    return blocks;
  }

  protected writeBlock(columns: readonly unknown[][], count: number): void {
    const kinds = this.kinds;
    let text = '';
    for (let r = 0; r < count; r++) {
      for (let c = 0; c < kinds.length; c++) {
        if (c > 0) text += '\t';
        const v = columns[c]![r];
        if (v !== null && v !== undefined) text += field(kinds[c]!, v);
      }
      text += '\n';
    }
    this.blocks.push(Buffer.from(text, 'utf8'));
  }
}

function field(kind: ColumnKind, v: unknown): string {
  switch (kind) {
    case 'varchar':
    case 'json':
      return quoted(v as string);
    case 'varchar[]':
      // As the chunks store text: a lone surrogate becomes U+FFFD (JSON.stringify would escape it, and DuckDB refuses that).
      return quoted(JSON.stringify((v as (string | null)[]).map((s) => (s === null ? null : s.replace(LONE_SURROGATE, '\ufffd')))));
    case 'timestamptz':
      return (v as Date).toISOString();
    case 'integer':
    case 'bigint':
      return String(v as number);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return kind satisfies never;
  }
}

function quoted(s: string): string {
  if (s.length > 0 && !NEEDS_QUOTES.test(s)) return s;
  return `"${s.replace(QUOTE, '""')}"`;
}

/** A SELECT of the rows `CsvRows` wrote to `path`, with the columns of `spec` by name and type. */
export function csvSelect(path: string, spec: ColumnSpec): string {
  const columns = spec.map(([name, kind]) => `${sqlString(name)}: ${sqlString(CSV_TYPES[kind])}`).join(', ');
  const values = spec.map(([name, kind]) => (kind === 'varchar[]' ? `from_json("${name}", '["VARCHAR"]') AS "${name}"` : `"${name}"`)).join(', ');
  return (
    `SELECT ${values} FROM read_csv(${sqlString(path)}, columns = {${columns}}, header = false, auto_detect = false, ` +
    `delim = '\t', quote = '"', escape = '"', allow_quoted_nulls = false, strict_mode = true, max_line_size = ${MAX_LINE_BYTES}, buffer_size = ${MAX_LINE_BYTES + 1})`
  );
}
