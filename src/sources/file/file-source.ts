/**
 * One file (plain or gzip) or stdin as a source: where to resume (the file's identity and its last committed
 * position, or a grown file's), then its lines, one batch per read, the last one marked. A read error is
 * thrown by the iteration; what was committed before it stays committed.
 */
import type { Logger } from 'pino';
import type { SourceBatch } from '../source-batch.js';
import { findGrownFile, readHead, type FilePositions } from './file-identity.js';
import { readLines, type LineChunk } from './read-lines.js';

/** One read of a file: its lines (and the lines too long to keep), the offset after them. */
export interface FileBatch extends SourceBatch<LineChunk> {
  /** Bytes of the lines in this batch, to cut transactions by size. */
  bytes: number;
  /** The end of the input: nothing comes after this batch (it may hold no lines). */
  last: boolean;
}

export interface FileSource {
  /** The label of rows and dead letters: the path, `stdin` or `stdin:<id>`. */
  source: string;
  /** null for stdin without an id: it cannot be resumed. */
  sourceKey: string | null;
  /** Byte offset the reading starts at (after what an earlier run committed). */
  from: number;
  /** The first line of a file (for detecting its format), null for stdin or an empty file. */
  firstLine: string | null;
  /** How far the reading got: the offset after the last line read. */
  readUpTo(): number;
  batches: AsyncIterable<FileBatch>;
}

export interface FileSourceOptions {
  positions: FilePositions;
  /** Names the stream on stdin, so that it is resumed like a file. */
  stdinSourceId?: string;
  log: Logger;
}

export async function openFileSource(path: string, opts: FileSourceOptions): Promise<FileSource> {
  const isStdin = path === '-';
  const source = isStdin ? (opts.stdinSourceId === undefined ? 'stdin' : `stdin:${opts.stdinSourceId}`) : path;
  let sourceKey: string | null = null;
  let from = 0;
  let firstLine: string | null = null;
  const { log } = opts;

  if (isStdin) {
    if (opts.stdinSourceId === undefined) log.info('stdin has no identity without --source-id: sending the same stream again stores its rows again');
    else {
      sourceKey = source;
      const committed = await opts.positions.readPosition(sourceKey);
      from = committed === null ? 0 : Number(committed);
      if (from > 0) log.info({ source, from }, 'skipping the bytes of this stream committed before');
    }
  } else {
    const head = await readHead(path).catch((error: unknown) => {
      throw new Error(`${source}: cannot be read (${(error as Error).message}); nothing of it was stored`, { cause: error });
    });
    sourceKey = head.fingerprint;
    firstLine = head.firstLine;
    const committed = await opts.positions.readPosition(sourceKey);
    if (committed !== null) from = Number(committed);
    else {
      // Read before while shorter: its head has grown since, so its fingerprint has changed with it.
      const grown = await findGrownFile(head, opts.positions);
      if (grown) {
        from = grown.position;
        log.info({ source, from, was: grown.sourceKey }, 'a file read before has grown: reading what was appended');
      }
    }
    if (from > 0) log.info({ source, from }, 'resuming after the last committed position');
  }

  let position = from;
  async function* batches(): AsyncGenerator<FileBatch> {
    for await (const chunk of readLines(path, from)) {
      let bytes = 0;
      for (const o of chunk.oversized) position = Math.max(position, o.end);
      for (const line of chunk.lines) {
        bytes += line.end - line.start;
        position = line.end;
      }
      yield { sourceKey, source, position: String(position), items: [chunk], bytes, last: false };
    }
    if (isStdin && position === from && from > 0) log.info({ source, from }, 'nothing after the bytes committed under this --source-id: nothing new to store');
    yield { sourceKey, source, position: String(position), items: [], bytes: 0, last: true };
  }
  return { source, sourceKey, from, firstLine, readUpTo: () => position, batches: batches() };
}
