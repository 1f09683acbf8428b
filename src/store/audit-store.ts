/**
 * The writer side of the store. Input contract: batches in source order per source key; batches of
 * different sources may interleave. Each batch's rows and its position commit in one transaction, so a
 * source resumed from `readPosition` never stores a row twice, even after a kill mid-batch.
 */
import { type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { ColumnarTable, type AppendableRows } from './columnar-table.js';
import { closeDatabase, openDatabase, type Database } from './open-database.js';
import { BatchRows } from './batch-rows.js';
import { sqlString } from './sql-literal.js';
import { StoredRecords } from './stored-records.js';
import { INEFFECTIVE_MARKS, SESSIONS } from './table-specs.js';
import { batchTables, chunkInsert, type ChunkFile } from './chunk-file.js';

export interface CommitTarget {
  /** null for sources that cannot resume (stdin): rows are stored, no position is kept. */
  sourceKey: string | null;
  source: string;
  position: string;
  /** More positions committed in the same transaction (the marks of routed origins: sources/eventhubs/routed-origins.ts). */
  marks?: readonly { sourceKey: string; source: string; position: string }[];
}

export interface CommitCounts {
  auditEvents: number;
  authFailures: number;
  deadLetters: number;
  sessions: number;
  privilegeChanges: number;
  controlPlaneEvents: number;
}

/** A session as `sessions` holds it once a batch's sessions are merged in (`mergedSessions` of a commit). */
export interface MergedSession {
  server: string;
  sessionId: string;
  userName: string | null;
  /** `started_at` in microseconds since the epoch. */
  startedAtMicros: number | null;
}

/** In the batch's transaction, after its rows are in; `merged` is set when the commit was asked for it. */
export type BeforeCommit = (connection: DuckDBConnection, merged: readonly MergedSession[] | null) => Promise<void>;

export interface CommitOptions {
  /** Read back the batch's sessions as merged into `sessions` (who and when the store now says), for `beforeCommit`. */
  mergedSessions?: boolean;
}

export class AuditStore {
  private constructor(readonly db: Database) {}

  static async open(path: string): Promise<AuditStore> {
    const db = await openDatabase(path);
    await db.connection.run(`CREATE TEMP TABLE sessions_stage AS SELECT * EXCLUDE (change_seq) FROM sessions LIMIT 0`);
    await db.connection.run(`CREATE TEMP TABLE attribution_keys (server VARCHAR, session_id VARCHAR)`);
    await db.connection.run(`CREATE TEMP TABLE ineffective_marks (server VARCHAR, session_id VARCHAR, from_ts TIMESTAMPTZ, until_ts TIMESTAMPTZ, seq BIGINT, effective BOOLEAN)`);
    return new AuditStore(db);
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

  /** The records stored in [from, until): what a source whose records may have come another way drops (deduplication). */
  storedRecords(from: Date, until: Date): Promise<StoredRecords> {
    return StoredRecords.read(this.connection, from, until);
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

  /**
   * `beforeCommit` runs in the same transaction, after the rows are in: what it writes (late attribution, the
   * roles, alerts) commits with them.
   */
  async commit(batch: BatchRows, target: CommitTarget, beforeCommit?: BeforeCommit, opts: CommitOptions = {}): Promise<CommitCounts> {
    const sizes = new Map<string, number>();
    for (const table of [...batchTables(batch), batch.sessions]) sizes.set(table.table, table.size);
    return this.commitRows(sizes, batch, target, () => this.appendBatch(batch), beforeCommit, opts);
  }

  private async appendBatch(batch: BatchRows): Promise<void> {
    for (const table of batchTables(batch)) if (table.size > 0) await this.append(table.table, table);
    if (batch.sessions.size > 0) await this.append('sessions_stage', batch.sessions);
  }

  /**
   * A batch whose rows a worker thread wrote into chunk files (chunk-file.ts), folded in: DuckDB copies them
   * (`INSERT … SELECT` from `read_csv`), with `batch`'s rows (what the store's writer derived at the fold: sessions,
   * privilege changes, Activity Log), then as `commit`.
   */
  async commitChunk(chunk: ChunkFile, batch: BatchRows, target: CommitTarget, beforeCommit?: BeforeCommit, opts: CommitOptions = {}): Promise<CommitCounts> {
    const sizes = new Map<string, number>();
    for (const t of chunk.tables) sizes.set(t.table, t.rows);
    for (const table of [...batchTables(batch), batch.sessions]) sizes.set(table.table, (sizes.get(table.table) ?? 0) + table.size);
    return this.commitRows(sizes, batch, target, async () => {
      for (const t of chunk.tables) await this.connection.run(chunkInsert(t.table, t.path));
      await this.appendBatch(batch);
    }, beforeCommit, opts);
  }

  private async commitRows(
    sizes: ReadonlyMap<string, number>,
    derived: Pick<BatchRows, 'completedControlPlane' | 'ineffective'>,
    target: CommitTarget,
    writeRows: () => Promise<void>,
    beforeCommit?: BeforeCommit,
    opts: CommitOptions = {},
  ): Promise<CommitCounts> {
    const c = this.connection;
    const size = (table: string) => sizes.get(table) ?? 0;
    const counts: CommitCounts = {
      auditEvents: size('audit_events'),
      authFailures: size('auth_failures'),
      deadLetters: size('dead_letters'),
      sessions: size('sessions'),
      privilegeChanges: size('privilege_changes'),
      controlPlaneEvents: size('control_plane_events'),
    };
    await c.run('BEGIN TRANSACTION');
    try {
      await writeRows();
      await this.completeControlPlane(derived.completedControlPlane);
      const merged = counts.sessions > 0 ? await this.mergeStagedSessions(opts.mergedSessions === true) : [];
      await this.markIneffective(derived.ineffective);
      if (beforeCommit) await beforeCommit(c, opts.mergedSessions ? merged : null);
      // Stage emptied, position and COMMIT in one round trip: each await waits for the main thread, busy with the next batch.
      const positions = [...(target.sourceKey === null ? [] : [target]), ...(target.marks ?? [])]
        .map((p) => `INSERT OR REPLACE INTO source_positions VALUES (${sqlString(p.sourceKey!)}, ${sqlString(p.source)}, ${sqlString(p.position)}, now());`)
        .join(' ');
      await c.run(`${counts.sessions > 0 ? 'DELETE FROM sessions_stage; ' : ''}${positions} COMMIT`);
    } catch (error) {
      await c.run('ROLLBACK').catch(() => undefined);
      throw new Error(`storing the batch of ${target.source} up to ${target.position} failed, nothing of it was stored: ${(error as Error).message}`);
    }
    return counts;
  }

  async close(): Promise<void> {
    await closeDatabase(this.db);
  }

  /** `table` may differ from the rows' own: the sessions go to a staging table first. */
  private async append(table: string, rows: AppendableRows): Promise<void> {
    const appender: DuckDBAppender = await this.connection.createAppender(table);
    try {
      rows.appendTo(appender);
    } finally {
      appender.closeSync();
    }
  }

  /**
   * Merge, not replace: a restarted process knows less about a session than the store does. With `readBack`, the
   * merged rows' user and start come back from the same statement (RETURNING), so no second read is needed. Each
   * merged row takes the next `change_seq`: the lake exports the sessions changed since its last segment by it.
   */
  private async mergeStagedSessions(readBack: boolean): Promise<MergedSession[]> {
    const merged = SESSIONS.slice(2)
      .map(([name]) =>
        name === 'started_at'
          ? `started_at = greatest(sessions.started_at, excluded.started_at)`
          : `${name} = coalesce(excluded.${name}, sessions.${name})`,
      )
      .join(', ');
    const upsert = `INSERT INTO sessions SELECT *, nextval('session_change_seq') FROM sessions_stage ON CONFLICT (server, session_id) DO UPDATE SET ${merged}, change_seq = excluded.change_seq`;
    if (!readBack) {
      await this.connection.run(upsert);
      return [];
    }
    const rows = (await this.connection.runAndReadAll(`${upsert} RETURNING server, session_id, user_name, epoch_us(started_at)`)).getRows();
    return rows.map(([server, sessionId, userName, micros]) => ({
      server: String(server),
      sessionId: String(sessionId),
      userName: userName === null ? null : String(userName),
      startedAtMicros: micros === null ? null : Number(micros),
    }));
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

  /**
   * Rows whose transaction a later line rolled back or aborted, or committed after all (lines read out of order):
   * one UPDATE for all. A row marked twice takes its last mark.
   */
  private async markIneffective(marks: BatchRows['ineffective']): Promise<void> {
    if (marks.length === 0) return;
    const last = new Map<string, [string, string | null, Date, Date, number, boolean]>();
    for (const m of marks) for (const seq of m.seqs) last.set(`${m.server}\u0000${m.sessionId ?? ''}\u0000${seq}`, [m.server, m.sessionId, m.from, m.until, seq, m.effective]);
    const rows = new ColumnarTable('ineffective_marks', INEFFECTIVE_MARKS);
    for (const row of last.values()) rows.push(row);
    await this.append('ineffective_marks', rows);
    await this.connection.run(
      `UPDATE privilege_changes t SET effective = m.effective FROM ineffective_marks m
       WHERE t.server = m.server AND t.session_id IS NOT DISTINCT FROM m.session_id AND t.seq = m.seq
         AND t.logged_at BETWEEN m.from_ts AND m.until_ts`,
    );
    await this.connection.run('DELETE FROM ineffective_marks');
  }
}
