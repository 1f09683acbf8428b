import { createHash } from 'node:crypto';
import { readLines } from './read-lines.js';

const HEAD_BYTES = 512;

/**
 * The first lines of a file (decompressed) identify it, not its path: a log that grows keeps its identity, a
 * renamed (rotated) or gzipped file is the same file, a new file at the same path is a new one (the same idea as
 * Vector's checksum fingerprint). The head is whole lines up to HEAD_BYTES; a file shorter than that, or whose
 * head ends in a line still being written, has a head that growth changes: `findGrownFile` recognises it.
 */
export interface FileHead {
  fingerprint: string;
  firstLine: string | null;
  /** The lines the fingerprint was taken over, with their byte offsets. */
  lines: readonly HeadLine[];
}

interface HeadLine {
  text: string;
  start: number;
  end: number;
}

/** What `findGrownFile` needs of the store. */
export interface FilePositions {
  readPosition(sourceKey: string): Promise<string | null>;
  readPositionsBelow(keyPrefix: string, below: number): Promise<{ sourceKey: string; position: number }[]>;
}

const KEY_PREFIX = 'file:';

export async function readHead(path: string): Promise<FileHead> {
  const lines: HeadLine[] = [];
  const hash = createHash('sha256');
  let bytes = 0;
  let firstLine: string | null = null;
  outer: for await (const chunk of readLines(path, 0)) {
    for (const line of chunk.lines) {
      if (firstLine === null && line.text.trim() !== '') firstLine = line.text;
      hash.update(line.text);
      hash.update('\n');
      lines.push(line);
      bytes += line.end - line.start;
      if (bytes >= HEAD_BYTES && firstLine !== null) break outer;
    }
    for (const o of chunk.oversized) {
      hash.update(o.head);
      bytes += HEAD_BYTES;
    }
    if (bytes >= HEAD_BYTES && firstLine !== null) break;
  }
  return { fingerprint: `${KEY_PREFIX}${hash.digest('hex').slice(0, 32)}`, firstLine, lines };
}

/**
 * The fingerprint this file had when it ended at byte `end`: its head lines cut at `end`, the last one as it was
 * then (without the part written since). Null when `end` is not within the head.
 */
export function fingerprintAt(head: FileHead, end: number): string | null {
  // The same walk as readHead's, over the bytes the file had then.
  const hash = createHash('sha256');
  let bytes = 0;
  let seenText = false;
  for (const line of head.lines) {
    if (line.start >= end) break;
    const cut = line.end > end;
    const text = cut ? Buffer.from(line.text, 'utf8').subarray(0, end - line.start).toString('utf8') : line.text;
    if (text.trim() !== '') seenText = true;
    hash.update(text);
    hash.update('\n');
    bytes += (cut ? end : line.end) - line.start;
    if (line.end >= end || (bytes >= HEAD_BYTES && seenText)) return `${KEY_PREFIX}${hash.digest('hex').slice(0, 32)}`;
  }
  return null;
}

/**
 * A file read before, when its head was shorter than it is now: the committed position of that earlier read whose
 * fingerprint, taken over this file's first bytes up to that position, matches. The latest such read wins.
 */
export async function findGrownFile(head: FileHead, positions: FilePositions): Promise<{ sourceKey: string; position: number } | null> {
  const headEnd = head.lines.at(-1)?.end ?? 0;
  const candidates = (await positions.readPositionsBelow(KEY_PREFIX, headEnd + 1)).sort((a, b) => b.position - a.position);
  for (const candidate of candidates) {
    if (candidate.sourceKey === head.fingerprint || candidate.position <= 0) continue;
    if (fingerprintAt(head, candidate.position) === candidate.sourceKey) return candidate;
  }
  return null;
}
