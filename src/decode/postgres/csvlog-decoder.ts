/**
 * Decodes PostgreSQL csvlog (`log_destination = 'csvlog'`) into LogRecords.
 *
 * Input contract: the lines of one `.csv` log file in order. A row spans several lines when a quoted
 * field holds newlines; lines are buffered until the quotes balance, and `pendingStart()` is the offset
 * of the first buffered line. Rows with 22 (PostgreSQL 8.4) to 26 (14+) columns are accepted; a row
 * that cannot be read, or a buffer that grows past `maxRecordBytes` (a stray quote), is a dead letter.
 * csvlog has no NULL/empty distinction that matters here: an empty field is null.
 * The message gets ` at character N` appended from query_pos / internal_query_pos, as PostgreSQL
 * renders it in stderr (and so in Azure's messages), so the same event reads the same from every source.
 */
import type { DecodeResult, LogRecord } from '../../contracts/log-record.js';
import type { LineDecoder, SourceLine } from '../../sources/source-line.js';
import { isMainLevel } from '../prefix/log-level.js';
import { parsePostgresTimestamp } from '../prefix/postgres-timestamp.js';
import { countQuotes, splitCsvRecord } from './csv-record.js';
import { splitHostPort } from './connection-from.js';
import { withCursorPosition } from './cursor-position.js';

export interface CsvlogDecoderOptions {
  server: string;
  source: string;
  /** A row still open after this many characters is given up as a dead letter (default 64 MiB). */
  maxRecordBytes?: number;
}

/** Column positions, identical from PostgreSQL 8.4 to 17 (later versions only append). */
const COLUMN = {
  log_time: 0, user_name: 1, database_name: 2, process_id: 3, connection_from: 4, session_id: 5,
  session_line_num: 6, command_tag: 7, session_start_time: 8, virtual_transaction_id: 9,
  transaction_id: 10, error_severity: 11, sql_state_code: 12, message: 13, detail: 14, hint: 15,
  internal_query: 16, internal_query_pos: 17, context: 18, query: 19, query_pos: 20, location: 21,
  application_name: 22, backend_type: 23, leader_pid: 24, query_id: 25,
} as const;
const MIN_COLUMNS = 22;
const MAX_COLUMNS = 26;

const orNull = (value: string | undefined): string | null => (value === undefined || value === '' ? null : value);

/** Turns one complete csvlog row into a record, or the reason it cannot be one. */
export function decodeCsvlogRow(text: string, server: string, source: string, position: string): LogRecord | string {
  const f = splitCsvRecord(text);
  if (f === null) return 'malformed CSV quoting in csvlog row';
  if (f.length < MIN_COLUMNS || f.length > MAX_COLUMNS) {
    return `csvlog row has ${f.length} columns, expected ${MIN_COLUMNS} to ${MAX_COLUMNS}`;
  }
  const col = (name: keyof typeof COLUMN): string | null => orNull(f[COLUMN[name]]);
  const time = col('log_time') ?? '';
  const loggedAt = parsePostgresTimestamp(time);
  if (loggedAt === null) return `log_time '${time}' is not a timestamp with a known zone`;
  const pidText = col('process_id');
  if (pidText !== null && !/^\d+$/.test(pidText)) return `process_id '${pidText}' is not a number`;
  const level = col('error_severity') ?? '';
  if (!isMainLevel(level)) return `unknown error_severity '${level}'`;
  const { host, port } = splitHostPort(col('connection_from'));
  return {
    server,
    loggedAt,
    sessionId: col('session_id'),
    pid: pidText === null ? null : Number(pidText),
    level,
    sqlstate: col('sql_state_code'),
    message: withCursorPosition(f[COLUMN.message] ?? '', col('query_pos') ?? col('internal_query_pos')),
    detail: col('detail'),
    hint: col('hint'),
    statement: col('query'),
    userName: col('user_name'),
    databaseName: col('database_name'),
    clientAddr: host,
    clientPort: port,
    applicationName: col('application_name'),
    source,
    position,
  };
}

export function createCsvlogDecoder(opts: CsvlogDecoderOptions): LineDecoder<DecodeResult> {
  const { server, source } = opts;
  const maxRecordBytes = opts.maxRecordBytes ?? 64 * 1024 * 1024;
  let parts: string[] = [];
  let start = 0;
  let length = 0;
  let openQuote = false;

  function finish(): DecodeResult {
    const text = parts.join('\n');
    const position = String(start);
    parts = [];
    length = 0;
    const result = decodeCsvlogRow(text, server, source, position);
    return typeof result === 'string'
      ? { kind: 'dead', dead: { source, position, reason: result, raw: text } }
      : { kind: 'record', record: result };
  }

  return {
    push(line: SourceLine): DecodeResult[] {
      if (parts.length === 0) {
        start = line.start;
        if (line.text === '') {
          return [{ kind: 'dead', dead: { source, position: String(line.start), reason: 'empty line in csvlog', raw: '' } }];
        }
      }
      parts.push(line.text);
      length += line.text.length + 1;
      if (countQuotes(line.text) % 2 === 1) openQuote = !openQuote;
      if (!openQuote) return [finish()];
      if (length > maxRecordBytes) {
        openQuote = false;
        const text = parts.join('\n');
        parts = [];
        length = 0;
        return [{
          kind: 'dead',
          dead: { source, position: String(start), reason: `csvlog row still has an open quote after ${maxRecordBytes} bytes`, raw: text },
        }];
      }
      return [];
    },
    flush(): DecodeResult[] {
      if (parts.length === 0) return [];
      openQuote = false;
      return [finish()];
    },
    pendingStart(): number | null {
      return parts.length === 0 ? null : start;
    },
  };
}
