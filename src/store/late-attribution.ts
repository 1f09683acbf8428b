/**
 * Fills user, database, client and application into rows stored before their session's lines arrived.
 * Which sessions to look at is the analysis' (analyze/sessions/pending-attribution.ts); this is the SQL.
 * Only sessions that are both asked for and known in `sessions` are touched, and only rows from the
 * session's start on, so DuckDB's zone maps skip most of the table. Runs inside the batch's transaction.
 *
 * Rows a committed transaction stored may be in the lake already, whose files are never rewritten: what is
 * filled into them is also appended to `attribution_fills`, in the same transaction, and the lake's readers
 * apply it with `LATE_FILLED`, the same rule the UPDATEs here are written from (lake/attribution-fills.ts).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { SessionRef } from '../analyze/sessions/pending-attribution.js';
import { sessionKey } from '../contracts/session-key.js';
import { appendRows } from './append-rows.js';
import { ColumnarTable } from './columnar-table.js';
import { ATTRIBUTION_FILLS, SESSION_KEYS } from './table-specs.js';

/** One privilege change, by the columns that tell it from every other. */
export interface ChangeKey {
  server: string;
  sessionId: string;
  loggedAtMicros: bigint;
  seq: number;
}

export interface LateAttribution {
  /** Rows filled in, over audit events, auth failures and privilege changes. */
  rows: number;
  /** Servers with privilege changes whose actor was filled in: their role replay must read them again. */
  privilegeServers: string[];
  /** The privilege changes whose actor was filled in: windows that counted them without an actor missed them. */
  filledChanges: ChangeKey[];
  /** Sessions whose user is known now: nothing of them is pending any more. */
  completed: SessionRef[];
}

/** The session columns a fill records, in `attribution_fills`' order. */
export const FILL_COLUMNS = ['user_name', 'database_name', 'client_addr', 'application_name'] as const;
type FillColumn = (typeof FILL_COLUMNS)[number];

/**
 * One table late attribution fills: a row of the session for which `missing(row, session)` holds takes, for
 * each column it lacks, the session's value (`coalesce(row.column, session.from)`). `row` and `session` are SQL
 * aliases; `session` has the columns of `FILL_COLUMNS` (the sessions table, or a session's fills).
 */
export interface FilledTable {
  table: 'audit_events' | 'auth_failures' | 'privilege_changes';
  missing: (row: string, session: string) => string;
  columns: readonly (readonly [column: string, from: FillColumn])[];
}

export const LATE_FILLED: readonly FilledTable[] = [
  {
    table: 'audit_events',
    // A session known only from its disconnection line gives the user, not the application: filled later too.
    missing: (t, s) => `(${t}.user_name IS NULL OR (${t}.application_name IS NULL AND ${s}.application_name IS NOT NULL))`,
    columns: [['user_name', 'user_name'], ['database_name', 'database_name'], ['client_addr', 'client_addr'], ['application_name', 'application_name']],
  },
  {
    table: 'auth_failures',
    missing: (t) => `(${t}.client_addr IS NULL OR ${t}.user_name IS NULL)`,
    columns: [['client_addr', 'client_addr'], ['user_name', 'user_name'], ['database_name', 'database_name']],
  },
  {
    table: 'privilege_changes',
    missing: (t, s) => `(${t}.actor IS NULL AND ${s}.user_name IS NOT NULL)`,
    columns: [['actor', 'user_name']],
  },
];

/**
 * One row per session: its fills (`fills`, a FROM item) merged. A column has at most one value over a session's
 * fills (a fill is recorded only when it brings a value the earlier ones lack), so max() is that value. The store
 * reads it to know what a fill would add; the lake's readers apply it (lake/attribution-fills.ts).
 */
export function sessionFills(fills: string): string {
  return `(SELECT server, session_id, ${FILL_COLUMNS.map((c) => `max(${c}) AS ${c}`).join(', ')} FROM ${fills} GROUP BY server, session_id)`;
}

/** Where the fills of a batch come from: the batch's source and position, and which sessions had rows stored before it. */
export interface FillCause {
  source: string;
  position: string;
  /** `sessionKey`s of the candidates with rows stored by an earlier transaction: only those can be in the lake without their user. */
  storedBefore: ReadonlySet<string>;
  at?: Date;
}

export async function attributeLate(connection: DuckDBConnection, candidates: readonly SessionRef[], cause: FillCause): Promise<LateAttribution> {
  if (candidates.length === 0) return { rows: 0, privilegeServers: [], filledChanges: [], completed: [] };
  const keys = new ColumnarTable('attribution_keys', SESSION_KEYS);
  for (const { server, sessionId } of candidates) keys.push([server, sessionId]);
  await appendRows(connection, keys);
  // On failure the batch's ROLLBACK takes the keys away with everything else.
  const result = await attributeKeys(connection, cause);
  await connection.run('DELETE FROM attribution_keys');
  return result;
}

async function attributeKeys(connection: DuckDBConnection, cause: FillCause): Promise<LateAttribution> {
  // `adds`: the session has a value its earlier fills lack, so a lake reader needs a fill row for it.
  const known = (await connection.runAndReadAll(
    `SELECT s.server, s.session_id, s.user_name IS NOT NULL AS complete, min(s.started_at) OVER () AS since,
       ${FILL_COLUMNS.map((c) => `s.${c}`).join(', ')},
       ${FILL_COLUMNS.map((c) => `(s.${c} IS NOT NULL AND f.${c} IS NULL)`).join(' OR ')} AS adds
     FROM sessions s JOIN attribution_keys k USING (server, session_id)
     LEFT JOIN ${sessionFills('attribution_fills JOIN attribution_keys USING (server, session_id)')} f USING (server, session_id)`,
  )).getRows();
  if (known.length === 0) return { rows: 0, privilegeServers: [], filledChanges: [], completed: [] };
  const since = known[0]![3] === null ? null : String(known[0]![3]);
  // The literal bound lets DuckDB prune row groups by logged_at before joining.
  const bound = since === null ? '' : `AND t.logged_at >= TIMESTAMPTZ '${since}' - INTERVAL 1 MINUTE`;
  const update = (filled: FilledTable, returning = '') =>
    `UPDATE ${filled.table} t SET ${filled.columns.map(([column, from]) => `${column} = coalesce(t.${column}, s.${from})`).join(', ')}
     FROM sessions s JOIN attribution_keys k USING (server, session_id)
     WHERE t.server = s.server AND t.session_id = s.session_id AND ${filled.missing('t', 's')} ${bound} ${returning}`;
  const [auditEvents, authFailures, privilegeChanges] = LATE_FILLED;
  const audit = await connection.run(update(auditEvents!));
  const auth = await connection.run(update(authFailures!));
  const privilege = await connection.runAndReadAll(update(privilegeChanges!, 'RETURNING t.server, t.session_id, epoch_us(t.logged_at), t.seq'));
  const filledChanges = privilege.getRows().map(([server, sessionId, micros, seq]) => ({ server: String(server), sessionId: String(sessionId), loggedAtMicros: BigInt(micros as bigint), seq: Number(seq) }));
  await recordFills(connection, known, cause);
  return {
    rows: Number(audit.rowsChanged) + Number(auth.rowsChanged) + filledChanges.length,
    privilegeServers: [...new Set(filledChanges.map((c) => c.server))],
    filledChanges,
    completed: known.filter(([, , complete]) => complete).map(([server, sessionId]) => ({ server: String(server), sessionId: String(sessionId) })),
  };
}

/**
 * A fill row for each session with rows from an earlier transaction that brings a value its earlier fills lack:
 * so each column has at most one value over a session's fills, and replaying a batch adds nothing twice.
 * Through `ColumnarTable` like every stored row (the redactor), though these are names the sessions table holds.
 */
async function recordFills(connection: DuckDBConnection, known: readonly (readonly unknown[])[], cause: FillCause): Promise<void> {
  const fills = new ColumnarTable('attribution_fills', ATTRIBUTION_FILLS);
  const at = cause.at ?? new Date();
  for (const row of known) {
    const [server, sessionId] = [String(row[0]), String(row[1])];
    if (row[8] !== true || !cause.storedBefore.has(sessionKey(server, sessionId))) continue;
    const [user, database, client, application] = row.slice(4, 8).map((v) => (v === null ? null : String(v)));
    fills.push([server, sessionId, user!, database!, client!, application!, at, cause.source, cause.position]);
  }
  await appendRows(connection, fills);
}

/** Sessions with stored rows that still lack their user: what a new process is waiting to attribute. */
export async function readPendingAttribution(connection: DuckDBConnection): Promise<SessionRef[]> {
  const reader = await connection.runAndReadAll(
    `SELECT DISTINCT server, session_id FROM audit_events WHERE user_name IS NULL AND session_id IS NOT NULL
     UNION SELECT DISTINCT server, session_id FROM auth_failures WHERE client_addr IS NULL AND session_id IS NOT NULL
     UNION SELECT DISTINCT server, session_id FROM privilege_changes WHERE actor IS NULL AND session_id IS NOT NULL`,
  );
  return reader.getRows().map(([server, sessionId]) => ({ server: String(server), sessionId: String(sessionId) }));
}
