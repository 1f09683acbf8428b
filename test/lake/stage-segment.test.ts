/**
 * How a segment's events files are cut: one file per (server, date), sorted by time within it whether the
 * rows arrived in time order or not, the partition columns in the path only, and a server name DuckDB must
 * escape placed where DuckDB's own partitioned write puts it (readers glob those paths).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { markPublished, stagedSegments, stageSegment, type StagedSegment } from '../../src/lake/stage-segment.js';
import { onOneThread } from '../../src/store/on-one-thread.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { loggingStatements } from '../support/statement-log.js';
import { addAppendOnlyRows, APPEND_ONLY_TABLES } from '../support/append-only-rows.js';
import { commitSessions, session } from '../support/session-states.js';

/** Audit rows of one server, at the given minutes past 2026-11-20 23:50 UTC (some cross midnight), in that insert order. */
function auditRows(server: string, minutes: number[]): string {
  return minutes
    .map((m, i) => `('${server}', TIMESTAMPTZ '2026-11-20 23:50:00+00' + INTERVAL ${m} MINUTE, 'SESSION', 'READ', 'SELECT ${i}', 'src', '${server}:${i}')`)
    .join(', ');
}

describe('staging a lake segment', () => {
  let dir: string;
  let staged: NonNullable<Awaited<ReturnType<typeof stageSegment>>>;
  const odd = 'pg one/eu=2';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-stage-'));
    const store = await AuditStore.open(join(dir, 'store.duckdb'));
    try {
      const insert = (rows: string) =>
        store.connection.run(`INSERT INTO audit_events (server, logged_at, audit_type, class, statement, source, position) VALUES ${rows}`);
      // In time order; out of order (late arrivals, interleaved partitions) on both days; an escaped name.
      await insert(auditRows('pg-in-order', [1, 2, 3, 12, 13]));
      await insert(auditRows('pg-shuffled', [5, 1, 4, 2, 3, 15, 11, 14, 12]));
      await insert(auditRows(odd, [3, 1, 2, 11]));
      // Next day, this day, next day again: out of order within the next day only across the other day's row.
      await insert(auditRows('pg-crossing', [12, 5, 11]));
      const s = await stageSegment(store.connection, join(dir, 'staging'));
      assert.ok(s);
      staged = s;
    } finally {
      await store.close();
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one file per server and UTC day, each sorted by time, with the rows and time span the manifest gives', async () => {
    const files = staged.files.filter((f) => f.table === 'audit_events');
    const seg = staged.segment;
    assert.deepEqual(files.map((f) => f.path).sort(), [
      `audit_events/server=pg%20one%2Feu%3D2/date=2026-11-20/part-${seg}-0.parquet`,
      `audit_events/server=pg%20one%2Feu%3D2/date=2026-11-21/part-${seg}-0.parquet`,
      `audit_events/server=pg-crossing/date=2026-11-20/part-${seg}-0.parquet`,
      `audit_events/server=pg-crossing/date=2026-11-21/part-${seg}-0.parquet`,
      `audit_events/server=pg-in-order/date=2026-11-20/part-${seg}-0.parquet`,
      `audit_events/server=pg-in-order/date=2026-11-21/part-${seg}-0.parquet`,
      `audit_events/server=pg-shuffled/date=2026-11-20/part-${seg}-0.parquet`,
      `audit_events/server=pg-shuffled/date=2026-11-21/part-${seg}-0.parquet`,
    ].sort());
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      await c.run(`SET TimeZone = 'UTC'`);
      for (const file of files) {
        const full = join(dir, 'staging', seg, ...file.path.split('/'));
        const rows = (await c.runAndReadAll(`SELECT logged_at::VARCHAR FROM read_parquet('${full}') ORDER BY file_row_number`)).getRows().map(([t]) => String(t));
        assert.deepEqual(rows, [...rows].sort(), `${file.path} is sorted by time`);
        assert.equal(rows.length, file.rows);
        assert.equal(file.minTime, rows[0]);
        assert.equal(file.maxTime, rows.at(-1));
        const columns = (await c.runAndReadAll(`SELECT name FROM parquet_schema('${full}')`)).getRows().map(([n]) => String(n));
        assert.ok(!columns.includes('server') && !columns.includes('date'), `${file.path} leaves the partition columns to its path`);
      }
      const hive = (await c.runAndReadAll(
        `SELECT DISTINCT server FROM read_parquet('${join(dir, 'staging', seg, 'audit_events', '**', '*.parquet')}', hive_partitioning = true, hive_types = {'server': VARCHAR, 'date': DATE}) ORDER BY 1`,
      )).getRows().map(([s]) => String(s));
      assert.deepEqual(hive, [odd, 'pg-crossing', 'pg-in-order', 'pg-shuffled']);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});

describe('staging on a connection in another time zone', () => {
  let dir: string;
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('still cuts UTC days: each row in the file of its UTC day', async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-stage-zone-'));
    const store = await AuditStore.open(join(dir, 'store.duckdb'));
    const side = await store.db.instance.connect();
    try {
      // 23:51 to 00:13 UTC is 08:51 to 09:13 in Tokyo: one local day, two UTC days; an escaped name takes the other path.
      await store.connection.run(
        `INSERT INTO audit_events (server, logged_at, audit_type, class, statement, source, position) VALUES ${auditRows('pg-a', [1, 12, 23])}, ${auditRows('pg b', [2, 13])}`,
      );
      await side.run(`SET TimeZone = 'Asia/Tokyo'`);
      const staged = await stageSegment(side, join(dir, 'staging'));
      assert.ok(staged);
      const files = staged.files.filter((f) => f.table === 'audit_events').map((f) => `${f.path.replace(staged.segment, 'SEG')}: ${f.rows}`).sort();
      assert.deepEqual(files, [
        'audit_events/server=pg%20b/date=2026-11-20/part-SEG-0.parquet: 1',
        'audit_events/server=pg%20b/date=2026-11-21/part-SEG-0.parquet: 1',
        'audit_events/server=pg-a/date=2026-11-20/part-SEG-0.parquet: 1',
        'audit_events/server=pg-a/date=2026-11-21/part-SEG-0.parquet: 2',
      ].sort());
    } finally {
      side.closeSync();
      await store.close();
    }
  });
});

describe('staging beside the writer', () => {
  let dir: string;
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds the writer only to take the snapshot: rows committed while the cut is read and the files written go into the next segment, once', async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-stage-beside-'));
    const store = await AuditStore.open(join(dir, 'store.duckdb'));
    const side = await store.db.instance.connect();
    try {
      const insert = (rows: string) =>
        store.connection.run(`INSERT INTO audit_events (server, logged_at, audit_type, class, statement, source, position) VALUES ${rows}`);
      await insert(auditRows('pg-a', [1, 2, 3]));
      const logged = loggingStatements(side);
      let whileHeld: string[] = [];
      const first = await stageSegment(logged.connection, join(dir, 'staging'), {
        hold: async (take) => {
          const before = logged.statements.length;
          const taken = await take();
          whileHeld = logged.statements.slice(before);
          // The writer is released: a batch commits on it while the segment's transaction is still open.
          await insert(auditRows('pg-a', [4, 5]));
          return taken;
        },
      });
      assert.ok(first);
      assert.deepEqual(whileHeld, ['BEGIN TRANSACTION', 'SELECT count(*) FROM lake_segments'], 'the writer waits for a BEGIN and one read');
      const second = await stageSegment(store.connection, join(dir, 'staging'));
      assert.ok(second);
      const rowsOf = (s: typeof first) => s.files.filter((f) => f.table === 'audit_events').reduce((n, f) => n + f.rows, 0);
      assert.equal(rowsOf(first), 3);
      assert.equal(rowsOf(second), 2);
      assert.deepEqual(second.ranges.events.audit_events, [first.ranges.events.audit_events![1], first.ranges.events.audit_events![1] + 2]);
      const recorded = (await store.connection.runAndReadAll(`SELECT seq FROM lake_segments ORDER BY seq`)).getRows().map(([s]) => Number(s));
      assert.deepEqual(recorded, [1, 2]);
    } finally {
      side.closeSync();
      await store.close();
    }
  });
});

/**
 * A connection that counts the COPYs it runs and how many of all such connections' COPYs run at once; one that is
 * told to fail its COPYs throws instead.
 */
function watchedCopies(connection: DuckDBConnection, shared: { running: number; most: number }, fail = false): { connection: DuckDBConnection; copies: () => number } {
  let copies = 0;
  const proxy = new Proxy(connection, {
    get(target, name) {
      const value = Reflect.get(target, name) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const copy = typeof args[0] === 'string' && /^\s*COPY/.test(args[0]);
        if (!copy) return (value as (...a: unknown[]) => unknown).apply(target, args);
        if (fail) throw new Error('No space left on device');
        copies++;
        shared.most = Math.max(shared.most, ++shared.running);
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          shared.running--;
        }
      };
    },
  });
  return { connection: proxy, copies: () => copies };
}

describe('staging on several connections', () => {
  let dir: string;
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the files side by side on every connection, each reading the snapshot: not a row updated or committed after it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-stage-helpers-'));
    const store = await AuditStore.open(join(dir, 'store.duckdb'));
    const opened = [await store.db.instance.connect(), await store.db.instance.connect(), await store.db.instance.connect()];
    try {
      const insert = (rows: string) =>
        store.connection.run(`INSERT INTO audit_events (server, logged_at, audit_type, class, statement, source, position) VALUES ${rows}`);
      for (const server of ['pg-a', 'pg-b', 'pg-c', 'pg-d', 'pg-e', 'pg-f']) await insert(auditRows(server, [1, 2, 3, 12, 13]));
      await insert(auditRows('pg f', [4, 14]));
      const shared = { running: 0, most: 0 };
      const [side, ...helpers] = opened.map((c) => watchedCopies(c, shared));
      const staged = await stageSegment(side!.connection, join(dir, 'staging'), {
        hold: async (take) => {
          const taken = await take();
          // Once the snapshot is taken, before the cut is read: a late attribution fills every row, and a batch commits more.
          await store.connection.run(`UPDATE audit_events SET user_name = 'filled-later'`);
          await insert(auditRows('pg-a', [5, 6]));
          return taken;
        },
        helpers: helpers.map((h) => h.connection),
      });
      assert.ok(staged);
      const files = staged.files.filter((f) => f.table === 'audit_events');
      assert.equal(files.length, 14);
      assert.equal(files.reduce((n, f) => n + f.rows, 0), 32);
      for (const [i, h] of helpers.entries()) assert.ok(h.copies() > 0, `helper ${i} wrote files`);
      assert.ok(shared.most >= 2, `COPYs ran side by side (at most ${shared.most} at once)`);
      const read = await store.db.instance.connect();
      try {
        const glob = join(dir, 'staging', staged.segment, 'audit_events', '**', '*.parquet');
        const [rows, filled] = (await read.runAndReadAll(`SELECT count(*), count(user_name) FROM read_parquet('${glob}')`)).getRows()[0]!.map(Number);
        assert.deepEqual([rows, filled], [32, 0], 'the rows as they were at the snapshot, on every connection');
      } finally {
        read.closeSync();
      }
      const recorded = (await store.connection.runAndReadAll(`SELECT seq FROM lake_segments`)).getRows().map(([s]) => Number(s));
      assert.deepEqual(recorded, [1]);
    } finally {
      for (const c of opened) c.closeSync();
      await store.close();
    }
  });

  it('records nothing when a COPY fails on a helper, and ends every transaction it began: the next stage goes through', async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-stage-helper-fails-'));
    const store = await AuditStore.open(join(dir, 'store.duckdb'));
    const opened = [await store.db.instance.connect(), await store.db.instance.connect()];
    try {
      for (const server of ['pg-a', 'pg-b', 'pg-c']) {
        await store.connection.run(`INSERT INTO audit_events (server, logged_at, audit_type, class, statement, source, position) VALUES ${auditRows(server, [1, 2, 12])}`);
      }
      const shared = { running: 0, most: 0 };
      const failing = watchedCopies(opened[1]!, shared, true);
      await assert.rejects(
        stageSegment(opened[0]!, join(dir, 'staging'), { helpers: [failing.connection] }),
        /staging lake segment 00000001-\w+ failed, nothing of it was recorded.*No space left on device/,
      );
      assert.deepEqual((await store.connection.runAndReadAll(`SELECT count(*) FROM lake_segments`)).getRows(), [[0n]]);
      assert.deepEqual(await readdir(join(dir, 'staging')), []);
      const staged = await stageSegment(opened[0]!, join(dir, 'staging'), { helpers: [opened[1]!] });
      assert.ok(staged);
      assert.equal(staged.files.filter((f) => f.table === 'audit_events').reduce((n, f) => n + f.rows, 0), 9);
    } finally {
      for (const c of opened) c.closeSync();
      await store.close();
    }
  });
});

/** `rowsEach` audit events of each of `servers` servers (pg-0, pg-1, …), one day, interleaved in time order. */
async function insertInterleaved(store: AuditStore, servers: number, rowsEach: number): Promise<void> {
  await store.connection.run(
    `INSERT INTO audit_events (server, logged_at, audit_type, class, statement, source, position)
     SELECT 'pg-' || (i % ${servers}), TIMESTAMPTZ '2026-11-20 00:00:00+00' + to_microseconds(i * 1000), 'SESSION', 'READ', 'SELECT 1', 'src', i::VARCHAR
     FROM range(${servers * rowsEach}) r(i)`,
  );
}

describe('staging a lake segment on one DuckDB thread', () => {
  /** The same rows as above, staged with the store on `oneThread` or its default threads; the COPYs it ran. */
  async function stage(dir: string, oneThread: boolean, maxOpenFiles?: number): Promise<{ staged: StagedSegment; copies: number }> {
    const store = await AuditStore.open(join(dir, `${oneThread}-${maxOpenFiles}.duckdb`));
    try {
      if (maxOpenFiles !== undefined) await store.connection.run(`SET partitioned_write_max_open_files = ${maxOpenFiles}`);
      const insert = (rows: string) =>
        store.connection.run(`INSERT INTO audit_events (server, logged_at, audit_type, class, statement, source, position) VALUES ${rows}`);
      // Five servers in time order over two days (ten partitions: enough for one scan), one shuffled, one escaped.
      for (const server of ['pg-a', 'pg-b', 'pg-c', 'pg-d', 'pg-e']) await insert(auditRows(server, [1, 2, 3, 12, 13]));
      await insert(auditRows('pg-shuffled', [5, 1, 12, 11]));
      await insert(auditRows('pg c', [2, 11]));
      const c = store.connection;
      const logged = loggingStatements(c);
      const staging = join(dir, `staging-${oneThread}-${maxOpenFiles}`);
      const staged = await (oneThread ? onOneThread(c, () => stageSegment(logged.connection, staging)) : stageSegment(logged.connection, staging));
      assert.ok(staged);
      const copies = logged.statements.filter((sql) => /^\s*COPY/.test(sql) && sql.includes('FROM audit_events')).length;
      return { staged, copies };
    } finally {
      await store.close();
    }
  }

  it('writes the servers whose rows are in time order in one scan: the same files, each sorted by time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-stage-one-thread-'));
    try {
      const many = await stage(dir, false);
      const one = await stage(dir, true);
      const events = (s: StagedSegment) => s.files.filter((f) => f.table === 'audit_events');
      assert.deepEqual(events(one.staged), events(many.staged), 'the same paths, counts and time spans, in the same order');
      assert.equal(events(one.staged).length, 14);
      // A COPY a partition on several threads; on one, the ten partitions in order in one, then one a partition of the others.
      assert.equal(many.copies, 14);
      assert.equal(one.copies, 1 + 4);
      const instance = await DuckDBInstance.create(':memory:');
      const c = await instance.connect();
      try {
        await c.run(`SET TimeZone = 'UTC'`);
        for (const file of events(one.staged)) {
          const full = join(dir, 'staging-true-undefined', one.staged.segment, ...file.path.split('/'));
          const rows = (await c.runAndReadAll(`SELECT logged_at::VARCHAR FROM read_parquet('${full}') ORDER BY file_row_number`)).getRows().map(([t]) => String(t));
          assert.deepEqual(rows, [...rows].sort(), `${file.path} is sorted by time`);
          assert.equal(rows.length, file.rows);
          const columns = (await c.runAndReadAll(`SELECT name FROM parquet_schema('${full}')`)).getRows().map(([n]) => String(n));
          assert.ok(!columns.includes('server') && !columns.includes('date'), `${file.path} leaves the partition columns to its path`);
        }
      } finally {
        c.closeSync();
        instance.closeSync();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps each scan within the files DuckDB holds open at once: whole servers a scan, a server past the limit a COPY a partition', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-stage-open-files-'));
    try {
      const many = await stage(dir, false);
      const events = (s: StagedSegment) => s.files.filter((f) => f.table === 'audit_events');
      // Eight files open at once: four servers' two days in one scan, the fifth's apart.
      const eight = await stage(dir, true, 8);
      assert.deepEqual(events(eight.staged), events(many.staged));
      assert.equal(eight.copies, 1 + 2 + 4);
      // One: each server in order has two days, more than one scan may hold.
      const one = await stage(dir, true, 1);
      assert.deepEqual(events(one.staged), events(many.staged));
      assert.equal(one.copies, 14);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes partitions of many rows a COPY each: one scan buffers every row, and pays only for many small partitions', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-stage-large-'));
    const store = await AuditStore.open(join(dir, 'store.duckdb'));
    try {
      // Ten servers in time order, one day each: 5,000 rows a partition in audit_events, 10 in log_lines.
      await insertInterleaved(store, 10, 5_000);
      await store.connection.run(
        `INSERT INTO log_lines (server, logged_at, level, message, kind, source, position)
         SELECT 'pg-' || (i % 10), TIMESTAMPTZ '2026-11-20 00:00:00+00' + to_microseconds(i * 1000), 'LOG', 'checkpoint starting', 'other', 'log', i::VARCHAR
         FROM range(100) r(i)`,
      );
      const logged = loggingStatements(store.connection);
      const staged = await onOneThread(store.connection, () => stageSegment(logged.connection, join(dir, 'staging')));
      assert.ok(staged);
      const copies = (table: string) => logged.statements.filter((sql) => /^\s*COPY/.test(sql) && sql.includes(`FROM ${table}`)).length;
      assert.equal(copies('audit_events'), 10, 'a COPY a partition of 5,000 rows');
      assert.equal(copies('log_lines'), 1, 'ten partitions of ten rows in one scan');
      assert.deepEqual(
        staged.files.filter((f) => f.table === 'audit_events').map((f) => [f.path, f.rows]),
        Array.from({ length: 10 }, (_, i) => [`audit_events/server=pg-${i}/date=2026-11-20/part-${staged.segment}-0.parquet`, 5_000]),
      );
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes one file a partition where more partitions than DuckDB holds open at once would have split them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-stage-split-'));
    const store = await AuditStore.open(join(dir, 'store.duckdb'));
    try {
      // Nine servers' rows interleaved, 1,000 each (small enough for one scan), eight files open at most, and written
      // out every 1,000 rows (DuckDB's default: about 500,000): one scan of all nine would write some partitions as
      // several files.
      await insertInterleaved(store, 9, 1_000);
      await store.connection.run('SET partitioned_write_max_open_files = 8');
      await store.connection.run('SET partitioned_write_flush_threshold = 1000');
      const staged = await onOneThread(store.connection, () => stageSegment(store.connection, join(dir, 'staging')));
      assert.ok(staged);
      const files = staged.files.filter((f) => f.table === 'audit_events');
      assert.deepEqual(
        files.map((f) => [f.path, f.rows]),
        Array.from({ length: 9 }, (_, i) => [`audit_events/server=pg-${i}/date=2026-11-20/part-${staged.segment}-0.parquet`, 1_000]),
      );
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

type ReadStaged = (staged: StagedSegment | null, table: string, columns: string) => Promise<string[]>;

/**
 * A fresh store, its `stage` and `read`: what a staged segment's files of `table` hold, each row as `columns`'
 * text joined by spaces (a NULL left out), sorted; [] when the segment has no file of the table.
 */
async function withStaging(work: (store: AuditStore, stage: () => Promise<StagedSegment | null>, read: ReadStaged) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'auditduck-stage-rows-'));
  const store = await AuditStore.open(join(dir, 'store.duckdb'));
  const instance = await DuckDBInstance.create(':memory:');
  const reader = await instance.connect();
  const read: ReadStaged = async (staged, table, columns) => {
    assert.ok(staged);
    const paths = staged.files.filter((f) => f.table === table).map((f) => `'${join(dir, 'staging', staged.segment, ...f.path.split('/'))}'`);
    if (paths.length === 0) return [];
    const rows = (await reader.runAndReadAll(`SELECT concat_ws(' ', ${columns}) AS r FROM read_parquet([${paths.join(', ')}], hive_partitioning = true) ORDER BY r`)).getRows();
    return rows.map(([r]) => String(r));
  };
  try {
    await work(store, () => stageSegment(store.connection, join(dir, 'staging')), read);
  } finally {
    reader.closeSync();
    instance.closeSync();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('staging the tables rows are only added to', () => {
  // A watched server adds its roles and some 350 settings at every snapshot (every 15 minutes by default):
  // written whole each time, the lake would grow with the square of the store's age.
  it('writes the rows added since the last segment, not the whole table again', async () => {
    await withStaging(async (store, stage, read) => {
      for (const round of [1, 2]) {
        await addAppendOnlyRows(store.connection, round);
        const staged = await stage();
        for (const table of APPEND_ONLY_TABLES) assert.deepEqual(await read(staged, table, 'server'), [`server-${round}-0`, `server-${round}-1`], `${table}'s rows of round ${round}`);
      }
    });
  });
});

describe('staging the sessions', () => {
  it('writes the sessions begun or changed since the last segment, as the store merged them, not every session again', async () => {
    await withStaging(async (store, stage, read) => {
      const sessions = async () => read(await stage(), 'sessions', `session_id, user_name, CASE WHEN ended_at IS NOT NULL THEN 'ended' END`);
      await commitSessions(store, 1, [session('a', { user: 'alice' }), session('b', { user: 'bob' }), session('c', { user: 'carol' })]);
      assert.deepEqual(await sessions(), ['a alice', 'b bob', 'c carol']);
      await commitSessions(store, 2, [session('b', { endedAt: '2026-11-20T11:00:00Z' }), session('d', { user: 'dave' })]);
      assert.deepEqual(await sessions(), ['b bob ended', 'd dave']);
      await commitSessions(store, 3, [session('b', { endedAt: '2026-11-20T11:00:00Z' })]);
      assert.deepEqual(await sessions(), ['b bob ended'], 'merged again, as a new version');
      assert.equal(await stage(), null, 'nothing changed since: no segment');
    });
  });
});

describe('staging the alerts', () => {
  it('writes the alerts raised or changed since the last segment, not every alert again', async () => {
    await withStaging(async (store, stage, read) => {
      const c = store.connection;
      const raise = (id: number) =>
        c.run(`INSERT INTO alerts (alert_id, rule_id, severity, server, first_seen, last_seen, summary, dedup_key) VALUES (${id}, 'r', 'high', 'pg-1', TIMESTAMPTZ '2026-11-20 10:00:00+00', TIMESTAMPTZ '2026-11-20 10:00:00+00', 'alert ${id}', 'k${id}')`);
      const alerts = async () => read(await stage(), 'alerts', 'alert_id, count, status');
      for (const id of [1, 2, 3]) await raise(id);
      assert.deepEqual(await alerts(), ['1 1 open', '2 1 open', '3 1 open']);
      // One grows, one is acknowledged, one is raised: three of four alerts changed.
      await c.run(`UPDATE alerts SET count = count + 1, updated_at = now() WHERE alert_id = 1`);
      await c.run(`UPDATE alerts SET status = 'acknowledged', updated_at = now() WHERE alert_id = 3`);
      await raise(4);
      assert.deepEqual(await alerts(), ['1 2 open', '3 1 acknowledged', '4 1 open']);
      assert.equal(await stage(), null, 'nothing changed since: no segment');
    });
  });
});

describe("a segment's record in the store", () => {
  it('keeps only what later exports read: the files until published, the columns while staged or the newest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-stage-record-'));
    const store = await AuditStore.open(join(dir, 'store.duckdb'));
    const c = store.connection;
    const records = async () =>
      (await c.runAndReadAll(`SELECT seq, state, json_array_length(files), json_exists(ranges, '$.columns'), length(ranges::VARCHAR) + length(files::VARCHAR) FROM lake_segments ORDER BY seq`)).getRows()
        .map(([seq, state, files, columns, size]) => ({ seq: Number(seq), state: String(state), files: Number(files), columns: columns === true, size: Number(size) }));
    try {
      // The lake unreachable after the first: the second and third wait, staged.
      for (const [round, publish] of [[1, true], [2, false], [3, false]] as const) {
        await c.run(`INSERT INTO audit_events (server, logged_at, audit_type, class, statement, source, position) VALUES ${auditRows(`pg-${round}`, [1, 2])}`);
        const staged = await stageSegment(c, join(dir, 'staging'));
        assert.ok(staged);
        if (publish) await markPublished(c, staged.seq, 'ab'.repeat(32));
      }
      assert.deepEqual((await records()).map(({ seq, state, files, columns }) => [seq, state, files, columns]), [
        [1, 'published', 0, false],
        [2, 'staged', 1, true],
        [3, 'staged', 1, true],
      ]);
      // What publishing a staged segment reads: its files and every table's columns, for the manifest.
      for (const staged of await stagedSegments(c)) assert.ok(staged.files.length === 1 && staged.ranges.columns.audit_events, `segment ${staged.seq} staged whole`);
      for (const seq of [2, 3]) await markPublished(c, seq, 'ab'.repeat(32));
      const after = await records();
      assert.deepEqual(after.map(({ seq, files, columns }) => [seq, files, columns]), [[1, 0, false], [2, 0, false], [3, 0, true]]);
      assert.ok(after.slice(0, 2).every((r) => r.size < 1_000), `a published segment's record is small: ${after.map((r) => r.size).join(', ')} characters`);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
