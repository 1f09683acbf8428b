/**
 * Moves a staged segment into the lake: its files first, then its manifest entry, chained to the one
 * before. Publishing the same segment again (after a crash between the upload and the store's record of
 * it) puts the same bytes at the same paths, which the lake accepts as already there.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pMap from 'p-map';
import { manifestPath, MANIFEST_FORMAT, sealEntry, serializeEntry, type ManifestEntry } from './manifest.js';
import { sha256Hex, type LakeStorage } from './lake-storage.js';
import { LAKE_TABLES, type LakeTableName } from './lake-tables.js';
import type { StagedSegment } from './stage-segment.js';

/**
 * Files uploaded at once. A put to Blob is two round trips (is it there? then the upload), and a segment of many
 * servers has dozens of files (one a server, day and table): one at a time, the round trips add up to seconds of lag.
 */
const PARALLEL_PUTS = 8;

export async function publishSegment(lake: LakeStorage, stagingDir: string, staged: StagedSegment, previous: string | null): Promise<ManifestEntry> {
  // The manifest entry is put only when every file is in. A failed upload fails the whole publish (retried later),
  // once the others have settled: none is still under way when the retry puts the same paths.
  const files: ManifestEntry['files'] = await pMap(
    staged.files,
    async (file) => {
      const local = join(stagingDir, staged.segment, ...file.path.split('/'));
      const bytes = await readFile(local);
      const sha256 = sha256Hex(bytes);
      await lake.put(file.path, local, sha256);
      return { ...file, schemaVersion: LAKE_TABLES[file.table].version, bytes: bytes.length, sha256 };
    },
    { concurrency: PARALLEL_PUTS, stopOnError: false },
  ).catch((error: unknown) => {
    throw error instanceof AggregateError ? error.errors[0] : error;
  });
  const entry = sealEntry({
    format: MANIFEST_FORMAT,
    seq: staged.seq,
    segment: staged.segment,
    createdAt: staged.createdAt,
    previous,
    positions: staged.positions,
    files,
    tables: Object.fromEntries(
      Object.entries(staged.ranges.columns).map(([table, columns]) => [table, { version: LAKE_TABLES[table as LakeTableName].version, columns }]),
    ),
  });
  await lake.putText(manifestPath(staged.seq), serializeEntry(entry));
  return entry;
}
