/**
 * How the driver decodes each kind of source batch: hub events (Event Hubs, the demo stream), the lines of a
 * file or stdin, and Log Analytics windows. One decoder per stream; a line decoder keeps the lines of an
 * entry still incomplete across batches and says where the stream resumes before them.
 */
import type { Logger } from 'pino';
import type { DecodeResult } from '../contracts/log-record.js';
import { originSource } from '../contracts/record-origin.js';
import { decodeAzureRecord, decodeEventBody } from '../decode/azure/index.js';
import { DECODERS, detectFormat, type LogFormat } from '../decode/formats/log-formats.js';
import type { CompiledPrefix } from '../decode/prefix/compile-prefix.js';
import type { FileBatch } from '../sources/file/file-source.js';
import { MAX_LINE_BYTES } from '../sources/file/read-lines.js';
import type { LogAnalyticsBatch } from '../sources/loganalytics/log-analytics-source.js';
import type { HubEvent, SourceBatch } from '../sources/source-batch.js';
import type { LineDecoder } from '../sources/source-line.js';
import type { AuditStore } from '../store/audit-store.js';
import type { BatchDecoder } from './drive-source.js';
import type { IngestPipeline } from './ingest-pipeline.js';

/**
 * Each event body holds many records; a record's position is `<sequence number>#<index in the body>`.
 * A record republished by `auditduck route` is stored under its origin's source and position: the rows a
 * `run` on the keyed hub stores are those a `run` on the source hub would have stored.
 */
export function hubEventDecoder(prefix: CompiledPrefix): BatchDecoder<SourceBatch<HubEvent>> {
  return {
    decode: (batch) =>
      batch.items.flatMap(({ body, sequenceNumber, origin }) =>
        origin
          ? decodeEventBody(body, { source: originSource(origin), position: String(origin.sequenceNumber), prefix }, origin.index ?? 0)
          : decodeEventBody(body, { source: batch.source, position: String(sequenceNumber), prefix }),
      ),
  };
}

export interface LineDecoderOptions {
  source: string;
  /** 'auto': detected from `firstLine`, else from the first non-blank line read. */
  format: LogFormat | 'auto';
  firstLine: string | null;
  /** stdin has no head read before: its format is detected from its first non-blank line. */
  stdin: boolean;
  prefix: CompiledPrefix;
  server?: string;
  /** Server name for raw PostgreSQL logs when `server` is not given. */
  defaultServer: string;
  log: Logger;
}

export function fileLineDecoder(opts: LineDecoderOptions): BatchDecoder<FileBatch> {
  const make = (format: LogFormat): LineDecoder<DecodeResult> =>
    DECODERS[format]({ source: opts.source, prefix: opts.prefix, server: opts.server, defaultServer: opts.defaultServer });
  let format: LogFormat | undefined = opts.format === 'auto' ? (opts.firstLine === null ? undefined : detectFormat(opts.firstLine)) : opts.format;
  // A file's first line decides its format (an empty file's: stderr); stdin's first non-blank line read does.
  if (format === undefined && !opts.stdin) format = 'stderr';
  let decoder = format ? make(format) : undefined;
  return {
    decode(batch) {
      const results: DecodeResult[] = [];
      for (const chunk of batch.items) {
        for (const o of chunk.oversized) {
          results.push({ kind: 'dead', dead: { source: batch.source, position: String(o.start), reason: `line longer than ${MAX_LINE_BYTES} bytes (${o.end - o.start} bytes), not read`, raw: o.head } });
        }
        for (const line of chunk.lines) {
          if (!decoder) {
            if (line.text.trim() === '') continue;
            format = detectFormat(line.text);
            decoder = make(format);
            opts.log.debug({ source: batch.source, format }, 'detected input format');
          }
          for (const result of decoder.push(line)) results.push(result);
        }
      }
      return results;
    },
    resumeAt: (batch) => String(decoder?.pendingStart() ?? batch.position),
    flush() {
      const held = decoder?.flush() ?? [];
      // After flush nothing is held back: the whole input up to the batch's position is committed.
      decoder = undefined;
      return held;
    },
  };
}

/** What the Log Analytics decoder counts beyond the pipeline's counts. */
export interface WindowDecodeStats {
  duplicates: number;
}

/**
 * A window's records, less those the store holds already (they came through Event Hubs, or an earlier
 * partial window): the store says which (`AuditStore.storedRecords`), read in turn with the commits so it
 * never runs inside the transaction of the window before.
 */
export function logAnalyticsDecoder(prefix: CompiledPrefix, pipeline: IngestPipeline, store: AuditStore, stats: WindowDecodeStats): BatchDecoder<LogAnalyticsBatch> {
  return {
    async decode(batch) {
      const stored = await pipeline.exclusive(() => store.storedRecords(batch.window.start, batch.window.end));
      const results: DecodeResult[] = [];
      batch.items.forEach((row, i) => {
        const result = decodeAzureRecord(row, { source: batch.source, position: `${batch.window.start.toISOString()}#${i}`, prefix });
        if (result.kind === 'record' && stored.seen(result.record)) {
          stats.duplicates++;
          return;
        }
        results.push(result);
      });
      return results;
    },
  };
}
