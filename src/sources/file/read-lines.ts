import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { SourceLine } from '../source-line.js';

/** Longer lines are cut off and reported, so one runaway line cannot take the process's memory. */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

export interface LineChunk {
  lines: SourceLine[];
  /** Lines that exceeded MAX_LINE_BYTES: only their offsets and first bytes are kept. */
  oversized: { start: number; end: number; head: string }[];
}

const GZIP_MAGIC = [0x1f, 0x8b];
/**
 * Bytes per read, as gunzip and stdin give: the lines of a read are alive together, and a larger read is more to
 * hold (1 MiB: about 35 MB more peak RSS) for no speed.
 */
const READ_BYTES = 64 * 1024;

export async function isGzipFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === GZIP_MAGIC[0] && buffer[1] === GZIP_MAGIC[1];
  } finally {
    await handle.close();
  }
}

/**
 * Opens a file (gzip is decompressed transparently) or stdin as a byte stream starting at `fromOffset`.
 * Offsets count decompressed bytes, so a resumed gzip file is decompressed again and skipped up to the offset.
 */
export async function openByteStream(path: string, fromOffset: number, untilOffset?: number): Promise<{ stream: AsyncIterable<Buffer>; skip: number }> {
  if (path === '-') return { stream: process.stdin as Readable, skip: fromOffset };
  if (await isGzipFile(path)) {
    const gunzip = createGunzip();
    // pipe() does not pass a read error on: without this it would be an uncaught exception, not the reader's.
    const file = createReadStream(path).on('error', (error) => gunzip.destroy(error));
    return { stream: file.pipe(gunzip), skip: fromOffset };
  }
  if (untilOffset !== undefined && untilOffset <= fromOffset) return { stream: (async function* () {})(), skip: 0 };
  return { stream: createReadStream(path, { start: fromOffset, ...(untilOffset === undefined ? {} : { end: untilOffset - 1 }), highWaterMark: READ_BYTES }), skip: 0 };
}

/**
 * Splits a byte stream into lines with exact byte offsets. Yields one chunk per read so the caller can
 * batch without holding the whole file. A last line without a newline is yielded too. `untilOffset` (plain files
 * only) ends the reading there: a range of the file cut at a line's end (file-ranges.ts) is read alone.
 */
export async function* readLines(path: string, fromOffset = 0, untilOffset?: number): AsyncGenerator<LineChunk> {
  if (untilOffset !== undefined && (path === '-' || (await isGzipFile(path)))) throw new Error(`${path}: only a plain file can be read up to an offset`);
  const { stream, skip } = await openByteStream(path, fromOffset, untilOffset);
  let toSkip = skip;
  let offset = fromOffset;
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let carryStart = fromOffset;
  let oversizedHead: string | null = null; // inside an oversized line: discard until its newline

  for await (const raw of stream) {
    let buf: Buffer = raw;
    if (toSkip > 0) {
      if (buf.length <= toSkip) {
        toSkip -= buf.length;
        continue;
      }
      buf = buf.subarray(toSkip);
      toSkip = 0;
    }
    const chunk: LineChunk = { lines: [], oversized: [] };
    let from = 0;
    while (from < buf.length) {
      const nl = buf.indexOf(10, from);
      if (nl === -1) {
        if (oversizedHead === null) {
          carry.push(buf.subarray(from));
          carryBytes += buf.length - from;
          if (carryBytes > MAX_LINE_BYTES) {
            oversizedHead = headOf(Buffer.concat(carry));
            carry = [];
          }
        }
        offset += buf.length - from;
        break;
      }
      const lineEnd = offset + (nl - from) + 1;
      if (oversizedHead !== null) {
        chunk.oversized.push({ start: carryStart, end: lineEnd, head: oversizedHead });
        oversizedHead = null;
      } else if (carryBytes + (nl - from) > MAX_LINE_BYTES) {
        carry.push(buf.subarray(from, nl));
        chunk.oversized.push({ start: carryStart, end: lineEnd, head: headOf(Buffer.concat(carry)) });
      } else {
        const bytes = carry.length === 0 ? buf.subarray(from, nl) : Buffer.concat([...carry, buf.subarray(from, nl)]);
        chunk.lines.push({ text: textOf(bytes), start: carryStart, end: lineEnd });
      }
      carry = [];
      carryBytes = 0;
      offset = lineEnd;
      carryStart = lineEnd;
      from = nl + 1;
    }
    if (chunk.lines.length > 0 || chunk.oversized.length > 0) yield chunk;
  }
  if (oversizedHead !== null) {
    yield { lines: [], oversized: [{ start: carryStart, end: offset, head: oversizedHead }] };
  } else if (carryBytes > 0) {
    yield { lines: [{ text: textOf(Buffer.concat(carry)), start: carryStart, end: offset }], oversized: [] };
  }
}

function textOf(bytes: Buffer): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, end);
}

function headOf(bytes: Buffer): string {
  return bytes.toString('utf8', 0, Math.min(bytes.length, 512));
}
