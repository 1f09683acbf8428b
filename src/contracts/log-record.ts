import type { ControlPlaneEvent } from './control-plane-event.js';

/**
 * The one shape every decoder produces: a PostgreSQL log entry, whatever carried it
 * (an Azure envelope, a stderr file, csvlog, jsonlog). Text fields are raw here; the
 * parse stage redacts them before any row is built.
 */
export interface LogRecord {
  server: string;
  /** Millisecond precision where the source has it (Azure `properties.timestamp`, `%m`, csvlog). */
  loggedAt: Date;
  /** `%c`: hex(backend start).hex(pid); unique per session. */
  sessionId: string | null;
  pid: number | null;
  /** LOG, NOTICE, WARNING, ERROR, FATAL, PANIC, DEBUG1..5, INFO. */
  level: string;
  sqlstate: string | null;
  /** The text after `LEVEL:  `, continuation lines included. */
  message: string;
  detail: string | null;
  hint: string | null;
  /** The STATEMENT that an ERROR line refers to (stderr `STATEMENT:`, csvlog `query`, jsonlog `statement`). */
  statement: string | null;
  /** What the prefix or the structured format says about the session; null where it says nothing. */
  userName: string | null;
  databaseName: string | null;
  clientAddr: string | null;
  clientPort: number | null;
  applicationName: string | null;
  /** Where the record came from: a file path, `stdin`, `eventhubs:<hub>/<partition>`. */
  source: string;
  /** Where in the source: a byte offset, a sequence number, a record index inside an event body. */
  position: string;
}

/** Input that could not be decoded; it becomes a `dead_letters` row. `raw` is redacted by the store. */
export interface DeadLetter {
  source: string;
  position: string;
  reason: string;
  raw: string;
}

export type DecodeResult =
  | { kind: 'record'; record: LogRecord }
  /** An Azure Activity Log record about a PostgreSQL server (firewall, parameters, admins...): `control_plane_events`. */
  | { kind: 'control-plane'; event: ControlPlaneEvent }
  | { kind: 'dead'; dead: DeadLetter }
  /** A record of a category auditduck does not handle (e.g. PostgreSQLFlexQueryStoreRuntime): counted, not stored. */
  | { kind: 'skipped'; category: string };

/** Thrown by pure parsers; the caller turns it into a dead letter with this message as the reason. */
export class ParseError extends Error {
  override name = 'ParseError';
}
