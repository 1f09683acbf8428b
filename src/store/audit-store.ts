/**
 * The writer side of the store. Input contract: batches in source order per source key; batches of
 * different sources may interleave. Each batch's rows and its position commit in one transaction, so a
 * source resumed from `readPosition` never stores a row twice, even after a kill mid-batch.
 */
import { type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { readEffectiveChanges, snapshotBase, writeRoleRows, type WrittenRoles } from './role-tables.js';
import { byTimeThenSeq, RoleReplay, type RoleBase } from '../analyze/roles/rebuild-roles.js';
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import { ColumnarTable, type AppendableRows } from './columnar-table.js';
import { closeDatabase, openDatabase, type Database } from './open-database.js';
import { BatchRows } from './batch-rows.js';
import { sqlString } from './sql-literal.js';
import { snapshotsStored } from './snapshot-tables.js';
import { INEFFECTIVE_MARKS, SESSION_KEYS, SESSIONS } from './table-specs.js';
import { sessionKey } from '../contracts/session-key.js';

export interface CommitTarget {
  /** null for sources that cannot resume (stdin): rows are stored, no position is kept. */
  sourceKey: string | null;
  source: string;
  position: string;
}

export interface CommitCounts {
  auditEvents: number;
  authFailures: number;
  deadLetters: number;
  sessions: number;
  privilegeChanges: number;
  lateAttributed: number;
  controlPlaneEvents: number;
}

export class AuditStore {
  /** Sessions with rows still lacking their user: late attribution looks for them in each batch. */
  private readonly unattributed = new Map<string, { server: string; sessionId: string }>();
  /** Each server's effective changes in order, as last replayed: most batches only append to them. */
  private readonly replayed = new Map<string, PrivilegeChange[]>();
  /** Each server's replay, kept to be extended by the next batch. */
  private readonly replays = new Map<string, { base: RoleBase | undefined; replay: RoleReplay }>();
  /** Each server's role rows as last written, so a batch rewrites only the roles it changed. */
  private readonly writtenRoles = new Map<string, WrittenRoles>();
  /** Each server's replay base as last read, with the count of snapshots stored then: read again only after a new one. */
  private readonly bases = new Map<string, { stored: number; base: RoleBase | undefined }>();

  private constructor(readonly db: Database) {}

  static async open(path: string): Promise<AuditStore> {
    const db = await openDatabase(path);
    await db.connection.run(`CREATE TEMP TABLE sessions_stage AS SELECT * FROM sessions LIMIT 0`);
    await db.connection.run(`CREATE TEMP TABLE attribution_keys (server VARCHAR, session_id VARCHAR)`);
    await db.connection.run(`CREATE TEMP TABLE ineffective_marks (server VARCHAR, session_id VARCHAR, from_ts TIMESTAMPTZ, until_ts TIMESTAMPTZ, seq BIGINT)`);
    const store = new AuditStore(db);
    await store.loadUnattributed();
    return store;
  }

  get connection(): DuckDBConnection {
    return this.db.connection;
  }

  newBatch(): BatchRows {
    return new BatchRows();
  }

  async readPosition(sourceKey: string): Promise<string | null> {
    const stmt = await this.connection.prepare('SELECT position FROM source_positions WHERE source_key = $1');
    stmt.bindVarchar(1, sourceKey);
    const rows = (await stmt.runAndReadAll()).getRows();
    return rows.length > 0 ? String(rows[0]![0]) : null;
  }

  /** Committed positions of the sources whose key starts with `keyPrefix`, where the position is a number below `below`. */
  async readPositionsBelow(keyPrefix: string, below: number): Promise<{ sourceKey: string; position: number }[]> {
    const stmt = await this.connection.prepare(
      'SELECT source_key, TRY_CAST(position AS BIGINT) AS p FROM source_positions WHERE starts_with(source_key, $1) AND TRY_CAST(position AS BIGINT) < $2',
    );
    stmt.bindVarchar(1, keyPrefix);
    stmt.bindBigInt(2, BigInt(below));
    return (await stmt.runAndReadAll()).getRows().map(([key, p]) => ({ sourceKey: String(key), position: Number(p) }));
  }

  /** `beforeCommit` runs in the same transaction, after the rows are in: what it writes commits with them. */
  async commit(batch: BatchRows, target: CommitTarget, beforeCommit?: (connection: DuckDBConnection) => Promise<void>): Promise<CommitCounts> {
    const c = this.connection;
    const counts: CommitCounts = {
      auditEvents: batch.auditEvents.size,
      authFailures: batch.authFailures.size,
      deadLetters: batch.deadLetters.size,
      sessions: batch.sessions.size,
      privilegeChanges: batch.privilegeChanges.size,
      lateAttributed: 0,
      controlPlaneEvents: batch.controlPlaneEvents.size,
    };
    await c.run('BEGIN TRANSACTION');
    try {
      for (const table of [batch.logLines, batch.auditEvents, batch.authFailures, batch.deadLetters, batch.privilegeChanges, batch.controlPlaneEvents]) {
        if (table.size > 0) await this.append(table.table, table);
      }
      await this.completeControlPlane(batch.completedControlPlane);
      if (batch.sessions.size > 0) await this.upsertSessions(batch.sessions);
      await this.markIneffective(batch.ineffective);
      const late = await this.attributeLate(batch);
      counts.lateAttributed = late.rows;
      await this.replayRoles(batch, late.privilegeServers);
      if (beforeCommit) await beforeCommit(c);
      // Position and COMMIT in one round trip: each await waits for the main thread, busy with the next batch.
      const position = target.sourceKey === null ? '' : `INSERT OR REPLACE INTO source_positions VALUES (${sqlString(target.sourceKey)}, ${sqlString(target.source)}, ${sqlString(target.position)}, now());`;
      await c.run(`${position} COMMIT`);
    } catch (error) {
      this.replayed.clear();
      this.replays.clear();
      this.writtenRoles.clear();
      this.bases.clear();
      await c.run('ROLLBACK').catch(() => undefined);
      throw new Error(`storing the batch of ${target.source} up to ${target.position} failed, nothing of it was stored: ${(error as Error).message}`);
    }
    return counts;
  }

  async close(): Promise<void> {
    await closeDatabase(this.db);
  }

  private async append(table: string, rows: AppendableRows): Promise<void> {
    const appender: DuckDBAppender = await this.connection.createAppender(table);
    try {
      rows.appendTo(appender);
    } finally {
      appender.closeSync();
    }
  }

  /** Merge, not replace: a restarted process knows less about a session than the store does. */
  private async upsertSessions(sessions: ColumnarTable<typeof SESSIONS>): Promise<void> {
    await this.append('sessions_stage', sessions);
    const merged = SESSIONS.slice(2)
      .map(([name]) =>
        name === 'started_at'
          ? `started_at = greatest(sessions.started_at, excluded.started_at)`
          : `${name} = coalesce(excluded.${name}, sessions.${name})`,
      )
      .join(', ');
    await this.connection.run(`INSERT INTO sessions SELECT * FROM sessions_stage ON CONFLICT (server, session_id) DO UPDATE SET ${merged}; DELETE FROM sessions_stage`);
  }

  /**
   * Replays the roles of servers the batch touched. Appending the batch's changes to the cached list is
   * enough unless rows already stored changed (rolled back, attributed late): then the list is read again.
   */
  private async replayRoles(batch: BatchRows, lateServers: readonly string[]): Promise<void> {
    const stale = new Set(lateServers);
    const servers = new Set([...batch.serversWithChanges, ...stale]);
    for (const server of servers) {
      const added = batch.changes.filter((ch) => ch.server === server && ch.effective);
      let changes = stale.has(server) ? undefined : this.replayed.get(server);
      const marked = markedChanges(batch.ineffective, server);
      if (changes) {
        if (marked.size > 0) changes = changes.filter((ch) => !isMarked(ch, marked));
        if (added.length > 0) changes = appendInOrder(changes, added);
      } else {
        changes = await readEffectiveChanges(this.connection, server);
      }
      this.replayed.set(server, changes);

      // Most batches only add changes after the last one replayed: extend the replay instead of redoing it.
      const base = await this.baseOf(server);
      let replay = this.replays.get(server);
      const extended = replay !== undefined && replay.base === base && marked.size === 0 && !stale.has(server) && replay.replay.extend(added);
      if (!extended) {
        replay = { base, replay: new RoleReplay(server, base) };
        replay.replay.extend(changes);
      }
      this.replays.set(server, replay!);
      const written = await writeRoleRows(this.connection, server, replay!.replay.rows(), base, (t, rows) => this.append(t, rows), this.writtenRoles.get(server));
      this.writtenRoles.set(server, written);
    }
  }

  /** The server's replay base (its latest snapshot), read from the store only when a snapshot was stored since. */
  private async baseOf(server: string): Promise<RoleBase | undefined> {
    const stored = snapshotsStored();
    const cached = this.bases.get(server);
    if (cached?.stored === stored) return cached.base;
    const base = await snapshotBase(this.connection, server);
    this.bases.set(server, { stored, base });
    return base;
  }

  /** Outcome rows stored before their Start arrived get the Start's requested value (request-joiner.ts). */
  private async completeControlPlane(events: BatchRows['completedControlPlane']): Promise<void> {
    for (const e of events) {
      if (e.correlationId === null || e.requestedValue === null) continue;
      const stmt = await this.connection.prepare(
        `UPDATE control_plane_events SET requested_value = $1, requested_from = 'start'
         WHERE correlation_id = $2 AND operation = $3 AND resource_id = $4 AND status = $5 AND requested_value IS NULL`,
      );
      stmt.bindVarchar(1, e.requestedValue);
      stmt.bindVarchar(2, e.correlationId);
      stmt.bindVarchar(3, e.operation);
      stmt.bindVarchar(4, e.resourceId);
      stmt.bindVarchar(5, e.status ?? '');
      await stmt.run();
    }
  }

  /** Rows of earlier batches whose transaction a later line rolled back or aborted: one UPDATE for all. */
  private async markIneffective(marks: BatchRows['ineffective']): Promise<void> {
    if (marks.length === 0) return;
    const rows = new ColumnarTable('ineffective_marks', INEFFECTIVE_MARKS);
    for (const m of marks) for (const seq of m.seqs) rows.push([m.server, m.sessionId, m.from, m.until, seq]);
    await this.append('ineffective_marks', rows);
    await this.connection.run(
      `UPDATE privilege_changes t SET effective = false FROM ineffective_marks m
       WHERE t.server = m.server AND t.session_id IS NOT DISTINCT FROM m.session_id AND t.seq = m.seq
         AND t.logged_at BETWEEN m.from_ts AND m.until_ts`,
    );
    await this.connection.run('DELETE FROM ineffective_marks');
  }

  /**
   * Fills user, database, client and application into rows stored before their session's lines
   * arrived. Only sessions that are both pending and known in `sessions` are touched, and only rows
   * from the session's start on, so DuckDB's zone maps skip most of the table.
   */
  private async attributeLate(batch: BatchRows): Promise<{ rows: number; privilegeServers: string[] }> {
    for (const [k, v] of batch.unattributed) this.unattributed.set(k, v);
    const candidates = [...batch.unattributed.values()];
    for (const k of batch.sessionKeys) {
      const pending = this.unattributed.get(k);
      if (pending && !batch.unattributed.has(k)) candidates.push(pending);
    }
    if (candidates.length === 0) return { rows: 0, privilegeServers: [] };

    const keys = new ColumnarTable('attribution_keys', SESSION_KEYS);
    for (const { server, sessionId } of candidates) keys.push([server, sessionId]);
    await this.append('attribution_keys', keys);
    const known = await this.connection.runAndReadAll(
      `SELECT s.server, s.session_id, s.user_name IS NOT NULL AS complete, min(s.started_at) OVER () AS since
       FROM sessions s JOIN attribution_keys k USING (server, session_id)`,
    );
    const rows = known.getRows();
    let updated = 0;
    const privilegeServers: string[] = [];
    if (rows.length > 0) {
      const since = rows[0]![3] === null ? null : String(rows[0]![3]);
      // The literal bound lets DuckDB prune row groups by logged_at before joining.
      const bound = since === null ? '' : `AND t.logged_at >= TIMESTAMPTZ '${since}' - INTERVAL 1 MINUTE`;
      const audit = await this.connection.run(
        `UPDATE audit_events t SET user_name = coalesce(t.user_name, s.user_name), database_name = coalesce(t.database_name, s.database_name),
           client_addr = coalesce(t.client_addr, s.client_addr), application_name = coalesce(t.application_name, s.application_name)
         FROM sessions s JOIN attribution_keys k USING (server, session_id)
         WHERE t.server = s.server AND t.session_id = s.session_id AND t.user_name IS NULL ${bound}`,
      );
      const auth = await this.connection.run(
        `UPDATE auth_failures t SET client_addr = coalesce(t.client_addr, s.client_addr), user_name = coalesce(t.user_name, s.user_name),
           database_name = coalesce(t.database_name, s.database_name)
         FROM sessions s JOIN attribution_keys k USING (server, session_id)
         WHERE t.server = s.server AND t.session_id = s.session_id AND (t.client_addr IS NULL OR t.user_name IS NULL) ${bound}`,
      );
      const privilege = await this.connection.runAndReadAll(
        `UPDATE privilege_changes t SET actor = s.user_name
         FROM sessions s JOIN attribution_keys k USING (server, session_id)
         WHERE t.server = s.server AND t.session_id = s.session_id AND t.actor IS NULL AND s.user_name IS NOT NULL ${bound}
         RETURNING t.server`,
      );
      for (const [server] of privilege.getRows()) privilegeServers.push(String(server));
      updated = Number(audit.rowsChanged) + Number(auth.rowsChanged) + privilegeServers.length;
      for (const [server, sessionId, complete] of rows) {
        if (complete) this.unattributed.delete(sessionKey(String(server), String(sessionId)));
      }
    }
    await this.connection.run('DELETE FROM attribution_keys');
    return { rows: updated, privilegeServers };
  }

  private async loadUnattributed(): Promise<void> {
    const reader = await this.connection.runAndReadAll(
      `SELECT DISTINCT server, session_id FROM audit_events WHERE user_name IS NULL AND session_id IS NOT NULL
       UNION SELECT DISTINCT server, session_id FROM auth_failures WHERE client_addr IS NULL AND session_id IS NOT NULL
       UNION SELECT DISTINCT server, session_id FROM privilege_changes WHERE actor IS NULL AND session_id IS NOT NULL`,
    );
    for (const [server, sessionId] of reader.getRows()) {
      this.unattributed.set(sessionKey(String(server), String(sessionId)), { server: String(server), sessionId: String(sessionId) });
    }
  }
}

/** `session\0seq` → the time range the mark covers, for one server. */
function markedChanges(marks: BatchRows['ineffective'], server: string): Map<string, { from: number; until: number }> {
  const out = new Map<string, { from: number; until: number }>();
  for (const m of marks) {
    if (m.server !== server) continue;
    for (const seq of m.seqs) out.set(`${m.sessionId ?? ''}\u0000${seq}`, { from: m.from.getTime(), until: m.until.getTime() });
  }
  return out;
}

function isMarked(change: PrivilegeChange, marked: Map<string, { from: number; until: number }>): boolean {
  const range = marked.get(`${change.sessionId ?? ''}\u0000${change.seq}`);
  const at = change.loggedAt.getTime();
  return range !== undefined && at >= range.from && at <= range.until;
}

/** `changes` (in order) and `added`, in order: most batches only add changes later than all before, so no full sort. */
function appendInOrder(changes: PrivilegeChange[], added: PrivilegeChange[]): PrivilegeChange[] {
  const sorted = [...added].sort(byTimeThenSeq);
  const lastBefore = changes.at(-1);
  if (lastBefore === undefined || byTimeThenSeq(lastBefore, sorted[0]!) <= 0) return changes.concat(sorted);
  return changes.concat(sorted).sort(byTimeThenSeq);
}
