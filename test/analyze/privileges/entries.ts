import type { LogRecord } from '../../../src/contracts/log-record.js';
import type { ParsedEntry } from '../../../src/parse/parsed-entry.js';

/** Builders of parsed entries of one session, one millisecond apart, in log order. */
export function sessionEntries(server = 'srv', sessionId = 's1') {
  let ms = Date.parse('2026-11-24T10:00:00.000Z');
  let statementId = 0;
  const record = (level: string, message: string, statement: string | null = null): LogRecord => ({
    server, loggedAt: new Date(ms++), sessionId, pid: 1, level, sqlstate: null, message, detail: null, hint: null, statement,
    userName: null, databaseName: null, clientAddr: null, clientPort: null, applicationName: null, source: 'test', position: String(ms),
  });
  return {
    statement: (sql: string): ParsedEntry => ({ kind: 'statement', record: record('LOG', `statement: ${sql}`), statement: sql, rawStatement: sql, secrets: [] }),
    audit: (className: string, command: string, sql: string, substatementId = 1): ParsedEntry => ({
      kind: 'audit', record: record('LOG', `AUDIT: ${sql}`), secrets: [], rawStatement: sql,
      audit: {
        auditType: 'SESSION', statementId: substatementId === 1 ? ++statementId : statementId, substatementId, className, command,
        objectType: null, objectName: null, statement: sql, statementLogged: 'logged', parameter: '<none>', parameters: null, rows: null,
      },
    }),
    error: (message: string, statement: string | null = null): ParsedEntry => ({ kind: 'other', record: record('ERROR', message, statement), secrets: [] }),
    disconnect: (): ParsedEntry => ({ kind: 'session', record: record('LOG', 'disconnection'), session: { event: 'disconnected' } }),
  };
}
