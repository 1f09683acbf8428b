/**
 * The Activity Log operations on a PostgreSQL server, as a table: which operation names mean which action,
 * and how each reads the value that was asked for from a request (or response) body. Operation names are
 * compared lowercase, with Flexible Server (`flexibleservers`) and Single Server (`servers`) alike.
 */
import type { ControlPlaneAction } from '../../contracts/control-plane-event.js';

type Json = Record<string, unknown>;

interface OperationRow {
  /** Matched against the lowercase operationName. */
  pattern: RegExp;
  action: ControlPlaneAction;
  /** The requested value from a body; null when the body does not say. */
  value: (body: Json) => string | null;
  /**
   * Whether the response body may stand in for the request: true where the response echoes the resource
   * as requested (a firewall rule, a parameter); false where it is the whole server, which would
   * drown what was asked for in what already was.
   */
  fromResponse: boolean;
}

const SERVER = String.raw`^microsoft\.dbforpostgresql/(?:flexibleservers|servers)`;
const op = (tail: string) => new RegExp(`${SERVER}/${tail}$`);
/** Diagnostic settings are an extension resource: `microsoft.insights/diagnosticsettings/write` on the server's id. */
const diag = (verb: string) => new RegExp(`(?:^|/providers/)microsoft\\.insights/diagnosticsettings/${verb}$`);

export const POSTGRES_OPERATIONS: readonly OperationRow[] = [
  { pattern: op('write'), action: 'server-write', value: (b) => settingsOf(b), fromResponse: false },
  { pattern: op('delete'), action: 'server-delete', value: () => null, fromResponse: false },
  { pattern: op('restart/action'), action: 'server-restart', value: (b) => settingsOf(b), fromResponse: false },
  { pattern: op('start/action'), action: 'server-start', value: () => null, fromResponse: false },
  { pattern: op('stop/action'), action: 'server-stop', value: () => null, fromResponse: false },
  { pattern: op('firewallrules/write'), action: 'firewall-rule-write', value: ipRange, fromResponse: true },
  { pattern: op('firewallrules/delete'), action: 'firewall-rule-delete', value: () => null, fromResponse: false },
  { pattern: op('configurations/write'), action: 'configuration-write', value: (b) => scalar(props(b)?.value), fromResponse: true },
  { pattern: op('administrators/write'), action: 'admin-write', value: principal, fromResponse: true },
  { pattern: op('administrators/delete'), action: 'admin-delete', value: () => null, fromResponse: false },
  { pattern: op('privateendpointconnection[a-z]*/.+'), action: 'private-endpoint-change', value: endpointState, fromResponse: true },
  { pattern: op('advancedthreatprotectionsettings/write'), action: 'threat-protection-write', value: (b) => scalar(props(b)?.state), fromResponse: true },
  { pattern: diag('write'), action: 'diagnostic-settings-write', value: diagnosticCategories, fromResponse: true },
  { pattern: diag('delete'), action: 'diagnostic-settings-delete', value: () => null, fromResponse: false },
];

const OTHER: OperationRow = { pattern: /^/, action: 'other', value: (b) => settingsOf(b), fromResponse: false };

export function operationRow(operation: string): OperationRow {
  return POSTGRES_OPERATIONS.find((row) => row.pattern.test(operation)) ?? OTHER;
}

/** Longer values are cut: a requested value is for reading in a table, the whole body is in `properties`. */
const MAX_VALUE = 2000;

function props(body: Json): Json | null {
  const p = body.properties;
  return isObject(p) ? p : null;
}

function ipRange(body: Json): string | null {
  const p = props(body);
  const start = scalar(p?.startIpAddress);
  const end = scalar(p?.endIpAddress);
  return start === null && end === null ? null : `${start ?? '?'}-${end ?? '?'}`;
}

function principal(body: Json): string | null {
  const p = props(body);
  const name = scalar(p?.principalName);
  const type = scalar(p?.principalType);
  if (name === null) return type;
  return type === null ? name : `${name} (${type})`;
}

function endpointState(body: Json): string | null {
  const state = props(body)?.privateLinkServiceConnectionState;
  return isObject(state) ? scalar(state.status) : null;
}

/** `PostgreSQLLogs=false, allLogs=true -> eventhub`: which log categories the setting sends where. */
function diagnosticCategories(body: Json): string | null {
  const p = props(body);
  if (p === null) return null;
  const logs = Array.isArray(p.logs) ? p.logs.filter(isObject) : [];
  const parts = logs.map((l) => `${scalar(l.category) ?? scalar(l.categoryGroup) ?? '?'}=${scalar(l.enabled) ?? '?'}`);
  const sinks = ['eventHubAuthorizationRuleId', 'workspaceId', 'storageAccountId'].filter((k) => typeof p[k] === 'string' && p[k] !== '');
  const text = [...parts, ...(sinks.length > 0 ? [`to ${sinks.join(', ')}`] : [])].join(', ');
  return text === '' ? null : clip(text);
}

/** A server write's settings as `path=value` pairs: `administratorLoginPassword=<REDACTED>, network.publicNetworkAccess=Enabled`. */
function settingsOf(body: Json): string | null {
  const pairs: string[] = [];
  flatten(props(body) ?? body, '', pairs);
  return pairs.length === 0 ? null : clip(pairs.join(', '));
}

function flatten(value: unknown, path: string, out: string[]): void {
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, path === '' ? k : `${path}.${k}`, out);
  } else if (Array.isArray(value)) {
    out.push(`${path}=${JSON.stringify(value)}`);
  } else if (value !== undefined && path !== '') {
    out.push(`${path}=${value === null ? 'null' : String(value)}`);
  }
}

function scalar(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function clip(text: string): string {
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
