import { createHash } from 'node:crypto';
import { readLines } from './read-lines.js';

const HEAD_BYTES = 512;

/**
 * The first lines of a file (decompressed) identify it, not its path: a log that grows keeps its
 * identity, a copy or a gzip of it is the same file, a rotated file with new content is a new one
 * (the same idea as Vector's checksum fingerprint).
 */
export async function readHead(path: string): Promise<{ fingerprint: string; firstLine: string | null }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let firstLine: string | null = null;
  outer: for await (const chunk of readLines(path, 0)) {
    for (const line of chunk.lines) {
      if (firstLine === null && line.text.trim() !== '') firstLine = line.text;
      hash.update(line.text);
      hash.update('\n');
      bytes += line.end - line.start;
      if (bytes >= HEAD_BYTES && firstLine !== null) break outer;
    }
    for (const o of chunk.oversized) {
      hash.update(o.head);
      bytes += HEAD_BYTES;
    }
    if (bytes >= HEAD_BYTES && firstLine !== null) break;
  }
  return { fingerprint: `file:${hash.digest('hex').slice(0, 32)}`, firstLine };
}
