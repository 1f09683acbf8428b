/**
 * One Azure Activity Log record about a PostgreSQL server: who changed what on the server through Azure
 * Resource Manager (firewall, parameters, administrators, diagnostic settings...). These changes are not in
 * PostgreSQL's own logs. Every text here is already redacted: bodies have their password, key and secret
 * fields replaced before this object is built.
 */

/** What an operation does to the server; `other` for operations on a server that no row of the table names. */
export const CONTROL_PLANE_ACTIONS = [
  'server-write',
  'server-delete',
  'server-restart',
  'server-start',
  'server-stop',
  'firewall-rule-write',
  'firewall-rule-delete',
  'configuration-write',
  'admin-write',
  'admin-delete',
  'private-endpoint-change',
  'threat-protection-write',
  'diagnostic-settings-write',
  'diagnostic-settings-delete',
  'other',
] as const;
export type ControlPlaneAction = (typeof CONTROL_PLANE_ACTIONS)[number];

/** Azure's resultType, normalized: `Started`/`Start` → start, `Succeeded`/`Success` → success... */
export type ControlPlaneStatus = 'start' | 'accept' | 'success' | 'failure' | (string & {});

export interface ControlPlaneEvent {
  /** The server's name from the resource id, lowercase: the same name its PostgreSQLLogs records get. */
  server: string;
  loggedAt: Date;
  /** operationName, lowercase: `microsoft.dbforpostgresql/flexibleservers/firewallrules/write`. */
  operation: string;
  action: ControlPlaneAction;
  /** Normalized resultType; null when the record has none. */
  status: ControlPlaneStatus | null;
  /** The user principal name, else the application id, else the object id, else the display name. */
  caller: string | null;
  callerType: 'upn' | 'appid' | 'oid' | 'name' | null;
  /** The RBAC role the caller acted through (identity.authorization.evidence.role). */
  callerRole: string | null;
  callerIp: string | null;
  /** Lowercase; a Start and its outcome share it. */
  correlationId: string | null;
  /** The firewall rule, parameter, administrator (object id), private endpoint connection or diagnostic setting. */
  target: string | null;
  /** What was asked for: `0.0.0.0-255.255.255.255`, `OFF`, `alice@contoso.com (User)`, or the body's settings. */
  requestedValue: string | null;
  /** Where requestedValue came from: this record's request body, its response body, or its Start's request body. */
  requestedFrom: 'request' | 'response' | 'start' | null;
  /** The redacted request body (of this record or of its Start), for rules that read settings from it. */
  request: unknown;
  subscription: string | null;
  resourceGroup: string | null;
  /** Lowercase. */
  resourceId: string;
  /** Azure's category: `Administrative`, or `Write`/`Delete`/`Action` in the Storage and Event Hubs schema. */
  category: string | null;
  level: string | null;
  resultSignature: string | null;
  statusCode: string | null;
  durationMs: number | null;
  /** `properties`, redacted, as JSON text. */
  properties: string | null;
  source: string;
  position: string;
  /**
   * Set on an outcome stored by an earlier batch whose Start (and so its requested value) arrived only now:
   * the pipeline hands it to the rules again, complete. Rules that do not need the value skip it.
   */
  completedLate?: boolean;
}
