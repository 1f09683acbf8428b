/**
 * Log records for detection tests, built as the decoders would produce them from Azure's `%t-%c-` lines:
 * sessions that connect and authenticate, fail passwords, and run pgaudit-logged statements, at the
 * times a test chooses. Feed them to `IngestPipeline.processBatch` to control batch boundaries.
 */
import type { DecodeResult, LogRecord } from '../../src/contracts/log-record.js';

let position = 0;

export function record(server: string, at: Date, sessionId: string, level: string, message: string, extra: Partial<LogRecord> = {}): DecodeResult {
  const [start, pid] = sessionId.split('.');
  void start;
  return {
    kind: 'record',
    record: {
      server,
      loggedAt: at,
      sessionId,
      pid: parseInt(pid ?? '1', 16),
      level,
      sqlstate: null,
      message,
      detail: null,
      hint: null,
      statement: null,
      userName: null,
      databaseName: null,
      clientAddr: null,
      clientPort: null,
      applicationName: null,
      source: 'synthetic',
      position: String(++position),
      ...extra,
    },
  };
}

/** A session id as `%c` writes it: hex(start seconds).hex(pid). */
export function sessionIdAt(at: Date, pid: number): string {
  return `${Math.floor(at.getTime() / 1000).toString(16)}.${pid.toString(16)}`;
}

let nextPid = 1000;

export interface SessionSpec {
  server?: string;
  user: string;
  database?: string;
  host?: string;
  at: Date;
  ssl?: boolean;
  method?: string;
}

/** A session's connection lines (received, authenticated, authorized); returns them and its id. */
export function login(spec: SessionSpec): { sessionId: string; records: DecodeResult[] } {
  const server = spec.server ?? 'pg1';
  const sessionId = sessionIdAt(spec.at, nextPid++);
  const t = (ms: number) => new Date(spec.at.getTime() + ms);
  const ssl = spec.ssl === false ? '' : ' SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)';
  return {
    sessionId,
    records: [
      record(server, t(0), sessionId, 'LOG', `connection received: host=${spec.host ?? '10.0.0.5'} port=50000`),
      record(server, t(1), sessionId, 'LOG', `connection authenticated: identity="${spec.user}" method=${spec.method ?? 'scram-sha-256'} (/datadrive/pg/data/pg_hba.conf:12)`),
      record(server, t(2), sessionId, 'LOG', `connection authorized: user=${spec.user} database=${spec.database ?? 'appdb'} application_name=psql${ssl}`),
    ],
  };
}

/** A failed password login: received, then FATAL 28P01. */
export function failedLogin(spec: Omit<SessionSpec, 'ssl' | 'method' | 'database'>): DecodeResult[] {
  const server = spec.server ?? 'pg1';
  const sessionId = sessionIdAt(spec.at, nextPid++);
  return [
    record(server, spec.at, sessionId, 'LOG', `connection received: host=${spec.host ?? '10.0.0.5'} port=50000`),
    record(server, new Date(spec.at.getTime() + 1), sessionId, 'FATAL', `password authentication failed for user "${spec.user}"`, {
      sqlstate: '28P01',
      detail: 'Password does not match for user.',
    }),
  ];
}

/** A pgaudit SESSION line of one statement in a session. */
export function audit(server: string, sessionId: string, at: Date, statementId: number, cls: string, command: string, statement: string): DecodeResult {
  const quoted = /[",\r\n]/.test(statement) ? `"${statement.replace(/"/g, '""')}"` : statement;
  return record(server, at, sessionId, 'LOG', `AUDIT: SESSION,${statementId},1,${cls},${command},,,${quoted},<none>`);
}

export function minutes(base: Date, n: number): Date {
  return new Date(base.getTime() + n * 60_000);
}
