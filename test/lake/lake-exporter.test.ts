/**
 * The exporter's DuckDB threads: a segment is staged on one thread (many small statements, which more threads
 * only make poll each other) but on as many connections as the instance had threads, and the instance gets back
 * the thread count it had, also when staging fails; an instance whose configuration is locked (`run`'s, confined)
 * is exported with the threads it has, on one connection.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DuckDBConnection } from '@duckdb/node-api';
import { LakeExporter, openLakeStorage, parseLakeLocation, stagingDirOf, verifyLake, type Exclusive } from '../../src/lake/index.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { confineDatabase } from '../../src/query/confine-database.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { loggingStatements } from '../support/statement-log.js';
import { silentLogger } from '../support/store-reader.js';
import { syntheticBodies } from '../support/synthetic-events.js';

async function threads(c: DuckDBConnection): Promise<number> {
  return Number((await c.runAndReadAll(`SELECT current_setting('threads')`)).getRows()[0]![0]);
}

/** The exporter's `connect` for the store, counting the connections it opens. */
function countingConnections(store: AuditStore): { connect: () => Promise<DuckDBConnection>; opened: () => number } {
  let opened = 0;
  return {
    connect: () => {
      opened++;
      return store.db.instance.connect();
    },
    opened: () => opened,
  };
}

describe('the lake exporter', () => {
  let dir: string;
  let input: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-exporter-'));
    input = join(dir, 'hub.jsonl');
    await writeFile(input, [...syntheticBodies({ records: 2_000, servers: 3 })].join('\n') + '\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Exports the store at `db` with the instance at `count` threads; the threads each exclusive call saw, those after,
   * and the connections the exporter opened.
   */
  async function exportWithThreads(db: string, lakeDir: string, count: number): Promise<{ seen: number[]; after: number; lastError: string | null; connections: number }> {
    const store = await AuditStore.open(db);
    try {
      await store.connection.run(`SET threads = ${count}`);
      const seen: number[] = [];
      const exclusive: Exclusive = async (work) => {
        seen.push(await threads(store.connection));
        return work(store.connection);
      };
      const { connect, opened } = countingConnections(store);
      const exporter = await LakeExporter.start({ lake: await openLakeStorage(parseLakeLocation(lakeDir)), stagingDir: stagingDirOf(db), exclusive, connect, intervalMs: 3_600_000, log: silentLogger });
      await exporter.stop();
      return { seen, after: await threads(store.connection), lastError: exporter.status().lastError, connections: opened() };
    } finally {
      await store.close();
    }
  }

  it('stages a segment on one DuckDB thread and gives the instance its thread count back', async () => {
    const db = join(dir, 'one.duckdb');
    const lake = join(dir, 'lake-one');
    await ingestFiles([input], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    const { seen, after: afterExport, lastError } = await exportWithThreads(db, lake, 3);
    assert.equal(lastError, null);
    // The calls: clearing old staging at the start (3), the cut (1), then the publishing's records (3 again).
    assert.equal(seen[0], 3);
    assert.ok(seen.includes(1), `the cut ran with threads ${seen.join(', ')}`);
    assert.equal(seen.at(-1), 3);
    assert.equal(afterExport, 3);
    assert.deepEqual((await verifyLake(await openLakeStorage(parseLakeLocation(lake)))).problems, []);
  });

  it('writes the files on as many connections as DuckDB has threads, at most four, and the lake is the same', async () => {
    const db = join(dir, 'connections.duckdb');
    await ingestFiles([input], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    const lakes: string[] = [];
    const opened: number[] = [];
    for (const count of [1, 3, 8]) {
      const copy = join(dir, `connections-${count}.duckdb`);
      await copyFile(db, copy);
      lakes.push(join(dir, `lake-connections-${count}`));
      const { lastError, connections } = await exportWithThreads(copy, lakes.at(-1)!, count);
      assert.equal(lastError, null);
      opened.push(connections);
    }
    assert.deepEqual(opened, [1, 3, 4]);
    // The same files, byte for byte, however many connections wrote them.
    const contents = await Promise.all(lakes.map(async (lake) => {
      const storage = await openLakeStorage(parseLakeLocation(lake));
      assert.deepEqual((await verifyLake(storage)).problems, []);
      const files = (await readdir(lake, { recursive: true })).filter((f) => f.endsWith('.parquet')).sort();
      return Promise.all(files.map(async (f) => [f, createHash('sha256').update(await readFile(join(lake, f))).digest('hex')]));
    }));
    assert.ok(contents[0]!.length > 10);
    assert.deepEqual(contents[1], contents[0]);
    assert.deepEqual(contents[2], contents[0]);
  });

  it('gives the instance its thread count back when staging fails', async () => {
    const db = join(dir, 'fails.duckdb');
    await ingestFiles([input], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    const store = await AuditStore.open(db);
    try {
      await store.connection.run('SET threads = 3');
      // The writer refuses the cut (the one call made on one thread): the stage fails.
      const exclusive: Exclusive = async (work) => {
        if ((await threads(store.connection)) === 1) throw new Error('the writer refused the cut');
        return work(store.connection);
      };
      const exporter = await LakeExporter.start({ lake: await openLakeStorage(parseLakeLocation(join(dir, 'lake-fails'))), stagingDir: stagingDirOf(db), exclusive, connect: () => store.db.instance.connect(), intervalMs: 3_600_000, log: silentLogger });
      await exporter.stop();
      assert.equal(exporter.status().lastError, 'the writer refused the cut');
      assert.equal(await threads(store.connection), 3);
    } finally {
      await store.close();
    }
  });

  it('finishes a one-off export with one cut, and a second try only when the first failed', async () => {
    const db = join(dir, 'finish.duckdb');
    await ingestFiles([input], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    /** Exports a copy of the store ending with `end`, the writer refusing the first `refusals` cuts; the cuts it read. */
    async function exportEnding(end: 'stop' | 'finish', refusals: number): Promise<{ cuts: number; published: number; lastError: string | null }> {
      const copy = join(dir, `finish-${end}-${refusals}.duckdb`);
      await copyFile(db, copy);
      const store = await AuditStore.open(copy);
      try {
        const statements: string[][] = [];
        const connect = async () => {
          const logged = loggingStatements(await store.db.instance.connect());
          statements.push(logged.statements);
          return logged.connection;
        };
        let refused = 0;
        const exclusive: Exclusive = async (work) => {
          if ((await threads(store.connection)) === 1 && refused < refusals) {
            refused++;
            throw new Error('the writer refused the cut');
          }
          return work(store.connection);
        };
        const exporter = await LakeExporter.start({ lake: await openLakeStorage(parseLakeLocation(`${copy}-lake`)), stagingDir: stagingDirOf(copy), exclusive, connect, intervalMs: 3_600_000, log: silentLogger });
        await exporter[end]();
        const cuts = statements.flat().filter((sql) => sql.includes('FROM lake_segments ORDER BY seq DESC LIMIT 1')).length;
        return { cuts, published: exporter.status().publishedSegments, lastError: exporter.status().lastError };
      } finally {
        await store.close();
      }
    }
    assert.deepEqual(await exportEnding('stop', 0), { cuts: 2, published: 1, lastError: null }, "run's stop cuts once more");
    assert.deepEqual(await exportEnding('finish', 0), { cuts: 1, published: 1, lastError: null });
    assert.deepEqual(await exportEnding('finish', 1), { cuts: 1, published: 1, lastError: null }, 'the first cut refused, the second try goes through');
    assert.deepEqual(await exportEnding('finish', 2), { cuts: 0, published: 0, lastError: 'the writer refused the cut' });
  });

  it('exports an instance whose configuration is locked with the threads it has, on one connection, as run confines it', async () => {
    const db = join(dir, 'confined.duckdb');
    const lake = join(dir, 'lake-confined');
    await ingestFiles([input], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    const store = await AuditStore.open(db);
    try {
      await store.connection.run('SET threads = 3');
      await confineDatabase(store.connection, { writableDirs: [stagingDirOf(db), lake] });
      const exclusive: Exclusive = (work) => work(store.connection);
      const { connect, opened } = countingConnections(store);
      const exporter = await LakeExporter.start({ lake: await openLakeStorage(parseLakeLocation(lake)), stagingDir: stagingDirOf(db), exclusive, connect, intervalMs: 3_600_000, log: silentLogger });
      await exporter.stop();
      assert.equal(exporter.status().lastError, null);
      assert.equal(exporter.status().publishedSegments, 1);
      assert.equal(await threads(store.connection), 3);
      // Each statement keeps the instance's threads: one connection, not one a thread beside it.
      assert.equal(opened(), 1);
    } finally {
      await store.close();
    }
    assert.deepEqual((await verifyLake(await openLakeStorage(parseLakeLocation(lake)))).problems, []);
  });
});
