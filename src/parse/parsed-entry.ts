import type { LogRecord } from '../contracts/log-record.js';
import type { AuditEntry } from '../pgaudit/audit-entry.js';
import type { SecretFinding } from '../redact/secret-finding.js';

/**
 * A log record classified by what it says. Produced in log order per source; the session lines that
 * attribute an audit entry may come earlier, later, or from another source (Event Hubs partitions
 * interleave one server's lines), so nothing here is attributed yet: the store does that.
 * Text fields of `record` are already redacted; `secrets` says what the redactor removed.
 */
export type ParsedEntry =
  | { kind: 'audit'; record: LogRecord; audit: AuditEntry; secrets: SecretFinding[]; rawStatement: string | null }
  | { kind: 'session'; record: LogRecord; session: SessionFact }
  | { kind: 'auth-failure'; record: LogRecord; failure: AuthFailureFact }
  /** `log_statement` output: `statement: …`, `execute <name>: …`. `rawStatement` is unredacted and must never be stored. */
  | { kind: 'statement'; record: LogRecord; statement: string; rawStatement: string; secrets: SecretFinding[] }
  | { kind: 'other'; record: LogRecord; secrets: SecretFinding[] };

/** What one session line tells about its session; each line fills some fields. */
export interface SessionFact {
  event: 'received' | 'authenticated' | 'authorized' | 'disconnected';
  clientAddr?: string;
  clientPort?: number;
  authIdentity?: string;
  authMethod?: string;
  userName?: string;
  databaseName?: string;
  applicationName?: string;
  ssl?: boolean;
  sslProtocol?: string;
  sslCipher?: string;
  replication?: boolean;
  /** From `disconnection: session time: h:mm:ss.mmm`. */
  sessionMillis?: number;
}

export interface AuthFailureFact {
  sqlstate: string;
  reason: string;
  userName: string | null;
  databaseName: string | null;
  clientAddr: string | null;
  /** From DETAIL: `Role "u" does not exist.` → false; `Password does not match` → true; else null. */
  roleExists: boolean | null;
}
