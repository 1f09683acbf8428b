import type { Logger } from 'pino';
import type { LogFormat } from '../decode/formats/log-formats.js';
import { compilePrefix } from '../decode/prefix/compile-prefix.js';
import { inputProblem } from '../sources/file/input-problem.js';
import { AuditStore } from '../store/audit-store.js';
import { onOneThread } from '../store/on-one-thread.js';
import type { InTransactionWriter } from '../detect/written-batch.js';
import { IngestPipeline } from './ingest-pipeline.js';
import { ingestPath, type IngestProgress } from './ingest-path.js';
import { IngestSummary } from './ingest-summary.js';
import { IngestWorkers } from './parallel/ingest-workers.js';
import { ingestRanges } from './parallel/ingest-ranges.js';
import type { DetectionConfigInput } from '../detect/index.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IngestFilesOptions {
  dbPath: string;
  format: LogFormat | 'auto';
  logLinePrefix: string;
  server?: string;
  log: Logger;
  batchRecords?: number;
  /** Names the stream read from stdin (`-`), so that sending it again resumes instead of storing it twice. */
  stdinSourceId?: string;
  /** Run inside each batch's transaction (detection). */
  observers?: InTransactionWriter[];
  /** Off only to measure what the privilege analysis costs (the bench). */
  analyzePrivileges?: boolean;
  /** Told after each committed batch (the CLI's progress line). */
  onCommitted?: (progress: IngestProgress) => void;
  /**
   * Worker threads that read, decode, parse and gather plain files in ranges (pipeline/parallel/); the main
   * thread folds their chunks in and runs detection. 0 or absent: the main thread does it all.
   */
  workers?: number;
  /** With workers: the detection configuration the observers were made from (the workers keep what its rules read). */
  workerDetection?: DetectionConfigInput | null;
  /** With workers: bytes of input per range and transaction (default 16 MiB). */
  rangeBytes?: number;
}

const DEFAULT_RANGE_BYTES = 16 * 1024 * 1024;

/** What `auditduck ingest` does: every path through one pipeline into one store, then a summary. */
export async function ingestFiles(paths: readonly string[], opts: IngestFilesOptions): Promise<IngestSummary> {
  const prefix = compilePrefix(opts.logLinePrefix);
  // Every input is checked before any is read: a bad one stops the ingest with nothing stored, not halfway.
  const problems: { path: string; problem: string }[] = [];
  for (const path of paths) {
    const problem = await inputProblem(path);
    if (problem !== null) problems.push({ path, problem });
  }
  if (problems.length > 0) {
    const list = problems.map((p) => `  ${p.path}: ${p.problem}`).join('\n');
    throw new Error(`${problems.length} of ${paths.length} inputs cannot be read, so nothing was stored:\n${list}`);
  }
  const store = await AuditStore.open(opts.dbPath);
  try {
    // Every statement of an ingest is small: one DuckDB thread (on-one-thread.ts); the closing checkpoint gets them all back.
    return await onOneThread(store.connection, () => ingestInto(store, paths, prefix, opts));
  } finally {
    await store.close();
  }
}

async function ingestInto(store: AuditStore, paths: readonly string[], prefix: ReturnType<typeof compilePrefix>, opts: IngestFilesOptions): Promise<IngestSummary> {
  const pipeline = await IngestPipeline.create(store, { observers: opts.observers ?? [], analyzePrivileges: opts.analyzePrivileges ?? true });
  const summary = new IngestSummary();
  const threads = opts.workers ?? 0;
  const workers = threads > 0 ? IngestWorkers.start(threads, { analyzePrivileges: opts.analyzePrivileges ?? true, detection: opts.workerDetection ?? null }) : null;
  const chunkDir = workers ? await mkdtemp(join(tmpdir(), 'auditduck-chunks-')) : null;
  try {
    for (const path of paths) {
      if (workers && chunkDir) {
        const read = await ingestRanges(path, { pipeline, store, workers, summary, log: opts.log }, {
          format: opts.format,
          logLinePrefix: opts.logLinePrefix,
          ...(opts.server ? { server: opts.server } : {}),
          defaultServer: 'local',
          rangeBytes: opts.rangeBytes ?? DEFAULT_RANGE_BYTES,
          chunkDir,
          ...(opts.onCommitted ? { onCommitted: opts.onCommitted } : {}),
        });
        if (read) continue;
      }
      await ingestPath(path, { pipeline, store, summary, log: opts.log }, {
        format: opts.format,
        prefix,
        ...(opts.server ? { server: opts.server } : {}),
        defaultServer: 'local',
        ...(opts.batchRecords ? { batchRecords: opts.batchRecords } : {}),
        ...(opts.stdinSourceId !== undefined ? { stdinSourceId: opts.stdinSourceId } : {}),
        ...(opts.onCommitted ? { onCommitted: opts.onCommitted } : {}),
      });
    }
  } finally {
    await workers?.close();
    if (chunkDir) await rm(chunkDir, { recursive: true, force: true });
  }
  return summary;
}
