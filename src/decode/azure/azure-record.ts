/**
 * Azure diagnostic-settings records → LogRecord.
 * Input contract: one record object as found in an Event Hubs body's `records` array or on a line of a
 * Storage `PT1H.json` blob. Records of one server arrive on any partition, in any order; nothing here
 * depends on order. Unknown fields are ignored; unknown categories are skipped and counted. Activity Log
 * records are recognized by their shape and decoded by activity-log-record.ts.
 */
import { parsePostgresTimestamp } from '../prefix/postgres-timestamp.js';
import type { DecodeResult, LogRecord } from '../../contracts/log-record.js';
import { splitLevel, type CompiledPrefix, type PrefixMatch } from '../prefix/compile-prefix.js';
import { decodeActivityLogRecord, isActivityLogRecord } from './activity-log-record.js';
import { nestsDeeperThan, stringifyShallow, tooDeepReason } from '../json-depth.js';

export interface AzureDecodeContext {
  source: string;
  position: string;
  prefix: CompiledPrefix;
  /** Overrides the server name taken from the record (the `--server` option). */
  server?: string;
}

/** Categories whose records carry PostgreSQL log lines. The rest share the envelope but not the fields. */
const LOG_CATEGORIES = new Set(['postgresqllogs']);

type Json = Record<string, unknown>;

export function decodeAzureRecord(value: unknown, ctx: AzureDecodeContext): DecodeResult {
  if (!isObject(value)) return dead(ctx, `record is ${describe(value)}, not a JSON object`, value);
  const category = typeof value.category === 'string' ? value.category : typeof value.Category === 'string' ? value.Category : null;
  if (category === null) return dead(ctx, 'record has no category', value);
  if (!LOG_CATEGORIES.has(category.toLowerCase())) {
    // The Activity Log shares the envelope (hub `insights-activity-logs`): control-plane changes to servers.
    if (isActivityLogRecord(value)) return decodeActivityLogRecord(value, ctx);
    return { kind: 'skipped', category };
  }
  const props = value.properties;
  if (!isObject(props)) return dead(ctx, 'PostgreSQLLogs record has no properties object', value);
  if (typeof props.message !== 'string') return dead(ctx, 'PostgreSQLLogs record has no properties.message string', value);

  const server = ctx.server ?? serverName(value);
  if (server === null) return dead(ctx, 'record names no server (no LogicalServerName, no usable resourceId)', value);

  const level = stringField(props, 'errorLevel') ?? stringField(props, 'ErrorLevel');
  // Single Server records carry the rendered prefix apart from the message text.
  const rendered = typeof props.prefix === 'string' ? `${props.prefix}${level ?? 'LOG'}:  ${props.message}` : props.message;
  const line = decodeRenderedLine(rendered, ctx.prefix, level);
  if (line === null) return dead(ctx, `properties.message matches neither log_line_prefix '${ctx.prefix.prefix}' nor a level marker`, value);

  const loggedAt =
    parseTime(props.timestamp) ?? parseTime(value.time) ?? line.prefix?.loggedAt ?? null;
  if (loggedAt === null) return dead(ctx, 'record has no parsable time', value);

  const record: LogRecord = {
    server,
    loggedAt,
    sessionId: line.prefix?.sessionId ?? null,
    pid: numberField(props, 'processId') ?? line.prefix?.pid ?? null,
    level: line.level,
    sqlstate: nonDefaultSqlstate(stringField(props, 'sqlerrcode') ?? line.prefix?.sqlstate),
    message: line.text,
    detail: stringField(props, 'detail') ?? null,
    hint: stringField(props, 'hint') ?? null,
    statement: stringField(props, 'statement') ?? null,
    userName: line.prefix?.userName ?? null,
    databaseName: line.prefix?.databaseName ?? null,
    clientAddr: line.prefix?.clientAddr ?? null,
    clientPort: line.prefix?.clientPort ?? null,
    applicationName: line.prefix?.applicationName ?? null,
    source: ctx.source,
    position: ctx.position,
  };
  return { kind: 'record', record };
}

/**
 * An Event Hubs body: `{"records":[...]}` as parsed JSON (the SDK parses bodies by default), bytes or a string.
 * A body nested deeper than MAX_JSON_DEPTH is a dead letter before anything walks it. `firstIndex` numbers the
 * records of a body that is one record of a larger one (republished by `auditduck route`).
 */
export function decodeEventBody(body: unknown, ctx: AzureDecodeContext, firstIndex = 0): DecodeResult[] {
  let value = body;
  let text: string | null = null;
  if (value instanceof Uint8Array) value = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  if (typeof value === 'string') {
    text = value;
    try {
      value = JSON.parse(value);
    } catch (error) {
      return [dead(ctx, `event body is not valid JSON: ${(error as Error).message}`, body)];
    }
  }
  if (nestsDeeperThan(value)) return [dead(ctx, tooDeepReason('event body'), text ?? stringifyShallow(value))];
  if (!isObject(value) || !Array.isArray(value.records)) {
    return [dead(ctx, 'event body is not {"records":[...]}', value)];
  }
  return value.records.map((record, index) => decodeAzureRecord(record, { ...ctx, position: `${ctx.position}#${firstIndex + index}` }));
}

interface RenderedLine {
  level: string;
  text: string;
  /** What the prefix told; null when it did not match and only the envelope's level located the text. */
  prefix: PrefixMatch | null;
}

/**
 * The rendered line is prefix + `LEVEL:  ` + text. When the configured prefix does not fit, the text is
 * still recovered from the envelope's level, but the session fields the prefix would give are lost.
 */
function decodeRenderedLine(rendered: string, prefix: CompiledPrefix, envelopeLevel: string | undefined): RenderedLine | null {
  const match = prefix.match(rendered);
  if (match) {
    const split = splitLevel(match.rest);
    if (split) return { level: split.level, text: split.text, prefix: match };
  }
  if (envelopeLevel) {
    const marker = `${envelopeLevel}:  `;
    const at = rendered.indexOf(marker);
    if (at >= 0) return { level: envelopeLevel, text: rendered.slice(at + marker.length), prefix: null };
  }
  return null;
}

/** Names by resource id: a hub carries few servers and every record repeats its id. */
const serverByResourceId = new Map<string, string | null>();

/** `LogicalServerName`, else the last segment of resourceId (`.../FLEXIBLESERVERS/<NAME>` or `.../SERVERS/<NAME>`). */
export function serverName(record: Json): string | null {
  const logical = stringField(record, 'LogicalServerName');
  if (logical) return logical.toLowerCase();
  const resourceId = stringField(record, 'resourceId') ?? stringField(record, 'ResourceId');
  if (!resourceId) return null;
  let name = serverByResourceId.get(resourceId);
  if (name === undefined) {
    name = resourceId.split('/').filter(Boolean).at(-1)?.toLowerCase() ?? null;
    if (serverByResourceId.size >= 10_000) serverByResourceId.clear();
    serverByResourceId.set(resourceId, name);
  }
  return name;
}

function parseTime(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const pg = parsePostgresTimestamp(value);
  if (pg) return pg;
  const iso = Date.parse(value);
  return Number.isNaN(iso) ? null : new Date(iso);
}

function nonDefaultSqlstate(code: string | undefined): string | null {
  return code && code !== '00000' ? code : null;
}

function stringField(obj: Json, key: string): string | undefined {
  const v = obj[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function numberField(obj: Json, key: string): number | undefined {
  const v = obj[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function dead(ctx: AzureDecodeContext, reason: string, raw: unknown): DecodeResult {
  const text = typeof raw === 'string' ? raw : safeStringify(raw);
  return { kind: 'dead', dead: { source: ctx.source, position: ctx.position, reason, raw: text } };
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // A cycle or a depth no caller let through: String() would recurse the same way.
    return stringifyShallow(value);
  }
}
