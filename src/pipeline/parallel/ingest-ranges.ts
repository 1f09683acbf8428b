/**
 * One plain file read by the worker threads, range by range (sources/file/file-ranges.ts), each range a batch
 * gathered into a chunk file and folded into the store in file order: the position committed with each is
 * its range's end, so a rerun after a crash resumes after the last range folded. A chunk written but not
 * folded is only a file in the chunk directory: its range is read again, its rows are never stored twice.
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { detectFormat, type LogFormat } from '../../decode/formats/log-formats.js';
import { openFileSource } from '../../sources/file/file-source.js';
import { planFileRanges } from '../../sources/file/file-ranges.js';
import { isGzipFile } from '../../sources/file/read-lines.js';
import type { AuditStore } from '../../store/audit-store.js';
import type { ChunkBatch, IngestPipeline } from '../ingest-pipeline.js';
import type { IngestProgress } from '../ingest-path.js';
import type { IngestSummary } from '../ingest-summary.js';
import type { IngestWorkers } from './ingest-workers.js';

/** One record per line: a range cut at any line's end holds whole records. */
const SPLITTABLE_FORMATS: readonly LogFormat[] = ['eventhubs', 'azure-ndjson', 'jsonlog'];

export interface RangeIngestOptions {
  format: LogFormat | 'auto';
  logLinePrefix: string;
  server?: string;
  defaultServer: string;
  /** Bytes of input per range (each one transaction). */
  rangeBytes: number;
  /** Where chunk files go (removed once folded). */
  chunkDir: string;
  onCommitted?: (progress: IngestProgress) => void;
}

/**
 * Whether the worker threads can read this input in ranges: a plain file of a one-record-per-line format.
 * Others (gzip, stdin, stderr and csvlog, whose entries span lines) are read by the main thread as before.
 */
export async function rangeFormat(path: string, format: LogFormat | 'auto', firstLine: string | null): Promise<LogFormat | null> {
  if (path === '-' || firstLine === null || (await isGzipFile(path))) return null;
  const resolved = format === 'auto' ? detectFormat(firstLine) : format;
  return SPLITTABLE_FORMATS.includes(resolved) ? resolved : null;
}

/** Returns false when the input is not one the workers can read in ranges (the caller reads it as before). */
export async function ingestRanges(
  path: string,
  deps: { pipeline: IngestPipeline; store: AuditStore; workers: IngestWorkers; summary: IngestSummary; log: Logger },
  opts: RangeIngestOptions,
): Promise<boolean> {
  const file = await openFileSource(path, { positions: deps.store, log: deps.log });
  const format = await rangeFormat(path, opts.format, file.firstLine);
  if (format === null) return false;
  const { size } = await stat(path);
  const ranges = await planFileRanges(path, file.from, size, opts.rangeBytes);
  const { source, sourceKey } = file;
  let keptUpTo = file.from;
  let keptRecords = 0;
  // Gathered ahead of the fold, two per worker: enough to keep every worker busy while the store folds.
  const ahead = deps.workers.size * 2;
  const gathering: Promise<ChunkBatch>[] = [];
  let next = 0;
  const startMore = () => {
    while (next < ranges.length && gathering.length < ahead) {
      const { start, end } = ranges[next]!;
      const gathered = deps.workers.gather({
        path, start, end, format, target: { sourceKey, source, position: String(end) },
        logLinePrefix: opts.logLinePrefix, ...(opts.server ? { server: opts.server } : {}), defaultServer: opts.defaultServer,
        out: join(opts.chunkDir, `range-${next}-${start}`),
      });
      gathered.catch(() => undefined);
      gathering.push(gathered);
      next++;
    }
  };
  try {
    startMore();
    while (gathering.length > 0) {
      const batch = await gathering.shift()!;
      startMore();
      try {
        const counts = await deps.pipeline.commitChunk(batch);
        keptUpTo = Number(batch.target.position);
        keptRecords += counts.records;
        deps.summary.add(counts);
        opts.onCommitted?.({ source, position: keptUpTo, records: deps.summary.records });
        deps.log.debug({ source, position: keptUpTo, records: counts.records }, 'range committed');
      } finally {
        await Promise.all(batch.chunk.tables.map((t) => rm(t.path, { force: true })));
      }
    }
  } catch (error) {
    // The ranges still being gathered write chunk files: wait for them, so the directory can go.
    await Promise.allSettled(gathering);
    const kept = keptRecords === 0 && keptUpTo === file.from ? 'nothing of it was stored by this run' : `${keptRecords} records of it were stored, up to byte ${keptUpTo}`;
    throw new Error(`${source}: reading stopped (${(error as Error).message}); ${kept}; ingesting it again reads on from there`, { cause: error });
  }
  return true;
}

