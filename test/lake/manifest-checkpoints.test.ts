/**
 * Manifest checkpoints: a reader of the lake folds the newest checkpoint and the entries after it, not every entry
 * the lake ever had; `lake verify` names a checkpoint that is not the fold of the entries through its segment.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportStoreToLake, openLakeStorage, parseLakeLocation, verifyLake } from '../../src/lake/index.js';
import { openLakeDatabase } from '../../src/lake/lake-query-target.js';
import { readManifest } from '../../src/lake/manifest-checkpoints.js';
import { checkpointPath, parseCheckpoint, sameSummary, sealCheckpoint, serializeCheckpoint, summarize, type ManifestCheckpoint } from '../../src/lake/manifest-summary.js';
import { runQuery } from '../../src/query/run-query.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { addAppendOnlyRows, APPEND_ONLY_TABLES } from '../support/append-only-rows.js';
import { readsOf } from '../support/lake-reads.js';
import { queryStore, silentLogger } from '../support/store-reader.js';

const SEGMENTS = 5;

describe('lake manifest checkpoints', () => {
  let dir: string;
  let db: string;
  let lakeDir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-checkpoints-'));
    db = join(dir, 'store.duckdb');
    lakeDir = join(dir, 'lake');
    for (let round = 1; round <= SEGMENTS; round++) {
      const store = await AuditStore.open(db);
      await addAppendOnlyRows(store.connection, round).finally(() => store.close());
      await exportStoreToLake(db, lakeDir, silentLogger, { checkpointEvery: 2 });
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are written every N segments, each the fold of the entries through its segment, and the lake verifies', async () => {
    const lake = await openLakeStorage(parseLakeLocation(lakeDir));
    assert.deepEqual(await lake.list('_checkpoints/'), [checkpointPath(2), checkpointPath(4)]);
    const verification = await verifyLake(lake);
    assert.deepEqual(verification.problems, []);
    assert.equal(verification.segments, SEGMENTS);
    assert.ok(sameSummary(await readManifest(lake), summarize(verification.entries)), 'the checkpoint and the entries after it fold as every entry does');
  });

  it('let a reader read the newest checkpoint and the entries after it, and the views answer as the store', async () => {
    const lake = readsOf(await openLakeStorage(parseLakeLocation(lakeDir)));
    const summary = await readManifest(lake);
    assert.equal(summary.seq, SEGMENTS);
    assert.deepEqual(lake.reads.filter((r) => r.startsWith('get ')), [`get ${checkpointPath(4)}`, 'get _manifest/00000005.json']);
    const opened = await openLakeDatabase(lakeDir);
    try {
      for (const table of APPEND_ONLY_TABLES) {
        const sql = `SELECT * FROM ${table} ORDER BY ALL`;
        const fromLake = (await runQuery(opened.db.connection, sql)).rows;
        assert.equal(fromLake.length, 2 * SEGMENTS, `${table}: every segment's rows`);
        assert.deepEqual(fromLake, await queryStore(db, sql), `${table} reads as in the store`);
      }
    } finally {
      await opened.close();
    }
  });

  it('pass over a damaged checkpoint to an older one; lake verify names it, and one that differs from the entries', async () => {
    const copy = join(dir, 'tampered');
    await cp(lakeDir, copy, { recursive: true });
    const newest = join(copy, checkpointPath(4));
    await writeFile(newest, '{"format": "auditduck-lake-checkpoint/1", "summary": {"seq": 4}, "hash": "0"}\n');
    const lake = readsOf(await openLakeStorage(parseLakeLocation(copy)));
    const all = summarize((await verifyLake(lake)).entries);
    lake.reads.length = 0;
    assert.ok(sameSummary(await readManifest(lake), all));
    assert.deepEqual(lake.reads.filter((r) => r.startsWith('get _checkpoints/')), [`get ${checkpointPath(4)}`, `get ${checkpointPath(2)}`]);
    assert.match(problemsOf(await verifyLake(lake)), /checkpoint _checkpoints\/00000004\.json was altered/);

    // Sealed again over other content: its hash holds, the fold of the entries does not.
    const older = parseCheckpoint((await lake.get(checkpointPath(2)))!.toString('utf8')) as ManifestCheckpoint;
    await writeFile(join(copy, checkpointPath(2)), serializeCheckpoint(sealCheckpoint({ ...older.summary, rows: older.summary.rows + 1 })));
    assert.match(problemsOf(await verifyLake(lake)), /checkpoint _checkpoints\/00000002\.json differs from the manifest's entries through 00000002-/);
  });
});

function problemsOf(verification: { problems: { problem: string }[] }): string {
  return verification.problems.map((p) => p.problem).join('\n');
}
