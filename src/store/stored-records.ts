/**
 * Deduplication against the store: which records of a time range it already holds, so that a source whose
 * records may also have come another way (Log Analytics history that Event Hubs delivered) stores each once.
 * A record is identified by server, time (ms), pid and its message as stored, i.e. redacted: a record is
 * compared in the form the store would give it.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LogRecord } from '../contracts/log-record.js';
import { parseRecord } from '../parse/parse-record.js';

export class StoredRecords {
  private constructor(private readonly keys: Set<string>) {}

  /** The records stored with `logged_at` in [from, until). */
  static async read(connection: DuckDBConnection, from: Date, until: Date): Promise<StoredRecords> {
    const stmt = await connection.prepare(
      `SELECT server, epoch_ms(logged_at) AS ms, pid, message FROM log_records
       WHERE logged_at >= CAST($1 AS TIMESTAMPTZ) AND logged_at < CAST($2 AS TIMESTAMPTZ)`,
    );
    stmt.bindVarchar(1, from.toISOString());
    stmt.bindVarchar(2, until.toISOString());
    const rows = (await stmt.runAndReadAll()).getRows();
    return new StoredRecords(new Set(rows.map(([server, ms, pid, message]) => keyOf(String(server), Number(ms), pid === null ? null : Number(pid), String(message ?? '')))));
  }

  /** True when the record is stored already, or was offered before; else it is remembered as offered now. */
  seen(record: LogRecord): boolean {
    const stored = parseRecord(record).entry.record;
    const key = keyOf(stored.server, stored.loggedAt.getTime(), stored.pid, stored.message);
    if (this.keys.has(key)) return true;
    this.keys.add(key);
    return false;
  }
}

function keyOf(server: string, ms: number, pid: number | null, message: string): string {
  return `${server}\u0000${ms}\u0000${pid ?? ''}\u0000${message}`;
}
