/**
 * Decodes PostgreSQL 15+ jsonlog (`log_destination = 'jsonlog'`) into LogRecords.
 *
 * Input contract: the lines of one `.json` log file in order, one JSON object per line (PostgreSQL
 * escapes newlines inside strings, so a record never spans lines and nothing is held back).
 * PostgreSQL omits keys whose value is null or empty. A line that is not a JSON object, or a known key
 * with the wrong type, is a dead letter; unknown keys are ignored (later versions add some).
 * A missing `state_code` is `00000`: jsonlog.c leaves the key out exactly when the code is 0, which
 * csvlog and Azure print as `00000`. The message gets ` at character N` appended as in stderr.
 */
import type { DecodeResult, LogRecord } from '../../contracts/log-record.js';
import type { LineDecoder, SourceLine } from '../../sources/source-line.js';
import { isMainLevel } from '../prefix/log-level.js';
import { parsePostgresTimestamp } from '../prefix/postgres-timestamp.js';
import { withCursorPosition } from './cursor-position.js';

export interface JsonlogDecoderOptions {
  server: string;
  source: string;
}

/** The type PostgreSQL 15-17 writes for each key (src/backend/utils/error/jsonlog.c). */
const KEY_TYPES = {
  timestamp: 'string', user: 'string', dbname: 'string', pid: 'number', remote_host: 'string',
  remote_port: 'number', session_id: 'string', line_num: 'number', ps: 'string', session_start: 'string',
  vxid: 'string', txid: 'number', error_severity: 'string', state_code: 'string', message: 'string',
  detail: 'string', hint: 'string', internal_query: 'string', internal_position: 'number',
  context: 'string', statement: 'string', cursor_position: 'number', func_name: 'string',
  file_name: 'string', file_line_num: 'number', application_name: 'string', backend_type: 'string',
  leader_pid: 'number', query_id: 'number',
} as const satisfies Record<string, 'string' | 'number'>;

type JsonlogKey = keyof typeof KEY_TYPES;
type JsonlogObject = { [K in JsonlogKey]?: (typeof KEY_TYPES)[K] extends 'string' ? string : number };

function checkTypes(value: unknown): JsonlogObject | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'jsonlog line is not a JSON object';
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(KEY_TYPES) as JsonlogKey[]) {
    const v = obj[key];
    if (v !== undefined && v !== null && typeof v !== KEY_TYPES[key]) {
      return `jsonlog key '${key}' is a ${typeof v}, expected a ${KEY_TYPES[key]}`;
    }
  }
  return obj as JsonlogObject;
}

const orNull = <T>(v: T | null | undefined): T | null => (v === undefined || v === null || v === '' ? null : v);

/** Turns one jsonlog line into a record, or the reason it cannot be one. */
export function decodeJsonlogLine(text: string, server: string, source: string, position: string): LogRecord | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return `jsonlog line is not valid JSON: ${(err as Error).message}`;
  }
  const o = checkTypes(parsed);
  if (typeof o === 'string') return o;
  const loggedAt = o.timestamp === undefined ? null : parsePostgresTimestamp(o.timestamp);
  if (loggedAt === null) return `jsonlog timestamp '${o.timestamp ?? ''}' is missing or has no known zone`;
  const level = o.error_severity ?? '';
  if (!isMainLevel(level)) return `unknown error_severity '${level}'`;
  return {
    server,
    loggedAt,
    sessionId: orNull(o.session_id),
    pid: orNull(o.pid),
    level,
    sqlstate: orNull(o.state_code) ?? '00000',
    message: withCursorPosition(o.message ?? '', o.cursor_position ?? o.internal_position ?? null),
    detail: orNull(o.detail),
    hint: orNull(o.hint),
    statement: orNull(o.statement),
    userName: orNull(o.user),
    databaseName: orNull(o.dbname),
    clientAddr: orNull(o.remote_host),
    clientPort: orNull(o.remote_port),
    applicationName: orNull(o.application_name),
    source,
    position,
  };
}

export function createJsonlogDecoder(opts: JsonlogDecoderOptions): LineDecoder<DecodeResult> {
  const { server, source } = opts;
  return {
    push(line: SourceLine): DecodeResult[] {
      const position = String(line.start);
      const result = decodeJsonlogLine(line.text, server, source, position);
      return typeof result === 'string'
        ? [{ kind: 'dead', dead: { source, position, reason: result, raw: line.text } }]
        : [{ kind: 'record', record: result }];
    },
    flush: () => [],
    pendingStart: () => null,
  };
}
