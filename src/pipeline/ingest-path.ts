/**
 * Reads one file (plain or gzip) or stdin through the driver, resuming after the last committed position
 * of that file. Batches are cut by results and bytes so memory stays flat however large the input.
 */
import type { Logger } from 'pino';
import type { LogFormat } from '../decode/formats/log-formats.js';
import type { CompiledPrefix } from '../decode/prefix/compile-prefix.js';
import { openFileSource } from '../sources/file/file-source.js';
import type { AuditStore } from '../store/audit-store.js';
import { driveSource } from './drive-source.js';
import type { IngestPipeline } from './ingest-pipeline.js';
import type { IngestSummary } from './ingest-summary.js';
import { fileLineDecoder } from './source-decoders.js';

export interface IngestPathOptions {
  format: LogFormat | 'auto';
  prefix: CompiledPrefix;
  server?: string;
  /** Server name for raw PostgreSQL logs when --server is not given. */
  defaultServer: string;
  batchRecords?: number;
  batchBytes?: number;
  /**
   * Names the stream on stdin, so that it is resumed like a file: the same stream sent again from its start is
   * read on after the bytes already committed under this id. Without it stdin is read whole every time.
   */
  stdinSourceId?: string;
  /** Told after each committed batch: how far into this input is stored (for a progress line). */
  onCommitted?: (progress: IngestProgress) => void;
}

export interface IngestProgress {
  source: string;
  /** Byte offset in the input up to which everything is stored: a rerun resumes here. */
  position: number;
  /** Records stored by this run so far, over all inputs. */
  records: number;
}

const DEFAULT_BATCH_RECORDS = 50_000;
const DEFAULT_BATCH_BYTES = 16 * 1024 * 1024;

export async function ingestPath(
  path: string,
  deps: { pipeline: IngestPipeline; store: AuditStore; summary: IngestSummary; log: Logger },
  opts: IngestPathOptions,
): Promise<void> {
  const file = await openFileSource(path, { positions: deps.store, log: deps.log, ...(opts.stdinSourceId !== undefined ? { stdinSourceId: opts.stdinSourceId } : {}) });
  const { source, from } = file;
  // What of this input is stored, for an error that stops it halfway.
  let keptUpTo = from;
  let keptRecords = 0;
  try {
    await driveSource(file.batches, {
      pipeline: deps.pipeline,
      decoder: fileLineDecoder({
        source, format: opts.format, firstLine: file.firstLine, stdin: path === '-', prefix: opts.prefix,
        ...(opts.server ? { server: opts.server } : {}), defaultServer: opts.defaultServer, log: deps.log,
      }),
      group: {
        results: opts.batchRecords ?? DEFAULT_BATCH_RECORDS,
        bytes: opts.batchBytes ?? DEFAULT_BATCH_BYTES,
        bytesOf: (batch) => batch.bytes,
        isLast: (batch) => batch.last,
      },
      afterCommit: [
        ({ target, counts }) => {
          keptUpTo = Number(target.position);
          keptRecords += counts.records;
          deps.summary.add(counts);
          opts.onCommitted?.({ source, position: keptUpTo, records: deps.summary.records });
          deps.log.debug({ source, position: keptUpTo, records: counts.records }, 'batch committed');
        },
      ],
    });
  } catch (error) {
    const kept = keptRecords === 0 && keptUpTo === from ? 'nothing of it was stored by this run' : `${keptRecords} records of it were stored, up to byte ${keptUpTo}`;
    const resume = file.sourceKey === null ? '' : '; ingesting it again reads on from there';
    throw new Error(`${source}: reading stopped after byte ${file.readUpTo()} (${(error as Error).message}); ${kept}${resume}`, { cause: error });
  }
}
