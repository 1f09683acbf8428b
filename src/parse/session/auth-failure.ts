import type { AuthFailureFact } from '../parsed-entry.js';

/**
 * Authentication failures as PostgreSQL words them (FATAL, SQLSTATE class 28). The default Azure prefix
 * carries no `%e`, so the message itself has to say which failure it was.
 */
const AUTH_FAILURES: readonly { pattern: RegExp; sqlstate: string; read(m: RegExpExecArray): Partial<AuthFailureFact> }[] = [
  { pattern: /^password authentication failed for user "(.*)"$/, sqlstate: '28P01', read: (m) => ({ userName: m[1]! }) },
  {
    pattern: /^no pg_hba\.conf entry for (?:replication connection from )?host "([^"]*)", user "([^"]*)"(?:, database "([^"]*)")?/,
    sqlstate: '28000',
    read: (m) => ({ clientAddr: m[1]!, userName: m[2]!, databaseName: m[3] ?? null }),
  },
  {
    pattern: /^pg_hba\.conf rejects (?:replication )?connection for host "([^"]*)", user "([^"]*)"(?:, database "([^"]*)")?/,
    sqlstate: '28000',
    read: (m) => ({ clientAddr: m[1]!, userName: m[2]!, databaseName: m[3] ?? null }),
  },
  { pattern: /^role "(.*)" does not exist$/, sqlstate: '28000', read: (m) => ({ userName: m[1]!, roleExists: false }) },
  { pattern: /^role "(.*)" is not permitted to log in$/, sqlstate: '28000', read: (m) => ({ userName: m[1]!, roleExists: true }) },
  {
    pattern: /^(?:Ident|Peer|LDAP|RADIUS|PAM|GSSAPI|SSPI|BSD|certificate|cert) authentication failed for user "(.*)"$/,
    sqlstate: '28000',
    read: (m) => ({ userName: m[1]! }),
  },
  { pattern: /^certificate .*/, sqlstate: '28000', read: () => ({}) },
];

/** Class 28 is "invalid authorization specification". */
export function isAuthSqlstate(sqlstate: string | null): boolean {
  return sqlstate !== null && sqlstate.startsWith('28');
}

export function parseAuthFailure(level: string, sqlstate: string | null, message: string, detail: string | null): AuthFailureFact | null {
  if (level !== 'FATAL') return null;
  for (const { pattern, sqlstate: code, read } of AUTH_FAILURES) {
    const m = pattern.exec(message);
    if (m) return finish({ ...read(m), sqlstate: sqlstate ?? code, reason: message }, detail);
  }
  if (isAuthSqlstate(sqlstate)) return finish({ sqlstate: sqlstate!, reason: message }, detail);
  return null;
}

function finish(fact: Partial<AuthFailureFact> & { sqlstate: string; reason: string }, detail: string | null): AuthFailureFact {
  return {
    sqlstate: fact.sqlstate,
    reason: fact.reason,
    userName: fact.userName ?? null,
    databaseName: fact.databaseName ?? null,
    clientAddr: fact.clientAddr ?? null,
    roleExists: fact.roleExists ?? roleExistsFromDetail(detail),
  };
}

/** pg's DETAIL for 28P01 says whether the role exists: the difference between a typo and a guess. */
function roleExistsFromDetail(detail: string | null): boolean | null {
  if (!detail) return null;
  if (/^Role ".*" does not exist\./.test(detail)) return false;
  if (/^(Password does not match|User ".*" has (no password assigned|an expired password)|User ".*" has a password that cannot be used)/.test(detail)) return true;
  if (/^Role ".*" exists/.test(detail)) return true;
  return null;
}
