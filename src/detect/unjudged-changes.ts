/**
 * Privilege changes the rules have not judged: those stored ineffective (`unjudged_changes`, migration 16). The
 * rules judge a batch's effective changes only; a change stored ineffective because its session disconnected with
 * its transaction open may be taken into effect by a COMMIT read later (a hub's partitions read out of order,
 * transaction-ledger.ts), and then nothing else would ever judge it. So each batch lists its ineffective changes
 * here, and hands the rules those of the list its marks took into effect, which leave it: judged once, as if they
 * had arrived effective. A change judged when it arrived, undone, then taken back into effect is not here: its alert
 * comes back (`AlertOutbox.reopenRedone`) and windowed rules counted it already. A change a hub's other leader took into
 * effect (a mark `elsewhere`: it read the COMMIT after a takeover, and its rules judged the change) leaves the list
 * unjudged here.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import type { IneffectiveMark } from '../analyze/privileges/privilege-analyzer.js';
import type { Attribution } from '../analyze/sessions/session-tracker.js';
import { sqlString } from '../store/sql-literal.js';
import { boundRows, type BoundRows } from '../store/bound-rows.js';
import { toChange } from '../store/role-tables.js';
import type { WrittenBatch } from './written-batch.js';

/** A change taken into effect, and who its session is as `sessions` holds it. */
export interface TakenIntoEffect {
  change: PrivilegeChange;
  session: Attribution;
}

/**
 * Rows the list keeps at most, the most recent by time. A late COMMIT takes into effect only a change of a session
 * the analyzer's ledger still follows (its open sessions, and the 2,000 it saw end last); a change of an older one
 * can never leave the list by being judged, and a workload that rolls back often would grow it for ever.
 */
export const MAX_UNJUDGED_CHANGES = 100_000;

/** What a batch's marks took into effect: changes no rule judged yet, and changes judged when they arrived. */
export interface TakenBack {
  /** Stored ineffective and never judged: the rules judge them now, as if they had arrived effective. */
  unjudged: TakenIntoEffect[];
  /**
   * Judged when they arrived, undone since, effective again: their alerts come back (`AlertOutbox.reopenRedone`), but a
   * window judged while they were undone did not count them (`privilege-burst` looks at them again).
   */
  redone: TakenIntoEffect[];
}

/**
 * In the batch's transaction, after the store applied its marks: the changes the batch's marks took into effect
 * (in log order), the listed ones taken off the list, then the batch's own ineffective changes put on it.
 */
export async function takeUnjudged(connection: DuckDBConnection, batch: WrittenBatch, maxListed = MAX_UNJUDGED_CHANGES): Promise<TakenBack> {
  const taken = await takeIntoEffect(connection, batch);
  await listIneffective(connection, batch.privilegeChanges, maxListed);
  return taken;
}

async function takeIntoEffect(connection: DuckDBConnection, batch: WrittenBatch): Promise<TakenBack> {
  const taken = batch.ineffective.filter((m) => m.effective && m.seqs.length > 0);
  // Taken into effect by a hub's other leader, which judged them: they leave the list unjudged here.
  const elsewhere = taken.filter((m) => m.elsewhere === true);
  if (elsewhere.length > 0) await connection.run(`DELETE FROM unjudged_changes u WHERE ${markedRows('u', elsewhere)}`);
  const marks = taken.filter((m) => m.elsewhere !== true);
  if (marks.length === 0) return { unjudged: [], redone: [] };
  const marked = (t: string) => markedRows(t, marks);
  const sameRow = (a: string, b: string) => `${a}.server = ${b}.server AND ${a}.session_id IS NOT DISTINCT FROM ${b}.session_id AND ${a}.logged_at = ${b}.logged_at AND ${a}.seq = ${b}.seq`;
  const rows = await readChangesWithSession(connection, {
    also: `EXISTS (SELECT 1 FROM unjudged_changes u WHERE ${sameRow('u', 'p')}) AS unjudged`,
    where: marked('p'),
  });
  if (rows.length === 0) return { unjudged: [], redone: [] };
  if (rows.some((r) => r.row.unjudged === true)) await connection.run(
    `DELETE FROM unjudged_changes u WHERE (${marked('u')}) AND EXISTS (SELECT 1 FROM privilege_changes p WHERE p.effective AND ${sameRow('u', 'p')})`,
  );
  return { unjudged: rows.filter((r) => r.row.unjudged === true).map((r) => r.taken), redone: rows.filter((r) => r.row.unjudged !== true).map((r) => r.taken) };
}

/** The rows of table alias `t` the marks name, each mark as constants on the row's columns: DuckDB skips the row groups of other times by their min/max. */
function markedRows(t: string, marks: readonly IneffectiveMark[]): string {
  return marks
    .map(
      (m) =>
        `(${t}.server = ${sqlString(m.server)} AND ${t}.session_id IS NOT DISTINCT FROM ${m.sessionId === null ? 'NULL' : sqlString(m.sessionId)}
          AND ${t}.logged_at BETWEEN ${timestamp(m.from)} AND ${timestamp(m.until)} AND ${t}.seq IN (${m.seqs.map(integer).join(', ')}))`,
    )
    .join(' OR ');
}

/**
 * The effective changes of `privilege_changes p` that `where` picks (after `join`, which may join the rows of
 * `joined`), in log order, each with who its session is as `sessions` holds it, and its row (with the `also` columns).
 */
export async function readChangesWithSession(
  connection: DuckDBConnection,
  sql: { where: string; join?: string; also?: string; joined?: BoundRows },
): Promise<{ taken: TakenIntoEffect; row: Record<string, DuckDBValue> }[]> {
  const rows = (
    await connection.runAndReadAll(
      `SELECT p.*, s.user_name AS session_user_name, s.database_name AS session_database_name, s.client_addr AS session_client_addr,
              s.application_name AS session_application_name${sql.also ? `, ${sql.also}` : ''}
       FROM privilege_changes p ${sql.join ?? ''}
       LEFT JOIN sessions s ON s.server = p.server AND s.session_id = p.session_id
       WHERE p.effective AND (${sql.where})
       ORDER BY p.logged_at, p.seq`,
      sql.joined?.values,
      sql.joined?.types,
    )
  ).getRowObjects();
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return rows.map((row) => ({
    taken: {
      change: toChange(row),
      session: {
        userName: text(row.session_user_name),
        databaseName: text(row.session_database_name),
        clientAddr: text(row.session_client_addr),
        applicationName: text(row.session_application_name),
      },
    },
    row,
  }));
}

async function listIneffective(connection: DuckDBConnection, changes: readonly PrivilegeChange[], maxListed: number): Promise<void> {
  const ineffective = changes.filter((c) => !c.effective);
  if (ineffective.length === 0) return;
  const rows = boundRows(
    { server: 'VARCHAR', session_id: 'VARCHAR', logged_at: 'TIMESTAMPTZ', seq: 'BIGINT' },
    ineffective.map((c) => ({ server: c.server, session_id: c.sessionId, logged_at: c.loggedAt, seq: c.seq })),
  );
  await connection.run(`INSERT INTO unjudged_changes SELECT server, session_id, logged_at, seq FROM ${rows.sql}`, rows.values, rows.types);
  // Only a batch that listed something can take the list past its bound.
  await connection.run(
    `DELETE FROM unjudged_changes WHERE logged_at < (SELECT logged_at FROM unjudged_changes ORDER BY logged_at DESC LIMIT 1 OFFSET ${integer(maxListed - 1)})`,
  );
}

function timestamp(at: Date): string {
  return `${sqlString(at.toISOString())}::TIMESTAMPTZ`;
}

function integer(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return String(value);
}
