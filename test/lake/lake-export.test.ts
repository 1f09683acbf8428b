/**
 * The lake in a local directory: every committed row once, across exports, a stage killed before it was
 * recorded and a publish repeated after a crash; `lake verify` passes on it and names the segment that was
 * deleted, edited, dropped from the manifest or slipped in; `query --lake` reads it with the store's names.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdir, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { writeSyntheticBodies } from '../../bench/generate-bodies.js';
import { exportStoreToLake, openLakeStorage, parseLakeLocation, stagingDirOf, verifyLake } from '../../src/lake/index.js';
import type { LakeStorage } from '../../src/lake/lake-storage.js';
import { publishSegment } from '../../src/lake/publish-segment.js';
import { stageSegment } from '../../src/lake/stage-segment.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { queryStore, silentLogger } from '../support/store-reader.js';
import { syntheticBodies } from '../support/synthetic-events.js';
import { CLI } from '../support/cli-command.js';

const exec = promisify(execFile);
const EVENTS = ['log_lines', 'audit_events', 'auth_failures', 'privilege_changes', 'dead_letters'] as const;

/** Rows per events table, and rows that share a (table, source, position, time) key, read with DuckDB from the Parquet alone. */
async function lakeCounts(lake: string): Promise<Record<string, number>> {
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  try {
    const out: Record<string, number> = {};
    for (const table of EVENTS) {
      const files = join(lake, table, '**', '*.parquet');
      const exists = (await readdir(join(lake, table)).catch(() => [])).length > 0;
      out[table] = exists ? Number((await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${files}', hive_partitioning = true)`)).getRows()[0]![0]) : 0;
    }
    return out;
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

async function storeCounts(db: string): Promise<Record<string, number>> {
  const [row] = await queryStore(db, `SELECT ${EVENTS.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(', ')}`);
  return Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)]));
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [...CLI, ...args], { env: { ...process.env, AUDITDUCK_LOG_LEVEL: 'warn' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the lake in a directory', () => {
  let dir: string;
  let db: string;
  let lake: string;
  let lines: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-lake-'));
    db = join(dir, 'store.duckdb');
    lake = join(dir, 'lake');
    const input = join(dir, 'all.jsonl');
    await writeSyntheticBodies(input, 6_000);
    lines = (await readFile(input, 'utf8')).split('\n').filter(Boolean);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds every committed row once across exports of a growing input', async () => {
    const growing = join(dir, 'growing.jsonl');
    for (const part of [1, 2, 3]) {
      await writeFile(growing, lines.slice(0, Math.ceil((lines.length * part) / 3)).join('\n') + '\n');
      await ingestFiles([growing], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger, batchRecords: 1_000 });
      await exportStoreToLake(db, lake, silentLogger);
      assert.deepEqual(await lakeCounts(lake), await storeCounts(db), `after part ${part}`);
    }
    const result = await verifyLake(await openLakeStorage(parseLakeLocation(lake)));
    assert.deepEqual(result.problems, []);
    assert.equal(result.segments, 3);
    assert.equal(result.entries[1]!.previous, result.entries[0]!.hash);
  });

  it('drops the files of a stage that never committed, and puts its rows in the next segment once', async () => {
    await ingestFiles([await writeMore(dir, 'extra.jsonl', 500, 7)], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    // What a kill between DuckDB's COPY and the COMMIT of the stage leaves: files, no row in lake_segments.
    const staging = stagingDirOf(db);
    const store = await AuditStore.open(db);
    try {
      assert.ok((await writeUnrecordedStage(store, staging)).length > 0);
    } finally {
      await store.close();
    }
    await exportStoreToLake(db, lake, silentLogger);
    assert.deepEqual(await readdir(staging), []);
    assert.deepEqual(await lakeCounts(lake), await storeCounts(db));
    assert.deepEqual((await verifyLake(await openLakeStorage(parseLakeLocation(lake)))).problems, []);
  });

  it('publishes a segment again after a crash between its upload and its record, with the same files', async () => {
    await ingestFiles([await writeMore(dir, 'more.jsonl', 300, 8)], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    const storage = await openLakeStorage(parseLakeLocation(lake));
    const store = await AuditStore.open(db);
    try {
      const staged = await stageSegment(store.connection, stagingDirOf(db));
      assert.ok(staged);
      const previous = (await verifyLake(storage)).entries.at(-1)!.hash;
      await publishSegment(storage, stagingDirOf(db), staged, previous);
      // ...and the process dies before lake_segments says "published".
    } finally {
      await store.close();
    }
    await exportStoreToLake(db, lake, silentLogger);
    assert.deepEqual(await lakeCounts(lake), await storeCounts(db));
    const result = await verifyLake(storage);
    assert.deepEqual(result.problems, []);
    assert.equal(result.segments, 5);
  });

  it('lake verify passes on the lake, and names the segment deleted, edited, left out of the manifest or slipped in', async () => {
    const ok = await cli(['lake', 'verify', '--lake', lake, '--db', db]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /5 segments, .* complete and intact/);

    const entries = (await verifyLake(await openLakeStorage(parseLakeLocation(lake)))).entries;
    const second = entries[1]!;
    const dataFile = second.files.find((f) => f.table === 'audit_events')!.path;
    const tampered = async (name: string, edit: (copy: string) => Promise<void>) => {
      const copy = join(dir, `tampered-${name}`);
      await cp(lake, copy, { recursive: true });
      await edit(copy);
      return cli(['lake', 'verify', '--lake', copy]);
    };

    const deleted = await tampered('deleted', (copy) => unlink(join(copy, dataFile)));
    assert.equal(deleted.code, 5);
    assert.match(deleted.stderr, new RegExp(`bad segment ${second.segment}: .*${escape(dataFile)} .*missing`));

    const edited = await tampered('edited', (copy) => appendFile(join(copy, dataFile), 'x'));
    assert.equal(edited.code, 5);
    assert.match(edited.stderr, new RegExp(`bad segment ${second.segment}: .*altered`));

    const dropped = await tampered('dropped', async (copy) => {
      await unlink(join(copy, '_manifest', '00000002.json'));
      for (const f of second.files) await unlink(join(copy, f.path));
    });
    assert.equal(dropped.code, 5);
    assert.match(dropped.stderr, /bad segment #2: segment 2 is missing/);

    const slipped = await tampered('slipped', async (copy) => {
      await mkdir(join(copy, 'audit_events', 'server=bench-pg-0', 'date=2026-11-20'), { recursive: true });
      await cp(join(copy, dataFile), join(copy, 'audit_events', 'server=bench-pg-0', 'date=2026-11-20', 'part-99999999-000000000000-0.parquet'));
    });
    assert.equal(slipped.code, 5);
    assert.match(slipped.stderr, /bad segment 99999999-000000000000: .* in no manifest entry/);

    // The newest segment gone with its entry: only the store can tell.
    const newest = entries.at(-1)!;
    const tail = await tampered('tail', async (copy) => {
      await unlink(join(copy, '_manifest', `${String(newest.seq).padStart(8, '0')}.json`));
      for (const f of newest.files) await unlink(join(copy, f.path));
    });
    assert.equal(tail.code, 0, 'without the store the lake cannot know its newest segment was removed');
    const tailWithStore = await cli(['lake', 'verify', '--lake', join(dir, 'tampered-tail'), '--db', db]);
    assert.equal(tailWithStore.code, 5);
    assert.match(tailWithStore.stderr, new RegExp(`bad segment #${newest.seq}: .*newest the store published`));
  });

  it('runs the DuckDB recipes of docs/lake.md on the lake, each returning rows', async () => {
    const doc = await readFile('docs/lake.md', 'utf8');
    const recipes = [...doc.matchAll(/```sql\n(-- tested[^\n]*\n[\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(recipes.length >= 3, `${recipes.length} tested recipes in docs/lake.md`);
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      for (const recipe of recipes) {
        const rows = (await c.runAndReadAll(recipe.replaceAll('LAKE', lake))).getRows();
        assert.ok(rows.length > 0, `no rows from:\n${recipe}`);
      }
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });

  it('query --lake answers with the store\'s table names from the lake alone', async () => {
    const sql = `SELECT (SELECT count(*) FROM audit_events) AS audit, (SELECT count(*) FROM log_records) AS records, (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM control_plane_events) AS control_plane`;
    const fromLake = await cli(['query', '--lake', lake, '--format', 'json', sql]);
    assert.equal(fromLake.code, 0, fromLake.stderr);
    const [store] = await queryStore(db, sql);
    assert.deepEqual(JSON.parse(fromLake.stdout), [store]);
  });

  it('uploads a segment\'s files several at a time, and its manifest entry after all of them; a failed upload leaves no entry', async () => {
    await ingestFiles([await writeMore(dir, 'parallel.jsonl', 300, 9)], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    const lakeStorage = await openLakeStorage(parseLakeLocation(lake));
    const store = await AuditStore.open(db);
    try {
      const staged = await stageSegment(store.connection, stagingDirOf(db));
      assert.ok(staged && staged.files.length >= 4, 'a segment of several files');
      const previous = (await verifyLake(lakeStorage)).entries.at(-1)!.hash;
      // A lake whose every put takes a while (a Blob round trip), that notes how many are under way at once.
      let running = 0;
      let most = 0;
      const events: string[] = [];
      const slow = (failing: string | null): LakeStorage => ({
        description: lakeStorage.description,
        ensureReady: () => lakeStorage.ensureReady(),
        get: (path) => lakeStorage.get(path),
        list: (prefix) => lakeStorage.list(prefix),
        async put(path, local, sha256) {
          most = Math.max(most, ++running);
          await new Promise((resolve) => setTimeout(resolve, 20));
          running--;
          if (path === failing) throw new Error('the lake is unreachable');
          await lakeStorage.put(path, local, sha256);
          events.push('file');
        },
        async putText(path, text) {
          events.push('manifest');
          await lakeStorage.putText(path, text);
        },
      });
      await assert.rejects(publishSegment(slow(staged.files[1]!.path), stagingDirOf(db), staged, previous), /unreachable/);
      assert.equal(running, 0, 'the publish fails once no upload is under way');
      assert.ok(!events.includes('manifest'), 'no manifest entry for a segment not all uploaded');
      events.length = 0;
      await publishSegment(slow(null), stagingDirOf(db), staged, previous);
      assert.ok(most > 1, `at most ${most} upload(s) at once`);
      assert.deepEqual(events, [...staged.files.map(() => 'file'), 'manifest']);
    } finally {
      await store.close();
    }
    // The published segment is recorded by the next export, which puts nothing twice.
    await exportStoreToLake(db, lake, silentLogger);
    assert.deepEqual(await lakeCounts(lake), await storeCounts(db));
    assert.deepEqual((await verifyLake(lakeStorage)).problems, []);
  });
});

/** Files as a stage writes them, under a segment lake_segments never recorded: a kill between COPY and COMMIT. */
async function writeUnrecordedStage(store: AuditStore, staging: string): Promise<string[]> {
  const dir = join(staging, '00000099-deadbeefdead');
  await mkdir(join(dir, 'audit_events'), { recursive: true });
  await store.connection.run(`COPY (SELECT *, strftime(logged_at, '%Y-%m-%d') AS date FROM audit_events) TO '${join(dir, 'audit_events')}' (FORMAT parquet, PARTITION_BY (server, date), OVERWRITE_OR_IGNORE true)`);
  return readdir(join(dir, 'audit_events'));
}

/** Synthetic bodies of another seed: new records, not a copy of an input read before. */
async function writeMore(dir: string, name: string, records: number, seed: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, [...syntheticBodies({ records, seed })].join('\n') + '\n');
  return path;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
