/**
 * Azure Activity Log records (the Storage / Event Hubs schema: `time, resourceId, operationName, category,
 * resultType, resultSignature, durationMs, callerIpAddress, correlationId, identity{claims, authorization},
 * level, properties{statusCode, requestbody, responseBody, ...}`) → ControlPlaneEvent.
 * Input contract: one record as found in a `{"records":[...]}` body (hub `insights-activity-logs`) or on a
 * line of a `PT1H.json` blob; any order, any partition. Names and ids are compared case-insensitively.
 * The record is redacted first, so neither a row nor a dead letter ever holds a body's password.
 * Records about resources other than PostgreSQL servers are skipped and counted by resource type.
 */
import type { ControlPlaneEvent, ControlPlaneStatus } from '../../contracts/control-plane-event.js';
import type { DecodeResult } from '../../contracts/log-record.js';
import { isObject, operationRow } from './postgres-operations.js';
import { parseJson, redactJson } from './redact-json.js';
import { parseResourceId, postgresServerOf, resourceTypeOf } from './resource-id.js';

type Json = Record<string, unknown>;

export interface ActivityLogContext {
  source: string;
  position: string;
  /** Overrides the server name taken from the resource id (the `--server` option), as for PostgreSQLLogs. */
  server?: string;
}

/**
 * Activity Log categories. The Storage / Event Hubs schema writes `Write`, `Delete` or `Action` for
 * administrative events (their `properties.eventCategory` says `Administrative`); the others keep their name.
 */
const ACTIVITY_CATEGORIES = new Set([
  'administrative', 'write', 'delete', 'action', 'security', 'policy', 'recommendation', 'alert', 'autoscale',
  'resourcehealth', 'servicehealth',
]);

/**
 * By shape: an Activity Log category and an operation name of the form `namespace/type/.../verb`. Resource
 * logs share the envelope but carry their own categories (`PostgreSQLLogs`, Key Vault's `AuditEvent`...) and
 * operation names such as `LogEvent`.
 */
export function isActivityLogRecord(record: Json): boolean {
  const category = text(record, 'category') ?? text(record, 'Category');
  const operation = text(record, 'operationName') ?? text(record, 'OperationName');
  return category !== null && operation !== null && ACTIVITY_CATEGORIES.has(category.toLowerCase()) && operation.includes('/');
}

/** resultType as the Storage schema (`Start`) and the REST API (`Started`) write it. */
const STATUSES: Readonly<Record<string, ControlPlaneStatus>> = {
  start: 'start', started: 'start',
  accept: 'accept', accepted: 'accept',
  success: 'success', succeeded: 'success',
  failure: 'failure', failed: 'failure',
};

/** Claims in the order a caller is best named by; the long names are the JWT claim URIs Azure writes. */
const CALLER_CLAIMS: readonly { type: NonNullable<ControlPlaneEvent['callerType']>; keys: readonly string[] }[] = [
  { type: 'upn', keys: ['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', 'upn'] },
  { type: 'appid', keys: ['appid', 'azp'] },
  { type: 'oid', keys: ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'] },
  { type: 'name', keys: ['name', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name'] },
];

export function decodeActivityLogRecord(original: Json, ctx: ActivityLogContext): DecodeResult {
  const record = redactJson(original) as Json;
  const resourceIdText = text(record, 'resourceId') ?? text(record, 'ResourceId');
  if (resourceIdText === null) return dead(ctx, 'Activity Log record has no resourceId', record);
  const id = parseResourceId(resourceIdText);
  const server = postgresServerOf(id);
  if (server === null) return { kind: 'skipped', category: `ActivityLog ${resourceTypeOf(id)}` };

  const loggedAt = parseTime(record.time) ?? parseTime(record.eventTimestamp);
  if (loggedAt === null) return dead(ctx, 'Activity Log record has no parsable time', record);
  const operation = (text(record, 'operationName') ?? text(record, 'OperationName') ?? '').toLowerCase();
  const row = operationRow(operation);
  const props = isObject(record.properties) ? record.properties : {};
  const identity = isObject(record.identity) ? record.identity : {};
  const caller = callerOf(identity, record);
  const requestBody = bodyOf(props, 'requestbody');
  const responseBody = row.fromResponse ? bodyOf(props, 'responseBody') : null;
  const fromRequest = requestBody === null ? null : row.value(requestBody);
  const fromResponse = fromRequest === null && responseBody !== null ? row.value(responseBody) : null;

  const event: ControlPlaneEvent = {
    server: ctx.server ?? server,
    loggedAt,
    operation,
    action: row.action,
    status: statusOf(text(record, 'resultType') ?? text(props, 'status')),
    caller: caller?.value ?? null,
    callerType: caller?.type ?? null,
    callerRole: roleOf(identity),
    callerIp: text(record, 'callerIpAddress'),
    correlationId: text(record, 'correlationId')?.toLowerCase() ?? null,
    target: targetOf(id, requestBody),
    requestedValue: fromRequest ?? fromResponse,
    requestedFrom: fromRequest !== null ? 'request' : fromResponse !== null ? 'response' : null,
    request: requestBody,
    subscription: id.subscription?.toLowerCase() ?? null,
    resourceGroup: id.resourceGroup?.toLowerCase() ?? null,
    resourceId: resourceIdText.toLowerCase(),
    category: text(record, 'category') ?? text(record, 'Category'),
    level: text(record, 'level'),
    resultSignature: text(record, 'resultSignature'),
    statusCode: text(props, 'statusCode'),
    durationMs: numberOf(record.durationMs),
    properties: isObject(record.properties) ? JSON.stringify(record.properties) : null,
    source: ctx.source,
    position: ctx.position,
  };
  return { kind: 'control-plane', event };
}

function statusOf(resultType: string | null): ControlPlaneStatus | null {
  if (resultType === null) return null;
  const lower = resultType.toLowerCase();
  return STATUSES[lower] ?? lower;
}

function callerOf(identity: Json, record: Json): { type: NonNullable<ControlPlaneEvent['callerType']>; value: string } | null {
  const claims = isObject(identity.claims) ? identity.claims : {};
  for (const { type, keys } of CALLER_CLAIMS) {
    for (const k of keys) {
      const v = text(claims, k);
      if (v !== null) return { type, value: v };
    }
  }
  // Some exports flatten the caller to a top-level `caller` (a UPN or an object id).
  const flat = text(record, 'caller');
  if (flat === null) return null;
  return { type: flat.includes('@') ? 'upn' : 'oid', value: flat };
}

function roleOf(identity: Json): string | null {
  const auth = identity.authorization;
  if (!isObject(auth) || !isObject(auth.evidence)) return null;
  return text(auth.evidence, 'role');
}

/** The child resource (firewall rule, parameter, administrator) or the extension (diagnostic setting) the operation is on. */
function targetOf(id: ReturnType<typeof parseResourceId>, body: Json | null): string | null {
  if (id.extension !== null) return id.extension.name;
  const child = id.children[0];
  if (child) return child.name === '' ? null : child.name;
  return body !== null && typeof body.name === 'string' ? body.name : null;
}

/** A body is JSON text in the Storage schema, sometimes an object already; empty bodies are none. */
function bodyOf(props: Json, key: string): Json | null {
  const found = Object.keys(props).find((k) => k.toLowerCase() === key.toLowerCase());
  const raw = found === undefined ? undefined : props[found];
  const value = typeof raw === 'string' ? (raw.trim() === '' ? undefined : parseJson(raw)) : raw;
  return isObject(value) ? value : null;
}

function text(obj: Json, key: string): string | null {
  const v = obj[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

/** `durationMs` is a number in some exports and a string in others. */
function numberOf(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v);
  if (typeof v === 'string' && /^\d+$/.test(v.trim())) return Number(v.trim());
  return null;
}

function parseTime(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms);
}

function dead(ctx: ActivityLogContext, reason: string, redacted: Json): DecodeResult {
  return { kind: 'dead', dead: { source: ctx.source, position: ctx.position, reason, raw: JSON.stringify(redacted) } };
}
