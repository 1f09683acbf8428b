/**
 * The lake after a one-off command (`ingest --lake`, `backfill --lake`): everything the store committed and
 * the lake lacks is staged and published, then the store is closed. A killed command loses nothing: the
 * next export with the same store picks up where the lake stops.
 */
import type { Logger } from 'pino';
import { AuditStore } from '../store/audit-store.js';
import { parseLakeLocation } from './lake-location.js';
import { openLakeStorage } from './lake-storage.js';
import { LakeExporter, type LakeExportOptions, type LakeStatus } from './lake-exporter.js';

export async function exportStoreToLake(dbPath: string, lakeText: string, log: Logger, opts: Pick<LakeExportOptions, 'checkpointEvery'> = {}): Promise<LakeStatus> {
  const lake = await openLakeStorage(parseLakeLocation(lakeText));
  await lake.ensureReady();
  const store = await AuditStore.open(dbPath);
  try {
    let queue: Promise<unknown> = Promise.resolve();
    const exclusive = <T>(work: (c: typeof store.connection) => Promise<T>): Promise<T> => {
      const result = queue.then(() => work(store.connection));
      queue = result.catch(() => undefined);
      return result;
    };
    const exporter = await LakeExporter.start({ lake, stagingDir: stagingDirOf(dbPath), exclusive, connect: () => store.db.instance.connect(), intervalMs: 3_600_000, log, ...opts });
    await exporter.finish();
    const status = exporter.status();
    if (status.lastError !== null) throw new Error(`the rows are stored, but exporting them to the lake ${lake.description} failed (they go out with the next export): ${status.lastError}`);
    return status;
  } finally {
    await store.close();
  }
}

/** Where a store stages its lake segments: beside the store file, so a restart finds them. */
export function stagingDirOf(dbPath: string): string {
  return `${dbPath}.lake-staging`;
}
