/**
 * Reads one file (plain or gzip) or stdin through the pipeline, resuming after the last committed
 * position of that file. Batches are cut by lines and bytes so memory stays flat however large the input.
 */
import type { Logger } from 'pino';
import { DECODERS, detectFormat, type LogFormat } from '../decode/formats/log-formats.js';
import type { CompiledPrefix } from '../decode/prefix/compile-prefix.js';
import { findGrownFile, readHead } from '../sources/file/file-identity.js';
import { MAX_LINE_BYTES, readLines } from '../sources/file/read-lines.js';
import type { AuditStore } from '../store/audit-store.js';
import type { IngestPipeline } from './ingest-pipeline.js';
import type { IngestSummary } from './ingest-summary.js';

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
  const isStdin = path === '-';
  const source = isStdin ? (opts.stdinSourceId === undefined ? 'stdin' : `stdin:${opts.stdinSourceId}`) : path;
  let format: LogFormat | undefined = opts.format === 'auto' ? undefined : opts.format;
  let sourceKey: string | null = null;
  let from = 0;

  if (isStdin) {
    if (opts.stdinSourceId === undefined) deps.log.info('stdin has no identity without --source-id: sending the same stream again stores its rows again');
    else {
      sourceKey = source;
      const committed = await deps.store.readPosition(sourceKey);
      from = committed === null ? 0 : Number(committed);
      if (from > 0) deps.log.info({ source, from }, 'skipping the bytes of this stream committed before');
    }
  } else {
    const head = await readHead(path).catch((error: unknown) => {
      throw new Error(`${source}: cannot be read (${(error as Error).message}); nothing of it was stored`, { cause: error });
    });
    sourceKey = head.fingerprint;
    const committed = await deps.store.readPosition(sourceKey);
    if (committed !== null) from = Number(committed);
    else {
      // Read before while shorter: its head has grown since, so its fingerprint has changed with it.
      const grown = await findGrownFile(head, deps.store);
      if (grown) {
        from = grown.position;
        deps.log.info({ source, from, was: grown.sourceKey }, 'a file read before has grown: reading what was appended');
      }
    }
    format ??= head.firstLine === null ? 'stderr' : detectFormat(head.firstLine);
    if (from > 0) deps.log.info({ source, from }, 'resuming after the last committed position');
  }

  let decoder = format ? makeDecoder(format) : undefined;
  let open = deps.pipeline.openBatch();
  let bytes = 0;
  let position = from;

  // What of this input is stored, for an error that stops it halfway.
  let keptUpTo = from;
  let keptRecords = 0;
  // One batch commits while the next is read and prepared: DuckDB's commit runs off the main thread.
  let inFlight: Promise<void> = Promise.resolve();
  const commit = async (): Promise<void> => {
    const resumeAt = decoder?.pendingStart() ?? position;
    const prepared = deps.pipeline.seal(open, { sourceKey, source, position: String(resumeAt) });
    open = deps.pipeline.openBatch();
    bytes = 0;
    await inFlight;
    inFlight = deps.pipeline.commitBatch(prepared).then((summary) => {
      keptUpTo = resumeAt;
      keptRecords += summary.records;
      deps.summary.add(summary);
      opts.onCommitted?.({ source, position: resumeAt, records: deps.summary.records });
      deps.log.debug({ source, position: resumeAt, records: summary.records }, 'batch committed');
    });
    inFlight.catch(() => undefined); // surfaced by the next await, not as an unhandled rejection
  };

  try {
    for await (const chunk of readLines(path, from)) {
      for (const o of chunk.oversized) {
        deps.pipeline.push(open, [{ kind: 'dead', dead: { source, position: String(o.start), reason: `line longer than ${MAX_LINE_BYTES} bytes (${o.end - o.start} bytes), not read`, raw: o.head } }]);
        position = o.end;
      }
      for (const line of chunk.lines) {
        if (!decoder) {
          if (line.text.trim() === '') continue;
          format = detectFormat(line.text);
          decoder = makeDecoder(format);
          deps.log.debug({ source, format }, 'detected input format');
        }
        deps.pipeline.push(open, decoder.push(line));
        bytes += line.end - line.start;
        position = line.end;
      }
      if (open.results >= (opts.batchRecords ?? DEFAULT_BATCH_RECORDS) || bytes >= (opts.batchBytes ?? DEFAULT_BATCH_BYTES)) await commit();
    }
    if (decoder) deps.pipeline.push(open, decoder.flush());
    // After flush nothing is held back: the whole input up to `position` is committed.
    decoder = undefined;
    if (isStdin && position === from && from > 0) deps.log.info({ source, from }, 'nothing after the bytes committed under this --source-id: nothing new to store');
    await commit();
  } catch (error) {
    // A read error must not close the store under the commit in flight: DuckDB would block for good.
    await inFlight.catch(() => undefined);
    const kept = keptRecords === 0 && keptUpTo === from ? 'nothing of it was stored by this run' : `${keptRecords} records of it were stored, up to byte ${keptUpTo}`;
    const resume = sourceKey === null ? '' : '; ingesting it again reads on from there';
    throw new Error(`${source}: reading stopped after byte ${position} (${(error as Error).message}); ${kept}${resume}`, { cause: error });
  }
  await inFlight;

  function makeDecoder(f: LogFormat) {
    return DECODERS[f]({ source, prefix: opts.prefix, server: opts.server, defaultServer: opts.defaultServer });
  }
}
