import type { DeadLetter, LogRecord } from '../contracts/log-record.js';
import type { AuditEntry } from '../pgaudit/audit-entry.js';
import type { AuthFailureFact } from '../parse/parsed-entry.js';
import type { Attribution, SessionState } from '../analyze/sessions/session-tracker.js';
import { isLocalClient } from '../analyze/sessions/local-client.js';
import { ColumnarTable, type ColumnSpec, type GatheredRows } from './columnar-table.js';
import { AUDIT_EVENTS, AUTH_FAILURES, CONTROL_PLANE_EVENTS, DEAD_LETTERS, LOG_LINES, PRIVILEGE_CHANGES, SESSIONS } from './table-specs.js';
import { rendersAuditMessage } from '../pgaudit/index.js';
import type { ControlPlaneEvent } from '../contracts/control-plane-event.js';
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import type { IneffectiveMark } from '../analyze/privileges/privilege-analyzer.js';
import { sessionKey } from '../contracts/session-key.js';

/** Dead letters keep enough of the input to diagnose it, not a runaway line in full. */
const MAX_DEAD_LETTER_RAW = 64 * 1024;

/** How a batch gathers each table's rows: DuckDB data chunks for the store's writer, CSV text in an ingest worker (csv-rows.ts). */
export type TableOf<T> = <S extends ColumnSpec>(table: string, spec: S) => T & GatheredRows<S>;

const chunkTables: TableOf<ColumnarTable<ColumnSpec>> = (table, spec) => new ColumnarTable(table, spec);

/** The rows of one source batch, gathered column-wise; the store commits them with the batch's position. */
export class BatchRows<T = ColumnarTable<ColumnSpec>> {
  readonly logLines: T & GatheredRows<typeof LOG_LINES>;
  readonly auditEvents: T & GatheredRows<typeof AUDIT_EVENTS>;
  readonly authFailures: T & GatheredRows<typeof AUTH_FAILURES>;
  readonly deadLetters: T & GatheredRows<typeof DEAD_LETTERS>;
  readonly sessions: T & GatheredRows<typeof SESSIONS>;
  readonly privilegeChanges: T & GatheredRows<typeof PRIVILEGE_CHANGES>;
  readonly controlPlaneEvents: T & GatheredRows<typeof CONTROL_PLANE_EVENTS>;
  /** Outcomes stored by earlier batches whose Start arrived in this one: their requested value is filled in. */
  readonly completedControlPlane: ControlPlaneEvent[] = [];
  /** Changes of earlier batches that a rollback or an abort in this one turned ineffective. */
  readonly ineffective: IneffectiveMark[] = [];
  /** The changes behind `privilegeChanges`, for the role replay. */
  readonly changes: PrivilegeChange[] = [];
  /** Servers whose roles must be replayed after this batch. */
  readonly serversWithChanges = new Set<string>();
  /** `server\0session_id` of rows stored without a user (or client address): the session's lines are still to come. */
  readonly unattributed = new Map<string, { server: string; sessionId: string }>();
  /** `server\0session_id` of the sessions this batch upserts. */
  readonly sessionKeys = new Set<string>();

  constructor(tableOf: TableOf<T> = chunkTables as TableOf<never>) {
    this.logLines = tableOf('log_lines', LOG_LINES);
    this.auditEvents = tableOf('audit_events', AUDIT_EVENTS);
    this.authFailures = tableOf('auth_failures', AUTH_FAILURES);
    this.deadLetters = tableOf('dead_letters', DEAD_LETTERS);
    this.sessions = tableOf('sessions', SESSIONS);
    this.privilegeChanges = tableOf('privilege_changes', PRIVILEGE_CHANGES);
    this.controlPlaneEvents = tableOf('control_plane_events', CONTROL_PLANE_EVENTS);
  }

  /** A record other than an audit line (those go through addAuditEvent). */
  addLogRecord(r: LogRecord, kind: string): void {
    this.logLines.push([
      r.server, r.loggedAt, r.sessionId, r.pid, r.level, r.sqlstate, r.message, r.detail, r.hint, r.statement, kind, r.source, r.position,
    ]);
  }

  /** An audit line: its event, and its log record only when the log_records view cannot render it back from the event. */
  addAuditEvent(r: LogRecord, a: AuditEntry, who: Attribution): void {
    const lineStored = !rendersBack(r, a);
    if (lineStored) this.addLogRecord(r, 'audit');
    this.auditEvents.push([
      r.server, r.loggedAt, r.sessionId, r.pid, a.auditType, a.statementId, a.substatementId, a.className, a.command,
      a.objectType, a.objectName, a.statement, a.parameter, a.rows, who.userName, who.databaseName, who.clientAddr,
      who.applicationName, r.level, r.source, r.position, lineStored, r.sqlstate,
    ]);
    // A session known only from its disconnection line gives the user, not the application: the store may know it.
    if ((who.userName === null || who.applicationName === null) && r.sessionId !== null) this.markUnattributed(r.server, r.sessionId);
  }

  addAuthFailure(r: LogRecord, f: AuthFailureFact, who: Attribution): void {
    const clientAddr = f.clientAddr ?? who.clientAddr;
    this.authFailures.push([
      r.server, r.loggedAt, r.sessionId, r.pid, f.userName ?? who.userName, f.databaseName ?? who.databaseName, clientAddr,
      f.sqlstate, f.reason, r.detail, f.roleExists, r.source, r.position,
    ]);
    if (clientAddr === null && r.sessionId !== null) this.markUnattributed(r.server, r.sessionId);
  }

  addDeadLetter(d: DeadLetter): void {
    const raw = d.raw.length > MAX_DEAD_LETTER_RAW ? `${d.raw.slice(0, MAX_DEAD_LETTER_RAW)}…[${d.raw.length - MAX_DEAD_LETTER_RAW} more characters]` : d.raw;
    this.deadLetters.push([d.source, d.position, d.reason, raw, new Date()]);
  }

  addPrivilegeChange(c: PrivilegeChange, source: string, position: string): void {
    this.privilegeChanges.push([
      c.server, c.loggedAt, c.sessionId, c.actor, c.actingRole, c.action, c.roleName, c.attribute, c.value, c.grantedRole,
      c.privileges, c.objectType, c.objectName, c.grantee, c.withOption, c.grantor, c.statement, c.effective, c.truncated,
      c.uncertain, c.passwordStrength === null ? null : JSON.stringify(c.passwordStrength), c.seq, source, position,
    ]);
    this.serversWithChanges.add(c.server);
    this.changes.push(c);
  }

  /** Text in the event is already redacted by the decoder (bodies by key, strings by the redactor). */
  addControlPlaneEvent(e: ControlPlaneEvent): void {
    this.controlPlaneEvents.push([
      e.server, e.loggedAt, e.operation, e.action, e.status, e.caller, e.callerType, e.callerRole, e.callerIp, e.correlationId,
      e.target, e.requestedValue, e.requestedFrom, e.subscription, e.resourceGroup, e.resourceId, e.category, e.level,
      e.resultSignature, e.statusCode, e.durationMs, e.properties, e.source, e.position,
    ]);
  }

  markIneffective(marks: readonly IneffectiveMark[]): void {
    for (const m of marks) {
      this.ineffective.push(m);
      this.serversWithChanges.add(m.server);
    }
  }

  setSessions(states: readonly SessionState[]): void {
    for (const s of states) {
      this.sessionKeys.add(sessionKey(s.server, s.sessionId));
      this.sessions.push([
        s.server, s.sessionId, s.pid, s.startedAt, s.endedAt, s.userName, s.databaseName, s.applicationName, s.clientAddr,
        s.clientPort, s.authMethod, s.authIdentity, s.ssl, s.sslProtocol, s.sslCipher, s.replication,
        s.clientAddr === null ? null : isLocalClient(s.clientAddr),
      ]);
    }
  }

  private markUnattributed(server: string, sessionId: string): void {
    this.unattributed.set(sessionKey(server, sessionId), { server, sessionId });
  }
}

/**
 * Whether migration 7's view gives this record back exactly from its event: no DETAIL, HINT or STATEMENT,
 * and the message as pgaudit renders the event. The view can only show a missing statement as `<previously logged>`.
 */
function rendersBack(r: LogRecord, a: AuditEntry): boolean {
  const statementShown = a.statement !== null || a.statementLogged === 'previously logged';
  return r.detail === null && r.hint === null && r.statement === null && statementShown && rendersAuditMessage(a, r.message);
}
