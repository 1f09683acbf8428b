/**
 * A Blob lake read through its kept local copy (Azurite): `query --lake` answers as the store, and each later read
 * copies only the segments published since, checking each file's SHA-256 against its manifest entry.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportStoreToLake, openLakeQueryTarget, type LakeStorage } from '../../src/lake/index.js';
import { syncMirror } from '../../src/lake/lake-mirror.js';
import { checkpointPath } from '../../src/lake/manifest-summary.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { addAppendOnlyRows } from '../support/append-only-rows.js';
import { copyLakeToBlob, withBlobLake } from '../support/azurite-blob.js';
import { readsOf } from '../support/lake-reads.js';
import { queryStore, silentLogger } from '../support/store-reader.js';

const COUNT = 'SELECT count(*) AS n FROM setting_snapshots';

describe('a Blob lake read through its local copy', () => {
  let dir: string;
  let db: string;
  let lakeDir: string;
  const savedMirror = process.env.AUDITDUCK_LAKE_MIRROR;

  /** One more round of rows in the store, exported to the directory lake as its next segment. */
  const oneMoreSegment = async (round: number) => {
    const store = await AuditStore.open(db);
    await addAppendOnlyRows(store.connection, round).finally(() => store.close());
    await exportStoreToLake(db, lakeDir, silentLogger, { checkpointEvery: 2 });
  };
  const countThrough = async (url: string) => {
    const target = await openLakeQueryTarget(url);
    try {
      return (await target.run(COUNT)).rows;
    } finally {
      await target.close();
    }
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-lake-mirror-'));
    db = join(dir, 'store.duckdb');
    lakeDir = join(dir, 'lake');
    process.env.AUDITDUCK_LAKE_MIRROR = join(dir, 'mirror');
    for (const round of [1, 2, 3]) await oneMoreSegment(round);
    const other = await AuditStore.open(join(dir, 'other.duckdb'));
    await addAppendOnlyRows(other.connection, 9).finally(() => other.close());
    await exportStoreToLake(join(dir, 'other.duckdb'), join(dir, 'other-lake'), silentLogger);
  });
  after(async () => {
    if (savedMirror === undefined) delete process.env.AUDITDUCK_LAKE_MIRROR;
    else process.env.AUDITDUCK_LAKE_MIRROR = savedMirror;
    await rm(dir, { recursive: true, force: true });
  });

  it('answers query --lake as the store, then copies only the segment published since, and answers again', async () => {
    await withBlobLake(async (url, blob) => {
      await copyLakeToBlob(lakeDir, blob);
      assert.deepEqual(await countThrough(url), await queryStore(db, COUNT));
      assert.deepEqual(await readFile(join(dir, 'mirror', checkpointPath(2)), 'utf8'), await readFile(join(lakeDir, checkpointPath(2)), 'utf8'), 'the checkpoints are copied');

      await oneMoreSegment(4);
      await copyLakeToBlob(lakeDir, blob);
      const counting = readsOf(blob);
      await syncMirror(counting, join(dir, 'mirror'));
      const entries = counting.reads.filter((r) => r.startsWith('get _manifest/'));
      assert.deepEqual(entries, ['get _manifest/00000003.json', 'get _manifest/00000004.json'], "the copy's newest entry (is it this lake's?) and the one published since");
      const files = counting.reads.filter((r) => r.startsWith('get ') && !r.startsWith('get _'));
      assert.ok(files.length > 0 && files.every((r) => r.includes('part-00000004-')), `only that segment's files: ${files.join(', ')}`);
      assert.deepEqual(await countThrough(url), await queryStore(db, COUNT));
    });
  });

  it('refuses a file whose bytes are not those its manifest entry names', async () => {
    await withBlobLake(async (_url, blob: LakeStorage) => {
      await copyLakeToBlob(lakeDir, blob);
      await syncMirror(blob, join(dir, 'fresh-mirror'));
      await oneMoreSegment(5);
      const entry = JSON.parse(await readFile(join(lakeDir, '_manifest/00000005.json'), 'utf8')) as { files: { path: string }[] };
      await appendFile(join(lakeDir, entry.files[0]!.path), 'x');
      await copyLakeToBlob(lakeDir, blob);
      await assert.rejects(syncMirror(blob, join(dir, 'fresh-mirror')), /SHA-256 differs/);
    });
  });

  it('refuses a copy of another lake kept under the same name', async () => {
    await withBlobLake(async (_url, blob) => {
      await copyLakeToBlob(join(dir, 'other-lake'), blob);
      await assert.rejects(syncMirror(blob, join(dir, 'mirror')), /holds a segment 4 that the lake .* does not: it is a copy of another lake/);
    });
  });
});
